"""The one way tests start N processes (not a test itself): `accelerate launch` on the CPU (gloo), a free port, a
timeout, and the launched processes' output in the assertion message when they fail.

    from _launch import launch
    r = launch('tests/_encode_worker.py', out_dir, nproc=2)       # r.stdout, r.stderr; AssertionError on failure
"""
import os, shutil, socket, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def accelerate_exe() -> str: return shutil.which('accelerate') or str(Path(sys.executable).parent/'accelerate')

def env(**extra) -> dict:
    "This environment on the CPU with one thread per process and this checkout first on PYTHONPATH."
    pp = os.pathsep.join([str(ROOT)] + ([os.environ['PYTHONPATH']] if os.environ.get('PYTHONPATH') else []))
    return {**os.environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': '', 'PYTHONPATH': pp, **extra}

def launch_cmd(script, *args, nproc: int = 2) -> list:
    "`accelerate launch` of `script args` on `nproc` CPU processes (1: a plain `--cpu` process)."
    layout = ['--num_processes', '1', '--cpu'] if nproc == 1 else ['--multi_gpu', '--num_processes', str(nproc), '--num_machines', '1']
    return [accelerate_exe(), 'launch', *layout, '--mixed_precision', 'no', '--dynamo_backend', 'no',
            '--main_process_port', str(free_port()), str(script), *map(str, args)]

def _tail(s, n=6000) -> str:
    if s is None: return ''
    return (s.decode(errors='replace') if isinstance(s, bytes) else s)[-n:]

def launch(script, *args, nproc: int = 2, timeout: float = 600, cwd=ROOT, **extra_env) -> subprocess.CompletedProcess:
    "Run `script args` on `nproc` processes from `cwd`; fails (with the output) on a non-zero exit or after `timeout` s."
    cmd = launch_cmd(script, *args, nproc=nproc)
    try: r = subprocess.run(cmd, cwd=cwd, env=env(**extra_env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(cmd)} timed out after {timeout:.0f}s:\n{_tail(e.stdout, 3000)}\n{_tail(e.stderr)}") from None
    assert r.returncode == 0, f"{' '.join(cmd)} failed (exit {r.returncode}):\n{_tail(r.stdout, 3000)}\n{_tail(r.stderr)}"
    return r
