#!/usr/bin/env python
"""How many EgoClip-style clips per second can the loader deliver per CPU core?

Every clip comes from a different chunk file: open it, read 4 'rand' frames of a ~1-s clip at a random place,
train-augment (random resized crop to 224 + flip), collate uint8 batches with a real torch DataLoader.
Compared in the same run: our readers (egovlp.video.load_frames, decord and PyAV) in-process and with N DataLoader
workers, and the original's OpenCV seek-per-frame reader.

The chunks are synthetic but cost what real ones cost to decode (textured moving content with sensor noise at
~0.6-1 Mbit/s, 342x256, encoded as egovlp.preprocess.resize_and_chunk does); they are generated once and cached.
Full 600-s chunks are the default: a base piece of ~60 s is encoded once and stream-copied to length (closed
GOPs make that identical in decoding cost), so making 4 of them takes ~20 s.

clips/s is wall-clock; clips/s/core is clips per CPU-second (DataLoader workers included), which does not depend
on what else the machine runs. Results and discussion: nbs/07_preprocess.ipynb.

    python benchmarks/loader.py                                   # 4 x 600-s chunks as preprocessed (keyint 15, fastdecode)
    python benchmarks/loader.py --keyint 250 --tune none          # the original's chunks (x264 defaults)
"""
import argparse, gc, os, resource, time, sys
import torch
from torch.utils.data import DataLoader
from egovlp.core import cache_dir
from egovlp.preprocess import DEFAULT_KEYINT, DEFAULT_TUNE
from synth_clips import synth_chunks, RandomClipDataset, read_frames_cv2_seek

def _cpu_s():
    "CPU seconds used so far by this process and its waited-for children (finished DataLoader workers)."
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime

def clips_per_s(ds, workers, batch_size, warmup_batches=1):
    """(clips per wall second, clips per CPU second) through a DataLoader. Wall time excludes the first
    `warmup_batches` (worker start-up); CPU time covers the whole run, workers included (they are joined at the
    end), so clips per CPU second is clips/s per core whatever else the machine is doing."""
    dl = DataLoader(ds, batch_size=batch_size, num_workers=workers, persistent_workers=False,
                    worker_init_fn=_one_thread if workers else None)
    c0 = _cpu_s()
    it = iter(dl)
    for _ in range(warmup_batches): b = next(it)
    assert b.dtype == torch.uint8 and b.ndim == 5, f'unexpected batch {b.dtype} {tuple(b.shape)}'
    n, t = 0, time.perf_counter()
    for b in it: n += len(b)
    dt = time.perf_counter() - t
    del it, dl; gc.collect()   # shuts the workers down and joins them, so their CPU time is counted
    return n / dt, len(ds) / (_cpu_s() - c0)

def _one_thread(_): torch.set_num_threads(1)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--chunks', type=int, default=4, help='number of chunk files; clips cycle through them, so consecutive clips come from different files')
    p.add_argument('--chunk-sec', type=float, default=600, help='chunk length (s)')
    p.add_argument('--keyint', type=int, default=DEFAULT_KEYINT, help='frames between keyframes')
    p.add_argument('--tune', default=DEFAULT_TUNE or 'none', help="x264 tune of the chunks ('none' = x264's default)")
    p.add_argument('--base-sec', type=float, default=30, help='length of the encoded piece the chunks repeat (see synth_chunks)')
    p.add_argument('--res', type=int, default=256, help='short side of the chunks (width = 4/3 of it, even)')
    p.add_argument('--clips', type=int, default=64, help='clips timed per configuration (plus one warm-up batch)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--workers', default='0,2', help='comma-separated DataLoader worker counts (0 = in-process)')
    p.add_argument('--backends', default='decord,pyav,cv2', help='readers to compare: decord, pyav, cv2 (the original seek-per-frame)')
    p.add_argument('--cache', default=None, help='where the synthetic chunks live (default: egovlp cache dir)')
    a = p.parse_args(argv)

    torch.set_num_threads(1)
    w, h = 2 * round(a.res * 4 / 3 / 2), a.res
    root = cache_dir('bench_loader') if a.cache is None else a.cache
    tune = None if a.tune == 'none' else a.tune
    out = os.path.join(root, f'k{a.keyint}_c{a.chunk_sec:g}_{w}x{h}' + (f'_{tune}' if tune else ''))
    t = time.perf_counter()
    files = synth_chunks(out, n_chunks=a.chunks, chunk_sec=a.chunk_sec, keyint=a.keyint, tune=tune, width=w, height=h, base_sec=a.base_sec,
                         base_dir=os.path.join(root, 'bases'))
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f'{len(files)} chunks of {a.chunk_sec:g} s, {w}x{h}, keyint {a.keyint}, tune {tune}: {mb:.0f} MB '
          f'({mb * 8 / (len(files) * a.chunk_sec):.2f} Mbit/s) in {out} ({time.perf_counter() - t:.0f} s to make/find)')
    cores = os.cpu_count() or 1
    print(f'{cores} cores, load average {os.getloadavg()[0]:.1f} before timing; {a.clips} clips per row, batch {a.batch_size}')
    print('clips/s is wall-clock (depends on how busy the machine is); clips/s/core is clips per CPU-second\n')

    rows = []
    print(f"{'reader':<10} {'workers':>7} {'clips/s':>8} {'clips/s/core':>13}   (per core = clips per CPU-second, workers included)")
    for backend in a.backends.split(','):
        kw = dict(read=read_frames_cv2_seek) if backend == 'cv2' else dict(backend=backend)
        for nw in [int(x) for x in a.workers.split(',')]:
            ds = RandomClipDataset(files, a.clips + a.batch_size, seed=nw, **kw)
            r, per_core = clips_per_s(ds, nw, a.batch_size)
            rows.append((backend, nw, r, per_core))
            print(f'{backend:<10} {nw:>7} {r:>8.1f} {per_core:>13.1f}', flush=True)
    return rows

if __name__ == '__main__': main()
