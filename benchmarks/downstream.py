#!/usr/bin/env python
"""Downstream benchmarks, one per task (`--task`). Prints a table; figures go to benchmarks/RESULTS.md.

epic: (1) the RGB-frame reader per core: `egovlp.video.FrameFolder` (torchvision.io.decode_jpeg, and PIL) against the
original's per-frame `cv2.imread` + cvtColor + float/255 (`read_frames_cv2_epic`), same frames, same run, one thread;
(2) the EPIC MIR test pass (decode + transform + model) in clips/s on generated EPIC frames of the real size
(456 x 256 JPEGs, 16 frames at 224 px, ViT-B/16 + DistilBERT sizes by default), and the time that makes for the
9,668 test clips.

    python benchmarks/downstream.py --task epic                       # CPU, small
    python benchmarks/downstream.py --task epic --clips 512 --device cuda --batch 32 --workers 8
"""
import argparse, os, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch

TASKS = {}
def task(f): TASKS[f.__name__.removeprefix('bench_')] = f; return f

def _frames_dataset(root: Path, n_clips: int, clip_frames: int, hw=(256, 456), seed=0):
    "EPIC-format annotations + flat-layout JPEG folders for `n_clips` clips (8 per video), real frame size."
    import pandas as pd
    from PIL import Image
    from egovlp.tasks.epic_mir import EPIC_COLUMNS, build_relevancy, save_relevancy, sentence_table
    rng = np.random.default_rng(seed)
    H, W = hw
    yy, xx = np.mgrid[0:H, 0:W]
    rows, per_video = [], 8
    for v in range(0, n_clips, per_video):
        vid = f'P01_{v // per_video + 1:03d}'
        d = root/'frames'/vid; d.mkdir(parents=True)
        n = per_video*clip_frames
        base = (127 + 60*np.sin(xx/rng.uniform(9, 30)) [..., None]*np.cos(yy/rng.uniform(9, 30))[..., None]*rng.uniform(0.5, 1, 3)).astype(np.float32)
        for k in range(n):   # a textured, slowly changing image: JPEG sizes like real frames (~20-40 kB)
            img = np.clip(base + rng.normal(0, 12, (H, W, 3)) + k % 50, 0, 255).astype(np.uint8)
            Image.fromarray(img).save(d/f'frame_{k + 1:010d}.jpg', quality=90)
        for c in range(min(per_video, n_clips - v)):
            s, e = c*clip_frames + 1, (c + 1)*clip_frames
            rows.append(dict(narration_id=f'{vid}_{c}', participant_id='P01', video_id=vid, narration_timestamp='00:00:00.000',
                             start_timestamp='00:00:00.00', stop_timestamp='00:00:01.00', start_frame=s, stop_frame=e,
                             narration=f'take thing {c % 5}', verb='take', verb_class=c % 3, noun='thing', noun_class=c % 5,
                             all_nouns="['thing']", all_noun_classes=f'[{c % 5}]'))
    ann = root/'annotations'; (ann/'relevancy').mkdir(parents=True)
    df = pd.DataFrame(rows)[EPIC_COLUMNS]; df.to_csv(ann/'EPIC_100_retrieval_test.csv', index=False)
    sentence_table(df).to_csv(ann/'EPIC_100_retrieval_test_sentence.csv', index=False)
    save_relevancy(build_relevancy(ann/'EPIC_100_retrieval_test.csv', ann/'EPIC_100_retrieval_test_sentence.csv'),
                   ann/'relevancy'/'caption_relevancy_EPIC_100_retrieval_test.pkl')
    return df

def _cv2_epic(folder, idxs):
    "The original's read_frames_cv2_epic frame loop (utils: cv2.imread, BGR→RGB, CHW, float/255)."
    import cv2
    frames = []
    for index in idxs:
        frame = cv2.imread(os.path.join(folder, 'frame_' + str(index).zfill(10) + '.jpg'))
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        frames.append(torch.from_numpy(frame).permute(2, 0, 1))
    return torch.stack(frames).float()/255

@task
def bench_epic(a):
    from egovlp.tasks.epic_mir import EpicMIR
    from egovlp.video import FrameFolder
    from egovlp.textvideo import encode
    from egovlp.video import sample_frame_indices
    n_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    import cv2; cv2.setNumThreads(1)
    root = Path(tempfile.mkdtemp(prefix='egovlp_bench_epic_'))
    t0 = time.time()
    df = _frames_dataset(root, a.clips, a.clip_frames)
    print(f"generated {len(df)} clips x {a.clip_frames} frames of 456x256 JPEG in {time.time() - t0:.0f} s "
          f"({sum(f.stat().st_size for f in (root/'frames').rglob('*.jpg'))/len(list((root/'frames').rglob('*.jpg')))/1e3:.0f} kB/frame)")
    jobs = [(root/'frames'/r.video_id, sample_frame_indices(a.frames, r.start_frame, r.stop_frame + 1, 'uniform')) for r in df.itertuples()]
    readers = {'cv2.imread per frame (original)': lambda f, i: _cv2_epic(str(f), i)}
    for dec in ('torchvision', 'pil'):
        fr = FrameFolder(root/'frames', '{video_id}/frame_{n:010d}.jpg', decoder=dec)
        readers[f'FrameFolder, {dec}'] = (lambda fr: lambda f, i: fr(i, video_id=f.name))(fr)
    res = {}
    for name, fn in readers.items():
        fn(*jobs[0])                                                   # warm up
        best = float('inf')
        for _ in range(a.repeats):
            t = time.perf_counter()
            for f, i in jobs: fn(f, i)
            best = min(best, time.perf_counter() - t)
        res[name] = len(jobs)/best
    print(f"\nRGB-frame reader, 1 thread, {a.frames} frames per clip, {len(jobs)} clips (best of {a.repeats}):")
    base = res['cv2.imread per frame (original)']
    for k, v in res.items(): print(f"  {k:<34}{v:8.1f} clips/s/core  {v*a.frames:8.0f} frames/s  x{v/base:.2f}")
    # the test pass: decode + transform + model, as the evaluation runs it
    from egovlp.model import FrozenInTime, tiny_video_params, tiny_text_params, get_tokenizer
    torch.set_num_threads(a.threads or n_threads)      # the model pass: all threads unless --threads
    dev = torch.device(a.device)
    if a.model == 'base':
        vp = dict(model='SpaceTimeTransformer', arch_config='base_patch16_224', num_frames=a.frames, pretrained=False, time_init='zeros')
        tp = dict(model='distilbert-base-uncased', pretrained=False, input='text')
    else: vp, tp = tiny_video_params(num_frames=a.frames, img_size=a.size, patch_size=16), tiny_text_params()
    model = FrozenInTime(vp, tp).to(dev).eval()
    ds = EpicMIR(root/'annotations', root/'frames', 'test', num_frames=a.frames, size=a.size, loading='strict')
    tok = get_tokenizer()
    from torch.utils.data import DataLoader
    from egovlp.textvideo import TextVideoCollate
    from egovlp.video import normalize
    dl = DataLoader(ds, batch_size=a.batch, num_workers=a.workers, collate_fn=TextVideoCollate(None))
    t_dec = time.perf_counter(); n = 0
    for b in dl: n += len(b['idx'])
    t_dec = time.perf_counter() - t_dec
    amp = torch.autocast(dev.type, dtype=torch.bfloat16) if a.bf16 else torch.autocast(dev.type, enabled=False)
    loaders = {}                       # the same loaders (persistent workers) for the warm-up and the timed pass
    with torch.no_grad(), amp:
        t = time.perf_counter()
        enc = lambda: encode(model, ds, lambda m, b: m.compute_video(normalize(b['video'])), None, a.batch, a.workers,
                             TextVideoCollate(None), loaders=loaders)
        enc()                                                                      # warm-up: workers, kernels, autotuning
        if dev.type == 'cuda': torch.cuda.synchronize()
        t_first = time.perf_counter() - t
        t = time.perf_counter()
        e = enc()
        if dev.type == 'cuda': torch.cuda.synchronize()
        t = time.perf_counter() - t
    cps = len(ds)/t
    print(f"\nEPIC MIR test pass on {dev} ({a.model} model, {a.frames} frames at {a.size} px, batch {a.batch}, {a.workers} workers, "
          f"{torch.get_num_threads()} threads):")
    print(f"  decode + transform only       {n/t_dec:8.2f} clips/s")
    print(f"  first pass (workers start, kernels compile) {t_first:6.1f} s")
    print(f"  decode + model, second pass {cps:8.2f} clips/s  → 9,668 test clips in {9668/cps/60:.1f} min")
    return dict(readers=res, test_pass=cps)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--task', choices=sorted(TASKS), default='epic')
    p.add_argument('--clips', type=int, default=16); p.add_argument('--clip-frames', type=int, default=32)
    p.add_argument('--frames', type=int, default=16); p.add_argument('--size', type=int, default=224)
    p.add_argument('--model', choices=('base', 'tiny'), default='base'); p.add_argument('--device', default='cpu')
    p.add_argument('--batch', type=int, default=4); p.add_argument('--workers', type=int, default=0)
    p.add_argument('--threads', type=int, default=0); p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--bf16', action='store_true')
    a = p.parse_args()
    print(f"{sys.platform}, torch {torch.__version__}, {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    TASKS[a.task](a)
