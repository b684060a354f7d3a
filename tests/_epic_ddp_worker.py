"""Worker for tests/test_epic_ddp.py (not a test itself): evaluate a tiny random model on a tiny mini-EPIC-MIR test split
with the EPIC task, in 1 or 2 processes (CPU, gloo), with a batch size that leaves the last batch ragged.
Writes the metrics, how often each clip was encoded, and the similarity matrix to OUT (rank 0)."""
import json, sys
from pathlib import Path
import torch
from accelerate import Accelerator
from egovlp.epic import EpicMIR, evaluate_mir, embed_mir
from egovlp.minidata import make_mini_epic, MINI_EPIC_TINY
from egovlp.model import FrozenInTime, tiny_video_params, tiny_text_params, get_tokenizer

if __name__ == '__main__':
    out, root = Path(sys.argv[1]), Path(sys.argv[2])
    acc = Accelerator(cpu=True)
    mini = make_mini_epic(root, **MINI_EPIC_TINY)          # made by the test before launching
    torch.manual_seed(0)
    model = acc.prepare(FrozenInTime(tiny_video_params(), tiny_text_params(), projection_dim=16).eval())
    tok = get_tokenizer()
    ds = EpicMIR(mini/'annotations', mini/'frames', 'test', num_frames=4, size=32, loading='strict')
    assert len(ds) % (2*acc.num_processes) != 0, len(ds)       # the sharded loader pads: gather_for_metrics must drop it
    with torch.no_grad():
        e = embed_mir(model, ds, tok, acc, batch_size=2, num_workers=0)
        res = evaluate_mir(model, ds, tok, acc, batch_size=2, num_workers=0, return_sim=True)
    if acc.is_main_process:
        sim = res.pop('_sim')
        out.write_text(json.dumps(dict(processes=acc.num_processes, n_clips=len(ds), seen=e['clip_seen'].tolist(),
                                       metrics=res, sim=sim.tolist())))
