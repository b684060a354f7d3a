"""Synthetic but realistic H.264 chunks and the EgoClip read pattern, for measuring the loader
(`benchmarks/loader.py`, `benchmarks/pretrain.py` and the measurement in `nbs/07_preprocess.ipynb`).

The chunks cost what preprocessed Ego4D chunks cost to decode (textured moving content with sensor noise, encoded as
`egovlp.preprocess.resize_and_chunk` does); `RandomClipDataset` reads them as the EgoClip loader does; the original's
OpenCV seek-per-frame reader is here for comparison. Import it with this folder on `sys.path` (a script in it has).
"""
from __future__ import annotations
import random
from pathlib import Path
import av
import numpy as np
import torch
from egovlp.core import atomic_write
from egovlp.egoclip import ClipReader
from egovlp.preprocess import DEFAULT_KEYINT, DEFAULT_TUNE, PreprocessError, run_ffmpeg, x264_args
from egovlp.video import VideoTransform

def synth_texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    "A (h, w, 3) uint8 natural-looking texture: coloured noise at 4 scales, from soft blobs to pixel detail."
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    for s, amp in [(64, 60), (16, 40), (4, 25), (1, 12)]:
        up = np.repeat(np.repeat(rng.standard_normal((h // s + 2, w // s + 2, 3)).astype(np.float32), s, 0), s, 1)[:h, :w]
        if s > 1:
            for ax in (0, 1):   # box blur of width s along each axis turns the blocks into soft blobs
                pad = [(0, 0)] * 3; pad[ax] = (s, 0)
                c = np.cumsum(np.pad(up, pad, mode='edge'), ax)
                up = (np.take(c, range(s, c.shape[ax]), ax) - np.take(c, range(0, c.shape[ax] - s), ax)) / s
        img += amp * up
    return np.clip(img + 128, 0, 255).astype(np.uint8)

def synth_filtergraph(width: int, height: int, fps: float, n_obj: int = 3, noise: int = 6) -> str:
    "ffmpeg filter graph: pan over still input 0, overlay stills 1..n_obj as moving objects, add sensor noise, downscale 2x."
    W, H = 2 * width, 2 * height
    still = f'loop=loop=-1:size=1:start=0,settb=1/{fps},setpts=N'   # repeat the one input image forever
    g = [f"[0:v]{still},crop=w={W}:h={H}:x='(iw-{W})/2*(1+0.7*sin(0.21*t)+0.25*sin(1.3*t))':"
         f"y='(ih-{H})/2*(1+0.7*sin(0.17*t+1)+0.25*sin(1.7*t))'[bg0]"]
    for j in range(n_obj):
        g.append(f'[{j + 1}:v]{still}[ob{j}]')
        g.append(f"[bg{j}][ob{j}]overlay=x='(W-w)/2*(1+sin({0.5 + 0.4 * j:.2f}*t+{j}))':"
                 f"y='(H-h)/2*(1+cos({0.7 + 0.6 * j:.2f}*t))'[bg{j + 1}]")
    g.append(f'[bg{n_obj}]noise=alls={noise}:allf=t,scale={width}:{height}:flags=area,format=yuv420p[v]')
    return ';'.join(g)

def synth_video(path, n_frames: int, width: int = 342, height: int = 256, fps: float = 30, seed: int = 0,
                noise: int = 6, encode: list | None = None) -> Path:
    "Render `n_frames` of the synthetic egocentric-like scene to `path` (atomically), encoded with `encode` (default `x264_args()`)."
    path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    inputs = []
    for j, (h, w) in enumerate([(4 * height, 4 * width)] + [(96, 96)] * 3):
        still = path.parent/f'.still{j}_{w}x{h}_seed{seed}.rgb'
        if not still.exists(): atomic_write(still, lambda p: synth_texture(h, w, seed * 100 + j).tofile(p))
        inputs += ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-framerate', fps, '-s', f'{w}x{h}', '-i', still]
    graph = synth_filtergraph(width, height, fps, noise=noise)
    return atomic_write(path, lambda tmp: run_ffmpeg(
        [*inputs, '-filter_complex', graph, '-map', '[v]', '-frames:v', n_frames, '-r', fps, *(encode or x264_args()),
         '-an', '-f', 'mp4', '-y', tmp], f'synthetic video {path}'))

def _base_frames(chunk_frames: int, keyint: int, min_frames: int) -> int:
    "Smallest B >= min_frames with keyint | B and B | chunk_frames; else the whole chunk."
    for b in range(keyint, chunk_frames, keyint):
        if b >= min_frames and chunk_frames % b == 0: return b
    return chunk_frames

def _concat_copy(src, reps: int, dst) -> Path:
    "Write `src`'s video stream `reps` times end to end into `dst` (atomically), without re-encoding: packets copied, timestamps shifted."
    def write(tmp):
        with av.open(str(src)) as c, av.open(str(tmp), 'w', format='mp4') as out:
            si = c.streams.video[0]
            so = out.add_stream_from_template(si)
            pkts = [p for p in c.demux(si) if p.dts is not None]
            dur = sum(p.duration for p in pkts)      # the piece's length in its time base
            for r in range(reps):
                for p in pkts:
                    q = av.Packet(bytes(p))
                    q.pts, q.dts, q.duration, q.time_base = p.pts + r * dur, p.dts + r * dur, p.duration, p.time_base
                    q.is_keyframe, q.stream = p.is_keyframe, so
                    out.mux(q)
    return atomic_write(dst, write)

def synth_chunks(out_dir, n_chunks: int = 1, chunk_sec: float = 600, keyint: int = DEFAULT_KEYINT, crf: int = 23,
                 preset: str = 'medium', width: int = 342, height: int = 256, fps: float = 30,
                 base_sec: float = 60, seed: int = 0, base_dir=None, tune: str | None = DEFAULT_TUNE) -> list[Path]:
    "`n_chunks` files `<out_dir>/<i>.mp4` of `chunk_sec` s of synthetic content, encoded as `resize_and_chunk` would; reuses existing files."
    out_dir = Path(out_dir); out_dir.mkdir(parents=True, exist_ok=True)
    base_dir = Path(base_dir or out_dir)   # base pieces are named by their parameters, so configurations can share them
    n = round(chunk_sec * fps)
    b = _base_frames(n, keyint, min(n, round(base_sec * fps)))
    base = base_dir/f'.base{b}_k{keyint}_crf{crf}_{preset}{"_" + tune if tune else ""}_{width}x{height}_seed{seed}.mp4'
    outs = [out_dir/f'{i}.mp4' for i in range(n_chunks)]
    if all(o.exists() for o in outs): return outs
    if not base.exists(): synth_video(base, b, width, height, fps, seed, encode=x264_args(keyint, crf, preset, tune=tune))
    for o in outs:
        if not o.exists(): _concat_copy(base, n // b, o)
    return outs

class RandomClipDataset(torch.utils.data.Dataset):
    "Item i: `num_frames` 'rand' frames of a random `clip_sec` clip of a chunk (a different file each item), read by `ClipReader` → `transform`."
    def __init__(self, files, n_items: int, num_frames: int = 4, clip_sec: float = 1.0, backend: str | None = None,
                 transform=None, seed: int = 0, read=None):
        self.files = [Path(f) for f in files]
        if not self.files: raise ValueError('RandomClipDataset: no files')
        if len({f.suffix for f in self.files}) != 1: raise ValueError('RandomClipDataset: files of one extension expected')
        # one reader per directory, each file a whole video of it (no chunk addressing: the files ARE the chunks)
        self.readers = {d: ClipReader(d, chunk_sec=None, backend=backend, ext=self.files[0].suffix)
                        for d in dict.fromkeys(f.parent for f in self.files)}
        infos = [self.readers[f.parent].info(f) for f in self.files]
        self.n_frames, self.fps = [i.num_frames for i in infos], [i.fps for i in infos]
        self.clip_len = [max(1, round(clip_sec * i.fps)) for i in infos]
        self.order = random.Random(seed).sample(range(len(self.files)), len(self.files))
        self.n_items, self.num_frames, self.backend, self.seed = n_items, num_frames, backend, seed
        self.transform = VideoTransform('train') if transform is None else transform
        self.read = read   # optional reader(path, indices) -> uint8 (T,H,W,3), e.g. the original's cv2 seek-per-frame

    def __len__(self): return self.n_items

    def _clip(self, i):
        "(file number, start s, end s, rng) of item i; the rng then draws the frames."
        rng = random.Random(self.seed * 1_000_003 + i)
        f = self.order[i % len(self.files)]
        n, L = self.n_frames[f], min(self.clip_len[f], self.n_frames[f])
        start = rng.randrange(n - L + 1)
        return f, start / self.fps[f], (start + L) / self.fps[f], rng

    def clip(self, i):
        "(path, frame indices) of item i, as `ClipReader` addresses them."
        f, s, e, rng = self._clip(i)
        ((path, idx, _),) = self.readers[self.files[f].parent].segments(self.files[f].stem, s, e, self.num_frames, 'rand', rng)
        return path, idx

    def __getitem__(self, i):
        if self.read: frames = self.read(*self.clip(i))
        else:
            f, s, e, rng = self._clip(i)
            frames = self.readers[self.files[f].parent](self.files[f].stem, s, e, self.num_frames, 'rand', rng)
        return self.transform(frames, rng=random.Random(self.seed * 7 + i))

def read_frames_cv2_seek(path, frame_indices) -> torch.Tensor:
    "The original EgoClip reader: per frame, cv2 seek to idx-1 and read one frame; uint8 (T, H, W, 3) RGB."
    import cv2
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    if not cap.isOpened(): raise PreprocessError(f'{path}: OpenCV cannot open it')
    out = []
    try:
        for i in frame_indices:
            cap.set(cv2.CAP_PROP_POS_FRAMES, max(int(i) - 1, 0))
            ok, f = cap.read()
            if not ok: raise PreprocessError(f'{path}: OpenCV could not read frame {i}')
            out.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    finally: cap.release()
    return torch.from_numpy(np.stack(out))

def time_clips(ds, n: int | None = None, warmup: int = 2) -> tuple[float, float]:
    """(items per wall-clock second, items per CPU-second) of `ds[i]` for i in [warmup, warmup+n), in this process.
    With one decoding thread, items per CPU-second is clips/s per core, and unlike wall time it does not
    depend on what else the machine is running."""
    import time
    n = len(ds) - warmup if n is None else n
    for i in range(warmup): ds[i]
    t, c = time.perf_counter(), time.process_time()
    for i in range(warmup, warmup + n): ds[i]
    return n / (time.perf_counter() - t), n / (time.process_time() - c)
