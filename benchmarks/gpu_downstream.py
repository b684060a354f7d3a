#!/usr/bin/env python
"""Downstream passes on one GPU, the model side with the default options (issue 26, goal 5).

extract: NLQ/MQ feature extraction — windows/s of what `egovlp.tasks.episodic.extract_features` runs per batch: uint8
         windows (B, 4, 3, 224, 224) on the device → `normalize` → `FrozenInTime.compute_video` (ViT-B/16, the
         architecture of configs/eval/nlq.json, random weights) under bf16 autocast, no grad. The decode side is measured
         apart on the CPU (`benchmarks/extract_features.py`, windows per CPU-second); `--decode-per-core` combines both
         into the hours for every NLQ + MQ clip on one host.
fho:     OSCC / PNR fine-tuning — steps/s of `FHOTask.step` (a `VideoClassifier`: the video tower of configs/ft/oscc.json,
         16 frames at 224 px, + a 2- or 16-way head; cross-entropy) + backward + AdamW (lr 3e-5), bf16 autocast, eager
         (the trainer's default, `trainer.compile=false`) and compiled.

Times: CUDA events around each step/batch after warm-up; the median is shown. Inputs are random uint8 clips.

    python benchmarks/gpu_downstream.py --task extract --batch 64,256
    python benchmarks/gpu_downstream.py --task fho --batch 4,16,32
"""
import argparse, json, statistics, time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

def arch_args(config: str, num_frames: int) -> dict:
    "The `arch.args` of a shipped config, offline: no pretrained ViT/DistilBERT download, no checkpoint."
    a = json.loads((ROOT/'configs'/config).read_text())['arch']['args']
    a['video_params'] = dict(a['video_params'], pretrained=False, num_frames=num_frames)
    a['text_params'] = dict(a['text_params'], pretrained=False)
    a['load_checkpoint'] = None
    return a

def timed(fn, steps: int, warmup: int) -> list:
    "Milliseconds of each of `steps` calls of `fn` after `warmup` calls (CUDA events)."
    for _ in range(warmup): fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(steps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record(); fn(); e.record(); torch.cuda.synchronize(); out.append(s.elapsed_time(e))
    return out

def bench_extract(a) -> list:
    from egovlp.model import FrozenInTime
    from egovlp.video import normalize
    model = FrozenInTime(**arch_args('eval/nlq.json', 4)).cuda().eval()
    rows = []
    for b in a.batch:
        x = torch.randint(0, 256, (b, 4, 3, 224, 224), dtype=torch.uint8, device='cuda')
        @torch.no_grad()
        def f():
            with torch.autocast('cuda', torch.bfloat16): return model.compute_video(normalize(x))
        torch.cuda.reset_peak_memory_stats()
        t0 = time.time(); f(); torch.cuda.synchronize(); first = time.time() - t0
        ms = statistics.median(timed(f, a.steps, 2))
        rows.append(dict(task='extract', batch=b, ms=round(ms, 2), windows_per_s=round(b/ms*1e3, 1), first_s=round(first, 2),
                         peak_gib=round(torch.cuda.max_memory_allocated()/2**30, 1)))
        print(rows[-1], flush=True)
    return rows

def bench_fho(a) -> list:
    from egovlp.tasks.fho import VideoClassifier
    from egovlp.video import normalize
    rows = []
    for kind, n_cls in (('oscc', 2), ('pnr', 16)):
        for compiled in (False, True):
            if compiled and kind == 'pnr': continue           # same graph as OSCC but for the head's width
            vp = arch_args('ft/oscc.json', 16)['video_params']
            model = VideoClassifier(vp, n_cls).cuda().train()
            opt = torch.optim.AdamW(model.parameters(), lr=3e-5, fused=True)
            fwd = torch.compile(model) if compiled else model
            loss_fn = torch.nn.CrossEntropyLoss()
            for b in a.batch:
                x = torch.randint(0, 256, (b, 16, 3, 224, 224), dtype=torch.uint8, device='cuda')
                y = torch.randint(0, n_cls, (b,), device='cuda')
                def step():
                    with torch.autocast('cuda', torch.bfloat16): logits = fwd(normalize(x)).float()
                    loss = loss_fn(logits, y); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
                torch.cuda.reset_peak_memory_stats()
                t0 = time.time(); step(); torch.cuda.synchronize(); first = time.time() - t0
                ms = statistics.median(timed(step, a.steps, 2))
                rows.append(dict(task=kind, compiled=compiled, batch=b, ms=round(ms, 1), steps_per_s=round(1e3/ms, 2),
                                 clips_per_s=round(b/ms*1e3, 1), first_s=round(first, 1),
                                 peak_gib=round(torch.cuda.max_memory_allocated()/2**30, 1)))
                print(rows[-1], flush=True)
            del model, opt, fwd; torch.cuda.empty_cache()
    return rows

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--task', choices=('extract', 'fho'), required=True)
    p.add_argument('--batch', default='64', help='comma-separated batch sizes')
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--json', help='also write the rows here')
    a = p.parse_args(argv)
    a.batch = [int(b) for b in a.batch.split(',')]
    print(torch.cuda.get_device_name(), 'torch', torch.__version__, flush=True)
    rows = (bench_extract if a.task == 'extract' else bench_fho)(a)
    if a.json: Path(a.json).write_text(json.dumps(rows, indent=1))

if __name__ == '__main__': main()
