#!/usr/bin/env python
"""Where a training step's GPU time goes: torch.profiler over a few compiled steps, top kernels by CUDA time, and the
same time summed by kind of work. `--gaps` also reports host syncs inside one step (which stall the CPU and leave the
GPU idle) and the idle gaps between the step's GPU operations.

    python benchmarks/profile_step.py --frames 4 --batch 128 --mode fast --gaps
"""
import argparse, json, sys, pathlib, tempfile, warnings
import torch
sys.path.insert(0, str(pathlib.Path(__file__).parent))
import train_step as ts
from egovlp.model import FrozenInTime

p = argparse.ArgumentParser()
p.add_argument('--frames', type=int, default=4); p.add_argument('--batch', type=int, default=128)
p.add_argument('--mode', default='fast'); p.add_argument('--rows', type=int, default=30)
p.add_argument('--compile-mode', default=None)
p.add_argument('--gaps', action='store_true', help='host syncs and GPU idle gaps within one step')
a = p.parse_args()
class A: tiny=False; res=224; text_len=24; grad_ckpt=False; compile_mode=a.compile_mode; no_compile=False
impl, bf16, compile_, opts = ts.mode_setup(a.mode)   # opts: the model's run-time options (video_params keys)
dev = torch.device('cuda')
if dev.type == 'cuda':
    import torch._inductor.config as ic
    if hasattr(ic.triton, 'coalesce_tiling_analysis'): ic.triton.coalesce_tiling_analysis = False
vp, tp = ts.model_params(A, a.frames, impl, **opts)
model = FrozenInTime(vp, tp).to(dev).train()
print('video options:', {k: v for k, v in model.video_params.items() if k in opts or k == 'attn_impl'})
opt = torch.optim.AdamW(model.parameters(), lr=3e-5, eps=1e-6, weight_decay=0.0, fused=True)
fwd = torch.compile(model, mode=a.compile_mode) if compile_ else model
video, text, verbs, nouns = ts.make_batch(A, a.batch, a.frames, dev, torch.Generator().manual_seed(1))
loss_fn, _ = ts.make_loss(verbs, nouns)
for _ in range(3): ts.step(fwd, opt, loss_fn, video, text, bf16, dev)
torch.cuda.synchronize()
from torch.profiler import profile, ProfilerActivity
with profile(activities=[ProfilerActivity.CUDA]) as prof:
    for _ in range(3): ts.step(fwd, opt, loss_fn, video, text, bf16, dev)
    torch.cuda.synchronize()
ev = sorted(prof.key_averages(), key=lambda e: -e.self_device_time_total)
total = sum(e.self_device_time_total for e in ev)
print(f'{torch.cuda.get_device_name()}: {total / 1e3 / 3:.1f} ms of kernels per step ({a.frames} frames, batch {a.batch}, {a.mode})')
print(f"{'kernel':90s} {'ms/step':>8s} {'%':>6s} {'calls':>6s}")
for e in ev[:a.rows]:
    print(f'{e.key[:90]:90s} {e.self_device_time_total / 1e3 / 3:8.2f} {100 * e.self_device_time_total / total:6.1f} {e.count // 3:6d}')

# the same time by kind of work, from the kernel names (first pattern that matches wins)
GROUPS = [('GEMM (cuBLAS/CUTLASS)', ('gemm', 'xmma', 'cutlass', 'nvjet', 'sm90_', 'sm80_')),
          ('space attention (Triton)', ('_space_attn',)), ('time attention (Triton)', ('_time_attn',)),
          ('[CLS] query (Triton)', ('_cls_attn',)), ('LayerNorm (+ residual add, casts)', ('layer_norm',)),
          ('GELU', ('gelu',)), ('optimizer', ('adam', 'foreach', 'multi_tensor')),
          ('reductions (bias grads, ...)', ('_red_', 'reduce', 'sum')), ('casts/copies', ('_to_copy', 'copy', 'clone', 'cat')),
          ('other', ('',))]
by = {g: 0. for g, _ in GROUPS}
for e in ev:
    k = e.key.lower()
    by[next(g for g, pats in GROUPS if any(p in k for p in pats))] += e.self_device_time_total / 1e3 / 3
print(f"\n{'kind of work':40s} {'ms/step':>8s} {'%':>6s}")
for g, ms in by.items(): print(f'{g:40s} {ms:8.2f} {100 * ms * 3e3 / total:6.1f}')


def gap_report(run_step, top=10):
    "Synchronising calls in one step (sync debug mode), then a CUDA-only trace of one step: busy vs idle, largest gaps."
    torch.cuda.set_sync_debug_mode('warn')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        run_step()
    torch.cuda.set_sync_debug_mode(0)
    syncs = [x for x in w if 'synchroniz' in str(x.message)]
    print(f'\nhost syncs in one step: {len(syncs)}')
    for x in syncs[:5]: print(f'  at {x.filename}:{x.lineno}')
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof2:
        run_step(); torch.cuda.synchronize()
    with tempfile.TemporaryDirectory() as d:
        prof2.export_chrome_trace(f'{d}/trace.json')
        ops = [e for e in json.load(open(f'{d}/trace.json'))['traceEvents']
               if e.get('ph') == 'X' and e.get('cat') in ('kernel', 'gpu_memset', 'gpu_memcpy')]
    ops.sort(key=lambda e: e['ts'])
    gaps, end = [], ops[0]['ts'] + ops[0]['dur']
    for prev, e in zip(ops, ops[1:]):
        if e['ts'] > end: gaps.append((e['ts'] - end, prev['name'][:50], e['name'][:50]))
        end = max(end, e['ts'] + e['dur'])
    span = end - ops[0]['ts']; idle = sum(g for g, *_ in gaps)
    print(f'{len(ops)} GPU operations in one step: span {span / 1e3:.1f} ms, busy {(span - idle) / 1e3:.1f} ms, '
          f'idle {idle / 1e3:.1f} ms in {len(gaps)} gaps; the largest:')
    for g, before, after in sorted(gaps, reverse=True)[:top]: print(f'  {g / 1e3:6.2f} ms between {before} | {after}')

if a.gaps: gap_report(lambda: ts.step(fwd, opt, loss_fn, video, text, bf16, dev))
