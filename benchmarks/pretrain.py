#!/usr/bin/env python
"""End-to-end pretraining throughput: the real trainer, the real EgoClip loader, the real model, on generated chunks.

What it does
1. Writes `--videos` chunk files `<root>/videos/<uid>/0.mp4` of `--chunk-sec` seconds of moving textured content at
   342x256 (Ego4D after our preprocessing), H.264 with a keyframe every `--keyint` frames (the preprocessing default),
   in parallel over the CPU cores, and an `egoclip.csv` of `--clips` random ~1-s clips over them (real format).
2. Runs `egovlp.trainer.Trainer` with the EgoClip task (EgoNCE) exactly as `scripts/pretrain.py` would, with `--workers`
   DataLoader workers decoding with the default reader (PyAV), uint8 batches normalised on the GPU, bf16 and
   torch.compile, and samples GPU utilisation with NVML while it runs.
   Sustained throughput is measured over the second half of the steps: by then compilation is long over and the
   batches the workers prefetched during it (workers x prefetch_factor) are used up, so the loader must keep pace.
3. Times an EgoMCQ pass over `--mcq` generated questions (5 distinct clips each) and extrapolates to the real 39k.

    python benchmarks/pretrain.py                                     # GPU machine: full size, 224 px, batch 128
    python benchmarks/pretrain.py --tiny --videos 4 --clips 200 --steps 5 --batch 8 --workers 2 --mcq 20   # CPU smoke
"""
import argparse, json, os, sys, threading, time, uuid
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
import numpy as np

def _frames(seed, n, H=256, W=342):
    "Moving textured content: a camera panning over a smooth random texture, moving blobs, sensor noise."
    rng = np.random.default_rng(seed)
    big = rng.integers(0, 256, (H // 8 + 40, W // 8 + 40, 3), dtype=np.uint8)
    tex = np.kron(big, np.ones((8, 8, 1), np.uint8)).astype(np.int16)
    tex = (tex + np.roll(tex, 4, 0) + np.roll(tex, 4, 1) + np.roll(tex, 3, (0, 1))) // 4
    t = np.arange(n)
    ox = (150 + 140 * np.sin(2 * np.pi * t / (30 * rng.uniform(6, 12)))).astype(int)
    oy = (150 + 140 * np.cos(2 * np.pi * t / (30 * rng.uniform(7, 13)))).astype(int)
    yy, xx = np.mgrid[0:H, 0:W]
    out = np.empty((n, H, W, 3), np.uint8)
    for i in range(n):
        f = tex[oy[i]:oy[i] + H, ox[i]:ox[i] + W].copy()
        for k in range(3):
            cx, cy = (W / 2 + W / 3 * np.sin(i / (20 + 7 * k) + k)), (H / 2 + H / 3 * np.cos(i / (25 + 5 * k) + 2 * k))
            m = (xx - cx) ** 2 + (yy - cy) ** 2 < (18 + 6 * k) ** 2
            f[m] = (60 * k + 40, 200 - 50 * k, 90 + 60 * k)
        f += rng.integers(-6, 7, f.shape, dtype=np.int16)
        out[i] = np.clip(f, 0, 255)
    return out

def _write_one(args):
    path, seed, n, fps, keyint = args
    from egovlp.video import write_video
    if not Path(path).exists(): write_video(path, _frames(seed, n), fps, gop=keyint, crf=23)
    return path

def make_data(root, videos, chunk_sec, keyint, clips, mcq, fps=30, seed=0, workers=None):
    root = Path(root); vids = root/'videos'
    rng = np.random.default_rng(seed)
    uids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(videos)]
    jobs = []
    for i, u in enumerate(uids):
        (vids/u).mkdir(parents=True, exist_ok=True)
        jobs.append((str(vids/u/'0.mp4'), seed + i, int(chunk_sec * fps), fps, keyint))
    t0 = time.time()
    with ProcessPoolExecutor(workers or os.cpu_count()) as ex: list(ex.map(_write_one, jobs))
    mb = sum(Path(j[0]).stat().st_size for j in jobs) / 1e6
    print(f"{videos} chunks of {chunk_sec:.0f} s written in {time.time()-t0:.0f} s: {mb:.0f} MB, "
          f"{8 * mb / (videos * chunk_sec):.2f} Mbit/s, {mb / (videos * chunk_sec) * 3600:.0f} MB per hour")
    def row(k, u, t, d):
        return {'clip_idx': k, 'video_uid': u, 'video_dur': chunk_sec, 'narration_source': 'narration_pass_1',
                'narration_ind': k, 'narration_time': t, 'clip_start': t - d / 2, 'clip_end': t + d / 2,
                'clip_text': f'#C C picks object {k % 50}', 'tag_verb': f'[{k % 118}]', 'tag_noun': f'[{k % 582}, {(7 * k) % 582}]'}
    rows = []
    for k in range(clips):
        d = rng.uniform(0.5, 1.5); t = rng.uniform(d, chunk_sec - d)
        rows.append(row(k, uids[rng.integers(videos)], round(t, 4), d))
    import pandas as pd
    pd.DataFrame(rows).to_csv(root/'egoclip.csv', sep='\t', index=False)
    qs = {}
    for q in range(mcq):
        ch = [rows[rng.integers(clips)] for _ in range(5)]
        ch = [dict(r, clip_start=r['clip_start'] + 1e-3 * q, clip_end=r['clip_end'] + 1e-3 * q) for r in ch]  # distinct clips
        qs[str(q)] = {'query': ch[0], 'choices': {str(c): ch[c] for c in range(5)}, 'answer': 0, 'types': 1 + q % 2}
    (root/'egomcq.json').write_text(json.dumps(qs))
    return root

class GPUSampler(threading.Thread):
    "Sample GPU utilisation (NVML) every `dt` s."
    def __init__(self, dt=0.2):
        super().__init__(daemon=True); self.dt, self.samples, self.on = dt, [], True
    def run(self):
        try:
            import pynvml; pynvml.nvmlInit(); h = pynvml.nvmlDeviceGetHandleByIndex(0)
        except Exception as e: print(f"(no NVML: {e})"); return
        while self.on:
            self.samples.append(pynvml.nvmlDeviceGetUtilizationRates(h).gpu); time.sleep(self.dt)

def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('--root', default='/tmp/egovlp_bench_pretrain')
    p.add_argument('--videos', type=int, default=32); p.add_argument('--chunk-sec', type=float, default=120)
    p.add_argument('--keyint', type=int, default=30); p.add_argument('--clips', type=int, default=50000)
    p.add_argument('--batch', type=int, default=128); p.add_argument('--workers', type=int, default=None)
    p.add_argument('--frames', type=int, default=4); p.add_argument('--res', type=int, default=224)
    p.add_argument('--steps', type=int, default=250); p.add_argument('--warmup-steps', type=int, default=10)
    p.add_argument('--mcq', type=int, default=400); p.add_argument('--tiny', action='store_true')
    p.add_argument('--no-compile', action='store_true'); p.add_argument('--precision', default=None)
    a = p.parse_args(argv)
    import torch
    from egovlp.core import read_config, apply_overrides
    from egovlp.launch import build_trainer, build_egomcq, build_model, build_tokenizer
    from egovlp.egomcq import EgoMCQEvaluator
    cuda = torch.cuda.is_available()
    workers = a.workers if a.workers is not None else max(1, (os.cpu_count() or 2) - 1)
    root = make_data(a.root, a.videos, a.chunk_sec, a.keyint, a.clips, a.mcq)
    ov = [f'data_loader.0.args.data_dir="{root}/videos"', f'data_loader.0.args.meta_dir="{root}"',
          f'data_loader.0.args.chunk_sec={a.chunk_sec}', f'data_loader.0.args.batch_size={a.batch}',
          f'data_loader.0.args.num_workers={workers}', f'data_loader.0.args.video_params.num_frames={a.frames}',
          f'data_loader.0.args.video_params.input_res={a.res}', 'data_loader.0.args.video_params.loading="strict"',
          'arch.args.video_params.pretrained=false', 'arch.args.text_params.pretrained=false',
          f'arch.args.video_params.num_frames={max(a.frames, 4)}', 'trainer.epochs=1',
          f'trainer.max_steps_per_epoch={a.steps}', 'trainer.eval_every_epochs=0', 'trainer.progress=false',
          f'trainer.mixed_precision="{a.precision or ("bf16" if cuda else "no")}"', 'trainer.log_every=10',
          f'trainer.compile={"false" if (a.no_compile or not cuda) else "true"}', 'trainer.save_dir="/tmp/egovlp_bench_run"',
          'trainer.tensorboard=false', 'trainer.max_samples_per_epoch=null']
    if a.tiny: ov += [f'arch.args.video_params.{k}={v}' for k, v in dict(img_size=a.res, patch_size=8, embed_dim=64, depth=2, num_heads=2).items()] \
                  + [f'arch.args.text_params.config={json.dumps(dict(dim=64, n_layers=2, n_heads=2, hidden_dim=128))}']
    cfg = apply_overrides(read_config(Path(__file__).parents[1]/'configs/pt/egoclip.json'), ov)
    tr = build_trainer(cfg)
    print(f"model {sum(p.numel() for p in tr.unwrap().parameters())/1e6:.0f}M params, {len(tr.dataset)} clips, "
          f"batch {a.batch}, {workers} workers, {os.cpu_count()} cores, device {tr.device}")
    gpu = GPUSampler(); t_start = time.time()
    marks = []
    orig_step = tr.task.step
    def step(model, batch, trainer):           # record when each step was issued, to cut out the warm-up/compile
        marks.append(time.perf_counter()); return orig_step(model, batch, trainer)
    tr.task.step = step
    gpu.start(); tr.fit(); 
    if cuda: torch.cuda.synchronize()
    t_end = time.perf_counter(); gpu.on = False
    w = min(max(a.warmup_steps, len(marks) // 2), len(marks) - 2)   # 2nd half: compile done, prefetch queue drained
    steady = (len(marks) - w) * a.batch / (t_end - marks[w])
    n_warm = int(len(gpu.samples) * (marks[w] - marks[0]) / max(t_end - marks[0], 1e-9))
    util = np.mean(gpu.samples[n_warm:]) if len(gpu.samples) > n_warm else float('nan')
    h = tr.state['history'][-1]
    print(f"\nsustained {steady:.1f} clips/s over steps {w+1}..{len(marks)} (after warm-up/compile); "
          f"GPU busy {util:.0f}% (NVML); host waited for data {100*h['data_wait']:.0f}% of the epoch; "
          f"peak GPU memory {torch.cuda.max_memory_allocated()/2**30 if cuda else float('nan'):.1f} GiB")
    # EgoMCQ pass
    mcq = build_egomcq(cfg)
    ev = EgoMCQEvaluator(mcq, build_tokenizer(cfg), batch_size=256 if cuda else 16, num_workers=workers)
    model = tr.unwrap().eval()
    with torch.no_grad(), torch.autocast('cuda' if cuda else 'cpu', dtype=torch.bfloat16, enabled=cuda):
        ev(model, tr.acc)                       # warm-up (workers, kernels)
        if cuda: torch.cuda.synchronize()
        t0 = time.time(); ev(model, tr.acc)
        if cuda: torch.cuda.synchronize()
        dt = time.time() - t0
    per_clip = dt / len(mcq.clips)
    print(f"EgoMCQ: {len(mcq)} questions, {len(mcq.clips)} distinct clips in {dt:.1f} s ({len(mcq.clips)/dt:.0f} clips/s); "
          f"39,000 questions x 5 distinct clips would take {39000*5*per_clip/60:.1f} min")
    res = dict(steady_clips_per_s=steady, gpu_util=util, data_wait=h['data_wait'], mcq_clips_per_s=len(mcq.clips)/dt,
               mcq_full_min=39000*5*per_clip/60, batch=a.batch, workers=workers, cores=os.cpu_count())
    if os.environ.get('OUT'): Path(os.environ['OUT'], 'pretrain_bench.json').write_text(json.dumps(res))

if __name__ == '__main__': main()
