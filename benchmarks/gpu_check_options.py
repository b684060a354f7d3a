#!/usr/bin/env python
"""GPU check of the per-model fast-path options (issue 18), standalone (no notebook tooling needed), ~1-2 min:

1. the Triton time / space attention ops with default and non-default tiles (`TimeKernel`, `SpaceKernel`) against the
   fp32 reference maths, outputs and gradients;
2. `bias_gelu_backward` with default and non-default `GeluKernel` tiles in bf16 against float64 autograd;
3. two models in one process, fast-path options on / off: the backward autograd records (GEMV `Linear`, fused GELU)
   follows each model's options, `fast_options` switches them for a `with` block only, outputs agree in bf16;
4. a compiled bf16 model with non-default tiles against the fp32 reference, and no graph break with the Triton ops.

    python benchmarks/gpu_check_options.py
"""
import time, torch, torch.nn.functional as F
from egovlp.model import FrozenInTime, tiny_video_params, tiny_text_params, fast_options, _reference_attention
from egovlp.kernels import time_attention, space_attention, TimeKernel, SpaceKernel, GeluKernel, bias_gelu_backward


def names(y):
    "Class names of every node of y's autograd graph."
    seen, todo = set(), [y.grad_fn]
    while todo:
        f = todo.pop()
        if f is None or f in seen: continue
        seen.add(f); todo += [g for g, _ in f.next_functions]
    return {type(f).__name__ for f in seen}


def main():
    t0, dev = time.time(), 'cuda'
    torch.manual_seed(0)
    print(torch.__version__, torch.cuda.get_device_name())
    for group, op, kern in (('time', time_attention, TimeKernel(rows=32)), ('space', space_attention, SpaceKernel(rows=16, cols=32)),
                            ('time', time_attention, TimeKernel()), ('space', space_attention, SpaceKernel())):
        B, Fr, N, H, D = 2, 4, 49, 2, 32
        T, C = 1 + Fr * N, H * D
        qkv = torch.randn(B, T, 3 * C, device=dev, requires_grad=True)
        ref = _reference_attention(*qkv.view(B, T, 3, H, D).unbind(2), group, Fr, D ** -.5).reshape(B, T, C)
        out = op(qkv, Fr, H, D ** -.5, kern)
        go = torch.randn_like(out)
        (gr,), (g,) = torch.autograd.grad(ref, qkv, go), torch.autograd.grad(out, qkv, go)
        e1, e2 = (out - ref).abs().max().item(), ((g - gr).abs().max() / gr.abs().max()).item()
        print('op', group, kern, f'out {e1:.2e}, grad {e2:.2e}'); assert e1 < 1e-4 and e2 < 1e-4
    h = torch.randn(300, 3072, device=dev, dtype=torch.bfloat16); b = torch.randn(3072, device=dev); g = torch.randn_like(h)
    hr, br = h.double().requires_grad_(), b.double().requires_grad_()
    dh_ref, db_ref = torch.autograd.grad(F.gelu(hr + br), (hr, br), g.double())
    for k in (GeluKernel(), GeluKernel(rows=16, cols=32, warps=1)):
        dh, db = bias_gelu_backward(g, h, b, k)
        e = max(((dh.double() - dh_ref).abs().max() / dh_ref.abs().max()).item(),
                ((db.double() - db_ref).abs().max() / db_ref.abs().max()).item())
        print('bias_gelu_backward', k, f'{e:.2e}'); assert e < 2e-2
    mk = lambda **o: FrozenInTime(tiny_video_params(time_init='rand', **o), tiny_text_params()).to(dev).train()
    torch.manual_seed(0); m_on = mk()
    torch.manual_seed(0); m_off = mk(fast_linear=False, fast_gelu=False, fast_triton=[])
    vid = torch.randn(2, 4, 3, 32, 32, device=dev)
    with torch.autocast('cuda', torch.bfloat16): y_on, y_off = m_on.compute_video(vid), m_off.compute_video(vid)
    n_on, n_off = names(y_on), names(y_off)
    assert any('LinearGemvBias' in n for n in n_on) and not any('LinearGemvBias' in n for n in n_off), (n_on, n_off)
    assert any('BiasGelu' in n for n in n_on) and not any('BiasGelu' in n for n in n_off), (n_on, n_off)
    rel = ((y_on.float() - y_off.float()).norm() / y_off.float().norm()).item()
    print(f'options on vs off (bf16): rel. difference {rel:.2e}'); assert rel < 3e-2
    with fast_options(m_on, fast_linear=False):
        with torch.autocast('cuda', torch.bfloat16): assert not any('LinearGemvBias' in n for n in names(m_on.compute_video(vid)))
    assert m_on.video_model.fast_linear
    import torch._inductor.config as ic
    if hasattr(ic.triton, 'coalesce_tiling_analysis'): ic.triton.coalesce_tiling_analysis = False
    torch.manual_seed(0)
    m = FrozenInTime(tiny_video_params(time_init='rand', space_kernel={'rows': 16, 'cols': 32}, time_kernel={'rows': 32}),
                     tiny_text_params()).to(dev).train()
    with fast_options(m, attn_impl='reference'):
        ref = m.compute_video(vid); ref.float().pow(2).mean().backward()
    g_ref = torch.cat([p.grad.flatten() for p in m.video_model.parameters()]); m.zero_grad()
    expl = torch._dynamo.explain(m.video_model.blocks[0])(torch.randn(2, 1 + 4 * 16, 32, device=dev), 4)
    ops = [str(n.target) for gr in expl.graphs for n in gr.graph.nodes if n.op == 'call_function']
    print('graph breaks', expl.graph_break_count, [o for o in ops if 'attention' in o]); assert expl.graph_break_count == 0
    torch._dynamo.reset()
    mc = torch.compile(m)
    with torch.autocast('cuda', torch.bfloat16): v = mc({'video': vid}, video_only=True)
    v.float().pow(2).mean().backward()
    g = torch.cat([p.grad.flatten() for p in m.video_model.parameters()])
    err, gerr = ((v.float() - ref).norm() / ref.norm()).item(), ((g - g_ref).norm() / g_ref.norm()).item()
    print(f'compiled bf16 vs fp32 reference: out {err:.2e}, grads {gerr:.2e}'); assert err < 3e-2 and gerr < 1e-1
    print(f'all checks passed in {time.time() - t0:.0f} s')


if __name__ == '__main__': main()
