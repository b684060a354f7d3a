#!/usr/bin/env python
"""Divided attention alone (qkv Linear + attention + proj, forward + backward, compiled, bf16): which formulation is fastest.

Candidates per group ('time', 'space'): the model's own `attn_impl`s ('fused', 'einsum', 'sdpa', 'triton' = the Triton
kernels that 'fast' uses on CUDA for the groups in the model's `fast_triton` option; for space 'fused' is the grouped-before-qkv
cuDNN SDPA form) and FlexAttention (`torch.nn.attention.flex_attention`) with a block mask:
  flex        space: the native (b, [cls] + f·n) layout, mask = same frame | key is [CLS] | query is [CLS] (no copies)
              time: tokens reordered to (b, [cls] + n·f) so that time groups are contiguous, same mask per patch
Every candidate is first checked against the reference maths (fp32) on the same inputs.

    python benchmarks/attn_bench.py --frames 4 --batch 128
    python benchmarks/attn_bench.py --frames 16 --batch 32
    python benchmarks/attn_bench.py --frames 4 --batch 128 --time triton --space '' --profile 10 --time-kernel rows=32
    python benchmarks/attn_bench.py --frames 4 --batch 128 --time '' --space triton --space-kernel rows=128,fwd_warps=8
    TRITON_INTERPRET=1 python benchmarks/attn_bench.py --device cpu --tiny      # correctness only
"""
import argparse, functools, statistics
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention.flex_attention import create_block_mask, flex_attention
from egovlp.model import VarAttention, _reference_attention


@functools.lru_cache(maxsize=None)
def _mask(kind: str, T: int, L: int, device: str, block: int):
    "Block mask for [CLS] + groups of L consecutive tokens: same group, or key is [CLS], or query is [CLS]."
    def mm(b, h, qi, ki): return (ki == 0) | (qi == 0) | ((qi - 1) // L == (ki - 1) // L)
    return create_block_mask(mm, None, None, T, T, device=device, BLOCK_SIZE=block)


class FlexAttention(VarAttention):
    "VarAttention whose divided attention is one FlexAttention call with a block mask (see module doc)."
    block = 128
    def forward(self, x, group: str, num_frames: int):
        B, T, C = x.shape
        H, d, Fr = self.num_heads, self.head_dim, num_frames; N = (T - 1) // Fr
        q, k, v = self.qkv(x).reshape(B, T, 3, H, d).permute(2, 0, 3, 1, 4).unbind(0)   # (B,H,T,d) views
        if group == 'time':   # (f n) -> (n f): each patch's F tokens become contiguous
            nf = lambda t: torch.cat([t[:, :, :1], t[:, :, 1:].unflatten(2, (Fr, N)).transpose(2, 3).flatten(2, 3)], 2)
            q, k, v = nf(q), nf(k), nf(v)
        bm = _mask(group, T, N if group == 'space' else Fr, str(x.device), self.block)
        o = flex_attention(q, k, v, block_mask=bm, scale=self.scale)                      # (B,H,T,d)
        if group == 'time':   # back to (f n)
            o = torch.cat([o[:, :, :1], o[:, :, 1:].unflatten(2, (N, Fr)).transpose(2, 3).flatten(2, 3)], 2)
        return self.proj_drop(self.proj(o.transpose(1, 2).reshape(B, T, C)))


def make(kind, dim, heads, device, **kernels):
    "The attention layer for `kind`; `kernels`: time_kernel / space_kernel options of the layer (egovlp.kernels)."
    torch.manual_seed(0)
    if kind == 'flex': m = FlexAttention(dim, heads, qkv_bias=True)
    else: m = VarAttention(dim, heads, qkv_bias=True, attn_impl=kind, **kernels)
    return m.to(device)


def kernel_opts(spec: str) -> dict:
    "'rows=128,bwd_warps=8' -> {'rows': 128, 'bwd_warps': 8} (validated when the layer takes it)."
    return {k: int(v) for k, v in (kv.split('=') for kv in filter(None, spec.split(',')))}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--frames', type=int, default=4); p.add_argument('--batch', type=int, default=128)
    p.add_argument('--res', type=int, default=224); p.add_argument('--device', default='cuda')
    p.add_argument('--tiny', action='store_true'); p.add_argument('--steps', type=int, default=10)
    p.add_argument('--time-kernel', default='', help="Triton time-kernel settings, e.g. 'rows=128,bwd_warps=8'")
    p.add_argument('--space-kernel', default='', help="Triton space-kernel settings, e.g. 'rows=128,cols=32,bwd_warps=8'")
    p.add_argument('--sdpa-off', default='', help='comma-separated SDPA backends to disable: cudnn, flash, mem_efficient')
    p.add_argument('--profile', type=int, default=0, help='print this many top CUDA kernels of each candidate')
    p.add_argument('--time', default='fused,einsum,triton,flex'); p.add_argument('--space', default='triton,fused,flex')
    a = p.parse_args()
    dev = torch.device(a.device)
    kernels = dict(time_kernel=kernel_opts(a.time_kernel), space_kernel=kernel_opts(a.space_kernel))
    for b in filter(None, a.sdpa_off.split(',')): getattr(torch.backends.cuda, f'enable_{b}_sdp')(False)
    import torch._inductor.config as ic   # avoids an inductor tiling assertion on these reshapes (see train_step.py)
    if hasattr(ic.triton, 'coalesce_tiling_analysis'): ic.triton.coalesce_tiling_analysis = False
    dim, heads = (64, 4) if a.tiny else (768, 12)
    N = (32 // 16) ** 2 if a.tiny else (a.res // 16) ** 2
    T = 1 + a.frames * N
    B = 2 if a.tiny else a.batch
    g = torch.Generator().manual_seed(1)
    x0 = torch.randn(B, T, dim, generator=g).to(dev)
    rows = []
    for group, kinds in (('time', a.time), ('space', a.space)):
        for kind in filter(None, kinds.split(',')):
            m = make(kind, dim, heads, dev, **kernels)
            with torch.no_grad():                       # random (not zero) time weights, so the check means something
                ref = m.proj(_reference_attention(*m.qkv(x0).reshape(B, T, 3, heads, dim // heads).unbind(2), group,
                                                  a.frames, m.scale).reshape(B, T, dim))
                out = m(x0, group, a.frames) if dev.type == 'cpu' else None
            if dev.type == 'cpu':
                err = (out - ref).abs().max().item()
                assert err < 1e-5 * max(1., ref.abs().max().item()), f'{group} {kind}: max |diff| {err} vs the reference'
                rows.append((group, kind, err, None, None)); print(group, kind, 'max |diff| vs reference', err); continue
            f = torch.compile(m)
            x = x0.clone().requires_grad_()
            with torch.autocast('cuda', torch.bfloat16):
                out = f(x, group, a.frames)
            err = (out.float() - ref).abs().max().item()
            go = torch.randn_like(out)
            def step():
                with torch.autocast('cuda', torch.bfloat16):
                    o = f(x, group, a.frames)
                o.backward(go)
            for _ in range(3): step()
            torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
            ts = []
            for _ in range(a.steps):
                s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record(); step(); e.record(); torch.cuda.synchronize(); ts.append(s.elapsed_time(e))
            ms = statistics.median(ts); gib = torch.cuda.max_memory_allocated() / 2**30
            if a.profile:
                from torch.profiler import profile, ProfilerActivity
                with profile(activities=[ProfilerActivity.CUDA]) as prof:
                    for _ in range(3): step()
                    torch.cuda.synchronize()
                print(prof.key_averages().table(sort_by='self_cuda_time_total', row_limit=a.profile,
                                                max_name_column_width=100))
            rows.append((group, kind, err, ms, gib))
            print(f"{group:5s} {kind:8s} max|diff| {err:.3g}  {ms:7.2f} ms fwd+bwd  {gib:5.1f} GiB", flush=True)
            del f, m; torch.cuda.empty_cache()
    if dev.type == 'cuda':
        m_cfg = make('fused', dim, heads, 'cpu', **kernels)   # the kernel configurations in effect (defaults filled in)
        print(f"\n{torch.cuda.get_device_name()}, torch {torch.__version__}, frames {a.frames}, batch {B}, time kernel {m_cfg.time_kernel}, space kernel {m_cfg.space_kernel}")
        print('| group | impl | ms fwd+bwd (qkv+attn+proj, one layer) | peak GiB | max abs diff vs fp32 reference |')
        print('|---|---|---|---|---|')
        for gr, k, err, ms, gib in rows: print(f'| {gr} | {k} | {ms:.2f} | {gib:.1f} | {err:.2g} |')


if __name__ == '__main__': main()
