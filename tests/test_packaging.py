"""Packaging: what `pip install -e ".[dev]"` installs must work (settings.ini drives setup.py)."""
import configparser, os, shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
SCRIPTS = [s.split('=', 1) for s in cfg.get('console_scripts', '').split()]

@pytest.mark.parametrize('name,target', SCRIPTS, ids=[n for n, _ in SCRIPTS])
def test_console_script_runs(name, target):
    "Every console script's function imports and answers --help (as the installed wrapper would call it: no args)."
    mod, fn = target.split(':')
    code = f"import sys; sys.argv = [{name!r}, '--help']; from {mod} import {fn}; {fn}()"
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'PYTHONPATH': str(ROOT)})
    assert r.returncode == 0, f"{name} -> {target}: {r.stderr[-3000:]}"
    assert 'usage:' in r.stdout and '--config' in r.stdout, r.stdout
    exe = shutil.which(name)
    if exe and Path(exe).resolve().is_relative_to(Path(sys.executable).parent.resolve()):   # installed into this env
        r = subprocess.run([exe, '--help'], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and 'usage:' in r.stdout, r.stderr[-3000:]

def test_license_matches_settings():
    test_license = (ROOT/'LICENSE').read_text(encoding='utf-8')
    assert cfg['license'] == 'apache2' and 'Apache License' in test_license and 'Version 2.0' in test_license
    assert 'LICENSE' in (ROOT/'MANIFEST.in').read_text()

def test_readme_cannot_be_overwritten():
    "README.md is hand-written: the notebook nbdev_readme would render over it must not exist."
    assert not (ROOT/cfg['nbs_path']/cfg['readme_nb']).exists(), cfg['readme_nb']
    assert (ROOT/'README.md').exists()

def test_jupyterlab_only_for_development():
    assert 'jupyterlab' not in cfg['requirements'].split()
    assert 'jupyterlab' in cfg['dev_requirements'].split()
