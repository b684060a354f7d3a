"""Charades-Ego evaluation on 2 CPU processes (gloo, `accelerate launch`) gives the single-process metrics and
embeddings: the test videos are sharded, the padding of the last batch is dropped, every video counts once."""
import json, subprocess, sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORKER = HERE/'_charades_eval_worker.py'
sys.path.insert(0, str(HERE))
from _launch import ROOT, env, launch  # noqa: E402


def test_charades_eval_two_processes_match_one(tmp_path):
    from egovlp.minidata import MINI_CHARADES_TINY, make_mini_charades
    make_mini_charades(**MINI_CHARADES_TINY)          # once, before two processes look for it
    r = subprocess.run([sys.executable, str(WORKER), str(tmp_path)], capture_output=True, text=True, timeout=600, env=env(), cwd=ROOT)
    assert r.returncode == 0, r.stderr[-6000:]
    launch(WORKER, tmp_path, nproc=2, timeout=600)
    one, two = (json.loads((tmp_path/f'np{n}.json').read_text()) for n in (1, 2))
    assert one['n_videos'] % 2 == 1 and one['n_videos'] == len(two['emb'])   # odd: the last batch of one rank is padded
    np.testing.assert_allclose(np.array(two['emb']), np.array(one['emb']), rtol=1e-4, atol=1e-5)
    for k, v in one['metrics'].items(): assert abs(two['metrics'][k] - v) < 1e-3, (k, one['metrics'], two['metrics'])
