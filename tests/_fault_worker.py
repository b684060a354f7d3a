"""Worker for tests/test_faults.py (not a test itself): `python _fault_worker.py OUT [--kill WHERE:N] -- <pretrain args>`.

Runs `egovlp.launch.pretrain` on `<pretrain args>` (the real command line's parser) and writes the losses, the epoch records
and the before/after scores to OUT (json). `--kill step:N` kills the process with SIGKILL inside training step N,
`save:N` inside the N-th `save_checkpoint` (after the state was written to the temporary directory, before the
rename), `eval:N` inside the N-th evaluation: what a pre-empted job or `kill -9` does, no cleanup code runs.
"""
import json, os, signal, sys
from pathlib import Path

def die(): os.kill(os.getpid(), signal.SIGKILL)

def install(kill):
    where, n = kill.split(':'); n = int(n)
    from egovlp.tasks.egoclip import EgoClipTask
    if where == 'step':
        orig = EgoClipTask.step
        def step(self, model, batch, trainer):
            if trainer.state['global_step'] + 1 == n: die()
            return orig(self, model, batch, trainer)
        EgoClipTask.step = step
    elif where == 'save':
        from accelerate import Accelerator
        orig, calls = Accelerator.save_state, [0]
        def save_state(self, *a, **kw):
            out = orig(self, *a, **kw); calls[0] += 1
            if calls[0] == n: die()
            return out
        Accelerator.save_state = save_state
    elif where == 'eval':
        orig, calls = EgoClipTask.evaluate, [0]
        def evaluate(self, model, trainer):
            calls[0] += 1
            if calls[0] == n: die()
            return orig(self, model, trainer)
        EgoClipTask.evaluate = evaluate
    else: raise SystemExit(f"unknown kill point {kill!r}")

if __name__ == '__main__':
    out, rest = Path(sys.argv[1]), sys.argv[2:]
    sep = rest.index('--')
    opts, args = rest[:sep], rest[sep + 1:]
    if opts[:1] == ['--kill']: install(opts[1])
    from egovlp.launch import load, pretrain, _parser, _overrides
    a = _parser('', 'configs/mini/egoclip.json', True).parse_args(args)
    state = pretrain(load(a.config, _overrides(a)), a.resume, a.resume_anyway)
    out.write_text(json.dumps({'losses': state['losses'], 'history': state['history'], 'before': state['before'],
                               'after': state['after'], 'best': state['best']}))
