"""Worker for tests/test_encode_ddp.py (not a test itself): `accelerate launch ... _encode_worker.py OUT N BATCH`.

Each process `encode`s a dataset of N known items (item i is the vector (2i, 2i²) after `fn`, and reports one
substituted read when i is a multiple of 4), records which indices it encoded itself (the shard, with accelerate's
padding) and which rows came back from `gather_for_metrics`; then encodes again through a reused loader, and once
with a collate that repeats an item (which must be an error on every process, not a hang). Writes OUT/rank<r>.pt.
"""
import sys
from pathlib import Path
import torch
from accelerate import Accelerator
from torch.utils.data import Dataset, default_collate
from egovlp.textvideo import encode

class Known(Dataset):
    def __init__(self, n): self.n = n
    def __len__(self): return self.n
    def __getitem__(self, i): return {'x': torch.tensor([i, i * i], dtype=torch.float64), 'load_failures': int(i % 4 == 0)}

out, n, bs = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
acc = Accelerator(cpu=True)
gathered, orig = [], acc.gather_for_metrics
def spy(x, *a, **kw):
    y = orig(x, *a, **kw); gathered.append(y[1].tolist()); return y
acc.gather_for_metrics = spy
local = []
def fn(model, b):
    local.append(b['idx'].tolist()); return 2 * b['x']
ds, stats, loaders = Known(n), {}, {}
emb = encode(None, ds, fn, acc, batch_size=bs, stats=stats, loaders=loaders)
again = encode(None, ds, lambda m, b: 2 * b['x'], acc, batch_size=bs, stats=stats, loaders=loaders)
gathered_rows = sum(len(g) for g in gathered)          # of the two passes
try:
    encode(None, ds, lambda m, b: 2 * b['x'], acc, batch_size=bs, collate=lambda items: default_collate(items + items[:1]))
    error = None
except RuntimeError as e: error = str(e)
torch.save(dict(world=acc.num_processes, emb=emb, again=again, stats=stats, local=local, gathered_rows=gathered_rows,
                n_loaders=len(loaders), error=error), out/f'rank{acc.process_index}.pt')
acc.wait_for_everyone()
