"""`egovlp.textvideo.encode` on 2 CPU processes (gloo, `accelerate launch`): a dataset of 11 items in batches of 4
(11 divides by neither the world size nor the batch size, so accelerate pads a shard with repeated items) comes back
on every process with each index exactly once, in dataset order, with the known values; the substituted reads are
counted once; a collate that repeats items is an error on every process. (The per-task exactly-once tests of EgoMCQ,
EPIC, Charades and OSCC/PNR predate `encode`; they go once every task evaluates through it.)"""
import sys
from pathlib import Path
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _launch import launch  # noqa: E402

def test_encode_two_processes_each_item_once(tmp_path):
    n, bs = 11, 4
    launch(HERE/'_encode_worker.py', tmp_path, n, bs, nproc=2, timeout=300)
    res = [torch.load(tmp_path/f'rank{r}.pt', weights_only=False) for r in (0, 1)]
    want = 2 * torch.tensor([[i, i * i] for i in range(n)], dtype=torch.float32)
    shards = [sum(r['local'], []) for r in res]
    assert sorted(set(shards[0]) | set(shards[1])) == list(range(n)), shards
    assert len(shards[0]) + len(shards[1]) > n, shards                  # the padding case really happened ...
    for r in res:
        assert r['world'] == 2
        assert r['gathered_rows'] == 2 * n             # ... and gather_for_metrics dropped it (2 passes)
        assert torch.equal(r['emb'], want) and torch.equal(r['again'], want)   # every index once, in dataset order
        assert r['stats'] == {'load_failures': 2 * len(range(0, n, 4))}        # 0, 4, 8 (counted once per pass)
        assert r['n_loaders'] == 1                                             # the second pass reused the loader
        assert r['error'] and 'expected every index exactly once' in r['error'], r['error']
