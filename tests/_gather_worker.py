"""Worker for tests/test_gather.py (not a test itself).

`python _gather_worker.py OUT --single` trains one step on the whole global batch in one process;
`accelerate launch --multi_gpu --num_processes 2 _gather_worker.py OUT` (CPU, gloo) has each process take half of it,
gather embeddings and tags with `all_gather_with_grad`, compute EgoNCE and back-propagate through DDP.
Each run writes the loss and the flattened parameter gradients to OUT/<variant>_rank<r>.pt.
"""
import sys
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn

from egovlp.loss import EgoNCE, all_gather_with_grad, egonce_masks
from egovlp.model import sim_matrix

N, D_VID, D_TXT, D_EMB = 8, 6, 4, 5


def make_batch():
    "A fixed global batch of N clips: video / text features and multi-hot verb (5) and noun (7) tags with overlaps."
    g = torch.Generator().manual_seed(1)
    verb = torch.zeros(N, 5); noun = torch.zeros(N, 7)
    for i, (vs, ns) in enumerate([((0,), (0,)), ((0, 1), (0,)), ((0,), (1,)), ((2,), (0, 2)),
                                  ((2,), (2,)), ((), ()), ((3,), (3,)), ((0,), (0, 4))]):
        verb[i, list(vs)] = 1; noun[i, list(ns)] = 1
    return torch.randn(N, D_VID, generator=g), torch.randn(N, D_TXT, generator=g), verb, noun


class Tiny(nn.Module):
    "A stand-in dual encoder: one Linear per modality."
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.video, self.text = nn.Linear(D_VID, D_EMB), nn.Linear(D_TXT, D_EMB)

    def forward(self, xv, xt): return self.video(xv), self.text(xt)


class SliceGather(torch.autograd.Function):
    "The original EgoVLP `AllGather_multi`: backward returns only the local slice of the gradient (no all-reduce)."
    @staticmethod
    def forward(ctx, t):
        parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, t.contiguous())
        ctx.lo, ctx.n = dist.get_rank() * t.shape[0], t.shape[0]
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad): return grad[ctx.lo:ctx.lo + ctx.n]


def step(model, xv, xt, verb, noun, gather):
    v, t = model(xv, xt)
    v, t, verb, noun = (gather(a) for a in (v, t, verb, noun))
    return EgoNCE()(sim_matrix(t, v), *egonce_masks(verb, noun))


def flat_grad(model): return torch.cat([p.grad.flatten() for p in model.parameters()])


def run_single():
    model = Tiny()
    loss = step(model, *make_batch(), gather=lambda a: a)
    loss.backward()
    return dict(loss=loss.detach(), grad=flat_grad(model))


def run_distributed(out: Path):
    from accelerate import Accelerator
    acc = Accelerator(cpu=True)
    W, r = acc.num_processes, acc.process_index
    assert W == 2 and dist.get_backend() == 'gloo', (W, dist.get_backend())
    b = N // W
    local = [a[r * b:(r + 1) * b] for a in make_batch()]
    for name, gather in (('sum', all_gather_with_grad), ('slice', SliceGather.apply)):
        model = acc.prepare(Tiny())
        loss = step(model, *local, gather=gather)
        acc.backward(loss)
        torch.save(dict(loss=loss.detach(), grad=flat_grad(acc.unwrap_model(model))), out / f'{name}_rank{r}.pt')
    # unequal per-process batches must raise a clear error on every rank, not hang
    try: all_gather_with_grad(local[0][:b - r])
    except ValueError as e: (out / f'unequal_rank{r}.txt').write_text(str(e))
    acc.wait_for_everyone()
    acc.end_training()


if __name__ == '__main__':
    out = Path(sys.argv[1])
    if '--single' in sys.argv: torch.save(run_single(), out / 'single_rank0.pt')
    else: run_distributed(out)
