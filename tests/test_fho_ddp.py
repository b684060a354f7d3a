"""OSCC/PNR evaluation on 2 CPU processes (gloo, launched by `accelerate launch`) counts each clip exactly once and
gives the metrics of 1 process: 5 val clips in batches of 2 make the sampler pad one process with a duplicate."""
import os, shutil, socket, subprocess, sys
from pathlib import Path

import torch

from egovlp.minidata import make_mini_fho, MINI_FHO_TINY

HERE = Path(__file__).resolve().parent


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _run(root, out, nproc):
    exe = shutil.which('accelerate') or str(Path(sys.executable).parent/'accelerate')
    layout = ['--num_processes', '1', '--cpu'] if nproc == 1 else ['--multi_gpu', '--num_processes', str(nproc)]
    cmd = [exe, 'launch', *layout, '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no',
           '--main_process_port', str(_free_port()), str(HERE/'_fho_eval_worker.py'), str(root), str(out)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': '', 'PYTHONPATH': str(HERE.parent)}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=HERE.parent)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return torch.load(out/f'{nproc}.pt', weights_only=False)


def test_fho_eval_two_processes_count_each_clip_once(tmp_path):
    root = make_mini_fho(tmp_path/'mini', seed=0, **{**MINI_FHO_TINY, 'n_val': 5, 'pos_frac': 0.6})
    one, two = _run(root, tmp_path, 1), _run(root, tmp_path, 2)
    for kind, n in (('oscc', 5), ('pnr', 3)):
        a, b = one[kind], two[kind]
        assert (a['processes'], b['processes']) == (1, 2)
        assert b['pred']['index'].tolist() == list(range(n))          # every clip once, no padding duplicate
        assert torch.allclose(a['pred']['logits'], b['pred']['logits'], atol=1e-5)
        for k, v in a['metrics'].items(): assert abs(v - b['metrics'][k]) < 1e-6, (kind, k, v, b['metrics'][k])
