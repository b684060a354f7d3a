"""Scale-out on one machine: two accelerate "machines" on localhost (`--num_machines 2 --machine_rank 0/1
--main_process_ip 127.0.0.1`, one CPU process each, gloo) train with the same losses as one process with the same
global batch (the exactly-once property of sharded evaluation is tests/test_encode_ddp.py's)."""
import json, subprocess, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _launch import ROOT, accelerate_exe as _accelerate, env, free_port as _free_port, launch_cmd  # noqa: E402

ENV = env()

def _match_args(out, save_dir):
    return ['benchmarks/ddp_match.py', '--cpu', '--global-batch', '8', '--steps', '3', '--workers', '0', '--out', str(out),
            '--save-dir', str(save_dir)]

def test_two_machines_match_one_process(tmp_path):
    port = _free_port()
    procs = [subprocess.Popen([_accelerate(), 'launch', '--multi_gpu', '--num_machines', '2', '--machine_rank', str(r),
                               '--num_processes', '2', '--main_process_ip', '127.0.0.1', '--main_process_port', str(port),
                               '--mixed_precision', 'no', '--dynamo_backend', 'no',
                               *_match_args(tmp_path/'two.json', tmp_path/'run2')],
                              cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for r in (0, 1)]
    one = subprocess.run(launch_cmd(*_match_args(tmp_path/'one.json', tmp_path/'run1'), nproc=1),
                         cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=900)
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert one.returncode == 0, one.stderr[-4000:]
    for r, p in enumerate(procs): assert p.returncode == 0, f"machine {r}:\n{outs[r][-5000:]}"
    a, b = (json.loads((tmp_path/f).read_text()) for f in ('one.json', 'two.json'))
    assert (a['processes'], b['processes']) == (1, 2)
    assert len(a['losses']) == len(b['losses']) == 3
    for x, y in zip(a['losses'], b['losses']): assert abs(x - y) < 1e-4, (a['losses'], b['losses'])
    assert a['losses'][0] != a['losses'][-1]                         # the steps trained
