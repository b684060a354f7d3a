"""Worker for tests/test_charades_ddp.py (not a test itself): evaluate an untrained tiny model on the tiny
mini-Charades-Ego with the real `CharadesTask` and `Trainer(train=False)`, in however many processes it was
launched with, and write the metrics and the per-video embeddings to OUT/np<processes>.json (main process)."""
import json, sys
from pathlib import Path

import torch
from accelerate import Accelerator

from egovlp.charades import CharadesTask
from egovlp.minidata import MINI_CHARADES_TINY, make_mini_charades
from egovlp.model import FrozenInTime, get_tokenizer, tiny_text_params, tiny_video_params
from egovlp.trainer import Trainer, TrainConfig

out = Path(sys.argv[1])
acc = Accelerator(cpu=True)                                          # gloo on CPU processes
with acc.main_process_first(): root = make_mini_charades(**MINI_CHARADES_TINY)   # generated once, then reused
torch.manual_seed(0)
model = FrozenInTime(tiny_video_params(num_frames=4), tiny_text_params(), projection_dim=16)
task = CharadesTask(root/'CharadesEgo_v1_480', root/'CharadesEgo', get_tokenizer(), num_frames=4, size=32,
                    loading='strict', batch_size=2, num_workers=0)
tr = Trainer(model, task, TrainConfig(save_dir=str(out/'run'), tensorboard=False, progress=False),
             accelerator=acc, train=False)
res = tr.evaluate()
with torch.no_grad(): emb, _ = task.video_embeddings(tr.model, tr)
if tr.acc.is_main_process:
    (out/f'np{tr.acc.num_processes}.json').write_text(json.dumps({'metrics': res, 'emb': emb.cpu().tolist(),
                                                                   'n_videos': len(task.test_dataset())}))
acc.wait_for_everyone()
if torch.distributed.is_initialized(): torch.distributed.destroy_process_group()   # a clean exit on every rank
