#!/usr/bin/env python
"""Bias gradients of the video blocks' linear layers, alone: a column sum of a bf16 (rows × N) output gradient as
inductor's reduction, eager `sum`, or a cuBLAS GEMV (`ones @ g`, what `egovlp.kernels.Linear` does); and fc1's bias +
GELU backward as inductor's kernel + a GEMV vs `egovlp.kernels`' fused Triton kernel over a sweep of `GeluKernel` tiles.

    python benchmarks/bias_grad_bench.py                           # GPU: 4 frames × batch 128 = 100352 token rows
    TRITON_INTERPRET=1 python benchmarks/bias_grad_bench.py --device cpu --rows 96 --repeat 1   # smoke test
"""
import argparse
import torch
import egovlp.kernels as ek


def bench(f, device, n):
    "Mean ms per call of f() after 2 warm-up calls (CUDA events on the GPU)."
    for _ in range(2): f()
    if device.type != 'cuda':
        import time
        t = time.perf_counter()
        for _ in range(n): f()
        return (time.perf_counter() - t) / n * 1e3
    torch.cuda.synchronize(); e0, e1 = torch.cuda.Event(True), torch.cuda.Event(True); e0.record()
    for _ in range(n): f()
    e1.record(); torch.cuda.synchronize(); return e0.elapsed_time(e1) / n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--rows', type=int, default=128 * 4 * 197, help='token rows (batch × (1 + frames × 196))')
    p.add_argument('--widths', default='768,2304,3072', help='output widths N (proj/fc2, qkv, fc1)')
    p.add_argument('--tiles', default='64x128x4,32x128x4,16x128x2,32x64x2,32x64x4,16x64x2,8x256x2',
                   help='fused GELU-backward tiles, rows x columns x warps')
    p.add_argument('--repeat', type=int, default=30)
    a = p.parse_args(argv)
    dev = torch.device(a.device)
    dt = torch.bfloat16 if dev.type == 'cuda' else torch.float16          # Triton's interpreter has no bf16
    compiled = dev.type == 'cuda'
    if compiled:
        import torch._inductor.config as ic
        if hasattr(ic.triton, 'coalesce_tiling_analysis'): ic.triton.coalesce_tiling_analysis = False
    card = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'CPU'
    M = a.rows
    print(f'{card} | torch {torch.__version__} | {M} rows, {dt}\n')
    colsum = lambda g: g.sum(0, dtype=torch.float32)
    if compiled: colsum = torch.compile(colsum)
    ones = torch.ones(1, M, device=dev, dtype=dt)
    print(f"{'N':>5} {'column sum':>24} {'ms':>8} {'TB/s':>6} {'max rel. error':>15}")
    for N in map(int, a.widths.split(',')):
        g = torch.randn(M, N, device=dev, dtype=dt)
        ref = g.double().sum(0)
        for name, f in (('inductor sum(0)' if compiled else 'sum(0)', lambda: colsum(g)), ('eager sum(0)', lambda: g.sum(0)),
                        ('GEMV ones @ g', lambda: ones @ g)):
            ms = bench(f, dev, a.repeat)
            err = ((f().double().flatten() - ref).abs().max() / ref.abs().max()).item()
            print(f'{N:>5} {name:>24} {ms:8.3f} {M * N * 2 / ms / 1e9:6.2f} {err:15.1e}')

    N = 3072 if 3072 in map(int, a.widths.split(',')) else int(a.widths.split(',')[-1])
    h = torch.randn(M, N, device=dev, dtype=dt); g = torch.randn_like(h); b = torch.randn(N, device=dev)
    def gelu_bwd(g, h, b):                                   # what inductor fuses for F.gelu's backward on h + b
        u = h.float() + b
        cdf = 0.5 * (1 + torch.erf(u * 0.7071067811865476)); pdf = torch.exp(-0.5 * u * u) * 0.3989422804014327
        return (g.float() * (cdf + u * pdf)).to(h.dtype)
    if compiled: gelu_bwd = torch.compile(gelu_bwd)
    ref_dh = gelu_bwd(g, h, b); ref_db = ref_dh.double().sum(0)
    print(f"\nfc1 (N={N}): bias + GELU backward, dh and db")
    t_dh = bench(lambda: gelu_bwd(g, h, b), dev, a.repeat)
    t_gemv = bench(lambda: ones @ ref_dh, dev, a.repeat)
    print(f"{'inductor dh + GEMV db':>28} {t_dh + t_gemv:8.3f} ms  ({t_dh:.3f} + {t_gemv:.3f})")
    for tile in a.tiles.split(','):
        k = ek.GeluKernel(*map(int, tile.split('x')))              # rows, cols, warps (validated)
        tiles = (k.rows, k.cols, k.warps)                            # the kernel itself, without the op dispatch
        ms = bench(lambda: ek._bias_gelu_backward_impl(g, h, b, tiles), dev, a.repeat)
        dh, db = ek._bias_gelu_backward_impl(g, h, b, tiles)
        err = max(((dh.double() - ref_dh.double()).abs().max() / ref_dh.double().abs().max()).item(),
                  ((db.double() - ref_db).abs().max() / ref_db.abs().max()).item())
        mark = ' (default)' if k == ek.GeluKernel() else ''
        print(f"{'fused Triton ' + tile:>28} {ms:8.3f} ms  max rel. error {err:.1e}{mark}")


if __name__ == '__main__':
    main()
