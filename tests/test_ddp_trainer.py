"""The real trainer on 2 CPU processes (gloo, launched through accelerate) follows the 1-process run with the same
global batch step for step: same data, same augmentation, gathered EgoNCE, DDP gradients equal to the full-batch ones."""
import json, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import launch  # noqa: E402

def _run(tmp, nproc, out):
    launch('benchmarks/ddp_match.py', '--cpu', '--global-batch', '8', '--steps', '3', '--workers', '0', '--out', out,
           '--save-dir', tmp/f'run{nproc}', nproc=nproc, timeout=900)
    return json.loads(Path(out).read_text())

def test_two_processes_match_one(tmp_path):
    one, two = _run(tmp_path, 1, tmp_path/'one.json'), _run(tmp_path, 2, tmp_path/'two.json')
    assert (one['processes'], two['processes']) == (1, 2)
    assert len(one['losses']) == len(two['losses']) == 3
    for a, b in zip(one['losses'], two['losses']): assert abs(a - b) < 1e-4, (one['losses'], two['losses'])
