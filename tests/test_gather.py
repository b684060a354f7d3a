"""Two CPU processes (gloo, launched by `accelerate launch`) must reproduce the single-process EgoNCE step exactly.

Each process takes half of a fixed global batch, gathers embeddings and tags with `all_gather_with_grad`,
computes EgoNCE on the gathered batch and back-propagates through DDP. The loss and the parameter gradients must
equal those of one process on the whole batch. The original's `AllGather_multi` (slice-only backward) is run too:
its gradients are 1/W of that, as the notebook 04_egonce derives.
"""
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
WORKER = HERE / '_gather_worker.py'
sys.path.insert(0, str(HERE))
import _gather_worker  # noqa: E402
from _launch import launch  # noqa: E402


def test_gather_two_processes_match_single(tmp_path):
    single = _gather_worker.run_single()
    launch(WORKER, tmp_path, nproc=2, timeout=180)

    res = {(v, k): torch.load(tmp_path / f'{v}_rank{k}.pt') for v in ('sum', 'slice') for k in (0, 1)}
    for k in (0, 1):
        # every rank computes the same full loss, and DDP leaves the same gradient on every rank
        torch.testing.assert_close(res['sum', k]['loss'], single['loss'], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(res['sum', k]['grad'], single['grad'], rtol=1e-6, atol=1e-6)
        # the original AllGather_multi: the same loss, but 1/W of the gradient after DDP's average
        torch.testing.assert_close(res['slice', k]['loss'], single['loss'], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(res['slice', k]['grad'], single['grad'] / 2, rtol=1e-6, atol=1e-6)
        msg = (tmp_path / f'unequal_rank{k}.txt').read_text()
        assert 'same shape' in msg and '[(4, 6), (3, 6)]' in msg, msg
    assert single['grad'].abs().max() > 1e-2        # a non-trivial gradient
    assert single['loss'] > 0.1
