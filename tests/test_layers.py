"""Imports point down the layers of ../shared/design.md: no module imports one of a higher layer (function-level imports
count), so there is no import circle either. A module that is not in LAYERS fails the test: place it when adding it."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1]/'egovlp'
LAYERS = {  # design.md, bottom up
    'core': 0,
    'video': 1, 'egoclip': 1, 'preprocess': 1,                 # data
    'model': 2, 'kernels': 2, 'loss': 2,                       # model, loss
    'trainer': 3, 'textvideo': 3,                              # train
    'factory': 4,
    'synth': 5, 'minidata': 5,                                 # synth: the scene renderer, the mini-dataset generators
    'tasks': 6,
    'launch': 7, 'inference': 7, 'analysis': 7,                # launch / use
    '__init__': 8,                                             # `import egovlp` re-exports the API
}

def layer(module: str):
    "The layer of `egovlp.<name>[.…]` (tasks.* are all layer 6)."
    return LAYERS.get(module.split('.')[1]) if module.startswith('egovlp.') and module.count('.') else None

def imports(path: Path, module: str):
    "Every egovlp module `path` imports, absolute or relative, at any depth of the file."
    pkg = module.split('.')[:-1] if path.name != '__init__.py' else module.split('.')
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            base = '.'.join(pkg[:len(pkg) - n.level + 1] + ([n.module] if n.module else [])) if n.level else (n.module or '')
            yield from [base] + [f'{base}.{a.name}' for a in n.names if base == 'egovlp']
        elif isinstance(n, ast.Import): yield from (a.name for a in n.names)

def test_imports_point_down():
    files = [p for p in PKG.rglob('*.py') if p.name != '_modidx.py']
    assert len(files) > 15
    bad, unplaced = [], []
    for p in files:
        rel = p.relative_to(PKG.parent).with_suffix('')
        me = '.'.join(rel.parts) if p.name != '__init__.py' else '.'.join(rel.parts[:-1]) + '.__init__'
        mine = layer(me) if me != 'egovlp.__init__' else LAYERS['__init__']
        if mine is None: unplaced.append(me); continue
        for m in imports(p, me.removesuffix('.__init__')):
            theirs = layer(m)
            if theirs is not None and theirs > mine: bad.append(f"{me} (layer {mine}) imports {m} (layer {theirs})")
    assert not unplaced, f"modules not in LAYERS (place them in design.md's order): {unplaced}"
    assert not bad, "upward imports:\n" + '\n'.join(bad)

def test_the_check_sees_an_upward_import(tmp_path):
    "The check is not vacuous: a core module importing the launcher is caught."
    f = tmp_path/'core.py'; f.write_text("def f():\n    from egovlp.launch import load\n    from .tasks import nlq\n")
    found = list(imports(f, 'egovlp.core'))
    assert 'egovlp.launch' in found and 'egovlp.tasks' in found
    assert max(layer(m) or 0 for m in found) > LAYERS['core']
