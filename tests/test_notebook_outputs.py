"""The committed notebooks are the documentation: each must be committed executed (see scripts/run_notebooks.py).

Fails when a notebook in nbs/ has no outputs at all, when a figure cell shows no image (an `#| export` cell only
defines plotting code), or when an output shows an
absolute path of this machine, a progress bar or an error. The self-tests prove the check fails on a stripped copy.
"""
import importlib.util, json, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location('run_notebooks', ROOT/'scripts'/'run_notebooks.py')
rn = importlib.util.module_from_spec(spec); spec.loader.exec_module(rn)
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
FIGURE = re.compile(r'\bplt\.(subplots|figure|show|imshow|plot)\b|\.plot\(')

def problems(path):
    "Why notebook `path` does not read as executed documentation ([] when it does)."
    nb = json.loads(Path(path).read_text(encoding='utf-8'))
    code = [c for c in nb['cells'] if c['cell_type'] == 'code']
    run = [c for c in code if not rn._flags(''.join(c['source'])) & {'slow', 'cuda'}]
    bad = [] if any(c.get('outputs') for c in code) else ['no cell has an output: commit it executed '
                                                         '(python scripts/run_notebooks.py NAME)']
    for i, c in enumerate(nb['cells']):
        if c in run and FIGURE.search(''.join(c['source'])) and 'export' not in rn._flags(''.join(c['source'])) and not any(
                'image/png' in o.get('data', {}) or 'image/svg+xml' in o.get('data', {}) for o in c.get('outputs', [])):
            bad.append(f"cell {i} draws a figure but shows no image")
    return bad + rn.check_outputs(path)

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook_has_outputs(nb):
    bad = problems(nb)
    assert not bad, f"{nb.name}:\n" + '\n'.join(bad)

def _executed():
    "A committed notebook that has outputs (the self-tests strip a copy of it)."
    for p in NBS:
        if not problems(p): return p
    pytest.skip('no executed notebook to strip')

def test_check_fails_on_stripped_copy(tmp_path):
    src = _executed()
    nb = json.loads(src.read_text(encoding='utf-8'))
    for c in nb['cells']:
        if c['cell_type'] == 'code': c['outputs'], c['execution_count'] = [], None
    stripped = tmp_path/src.name
    stripped.write_text(json.dumps(nb), encoding='utf-8')
    bad = problems(stripped)
    assert any('no cell has an output' in b for b in bad), bad

def test_check_fails_on_local_path_and_progress_bar(tmp_path):
    src = _executed()
    nb = json.loads(src.read_text(encoding='utf-8'))
    cell = next(c for c in nb['cells'] if c['cell_type'] == 'code' and c.get('outputs'))
    cell['outputs'].append({'output_type': 'stream', 'name': 'stdout', 'text': [f'saved to {ROOT}/runs/x\n']})
    cell['outputs'].append({'output_type': 'stream', 'name': 'stderr', 'text': ['100%|##########| 10/10 [00:01<00:00]\n']})
    p = tmp_path/src.name
    p.write_text(json.dumps(nb), encoding='utf-8')
    bad = problems(p)
    assert any('local path' in b for b in bad) and any('progress bar' in b for b in bad), bad
