"""Worker for tests/test_fho_ddp.py (not a test itself): evaluate a fixed random OSCC and PNR classifier on a mini-FHO
root with the evaluation-only Trainer and write the metrics and the gathered predictions to OUT/<nproc>.pt."""
import sys
from pathlib import Path

import torch
from accelerate import Accelerator

from egovlp.fho import build_task
from egovlp.model import tiny_video_params
from egovlp.trainer import Trainer, TrainConfig


def config(root, kind):
    return {'arch': {'type': 'FrozenInTime', 'args': {'video_params': tiny_video_params(num_frames=16, depth=1),
                                                      'projection_dim': 2 if kind == 'oscc' else 16, 'load_checkpoint': ''}},
            'data_loader': {'args': {'dataset_name': 'Ego4D_OSCC' if kind == 'oscc' else 'Ego4D_PNR', 'meta_dir': str(root),
                                     'data_dir': f'{root}/videos', 'batch_size': 2, 'num_workers': 0,
                                     'frame_source': 'video' if kind == 'pnr' else 'jpeg',
                                     'video_params': {'input_res': 32, 'loading': 'strict'}}},
            'trainer': {'eval_batch_size': 2, 'save_dir': str(Path(sys.argv[2])/f'run_{kind}'), 'tensorboard': False,
                        'progress': False}}


if __name__ == '__main__':
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    res, acc = {}, Accelerator(cpu=True)          # on CPU, accelerate makes a gloo group only when asked to
    for kind in ('oscc', 'pnr'):
        cfg = config(root, kind)
        task = build_task(cfg)
        torch.manual_seed(0)
        tr = Trainer(task.build_model(cfg), task, TrainConfig.from_original(cfg), accelerator=acc, train=False)
        res[kind] = dict(metrics=tr.evaluate(), pred=task.last, processes=tr.acc.num_processes)
    if tr.acc.is_main_process: torch.save(res, out/f"{res['oscc']['processes']}.pt")
