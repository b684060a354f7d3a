"""OSCC/PNR evaluation on 2 CPU processes (gloo, launched by `accelerate launch`) counts each clip exactly once and
gives the metrics of 1 process: 5 val clips in batches of 2 make the sampler pad one process with a duplicate."""
import sys
from pathlib import Path

import torch

from egovlp.minidata import make_mini_fho, MINI_FHO_TINY

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _launch import launch  # noqa: E402


def _run(root, out, nproc):
    launch(HERE/'_fho_eval_worker.py', root, out, nproc=nproc, timeout=600)
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
