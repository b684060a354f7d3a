"""Re-execute notebooks in place, so that the committed notebooks show their outputs (figures, tables, printed values).

    python scripts/run_notebooks.py                 # every notebook in nbs/
    python scripts/run_notebooks.py 03_model 04     # only these (a name, a prefix, or a path)
    python scripts/run_notebooks.py --check         # execute nothing: only check the committed outputs

Each notebook runs with `nbs/` as the working directory and the repository root first on `PYTHONPATH` (so this
checkout's `egovlp` is the one imported). Cells flagged `#| demo` (long runs whose outputs the notebook shows; `pytest`
and `nbdev_test` skip them) ARE executed here; cells flagged `#| slow` / `#| cuda` are skipped (unless
`--flags "slow cuda"`) and keep no output. Progress bars are switched off (`TQDM_DISABLE=1`). Afterwards the
notebook is cleaned with `nbdev_clean`, and its outputs are checked: the run fails if any output shows an absolute path
of this machine (the checkout, the home directory, /work/, /root/, /tmp/) or a progress bar.
"""
import argparse, json, os, re, subprocess, sys, shutil, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'
PROGRESS = re.compile(r'\d+%\|[^|]*\|')          # tqdm's "42%|████      |"

def notebooks(names):
    "Notebook paths for `names` (stems, prefixes such as '03', or paths); every notebook in nbs/ when empty."
    allnb = sorted(p for p in NBS.glob('*.ipynb') if not p.name.startswith('_'))
    if not names: return allnb
    out = []
    for n in names:
        p = Path(n)
        if p.suffix == '.ipynb' and p.exists(): out.append(p.resolve()); continue
        hits = [q for q in allnb if q.stem == n] or [q for q in allnb if q.stem.startswith(n)]
        if not hits: raise SystemExit(f"no notebook in {NBS.relative_to(ROOT)}/ matches {n!r}")
        out += hits
    return list(dict.fromkeys(out))

def _flags(src):
    "The `#| flag` directives of a cell (nbdev syntax), e.g. {'slow'}."
    fl = set()
    for line in src.splitlines():
        m = re.match(r'\s*#\|\s*(\w+)\s*$', line)
        if m: fl.add(m.group(1))
        elif line.strip() and not line.lstrip().startswith('#'): break
    return fl

def forbidden_strings():
    "Absolute paths of this machine that must never appear in a committed output."
    s = {str(ROOT), str(Path.home()), '/work/', '/root/', '/tmp/'}
    return sorted(x for x in s if x not in ('/', ''))

def output_text(out):
    "All text of one output (stream text, text/plain, html, error traceback); images are not text."
    if out.get('output_type') == 'stream': return ''.join(out.get('text', ''))
    if out.get('output_type') == 'error': return '\n'.join(out.get('traceback', []))
    data = out.get('data', {})
    return '\n'.join(''.join(v) if isinstance(v, list) else str(v) for k, v in data.items() if k.startswith('text/'))

def check_outputs(path):
    "Problems in the committed outputs of notebook `path`: absolute paths, progress bars, errors. [] when fine."
    nb = json.loads(Path(path).read_text(encoding='utf-8'))
    bad, forbid = [], forbidden_strings()
    for i, c in enumerate(nb['cells']):
        for o in c.get('outputs', []):
            if o.get('output_type') == 'error': bad.append(f"cell {i}: an error output ({o.get('ename')})")
            t = output_text(o)
            for s in forbid:
                if s in t: bad.append(f"cell {i}: output shows the local path {s!r}")
            if PROGRESS.search(t): bad.append(f"cell {i}: output shows a progress bar")
    return bad

def execute(path, skip_flags):
    "Execute `path` in place with execnb (cwd nbs/), skipping cells flagged with any of `skip_flags`."
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    nb = read_nb(path)
    def skip(cell):
        if cell.cell_type != 'code': return True
        cell.outputs = []                   # execnb keeps the old outputs of a cell that now shows nothing
        if _flags(cell.source) & skip_flags:
            cell.execution_count = None
            return True
        return False
    sh = CaptureShell(path, mpl_format='png')
    cwd, t = os.getcwd(), [time.time()]
    def slow_cells(cell):   # a line for each cell that took a while, so a long run shows where it is
        dt = time.time() - t[0]
        if dt > 20: print(f"  {path.name}: cell {nb.cells.index(cell)} took {dt:.0f} s", file=sys.stderr, flush=True)
    def start(cell): t[0] = time.time(); return skip(cell)
    try:
        os.chdir(path.parent)
        sh.run_all(nb, exc_stop=True, preproc=start, postproc=slow_cells)
    finally: os.chdir(cwd)
    if sh.exc: raise RuntimeError(f"{path.name}: {sh.prettytb(fname=path)}")
    write_nb(nb, path)

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('names', nargs='*', help="notebooks: stems ('03_model'), prefixes ('03'), or paths; default all")
    ap.add_argument('--flags', default='', help="flags of cells to run too, e.g. 'slow' (default: skip slow and cuda)")
    ap.add_argument('--check', action='store_true', help="execute nothing; only check the committed outputs")
    a = ap.parse_args(argv)
    paths = notebooks(a.names)
    if not a.check:
        # a fresh process per notebook, like nbdev_test: no state leaks between notebooks
        env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep),
               'TQDM_DISABLE': '1', 'MPLBACKEND': 'module://matplotlib_inline.backend_inline'}
        for p in paths:
            print(f"executing {p.relative_to(ROOT)}", flush=True)
            r = subprocess.run([sys.executable, __file__, '--_one', str(p), '--flags', a.flags], env=env, cwd=ROOT)
            if r.returncode: raise SystemExit(f"FAILED: {p.name}")
        clean = shutil.which('nbdev_clean') or str(Path(sys.executable).parent/'nbdev_clean')
        for p in paths: subprocess.run([clean, '--fname', str(p)], cwd=ROOT, check=True)
    problems = {p.name: check_outputs(p) for p in paths}
    for name, bad in problems.items():
        for b in bad: print(f"{name}: {b}")
    if any(problems.values()): raise SystemExit(1)
    print(f"ok: {len(paths)} notebook(s)")

if __name__ == '__main__':
    if len(sys.argv) > 2 and sys.argv[1] == '--_one':
        fl = sys.argv[sys.argv.index('--flags') + 1].split() if '--flags' in sys.argv else []
        execute(Path(sys.argv[2]), {'slow', 'cuda'} - set(fl))
    else: main()
