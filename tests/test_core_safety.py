"""egovlp.core beyond its notebook: imports nothing of the package, loads what accelerate really writes, finds a full
disk behind an errno-less torch.save failure (patched at module level, as the fault tests do), and parses the
repository's EgoClip configs (the task registered by a stand-in with the legacy EgoClip loader keys)."""
import dataclasses, errno, io, os, pickle, subprocess, sys
from pathlib import Path
import pytest, torch
import egovlp.core as C

ROOT = Path(__file__).resolve().parents[1]

def test_core_imports_nothing_of_the_package():
    code = ("import sys, egovlp.core as C; C.register_task('T', lambda run: None); "
            "C.parse_config({'data_loader': {'args': {'dataset_name': 'T'}}}); "
            "print(sorted(m for m in sys.modules if m.startswith('egovlp.')))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={**os.environ, 'PYTHONPATH': str(ROOT)}).stdout
    assert out.strip() == "['egovlp.core']", out

class Evil:
    def __reduce__(self): return (os.system, (f'touch {self.mark}',))

def test_accelerate_custom_state_loads_and_a_tampered_one_is_refused(tmp_path):
    from accelerate import Accelerator
    acc = Accelerator(cpu=True)
    model = torch.nn.Linear(2, 2); opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 0.5)
    model, opt = acc.prepare(model, opt)
    acc.register_for_checkpointing(sched)
    acc.save_state(str(tmp_path/'ckpt'))
    pkl = tmp_path/'ckpt'/'custom_checkpoint_0.pkl'
    assert C.safe_pickle_load(pkl, 'scheduler state') == sched.state_dict()
    evil = Evil(); evil.mark = tmp_path/'pwned'
    torch.save({'base_lrs': [evil]}, pkl)
    with pytest.raises(pickle.UnpicklingError, match=f"{pkl}: scheduler state refers to posix.system, which is not allowed"):
        C.safe_pickle_load(pkl, 'scheduler state')
    assert not (tmp_path/'pwned').exists()

def test_errno_less_full_disk_is_enospc(tmp_path, monkeypatch):
    class Full(io.FileIO):
        def write(self, b):
            if self.tell() + len(b) > 1000: raise OSError(None, None, str(tmp_path/'ck.pth'))
            return super().write(b)
    monkeypatch.setattr(C, '_open_for_write', lambda p: Full(p, 'wb'))
    monkeypatch.setattr(C, '_free_bytes', lambda p: 0 if any(tmp_path.glob('*.tmp')) else 10 << 30)  # full while it is there
    with pytest.raises(OSError) as e: C.atomic_save({'a': torch.zeros(10_000)}, tmp_path/'ck.pth')
    assert (e.value.errno, e.value.filename) == (errno.ENOSPC, str(tmp_path/'ck.pth'))
    assert 'ENOSPC: no space left on device' in str(e.value) and not list(tmp_path.iterdir())

@pytest.fixture
def egoclip_task(monkeypatch):
    from egovlp.tasks.egoclip import EgoClipArgs     # imported (and registered) before the registry is swapped out
    monkeypatch.setattr(C, 'TASKS', {})
    C.register_task('EgoClip', lambda run, tokenizer=None, loss=None: None, EgoClipArgs)

@pytest.mark.parametrize('name', ['pt/egoclip', 'eval/egomcq', 'mini/egoclip'])
def test_repository_egoclip_configs_parse(egoclip_task, name):
    path = ROOT/'configs'/f'{name}.json'
    run = C.load_run(path, ['data_loader.args.batch_size=4'])          # the list form takes the un-indexed key
    cfg = C.read_config(path)
    assert (run.loader.batch_size, run.trainer.batch_size) == (4, 4)
    assert run.trainer.lr == cfg['optimizer']['args']['lr'] and run.model.num_frames == cfg['arch']['args']['video_params']['num_frames']
    assert run.loader.video.num_frames == cfg['data_loader'][0]['args']['video_params']['num_frames']
    assert run.trainer.eval_batch_size == cfg['trainer'].get('eval_batch_size', 4)
