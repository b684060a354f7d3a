"""Worker for tests/test_two_machines.py (not a test itself): `python _mcq_worker.py MCQ_JSON DATA_DIR CHUNK OUT`.

Under `accelerate launch` with 2 CPU processes it scores an EgoMCQ json with a tiny seeded model, clips sharded over
the processes (`EgoMCQEvaluator(model, acc)`), counting the clip rows that come back from `gather_for_metrics`; rank 0
also scores it in one process (`acc=None`) as the reference. Each rank writes OUT/rank<r>.pt.
"""
import sys
from pathlib import Path
import torch
from accelerate import Accelerator
from egovlp.egoclip import EgoMCQ
from egovlp.tasks.egoclip import EgoMCQEvaluator
from egovlp.model import FrozenInTime, tiny_video_params, tiny_text_params, get_tokenizer

mcq_json, data_dir, chunk, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), Path(sys.argv[4])
acc = Accelerator(cpu=True)
torch.manual_seed(0)
model = FrozenInTime(tiny_video_params(num_frames=2), tiny_text_params(), projection_dim=32).eval()
mcq = EgoMCQ(mcq_json, data_dir, num_frames=2, size=32, chunk_sec=chunk, loading='strict')
tok = get_tokenizer()
rows = []
orig = acc.gather_for_metrics
def counting(x, *a, **kw):
    y = orig(x, *a, **kw); rows.append(len(y[1])); return y
acc.gather_for_metrics = counting
ev = EgoMCQEvaluator(mcq, tok, batch_size=4, num_workers=0)
with torch.no_grad():
    res = ev(model, acc); scores = ev.scores(model, acc)
    ref = EgoMCQEvaluator(mcq, tok, batch_size=4, num_workers=0) if acc.is_main_process else None
    ref_res, ref_scores = (ref(model, None), ref.scores(model, None)) if ref else (None, None)
torch.save(dict(world=acc.num_processes, res=res, scores=scores.cpu(), gathered_rows=sum(rows) // 2,   # two passes: ev(), ev.scores()
                n_clips=len(mcq.clips), n_questions=len(mcq), ref_res=ref_res, ref_scores=ref_scores), out/f'rank{acc.process_index}.pt')
acc.wait_for_everyone()
