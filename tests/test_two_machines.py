"""Scale-out on one machine: two accelerate "machines" on localhost (`--num_machines 2 --machine_rank 0/1
--main_process_ip 127.0.0.1`, one CPU process each, gloo) train with the same losses as one process with the same
global batch; and EgoMCQ evaluated on 2 processes with an odd number of questions and clips counts each once."""
import json, subprocess, sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _launch import ROOT, accelerate_exe as _accelerate, env, free_port as _free_port, launch, launch_cmd  # noqa: E402

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

def test_egomcq_two_processes_odd_counts_each_once(tmp_path):
    from egovlp.synth import make_mini_egoclip, MINI_TINY
    from egovlp.egoclip import read_egomcq
    root = make_mini_egoclip(**MINI_TINY)
    raw = json.loads((root/'egomcq.json').read_text())
    for drop in raw:                                               # 11 questions, and an odd number of distinct clips
        sub = {k: v for k, v in raw.items() if k != drop}
        p = tmp_path/'egomcq_odd.json'; p.write_text(json.dumps(sub))
        if len(read_egomcq(p)[1]) % 2: break
    qs, clips = read_egomcq(p)
    assert len(qs) % 2 == 1 and len(clips) % 2 == 1, (len(qs), len(clips))
    launch(HERE/'_mcq_worker.py', p, root/'videos', MINI_TINY['chunk_sec'], tmp_path, nproc=2, timeout=900)
    res = [torch.load(tmp_path/f'rank{k}.pt', weights_only=False) for k in (0, 1)]
    ref = res[0]
    assert ref['world'] == 2 and ref['n_questions'] == len(qs)
    for x in res:
        assert x['gathered_rows'] == len(clips)                    # each distinct clip comes back once (padding dropped)
        torch.testing.assert_close(x['scores'], ref['ref_scores'])  # the same (N, 5) scores as one process
        assert x['res'] == ref['ref_res']
    n_inter, n_intra = int((qs.types == 1).sum()), int((qs.types == 2).sum())
    assert n_inter + n_intra == len(qs)
    for key, n in (('egomcq_inter', n_inter), ('egomcq_intra', n_intra)):    # accuracies are counts over each question once
        k = ref['res'][key] * n / 100
        assert abs(k - round(k)) < 1e-6, (key, ref['res'][key], n)
