#!/usr/bin/env python
"""NLQ/MQ feature extraction on the CPU: windows/s per CPU core of the decode + test transform that feed the model,
egovlp's reader (`egovlp.tasks.episodic.ClipWindows`, the dataset `encode` reads: the windows of one batch decoded
together, one seek, front to back) against the original's method (decord `get_batch` of all the clip's window frames, then the
transform of the whole clip), in one run on one core (torch and the decoders single-threaded). Windows per CPU-second of this process (the
per-core figure, robust to a shared machine) and wall-clock windows/s.

    python benchmarks/extract_features.py [--sec 60] [--repeats 3]

The video is synthetic, 456x256 (the short side of Ego4D's `ego4d_256`) at 30 fps, H.264 with a 1-s GOP (cached).
"""
import argparse, os, resource, time, json
from pathlib import Path

import numpy as np
import torch

def make_video(sec, path):
    from egovlp.video import write_video
    if path.exists(): return path
    n, H, W = int(sec*30), 256, 456
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    rng = np.random.default_rng(0)
    base = (rng.random((H, W, 3))*60).astype(np.float32)
    frames = np.empty((n, H, W, 3), np.uint8)
    for i in range(n):
        t = i/30
        r = 110 + 80*np.sin(2*np.pi*(xx/97 + t/3)); g = 110 + 80*np.sin(2*np.pi*(yy/53 - t/5)); b = 120 + 70*np.sin(2*np.pi*((xx + yy)/131 + t/7))
        frames[i] = np.clip(np.stack([r, g, b], -1) + base, 0, 255).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_video(path, frames, 30, gop=30, crf=23)

def original(path, start, end, size=224):
    "test_nlq.py's input: decord get_batch of every window frame of the clip, then Resize(256)/CenterCrop(256)/Resize(224)."
    import decord
    from egovlp.tasks.episodic import window_frame_indices
    from egovlp.video import test_crop
    vr = decord.VideoReader(str(path), num_threads=1)
    idx = window_frame_indices(start, end, len(vr))
    frames = torch.from_numpy(vr.get_batch(idx.reshape(-1).tolist()).asnumpy())
    x = test_crop(frames.permute(0, 3, 1, 2), size)
    return x.reshape(len(idx), 4, *x.shape[1:])

def ours(path, start, end, size=224, batch_size=64):
    from egovlp.tasks.episodic import ClipWindows, clip_windows
    ds = ClipWindows([clip_windows(dict(uid='bench', path=str(path), start_sec=start, end_sec=end))], size=size, block=batch_size)
    return sum(1 for j in range(len(ds)) if ds[j]['video'] is not None)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--sec', type=float, default=60.)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--out', default=None, help='write the results as JSON here')
    a = p.parse_args()
    torch.set_num_threads(1)
    from egovlp.core import cache_dir
    from egovlp.tasks.episodic import num_windows
    path = make_video(a.sec + 2, cache_dir('bench', f'nlq_456x256_{int(a.sec + 2)}s.mp4'))
    start, end = 1.0, 1.0 + a.sec
    T = num_windows(start, end)
    rows, walls = {}, {}
    for name, fn in (('original: decord get_batch of all window frames', lambda: len(original(path, start, end))),
                     ('egovlp: ClipWindows (PyAV, a seek per batch)', lambda: ours(path, start, end))):
        fn()                                                    # warm-up (file cache, imports)
        ts, cs = [], []
        for _ in range(a.repeats):
            t0, c0 = time.perf_counter(), time.process_time(); n = fn()
            ts.append(time.perf_counter() - t0); cs.append(time.process_time() - c0)
            assert n == T, (name, n, T)
        rows[name] = T/min(cs)
        walls[name] = T/min(ts)
    held = {'original: decord get_batch of all window frames': T*4*256*456*3/2**20,
            'egovlp: ClipWindows (PyAV, a seek per batch)': 64*4*256*456*3/2**20}
    print(f"\n{a.sec:.0f}-s clip of a 456x256 30-fps H.264 video, {T} windows of 4 frames, 224 px, one CPU core "
          f"({os.cpu_count()} cores on this machine, shared), best of {a.repeats}:")
    print(f"| method | windows per CPU-second (= windows/s per core) | relative | wall windows/s (shared machine) | decoded frames held (MiB) |\n|---|---:|---:|---:|---:|")
    base = rows['original: decord get_batch of all window frames']
    for k, v in rows.items(): print(f"| {k} | {v:.1f} | {v/base:.2f}x | {walls[k]:.1f} | {held[k]:.0f} |")
    if a.out: Path(a.out).write_text(json.dumps(dict(windows=T, sec=a.sec, windows_per_cpu_s=rows, wall_windows_per_s=walls), indent=1))

if __name__ == '__main__': main()
