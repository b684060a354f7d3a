"""Run every notebook in nbs/ as a test (the same thing `nbdev_test` does), one pytest case per notebook.

`pytest` is the project's one test command: it runs the notebooks (each in its own process, via `nbdev_test`)
and the tests that a notebook can't hold (multi-process launches, script smoke tests).
Set EGOVLP_TEST_FLAGS="slow cuda" to also run the cells flagged `#| slow` / `#| cuda`.
"""
import os, subprocess, sys, shutil
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
NBS = sorted(p for p in (ROOT/'nbs').glob('*.ipynb') if not p.name.startswith('_'))
FLAGS = os.environ.get('EGOVLP_TEST_FLAGS', '')

@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook(nb):
    exe = shutil.which('nbdev_test') or str(Path(sys.executable).parent/'nbdev_test')
    r = subprocess.run([exe, '--path', str(nb), '--flags', FLAGS], cwd=ROOT, capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0 and 'Success' in r.stdout, f"{nb.name} failed:\n{r.stdout[-5000:]}\n{r.stderr[-20000:]}"
