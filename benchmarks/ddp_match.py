#!/usr/bin/env python
"""Does a multi-process run follow the single-process run with the same global batch?

Runs the real trainer (mini-EgoClip, EgoNCE, all-gather with gradient) for a few steps and writes the per-step losses.
Launch it twice with the same global batch and compare:

    accelerate launch --num_processes 1 benchmarks/ddp_match.py --global-batch 32 --out one.json
    accelerate launch --multi_gpu --num_processes 2 benchmarks/ddp_match.py --global-batch 32 --out two.json
    python benchmarks/ddp_match.py --compare one.json two.json

Text dropout is switched off so that both runs compute the same function (dropout masks would differ per process);
data order and augmentation depend only on (seed, epoch, index), so the global batches are identical.
"""
import argparse, json, sys, time
from pathlib import Path

def run(a):
    from accelerate import Accelerator
    from egovlp.launch import load, trainer_for
    acc = Accelerator(cpu=a.cpu, mixed_precision=a.precision)
    n = acc.num_processes
    if a.global_batch % n: raise SystemExit(f"--global-batch {a.global_batch} is not divisible by {n} processes")
    ov = [f'data_loader.0.args.batch_size={a.global_batch // n}', f'trainer.epochs={a.epochs}',
          f'trainer.max_steps_per_epoch={a.steps}', 'trainer.eval_every_epochs=0', 'trainer.progress=false',
          'trainer.tensorboard=false', f'trainer.mixed_precision="{a.precision}"', f'trainer.save_dir="{a.save_dir}"',
          f'data_loader.0.args.num_workers={a.workers}', 'trainer.log_every=1000',
          'arch.args.text_params.config.dropout=0.0', 'arch.args.text_params.config.attention_dropout=0.0'] + a.set
    tr = trainer_for(load(a.config, ov), accelerator=acc)
    t0 = time.time(); tr.fit(); dt = time.time() - t0
    if acc.is_main_process:
        out = dict(processes=n, global_batch=a.global_batch, precision=a.precision, device=str(acc.device),
                   losses=[l for _, l in tr.losses], seconds=dt)
        Path(a.out).write_text(json.dumps(out))
        print(f"{n} process(es) x batch {a.global_batch // n}: {len(out['losses'])} steps, last loss {out['losses'][-1]:.5f}")

def compare(paths, tol):
    runs = [json.loads(Path(p).read_text()) for p in paths]
    a, b = runs[0]['losses'], runs[1]['losses']
    diff = max(abs(x - y) for x, y in zip(a, b))
    print(f"{'step':>5} " + ' '.join(f"{r['processes']} proc x {r['global_batch'] // r['processes']:>3}".rjust(16) for r in runs))
    for i, (x, y) in enumerate(zip(a, b)): print(f"{i+1:>5} {x:16.6f} {y:16.6f}")
    print(f"max |difference| = {diff:.2e} over {len(a)} steps (tolerance {tol:g})")
    if len(a) != len(b) or diff > tol: sys.exit(1)

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--config', default='configs/mini/egoclip.json')
    p.add_argument('--global-batch', type=int, default=32)
    p.add_argument('--steps', type=int, default=8); p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--precision', default='no'); p.add_argument('--workers', type=int, default=2)
    p.add_argument('--cpu', action='store_true'); p.add_argument('--save-dir', default='/tmp/egovlp_ddp_match')
    p.add_argument('--set', nargs='*', default=[]); p.add_argument('--out', default='losses.json')
    p.add_argument('--compare', nargs=2, default=None); p.add_argument('--tol', type=float, default=1e-4)
    a = p.parse_args()
    compare(a.compare, a.tol) if a.compare else run(a)
