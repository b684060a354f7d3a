"""Packaging: what `pip install -e ".[dev]"` installs must work (settings.ini drives setup.py)."""
import configparser, json, os, re, shutil, subprocess, sys, zipfile
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

# -- the console scripts on a real tiny run, as their installed wrappers call them -----------------------------------------
LOG_LINE = re.compile(r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ - egovlp[\w.]* - INFO - ')
TARGET = dict(SCRIPTS)

def wrapper(name, *args, cwd):
    "`name args` as the generated wrapper runs it (`sys.exit(fn())`), from `cwd` (a folder outside the clone)."
    mod, fn = TARGET[name].split(':')
    code = f"import sys; from {mod} import {fn}; sys.exit({fn}())"
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''}
    return subprocess.run([sys.executable, '-c', code, *args], cwd=cwd, capture_output=True, text=True, timeout=900, env=env)

def clean(stderr: str) -> list:
    "The lines of stderr that are not egovlp's INFO log lines (warnings, tracebacks, dumps): [] when clean."
    return [l for l in stderr.splitlines() if l.strip() and not LOG_LINE.match(l)]

def test_console_scripts_real_run(tmp_path):
    "egovlp-pretrain (its default config, found from outside the clone), then egovlp-eval-egomcq on its model: exit 0, clean stderr."
    from egovlp.synth import MINI_TINY
    tiny = ['--set', f'mini={json.dumps({"egoclip": MINI_TINY})}', 'data_loader.0.args.chunk_sec=5',
            'data_loader.0.args.num_workers=0', 'trainer.progress=false', 'trainer.tensorboard=false']
    r = wrapper('egovlp-pretrain', '--epochs', '1', '--bs', '8', '--save_dir', 'run', *tiny, 'trainer.eval_every_epochs=1', cwd=tmp_path)
    assert r.returncode == 0 and not clean(r.stderr), r.stderr[-3000:]
    assert re.search(r'egomcq_mean\s+20\.00\s+\d+\.\d\d\s+\d+\.\d\d', r.stdout), r.stdout     # chance, before, after
    assert (tmp_path/'run'/'model_best.pth').is_file()
    r = wrapper('egovlp-eval-egomcq', '-c', 'mini/egoclip.json', '--checkpoint', 'run/model_best.pth', *tiny, cwd=tmp_path)
    assert r.returncode == 0 and not clean(r.stderr), r.stderr[-3000:]
    assert re.search(r'egomcq_mean\s+20\.00\s+\d+\.\d\d', r.stdout) and 'model_best.pth' in r.stdout, r.stdout
    r = wrapper('egovlp-eval-egomcq', '--checkpoint', 'nowhere.pth', cwd=tmp_path)        # a failure: 1, one line
    assert r.returncode == 1 and len(clean(r.stderr)) == 1 and clean(r.stderr)[0].startswith('error: '), r.stderr[-3000:]
    r = wrapper('egovlp-extract', '--help', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]

def test_extract_real_run(tmp_path):
    "egovlp-extract on a tiny video with a tiny model: exit 0, its feature file and index.csv; a missing video: 1, one line."
    import torch
    from egovlp.model import FrozenInTime, tiny_text_params, tiny_video_params
    from egovlp.video import write_video
    args = dict(video_params=tiny_video_params(num_frames=2), text_params=tiny_text_params(), projection_dim=16)
    torch.manual_seed(0)
    torch.save({'state_dict': FrozenInTime(**args).state_dict(), 'config': {'arch': {'type': 'FrozenInTime', 'args': args}}},
               tmp_path/'tiny.pth')
    write_video(tmp_path/'clip.mp4', torch.randint(0, 256, (8, 32, 32, 3), dtype=torch.uint8), fps=8)
    r = wrapper('egovlp-extract', 'tiny.pth', 'clip.mp4', '-o', 'feats', '--no-progress', cwd=tmp_path)
    assert r.returncode == 0 and not clean(r.stderr), r.stderr[-3000:]
    assert (tmp_path/'feats'/'video'/'clip.pt').is_file() and (tmp_path/'feats'/'index.csv').is_file(), r.stdout
    assert torch.load(tmp_path/'feats'/'video'/'clip.pt').shape[1] == 16
    r = wrapper('egovlp-extract', 'tiny.pth', 'nowhere.mp4', '-o', 'feats', cwd=tmp_path)
    assert r.returncode == 1 and len(clean(r.stderr)) == 1 and clean(r.stderr)[0].startswith('error: '), r.stderr[-3000:]
    assert 'nowhere.mp4' in r.stderr and not r.stdout, (r.stdout, r.stderr)

def test_help_shows_defaults_and_only_its_options(tmp_path):
    p = wrapper('egovlp-pretrain', '--help', cwd=tmp_path).stdout
    e = wrapper('egovlp-eval-egomcq', '--help', cwd=tmp_path).stdout
    assert '(default: configs/mini/egoclip.json)' in ' '.join(p.split()) and '--resume' in p and '--epochs' in p
    assert '(default: configs/eval/egomcq.json)' in ' '.join(e.split()) and '--checkpoint' in e
    assert not re.search(r'--(resume|epochs|lr|bs|save_dir)\b', e), e

def test_list_form_loader_override_is_loader_0():
    "`--set data_loader.args.batch_size=4` (the key as every message names it) on a list-form data_loader sets loader 0."
    from egovlp.core import ConfigError, apply_overrides     # what `egovlp.launch.load` applies the overrides with
    cfg = {'data_loader': [{'args': {}}]}
    assert apply_overrides(cfg, ['data_loader.args.batch_size=4', 'trainer.epochs=1']) == \
        {'data_loader': [{'args': {'batch_size': 4}}], 'trainer': {'epochs': 1}}
    with pytest.raises(ConfigError, match=r"a list of 2; name one item, e.g. 'data_loader.0.args.batch_size'"):
        apply_overrides({'data_loader': [{}, {}]}, ['data_loader.args.batch_size=4'])

# -- what a wheel ships ----------------------------------------------------------------------------------------------------
def test_wheel_ships_configs_and_the_mini_model(tmp_path):
    "An installed wheel (no clone around it) finds the shipped configs and the committed mini model."
    src = tmp_path/'src'; src.mkdir()
    for f in ('setup.py', 'settings.ini', 'README.md', 'LICENSE', 'MANIFEST.in', 'pyproject.toml'): shutil.copy(ROOT/f, src/f)
    for d in ('egovlp', 'configs'): shutil.copytree(ROOT/d, src/d, ignore=shutil.ignore_patterns('__pycache__'))
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '.', '--no-deps', '--no-build-isolation', '-q', '-w', 'dist'],
                       cwd=src, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    whl = next((src/'dist').glob('egovlp-*.whl'))
    names = set(zipfile.ZipFile(whl).namelist())
    assert {'egovlp/configs/mini/egoclip.json', 'egovlp/configs/eval/egomcq.json', 'egovlp/assets/mini_egoclip/meta.json',
            'egovlp/assets/mini_egoclip/model.safetensors'} <= names
    site = tmp_path/'site'; zipfile.ZipFile(whl).extractall(site)
    code = "import egovlp.launch as L; print(L.CONFIGS); print(L.MINI_ASSET.is_dir())"
    r = subprocess.run([sys.executable, '-c', code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env={**os.environ, 'PYTHONPATH': str(site)})
    assert r.returncode == 0 and r.stdout.split() == [str(site/'egovlp'/'configs'), 'True'], (r.stdout, r.stderr[-3000:])

# -- the committed mini-EgoClip model ----------------------------------------------------------------------------------------
def test_committed_mini_model_is_used():
    "The committed model records the key of the current configs/mini/egoclip.json, so mini_pretrained() trains nothing."
    import torch
    from safetensors.torch import load_file
    from egovlp.launch import MINI_ASSET, mini_config, mini_pretrained
    from egovlp.model import load_checkpoint_file
    meta = json.loads((MINI_ASSET/'meta.json').read_text())
    assert meta['key'] == mini_config()[2], "configs/mini/egoclip.json changed: run python scripts/make_mini_model.py"
    assert (MINI_ASSET/'model.safetensors').stat().st_size < 12e6
    p = mini_pretrained(local=str(ROOT/'no'/'such.pth'))
    assert p.name == 'model_best.pth' and 'mini_pretrained_committed' in str(p)
    sd, asset = load_checkpoint_file(p)['state_dict'], load_file(str(MINI_ASSET/'model.safetensors'))
    assert sd.keys() == asset.keys() and all(torch.equal(sd[k], asset[k]) for k in sd)

@pytest.mark.skipif('slow' not in os.environ.get('EGOVLP_TEST_FLAGS', '').split(), reason='slow: set EGOVLP_TEST_FLAGS=slow')
def test_mini_model_regenerates_bit_exactly():
    "scripts/make_mini_model.py --check: the mini pretraining, run afresh, gives the committed tensors bit for bit."
    r = subprocess.run([sys.executable, str(ROOT/'scripts'/'make_mini_model.py'), '--check'], cwd=ROOT, capture_output=True,
                       text=True, timeout=3600, env={**os.environ, 'PYTHONPATH': str(ROOT)})
    assert r.returncode == 0 and 'identical' in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
