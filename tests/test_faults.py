"""The fault suite (issue 14): every bad config, bad number, bad file and interruption gives a clear error naming the
key / step / file, or a counted and reported fallback; after `kill -9` at any point, `--resume` continues exactly.

Runs on the tiny mini-EgoClip (31 clips, 3 videos) with the mini config's tiny model, 2 epochs of 3 steps. The
uninterrupted run and the interrupted ones are separate processes started through the real command line
(`egovlp.launch`'s parser and `pretrain`, see tests/_fault_worker.py); the rest runs in this process.
"""
import errno, fcntl, json, logging, os, re, shutil, subprocess, sys
from pathlib import Path

import pytest
import torch

from egovlp.core import ConfigError, read_config
from egovlp.synth import MINI_TINY, make_mini_egoclip
from egovlp.launch import load, pretrain, trainer_for, _parser, _overrides
from egovlp.factory import create_model

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
CONFIG = str(ROOT/'configs'/'mini'/'egoclip.json')

def run_of(argv):
    "The run `cli(argv)` would train (its parser and overrides)."
    a = _parser('', CONFIG, True).parse_args(argv)
    return load(a.config, _overrides(a))

def cli(argv):
    "`cli(argv)`, with the exception raised and the state returned."
    a = _parser('', CONFIG, True).parse_args(argv)
    return pretrain(load(a.config, _overrides(a)), a.resume, a.resume_anyway)

def sets(save_dir, *extra):
    "The command line of every run here: tiny mini-EgoClip, batch 8, 2 epochs evaluated each, a checkpoint every 2 steps."
    return ['-c', CONFIG, '--save_dir', str(save_dir), '--set', f'mini={json.dumps({"egoclip": MINI_TINY})}', 'trainer.epochs=2',
            'data_loader.0.args.batch_size=8', 'data_loader.0.args.chunk_sec=5', 'arch.args.video_params.num_frames=2',
            'data_loader.0.args.video_params.num_frames=2', 'data_loader.0.args.num_workers=0', 'trainer.eval_every_epochs=1',
            'trainer.save_every_steps=2', 'trainer.keep_checkpoints=10', 'trainer.progress=false', 'trainer.tensorboard=false',
            *extra]

def worker(out, save_dir, kill=None, resume=None, timeout=600):
    cmd = [sys.executable, str(HERE/'_fault_worker.py'), str(out), *(['--kill', kill] if kill else []), '--',
           *(['--resume', str(resume)] if resume else []), *sets(save_dir)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': '', 'PYTHONPATH': str(ROOT)}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)

@pytest.fixture(scope='session')
def baseline(tmp_path_factory):
    "The uninterrupted run, once for all pytest workers (a file lock in the shared temp dir)."
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get('PYTEST_XDIST_WORKER') else base)/'egovlp_fault_baseline'   # this session's
    shared.mkdir(exist_ok=True)
    with open(shared/'.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared/'result.json').exists():
            r = worker(shared/'result.tmp', shared/'run')
            assert r.returncode == 0, r.stderr[-5000:]
            os.replace(shared/'result.tmp', shared/'result.json')
    return json.loads((shared/'result.json').read_text()), shared/'run'

def records(hist): return [{k: v for k, v in h.items() if k not in ('clips_per_s', 'data_wait')} for h in hist]

def same_records(a, b):
    assert len(a) == len(b), (a, b)
    for x, y in zip(records(a), records(b)):
        assert x.keys() == y.keys(), (x, y)
        for k in x: assert x[k] == pytest.approx(y[k], abs=1e-5), (k, x, y)

# -- kill -9, then --resume ------------------------------------------------------------------------------------
@pytest.mark.parametrize('kill', ['step:5', 'save:3', 'eval:3'])
def test_kill_then_resume_is_exact(kill, baseline, tmp_path):
    """step:5 dies inside epoch 2 (resumes from the step-4 checkpoint), save:3 inside the step-4 save (resumes from
    epoch001, the half-written checkpoint ignored), eval:3 inside epoch 2's evaluation (resumes at epoch 2's last step)."""
    ref, _ = baseline
    r = worker(tmp_path/'killed.json', tmp_path/'run', kill=kill)
    assert r.returncode == -9, (r.returncode, r.stderr[-3000:])
    r = worker(tmp_path/'resumed.json', tmp_path/'run', resume=tmp_path/'run'/'checkpoints')
    assert r.returncode == 0, r.stderr[-5000:]
    res = json.loads((tmp_path/'resumed.json').read_text())
    ref_losses = {s: l for s, l in ref['losses']}
    first = {'step:5': 5, 'save:3': 4, 'eval:3': None}[kill]             # the first step the resumed run trains
    assert [s for s, _ in res['losses']] == (list(range(first, 7)) if first else [])
    for s, l in res['losses']: assert l == pytest.approx(ref_losses[s], abs=1e-6), (s, l, ref_losses[s])
    same_records(res['history'], ref['history'])
    assert res['best'] == pytest.approx(ref['best'])
    assert not list((tmp_path/'run'/'checkpoints').glob('.tmp-*'))          # a half-written save is cleaned up

def test_baseline_is_a_real_run(baseline):
    ref, run = baseline
    assert [s for s, _ in ref['losses']] == list(range(1, 7))
    assert (run/'model_best.pth').is_file() and ref['before'] and ref['after']
    ck = json.loads((run/'checkpoints'/'epoch002'/'trainer_state.json').read_text())
    assert ck['run'] == dict(world_size=1, batch_size=8, grad_accum=1, dataset_size=31, steps_per_epoch=3)
    assert json.loads((run/'checkpoints'/'epoch002'/'config.json').read_text())['config']['trainer']['epochs'] == 2

# -- resume that would not be exact --------------------------------------------------------------------------------
def copy_run(baseline, tmp_path):
    d = tmp_path/'run'; shutil.copytree(baseline[1], d); return d

def test_resume_with_another_batch_size_refuses(baseline, tmp_path):
    d = copy_run(baseline, tmp_path)
    argv = sets(d, 'trainer.epochs=3', 'data_loader.0.args.batch_size=4')
    with pytest.raises(RuntimeError, match=r'different layout \(batch_size 8 -> 4, steps_per_epoch 3 -> 7\).*--resume-anyway'):
        cli(['--resume', str(d/'checkpoints'), *argv])
    state = cli(['--resume', str(d/'checkpoints'), '--resume-anyway', *argv])
    assert state['epoch'] == 3

def test_resume_without_rng_state_refuses(baseline, tmp_path):
    d = copy_run(baseline, tmp_path)
    (d/'checkpoints'/'epoch002'/'random_states_0.pkl').unlink()
    with pytest.raises(RuntimeError, match='random_states_0.pkl is missing'):
        cli(['--resume', str(d/'checkpoints'), *sets(d, 'trainer.epochs=3')])

@pytest.mark.parametrize('name,size,msg', [('model.safetensors', 100, 'model.safetensors is damaged'),
                                            ('trainer_state.json', 30, 'trainer_state.json is damaged'),
                                            ('optimizer.bin', 0, 'optimizer.bin is empty')])
def test_damaged_checkpoint_names_the_file(baseline, tmp_path, name, size, msg):
    d = copy_run(baseline, tmp_path)
    os.truncate(d/'checkpoints'/'epoch002'/name, size)
    with pytest.raises(RuntimeError, match=msg) as e:
        cli(['--resume', str(d/'checkpoints'), *sets(d, 'trainer.epochs=3')])
    assert str(d/'checkpoints'/'epoch002'/name) in str(e.value)

def test_model_files_name_the_path(baseline, tmp_path):
    d = copy_run(baseline, tmp_path)
    empty = tmp_path/'empty.pth'; empty.write_bytes(b'')
    for path, err, msg in ((empty, ValueError, 'is empty (0 bytes)'), (d/'checkpoints'/'epoch002', IsADirectoryError, 'is a directory'),
                           (tmp_path/'nope.pth', FileNotFoundError, 'does not exist')):
        with pytest.raises(err, match=re.escape(msg)) as e: create_model(run_of(sets(d, f'arch.args.load_checkpoint={path}')).model)
        assert str(path) in str(e.value)
    with pytest.raises(RuntimeError, match='is a file; --resume takes a checkpoint directory'):
        cli(['--resume', str(d/'model_best.pth'), *sets(d, 'trainer.epochs=3')])

def test_nonfinite_checkpoint_weights_warn_or_fail(baseline, tmp_path, caplog):
    from safetensors.torch import load_file, save_file
    d = copy_run(baseline, tmp_path)
    f = d/'checkpoints'/'epoch002'/'model.safetensors'
    sd = load_file(f); k = next(iter(sd)); sd[k] = sd[k].clone(); sd[k].view(-1)[0] = float('nan'); save_file(sd, f)
    with pytest.raises(FloatingPointError, match='non-finite'):
        cli(['--resume', str(d/'checkpoints'), *sets(d, 'trainer.epochs=2', 'trainer.strict_checkpoint=true')])
    with caplog.at_level(logging.WARNING, logger='egovlp'):
        cfg = run_of(sets(d, 'trainer.epochs=2'))
        trainer_for(cfg).load_checkpoint(d/'checkpoints')
    assert any('non-finite values' in r.getMessage() for r in caplog.records)

# -- configs ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('extra,err,msg', [
    (['trainer.epocs=1'], ConfigError, "unknown key 'trainer.epocs'; did you mean 'trainer.epochs'?"),
    (['trainer.lr_schedule=cosin'], ConfigError, "trainer.lr_schedule: expected one of ['constant', 'cosine', 'linear', 'original'], got 'cosin'"),
    (['trainer.epochs=abc'], ConfigError, "trainer.epochs: expected an integer >= 0, got the string 'abc'"),
    (['trainer.epochs=1.5'], ConfigError, "trainer.epochs: expected an integer >= 0, got 1.5"),
    (['optimizer.args.lr=abc'], ConfigError, "optimizer.args.lr: expected a number > 0, got the string 'abc'"),
    (['data_loader.0.args.batchsize=4'], ConfigError, "did you mean 'data_loader.0.args.batch_size'?"),
    (['trainer.monitor=max egomcq_avg'], ValueError, "did you mean 'max egomcq_mean'?"),
    (['data_loader.0.args.egomcq_path=nowhere/egomcq.json'], FileNotFoundError, 'set trainer.validate=false'),
    (['data_loader.0.args.batch_size=64'], ValueError, 'is larger than the training set (31 clips)'),
])
def test_config_errors(tmp_path, extra, err, msg):
    with pytest.raises(err) as e: pretrain(run_of(sets(tmp_path, *extra)))
    assert msg in str(e.value), str(e.value)

def test_unknown_key_in_the_file(tmp_path):
    cfg = read_config(CONFIG); cfg['trainer']['epocs'] = 1; cfg['optimiser'] = {}
    p = tmp_path/'typo.json'; p.write_text(json.dumps(cfg))
    with pytest.raises(ConfigError) as e: run_of(['-c', str(p)])
    assert str(p) in str(e.value) and "'trainer.epocs'; did you mean 'trainer.epochs'?" in str(e.value) \
        and "'optimiser'; did you mean 'optimizer'?" in str(e.value)

def test_no_validation_is_explicit(tmp_path):
    state = pretrain(run_of(sets(tmp_path, 'trainer.validate=false', 'trainer.epochs=1',
                                                 'data_loader.0.args.egomcq_path=nowhere.json')))
    assert state['before'] == {} and not (tmp_path/'model_best.pth').exists() and len(state['history']) == 1

# -- non-finite numbers ------------------------------------------------------------------------------------------------
def test_injected_nan_stops_naming_the_step(tmp_path, monkeypatch):
    import egovlp.trainer as T
    from egovlp.tasks.egoclip import EgoClipTask
    orig = EgoClipTask.step
    def step(self, model, batch, trainer):
        loss, n = orig(self, model, batch, trainer)
        return (loss * float('nan') if trainer.state['global_step'] + 1 == 5 else loss), n
    monkeypatch.setattr(EgoClipTask, 'step', step)
    with pytest.raises(T.NonFiniteError, match=r'step 5 \(epoch 2, step 2/3\)'):
        pretrain(run_of(sets(tmp_path, 'trainer.save_every_steps=null')))
    assert sorted(p.name for p in (tmp_path/'checkpoints').iterdir()) == ['epoch001', 'latest']
    best = torch.load(tmp_path/'model_best.pth', weights_only=False)['state_dict']     # written at epoch 1, finite
    assert all(torch.isfinite(v).all() for v in best.values() if v.is_floating_point())
    state = pretrain(run_of(sets(tmp_path/'skip', 'trainer.nonfinite=skip')))
    assert state['nonfinite_skipped'] == 1 and [h['skipped_steps'] for h in state['history']] == [0, 1]

def test_huge_lr_never_writes_nonfinite_weights(tmp_path):
    import egovlp.trainer as T
    with pytest.raises(T.NonFiniteError, match='non-finite training value at step'):
        pretrain(run_of(sets(tmp_path, 'optimizer.args.lr=1e10', 'trainer.log_every=1')))
    for p in [*tmp_path.glob('model_best.pth'), *(tmp_path/'checkpoints').glob('*/model.safetensors')]:
        if p.suffix == '.pth': sd = torch.load(p, weights_only=False)['state_dict']
        else:
            from safetensors.torch import load_file; sd = load_file(p)
        assert all(torch.isfinite(v).all() for v in sd.values() if v.is_floating_point()), p

# -- a full disk -------------------------------------------------------------------------------------------------------
def test_full_disk_names_the_file(tmp_path, monkeypatch):
    import io, egovlp.core as C
    cfg = run_of(sets(tmp_path, 'trainer.epochs=1'))
    tr = trainer_for(cfg)
    tr.save_model(tmp_path/'model_best.pth')
    good = (tmp_path/'model_best.pth').read_bytes()
    class Full(io.FileIO):
        def write(self, b):
            if self.tell() + len(b) > 10_000: raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return super().write(b)
    monkeypatch.setattr(C, '_open_for_write', lambda p: Full(p, 'wb'))
    with pytest.raises(OSError) as e: tr.save_model(tmp_path/'model_best.pth')
    assert e.value.errno == errno.ENOSPC and e.value.filename == str(tmp_path/'model_best.pth')
    assert (tmp_path/'model_best.pth').read_bytes() == good                 # the previous file is intact
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]
    monkeypatch.undo()
    from accelerate import Accelerator
    def full(self, *a, **kw): raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(Accelerator, 'save_state', full)
    with pytest.raises(OSError) as e: tr.save_checkpoint('epoch001')
    assert e.value.errno == errno.ENOSPC and 'epoch001' in str(e.value)
    assert not (tmp_path/'checkpoints'/'.tmp-epoch001').exists()

# -- bad data ------------------------------------------------------------------------------------------------------------
def mini_copy(tmp_path, edit_csv):
    root = make_mini_egoclip(**MINI_TINY)
    d = tmp_path/'mini'; d.mkdir()
    for f in ('egoclip.csv', 'egomcq.json'): shutil.copy(root/f, d/f)
    lines = (d/'egoclip.csv').read_text().splitlines()
    (d/'egoclip.csv').write_text('\n'.join(edit_csv(lines)) + '\n')
    return d, root

def test_header_only_csv(tmp_path):
    d, root = mini_copy(tmp_path, lambda lines: lines[:1])
    with pytest.raises(ValueError, match='no rows') as e:
        pretrain(run_of(sets(tmp_path, f'data_loader.0.args.meta_dir={d}', f'data_loader.0.args.data_dir={root}/videos')))
    assert str(d/'egoclip.csv') in str(e.value)

def test_inverted_times_csv(tmp_path):
    def swap(lines):
        f = lines[3].split('\t'); f[6], f[7] = f[7], f[6]; lines[3] = '\t'.join(f); return lines
    d, root = mini_copy(tmp_path, swap)
    a = [f'data_loader.0.args.meta_dir={d}', f'data_loader.0.args.data_dir={root}/videos']
    with pytest.raises(ValueError, match=r'egoclip.csv:4: clip_end .* < clip_start'):
        pretrain(run_of(sets(tmp_path, *a)))
    state = pretrain(run_of(sets(tmp_path/'skip', *a, 'data_loader.0.args.on_bad_lines=skip', 'trainer.epochs=1')))
    assert len(state['history']) == 1                                       # the row was dropped (and logged), training ran

def test_fps_mismatch(tmp_path):
    from egovlp.video import VideoReadError
    with pytest.raises(VideoReadError, match=r'fps=15 was given \(data_loader.args.fps\) but the file has 30 fps'):
        pretrain(run_of(sets(tmp_path, 'data_loader.0.args.fps=15')))
    state = pretrain(run_of(sets(tmp_path/'lax', 'data_loader.0.args.fps=15', 'trainer.epochs=1',
                                                 'data_loader.0.args.video_params.loading=lax')))
    assert state['history'][0]['load_failures'] == 24                       # every clip of the epoch, counted (3 steps x 8)
