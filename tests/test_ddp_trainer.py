"""The real trainer on 2 CPU processes (gloo, launched through accelerate) follows the 1-process run with the same
global batch step for step: same data, same augmentation, gathered EgoNCE, DDP gradients equal to the full-batch ones."""
import json, os, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _launch(tmp, nproc, out):
    acc = shutil.which('accelerate') or str(Path(sys.executable).parent/'accelerate')
    layout = ['--num_processes', '1', '--cpu'] if nproc == 1 else ['--multi_gpu', '--num_processes', str(nproc)]
    cmd = [acc, 'launch', *layout, '--main_process_port', str(29500 + 7*nproc), 'benchmarks/ddp_match.py', '--cpu',
           '--global-batch', '8', '--steps', '3', '--workers', '0', '--out', str(out), '--save-dir', str(tmp/f'run{nproc}')]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return json.loads(Path(out).read_text())

def test_two_processes_match_one(tmp_path):
    one, two = _launch(tmp_path, 1, tmp_path/'one.json'), _launch(tmp_path, 2, tmp_path/'two.json')
    assert (one['processes'], two['processes']) == (1, 2)
    assert len(one['losses']) == len(two['losses']) == 3
    for a, b in zip(one['losses'], two['losses']): assert abs(a - b) < 1e-4, (one['losses'], two['losses'])
