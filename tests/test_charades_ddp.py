"""Charades-Ego evaluation on 2 CPU processes (gloo, `accelerate launch`) gives the single-process metrics and
embeddings: the test videos are sharded, the padding of the last batch is dropped, every video counts once."""
import json, os, shutil, socket, subprocess, sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent/'_charades_eval_worker.py'


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def test_charades_eval_two_processes_match_one(tmp_path):
    from egovlp.minidata import MINI_CHARADES_TINY, make_mini_charades
    make_mini_charades(**MINI_CHARADES_TINY)          # once, before two processes look for it
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': '', 'PYTHONPATH': str(ROOT)}
    r = subprocess.run([sys.executable, str(WORKER), str(tmp_path)], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-6000:]
    exe = shutil.which('accelerate') or str(Path(sys.executable).parent/'accelerate')
    cmd = [exe, 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', '--main_process_port', str(_free_port()), str(WORKER), str(tmp_path)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    assert r.returncode == 0, f"accelerate launch failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    one, two = (json.loads((tmp_path/f'np{n}.json').read_text()) for n in (1, 2))
    assert one['n_videos'] % 2 == 1 and one['n_videos'] == len(two['emb'])   # odd: the last batch of one rank is padded
    np.testing.assert_allclose(np.array(two['emb']), np.array(one['emb']), rtol=1e-4, atol=1e-5)
    for k, v in one['metrics'].items(): assert abs(two['metrics'][k] - v) < 1e-3, (k, one['metrics'], two['metrics'])
