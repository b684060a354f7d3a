#!/usr/bin/env python
"""End-to-end pretraining throughput: the real trainer, the real EgoClip loader, the real model, on generated chunks.

What it does
1. Writes `--videos` chunk files `<root>/videos/<uid>/0.mp4` of `--chunk-sec` seconds of moving textured content at
   342x256 (Ego4D after our preprocessing; `benchmarks/synth_clips.py`, a different scene per video), H.264 as
   our preprocessing writes it (keyframe interval and x264 tune: its defaults, or `--keyint` / `--tune`), in
   parallel over the CPU cores, and an `egoclip.csv` of `--clips` random ~1-s clips over them (real format).
2. Runs `egovlp.trainer.Trainer` with the EgoClip task (EgoNCE) exactly as `scripts/pretrain.py` would, with `--workers`
   DataLoader workers decoding with the default reader (PyAV), uint8 batches normalised on the GPU, bf16 and
   torch.compile, and samples GPU utilisation with NVML while it runs.
   Sustained throughput is measured over the second half of the steps: by then compilation is long over and the
   batches the workers prefetched during it (workers x prefetch_factor) are used up, so the loader must keep pace.
3. Times an EgoMCQ pass over `--mcq` generated questions (5 distinct clips each) and extrapolates to the real 39k.

    python benchmarks/pretrain.py                                     # GPU machine: full size, 224 px, batch 128
    python benchmarks/pretrain.py --tiny --videos 4 --clips 200 --steps 5 --batch 8 --workers 2 --mcq 20   # CPU smoke
    NCCL_NVLS_ENABLE=0 accelerate launch --multi_gpu --num_processes 8 benchmarks/pretrain.py --workers 15    # 8-GPU node
    accelerate launch --multi_gpu --num_processes 2 benchmarks/pretrain.py --tiny --videos 4 --chunk-sec 20 --base-sec 5 \
        --clips 200 --steps 6 --batch 8 --workers 1 --mcq 20                                         # the same, 2 CPU processes
"""
import argparse, json, os, sys, threading, time, uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import numpy as np

def _write_one(args):
    out_dir, seed, chunk_sec, keyint, tune, base_dir, base_sec = args
    from synth_clips import synth_chunks
    return synth_chunks(out_dir, 1, chunk_sec, keyint, tune=tune, seed=seed, base_dir=base_dir, base_sec=base_sec)[0]

def make_data(root, videos, chunk_sec, keyint, tune, clips, mcq, scenes=None, base_sec=30, seed=0, workers=None):
    root = Path(root); vids = root/'videos'
    rng = np.random.default_rng(seed)
    uids = [str(uuid.UUID(bytes=rng.bytes(16), version=4)) for _ in range(videos)]
    scenes = scenes or videos   # video i shows scene i % scenes (decoding cost does not depend on which)
    jobs = [(vids/u, seed + i % scenes, chunk_sec, keyint, tune, root/'bases', base_sec) for i, u in enumerate(uids)]
    t0 = time.time()
    (root/'bases').mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(workers or os.cpu_count()) as ex: list(ex.map(_write_one, jobs[:scenes]))   # encode each scene once
    with ThreadPoolExecutor(workers or os.cpu_count()) as ex: files = list(ex.map(_write_one, jobs))
    mb = sum(f.stat().st_size for f in files) / 1e6
    print(f"{videos} chunks of {chunk_sec:.0f} s written in {time.time()-t0:.0f} s: {mb:.0f} MB, "
          f"{8 * mb / (videos * chunk_sec):.2f} Mbit/s, {mb / (videos * chunk_sec) * 3600:.0f} MB per hour")
    def row(k, u, t, d):
        return {'clip_idx': k, 'video_uid': u, 'video_dur': chunk_sec, 'narration_source': 'narration_pass_1',
                'narration_ind': k, 'narration_time': t, 'clip_start': t - d / 2, 'clip_end': t + d / 2,
                'clip_text': f'#C C picks object {k % 50}', 'tag_verb': f'[{k % 118}]', 'tag_noun': f'[{k % 582}, {(7 * k) % 582}]'}
    rows = []
    for k in range(clips):
        d = rng.uniform(0.5, 1.5); t = rng.uniform(d, chunk_sec - d - 1)   # 1 s spare for the EgoMCQ shifts below
        rows.append(row(k, uids[rng.integers(videos)], round(t, 4), d))
    import pandas as pd
    pd.DataFrame(rows).to_csv(root/'egoclip.csv', sep='\t', index=False)
    qs = {}
    for q in range(mcq):
        ch = [rows[rng.integers(clips)] for _ in range(5)]
        ch = [dict(r, clip_start=r['clip_start'] + 1e-4 * q, clip_end=r['clip_end'] + 1e-4 * q) for r in ch]  # distinct clips
        qs[str(q)] = {'query': ch[0], 'choices': {str(c): ch[c] for c in range(5)}, 'answer': 0, 'types': 1 + q % 2}
    (root/'egomcq.json').write_text(json.dumps(qs))
    return root

class GPUSampler(threading.Thread):
    "Sample GPU utilisation (NVML) every `dt` s."
    def __init__(self, dt=0.2, index=0):
        super().__init__(daemon=True); self.dt, self.samples, self.on, self.index = dt, [], True, index
    def run(self):
        try:
            import pynvml; pynvml.nvmlInit(); h = pynvml.nvmlDeviceGetHandleByIndex(self.index)
        except Exception as e: self.samples = [float('nan')]; print(f"(no NVML: {e})"); return
        while self.on:
            self.samples.append(pynvml.nvmlDeviceGetUtilizationRates(h).gpu); time.sleep(self.dt)

def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument('--root', default='/tmp/egovlp_bench_pretrain')
    p.add_argument('--videos', type=int, default=16); p.add_argument('--chunk-sec', type=float, default=600)
    p.add_argument('--keyint', type=int, default=None, help='frames between keyframes (default: the preprocessing default)')
    p.add_argument('--tune', default='default', help="x264 tune ('none' = plain x264; default: the preprocessing default)")
    p.add_argument('--scenes', type=int, default=None, help='distinct synthetic scenes (default: one per video)')
    p.add_argument('--base-sec', type=float, default=30, help='length of the encoded piece each chunk repeats')
    p.add_argument('--clips', type=int, default=50000)
    p.add_argument('--batch', type=int, default=128); p.add_argument('--workers', type=int, default=None)
    p.add_argument('--frames', type=int, default=4); p.add_argument('--res', type=int, default=224)
    p.add_argument('--steps', type=int, default=250); p.add_argument('--warmup-steps', type=int, default=10)
    p.add_argument('--mcq', type=int, default=2000, help='EgoMCQ questions to time (at most 10,000)'); p.add_argument('--tiny', action='store_true')
    p.add_argument('--mcq-batch', type=int, default=64, help='EgoMCQ clips per batch (small: the timed pass is not dominated by the last round of batches)')
    p.add_argument('--loader-only', action='store_true', help="time the trainer's DataLoader alone (no model step), then stop")
    p.add_argument('--mcq-compare', action='store_true', help='time EgoMCQ again with the open-file cache off')
    p.add_argument('--no-compile', action='store_true'); p.add_argument('--precision', default=None)
    p.add_argument('--blocking-copy', action='store_true', help="the old H2D copy: accelerate's default non_blocking=False "
                   "(the host waits for the queued step at every batch); A/B against the trainer's non_blocking copy")
    p.add_argument('--no-mcq', action='store_true', help='skip the EgoMCQ timing (the data still has --mcq questions)')
    p.add_argument('--main-nice', type=int, default=None, help='the main thread\'s nice value once the workers run (root: < 0)')
    p.add_argument('--set', action='append', default=[], metavar='KEY=VALUE',
                   help='more config overrides, e.g. --set arch.args.video_params.residual_dtype=\'"autocast"\' or the '
                        'fast-path options --set arch.args.video_params.fast_gelu=false (see 03a_fast_attention)')
    a = p.parse_args(argv)
    import torch
    from egovlp.core import read_config, apply_overrides
    from egovlp.launch import load, trainer_for
    from egovlp.tasks.egoclip import EgoMCQEvaluator
    cuda = torch.cuda.is_available()
    workers = a.workers if a.workers is not None else max(1, (os.cpu_count() or 2) - 1)
    from egovlp.preprocess import DEFAULT_KEYINT, DEFAULT_TUNE
    keyint = a.keyint or DEFAULT_KEYINT
    tune = DEFAULT_TUNE if a.tune == 'default' else (None if a.tune == 'none' else a.tune)
    from accelerate import PartialState
    ps = PartialState(cpu=not cuda)      # under `accelerate launch --num_processes N`: one process per GPU (gloo on CPUs)
    if ps.is_main_process:               # the data once, by the main process; the others wait for it
        make_data(a.root, a.videos, a.chunk_sec, keyint, tune, a.clips, a.mcq, a.scenes, a.base_sec)
        print(f'chunks: keyframe every {keyint} frames, x264 tune {tune}')
    ps.wait_for_everyone()
    root = Path(a.root)
    say = print if ps.is_main_process else (lambda *x, **k: None)
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
    ov += a.set
    if a.tiny: ov += [f'arch.args.video_params.{k}={v}' for k, v in dict(img_size=a.res, patch_size=8, embed_dim=64, depth=2, num_heads=2).items()] \
                  + [f'arch.args.text_params.config={json.dumps(dict(dim=64, n_layers=2, n_heads=2, hidden_dim=128))}']
    cfg = apply_overrides(read_config(Path(__file__).parents[1]/'configs/pt/egoclip.json'), ov)
    tr = trainer_for(load(cfg))
    if a.blocking_copy: tr.acc.dataloader_config.non_blocking = tr.loader._non_blocking = False
    say(f"batch copy to the device: {'blocking' if a.blocking_copy else 'non_blocking'}")
    say(f"video options: {tr.unwrap().video_model.options}")
    say(f"model {sum(p.numel() for p in tr.unwrap().parameters())/1e6:.0f}M params, {len(tr.dataset)} clips, "
          f"batch {a.batch}, {workers} workers, {os.cpu_count()} cores, device {tr.device}")
    if a.loader_only:   # the trainer's own DataLoader (same dataset, workers, collation, pinning), no model step
        it, n = iter(tr.loader), 0
        for _ in range(2 * workers): next(it)            # workers started, prefetch queue filled and drained
        t0 = time.perf_counter()
        for _ in range(a.steps): n += len(next(it)['video'])
        dt = time.perf_counter() - t0
        say(f"loader alone: {n / dt:.1f} clips/s over {a.steps} batches of {a.batch} with {workers} workers "
              f"({n / dt / workers:.1f} clips/s per worker)")
        return
    if a.steps > 0:   # --steps 0: only the EgoMCQ timing below
        gpu = GPUSampler(index=(tr.device.index or 0) if cuda else 0); t_start = time.time()
        marks = []
        orig_step = tr.task.step
        def step(model, batch, trainer):           # record when each step was issued, to cut out the warm-up/compile
            if not marks and a.main_nice is not None: os.setpriority(os.PRIO_PROCESS, 0, a.main_nice)  # this thread only
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
        world = tr.acc.num_processes
        per = tr.acc.gather(torch.tensor([steady, util, h['data_wait']], device=tr.device).reshape(1, 3)).cpu().reshape(-1, 3)
        node = float(per[:, 0].min()) * world      # DDP steps in lockstep: the slowest process sets the pace
        say(f"\nsustained {node:.1f} clips/s for {world} process(es) ({node / world:.1f} per process) over steps "
            f"{w+1}..{len(marks)} (after warm-up/compile); GPU busy {', '.join(f'{u:.0f}' for u in per[:, 1].tolist())}% "
            f"(NVML, per GPU); host waited for data {100*float(per[:, 2].mean()):.0f}% of the epoch (mean); "
            f"peak GPU memory {torch.cuda.max_memory_allocated()/2**30 if cuda else float('nan'):.1f} GiB")
        steady, util = node, float(per[:, 1].mean())
    # EgoMCQ pass: distinct clips in reading order, PyAV's open-file cache on (the default); then, for comparison, off
    from egovlp.video import set_pyav_cache
    mcq = tr.task.eval_dataset()
    model = tr.unwrap().eval()
    def time_mcq(label):
        ev = EgoMCQEvaluator(mcq, tr.task.tokenizer, batch_size=a.mcq_batch, num_workers=workers)
        with torch.no_grad(), torch.autocast('cuda' if cuda else 'cpu', dtype=torch.bfloat16, enabled=cuda):
            ev(model, tr.acc)                       # warm-up (workers, kernels)
            if cuda: torch.cuda.synchronize()
            t0 = time.time(); ev(model, tr.acc)
            if cuda: torch.cuda.synchronize()
            dt = time.time() - t0
        per_clip = dt / len(mcq.clips)
        say(f"EgoMCQ ({label}): {len(mcq)} questions, {len(mcq.clips)} distinct clips in {dt:.1f} s ({len(mcq.clips)/dt:.0f} clips/s); "
              f"39,000 questions x 5 distinct clips would take {39000*5*per_clip/60:.1f} min")
        del ev; import gc; gc.collect()            # shuts its persistent workers down
        return dt, per_clip
    if a.no_mcq: return
    dt, per_clip = time_mcq('open-file cache on')
    if a.mcq_compare:
        set_pyav_cache(0); time_mcq('open-file cache off'); set_pyav_cache(1)
    res = dict(mcq_clips_per_s=len(mcq.clips)/dt, mcq_full_min=39000*5*per_clip/60, batch=a.batch, workers=workers,
               cores=os.cpu_count())
    if a.steps > 0: res.update(steady_clips_per_s=steady, gpu_util=util, data_wait=h['data_wait'])
    if a.steps > 0: res['processes'] = tr.acc.num_processes
    if os.environ.get('OUT') and ps.is_main_process: Path(os.environ['OUT'], 'pretrain_bench.json').write_text(json.dumps(res))

if __name__ == '__main__': main()
