#!/usr/bin/env python
"""One EgoVLP training step: clips/s, peak memory and model-FLOP utilisation, fast path vs reference, same run.

A step is what pretraining does per batch: normalise a uint8 clip batch on the device, video tower (SpaceTimeTransformer
ViT-B/16) + text tower (DistilBERT) + projections, cosine similarity, EgoNCE (egovlp.loss; if that
module fails to import the benchmark fails, there is no stand-in), backward, fused AdamW (lr 3e-5, eps 1e-6, no weight decay). Full-size models are built from their
configs with random weights (nothing is downloaded); inputs are random uint8 video and random token ids.

Modes (--modes, comma-separated):
  fast        attn_impl='fast' (Triton time and space attention on CUDA; bias gradients by GEMV / the fused GELU
              backward: egovlp.kernels.Linear, FusedMlp), bf16 autocast, torch.compile
  sdpa        attn_impl='sdpa' (SDPA for time attention too, chunked under the CUDA grid limit), bf16, torch.compile
  fast-eager  attn_impl='fast', bf16 autocast, no compile
  reference   attn_impl='reference' (the original's explicit attention), fp32, no compile
  einsum      attn_impl='einsum' (the first fast path: time attention as small batched GEMMs), bf16, torch.compile
  fused       attn_impl='fused' (time attention as fused broadcast-reductions also in eager), bf16, torch.compile
  triton      attn_impl='triton' (time and space attention by the Triton kernels), bf16, torch.compile
  triton-time 'fast' with fast_triton=['time']: Triton kernels for the time groups only, cuDNN SDPA for the space
              groups, bf16, torch.compile
  fast-bf16res 'fast' with residual_dtype='autocast': the residual stream in bf16 too (changes numerics; see 03_model)
  bf16res-gemv    'fast-bf16res' with fc1's bias + GELU backward as inductor's kernel + a GEMV (fast_gelu=False)
  bf16res-colsum  'fast-bf16res' with all bias gradients as inductor's column sums (fast_linear=False, fast_gelu=False)

FLOPs are counted once per frame count with torch.utils.flop_counter.FlopCounterMode on the 'meta' device (one forward +
backward of the reference maths at batch 2, scaled linearly to the batch), so MFU = counted FLOPs / step time / --peak-tflops
for every mode (989 TFLOP/s = H100 SXM dense bf16). Times: CUDA events around each step, after warm-up; the median is shown.

    python benchmarks/train_step.py                                  # GPU, 224 px, 4 and 16 frames, batch 8,16,32
    python benchmarks/train_step.py --frames 4 --batch 16,32,64,128 --modes fast,sdpa,reference
    python benchmarks/train_step.py --device cpu --tiny               # smoke test (32 px, 2 blocks)
"""
import argparse, ast, functools, gc, json, platform, statistics, time
import torch
from torch.utils.flop_counter import FlopCounterMode
from egovlp.model import FrozenInTime, sim_matrix, tiny_text_params, tiny_video_params
from egovlp.video import normalize
from egovlp.loss import EgoNCE, egonce_masks   # the real loss; an import error stops the benchmark (no silent stand-in)

MODES = {  # name: (attn_impl, bf16 autocast, torch.compile[, options]); options: fast_triton, fast_linear, fast_gelu →
           # video_params keys: the model's own run-time options (fast_triton, fast_linear, fast_gelu, residual_dtype, ...)
    'fast': ('fast', True, True), 'sdpa': ('sdpa', True, True),
    'fast-eager': ('fast', True, False), 'reference': ('reference', False, False),
    'einsum': ('einsum', True, True), 'fused': ('fused', True, True), 'triton': ('triton', True, True),
    'triton-time': ('fast', True, True, dict(fast_triton=('time',))),
    'fast-bf16res': ('fast', True, True, dict(residual_dtype='autocast')),
    'bf16res-gemv': ('fast', True, True, dict(residual_dtype='autocast', fast_gelu=False)),
    'bf16res-colsum': ('fast', True, True, dict(residual_dtype='autocast', fast_linear=False, fast_gelu=False))}
N_VERBS, N_NOUNS = 118, 582


def infonce(sim, temperature=0.05):
    "Symmetric InfoNCE: only for counting FLOPs on 'meta' (the loss is a negligible share; the timed step uses EgoNCE)." 
    s = sim.float() / temperature
    target = torch.arange(len(s), device=s.device)
    return torch.nn.functional.cross_entropy(s, target) + torch.nn.functional.cross_entropy(s.t(), target)


def model_params(a, frames, impl, **video_opts):
    if a.tiny:
        return (tiny_video_params(num_frames=frames, attn_impl=impl, grad_checkpointing=a.grad_ckpt, **video_opts),
                tiny_text_params())
    vp = dict(model='SpaceTimeTransformer', arch_config='base_patch16_224', num_frames=frames, pretrained=False,
              time_init='zeros', attn_impl=impl, grad_checkpointing=a.grad_ckpt, **video_opts)
    return vp, dict(model='distilbert-base-uncased', pretrained=False, input='text')


def mode_setup(mode):
    "(attn_impl, bf16, compile, video_params options) of `mode`: the options are the model's own (no globals)."
    impl, bf16, compile_, *opts = MODES[mode]
    return impl, bf16, compile_, dict(opts[0]) if opts else {}


def make_batch(a, B, frames, device, gen):
    "Random uint8 clips, token ids ([CLS] … [SEP]) and EgoNCE tag masks, already on the device."
    video = torch.randint(0, 256, (B, frames, 3, a.res, a.res), dtype=torch.uint8, generator=gen).to(device)
    ids = torch.randint(1000, 30522, (B, a.text_len), generator=gen)
    ids[:, 0], ids[:, -1] = 101, 102
    text = {'input_ids': ids.to(device), 'attention_mask': torch.ones_like(ids).to(device)}
    verbs = (torch.rand(B, N_VERBS, generator=gen) < 2 / N_VERBS).float().to(device)
    nouns = (torch.rand(B, N_NOUNS, generator=gen) < 2 / N_NOUNS).float().to(device)
    return video, text, verbs, nouns


def make_loss(verbs, nouns):
    egonce, (mask_v, mask_n) = EgoNCE(), egonce_masks(verbs, nouns)
    return (lambda sim: egonce(sim, mask_v, mask_n)), 'EgoNCE (egovlp.loss)'


def step(fwd, opt, loss_fn, video_u8, text, bf16, device):
    video = normalize(video_u8)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
        t, v = fwd({'text': text, 'video': video})
        loss = loss_fn(sim_matrix(t, v))
    loss.backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss


def count_flops(a, frames, B):
    "FLOPs of one forward+backward of the model maths (reference attention) for batch B, counted on 'meta'."
    vp, tp = model_params(a, frames, 'reference')
    b = 2
    with torch.device('meta'):
        model = FrozenInTime(vp, tp).train()
        video = torch.empty(b, frames, 3, a.res, a.res)
        text = {'input_ids': torch.zeros(b, a.text_len, dtype=torch.long)}   # no mask: transformers inspects it with .all()
    with FlopCounterMode(display=False) as fc:
        t, v = model({'text': text, 'video': video})
        infonce(sim_matrix(t, v)).backward()
    return fc.get_total_flops() * B / b


def time_mode(a, mode, frames, B, device):
    return _time_mode(a, mode, frames, B, device, *mode_setup(mode))


def _time_mode(a, mode, frames, B, device, impl, bf16, compile_, opts):
    torch.manual_seed(0)
    vp, tp = model_params(a, frames, impl, **opts)
    model = FrozenInTime(vp, tp).to(device).train()
    try: opt = torch.optim.AdamW(model.parameters(), lr=3e-5, eps=1e-6, weight_decay=0.0, fused=True)
    except (RuntimeError, TypeError): opt = torch.optim.AdamW(model.parameters(), lr=3e-5, eps=1e-6, weight_decay=0.0)
    fwd = torch.compile(model, mode=a.compile_mode) if (compile_ and not a.no_compile) else model
    gen = torch.Generator().manual_seed(1)
    video, text, verbs, nouns = make_batch(a, B, frames, device, gen)
    loss_fn, loss_name = make_loss(verbs, nouns)
    cuda = device.type == 'cuda'
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    t0 = time.perf_counter()
    for _ in range(a.warmup): loss = step(fwd, opt, loss_fn, video, text, bf16, device)
    sync()
    warm_s = time.perf_counter() - t0
    if cuda: torch.cuda.reset_peak_memory_stats(device)
    times = []
    for _ in range(a.steps):
        if cuda:
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record(); loss = step(fwd, opt, loss_fn, video, text, bf16, device); e1.record()
            times.append((e0, e1))
        else:
            t = time.perf_counter(); loss = step(fwd, opt, loss_fn, video, text, bf16, device); times.append(time.perf_counter() - t)
    sync()
    secs = [e0.elapsed_time(e1) / 1e3 for e0, e1 in times] if cuda else times
    if not torch.isfinite(loss): raise FloatingPointError(f'{mode}: loss is {loss.item()}')
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if cuda else float('nan')
    return dict(step_s=statistics.median(secs), peak_gib=peak, warmup_s=warm_s, loss=loss.item(), loss_name=loss_name)


def cleanup():
    gc.collect()
    torch._dynamo.reset()
    if torch.cuda.is_available(): torch.cuda.empty_cache()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--tiny', action='store_true', help='tiny towers (32 px, 2 blocks, 32 d) for a smoke test')
    p.add_argument('--frames', default='4,16', help='comma-separated frame counts (4: pretraining, 16: fine-tuning)')
    p.add_argument('--batch', default='8,16,32', help='comma-separated per-device batch sizes')
    p.add_argument('--modes', default='fast,reference', help=f'comma-separated, from {list(MODES)}')
    p.add_argument('--res', type=int, default=None, help='frame size in px (default 224, tiny 32)')
    p.add_argument('--text-len', type=int, default=24, help='tokens per caption (EgoClip narrations are ~10-20)')
    p.add_argument('--steps', type=int, default=10, help='timed steps per row (median reported)')
    p.add_argument('--warmup', type=int, default=3, help='untimed steps first (compilation happens here)')
    p.add_argument('--peak-tflops', type=float, default=989., help='peak for MFU (H100 SXM dense bf16 = 989)')
    p.add_argument('--no-compile', action='store_true', help='run the compiled modes eagerly')
    p.add_argument('--compile-mode', default=None, help="torch.compile mode, e.g. 'max-autotune-no-cudagraphs'")
    p.add_argument('--grad-ckpt', action='store_true', help='gradient checkpointing per video block')
    p.add_argument('--sdpa-off', default='', help="comma-separated SDPA backends to disable: cudnn, flash, mem_efficient, math")
    p.add_argument('--inductor', default='', help="comma-separated torch._inductor.config settings, e.g. 'coordinate_descent_tuning=True'")
    p.add_argument('--json', default=None, help='also write the rows to this JSON file')
    a = p.parse_args(argv)
    if a.res is None: a.res = 32 if a.tiny else 224
    device = torch.device(a.device)
    modes = a.modes.split(',')
    if bad := [m for m in modes if m not in MODES]: p.error(f'unknown modes {bad}; choose from {list(MODES)}')
    if device.type == 'cuda':
        import torch._inductor.config as ic
        if hasattr(ic.triton, 'coalesce_tiling_analysis'): ic.triton.coalesce_tiling_analysis = False
        for kv in filter(None, a.inductor.split(',')):
            k, v = kv.split('=', 1)
            *path, name = k.strip().split('.')
            obj = functools.reduce(getattr, path, ic)
            setattr(obj, name, ast.literal_eval(v.strip()))
            print(f'torch._inductor.config.{k.strip()} = {getattr(obj, name)!r}')
        for b in filter(None, a.sdpa_off.split(',')):
            getattr(torch.backends.cuda, f'enable_{b}_sdp')(False); print(f'SDPA backend {b}: off')
        card = torch.cuda.get_device_name(device)
    else: card = f'CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads'
    print(f'{card} | torch {torch.__version__} | {"tiny" if a.tiny else "ViT-B/16 + DistilBERT"} at {a.res} px, '
          f'{a.text_len} tokens | {a.warmup} warm-up + {a.steps} timed steps | MFU vs {a.peak_tflops:g} TFLOP/s\n')

    rows = []
    hdr = f"{'frames':>6} {'batch':>5} {'mode':>12} {'clips/s':>9} {'ms/step':>9} {'peak GiB':>9} {'TFLOP/s':>8} {'MFU':>6} {'vs ref':>7} {'warm-up s':>9}"
    print(hdr); print('-' * len(hdr))
    for frames in map(int, a.frames.split(',')):
        flops_b1 = count_flops(a, frames, 1)
        for B in map(int, a.batch.split(',')):
            ref_s = None
            for mode in sorted(modes, key=lambda m: m != 'reference'):   # reference first, for the speed-up column
                row = dict(card=card, frames=frames, batch=B, mode=mode, res=a.res, tiny=a.tiny, gflop_per_clip=flops_b1 / 1e9)
                try:
                    row.update(time_mode(a, mode, frames, B, device))
                except torch.OutOfMemoryError:
                    row.update(step_s=None, error='OOM')
                cleanup()
                if row.get('step_s'):
                    s = row['step_s']
                    row.update(clips_s=B / s, tflops=flops_b1 * B / s / 1e12, mfu=flops_b1 * B / s / 1e12 / a.peak_tflops)
                    if mode == 'reference': ref_s = s
                    row['speedup'] = ref_s / s if ref_s else None
                    sp = f"{row['speedup']:.2f}x" if row['speedup'] else '-'
                    print(f"{frames:>6} {B:>5} {mode:>12} {row['clips_s']:>9.1f} {1e3 * s:>9.1f} {row['peak_gib']:>9.2f} "
                          f"{row['tflops']:>8.1f} {100 * row['mfu']:>5.1f}% {sp:>7} {row['warmup_s']:>9.1f}", flush=True)
                else:
                    print(f"{frames:>6} {B:>5} {mode:>12} {row['error']:>9}", flush=True)
                rows.append(row)
    losses = {r['loss_name'] for r in rows if 'loss_name' in r}
    print(f"\nloss: {', '.join(losses)}; model FLOPs per clip (fwd+bwd): "
          + ', '.join(f"{f} frames {r['gflop_per_clip']:.4g} GFLOP" for f, r in {r['frames']: r for r in rows}.items()))
    if a.json:
        with open(a.json, 'w') as f: json.dump(rows, f, indent=1)
    return rows


if __name__ == '__main__':
    main()
