#!/usr/bin/env python
"""Where a training step's GPU time goes: torch.profiler over a few compiled steps, top kernels by CUDA time.

    python benchmarks/profile_step.py --frames 4 --batch 128 --mode fast
"""
import argparse, sys, pathlib
import torch
sys.path.insert(0, str(pathlib.Path(__file__).parent))
import train_step as ts
from egovlp.model import FrozenInTime

p = argparse.ArgumentParser()
p.add_argument('--frames', type=int, default=4); p.add_argument('--batch', type=int, default=128)
p.add_argument('--mode', default='fast'); p.add_argument('--rows', type=int, default=30)
p.add_argument('--compile-mode', default=None)
a = p.parse_args()
class A: tiny=False; res=224; text_len=24; grad_ckpt=False; compile_mode=a.compile_mode; no_compile=False
setup = ts.mode_setup(a.mode)
impl, bf16, compile_, opts = setup.__enter__()   # for the whole run
dev = torch.device('cuda')
if dev.type == 'cuda':
    import torch._inductor.config as ic
    if hasattr(ic.triton, 'coalesce_tiling_analysis'): ic.triton.coalesce_tiling_analysis = False
vp, tp = ts.model_params(A, a.frames, impl, **opts)
model = FrozenInTime(vp, tp).to(dev).train()
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
