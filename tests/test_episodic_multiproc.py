"""NLQ feature extraction on 2 CPU processes (accelerate launch): every mini-NLQ clip is written exactly once, the
files equal a 1-process run's, and the merged feature_shapes.json lists every clip."""
import json, os, re, shutil, subprocess, sys
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]

def _run(out, nproc):
    acc = shutil.which('accelerate') or str(Path(sys.executable).parent/'accelerate')
    layout = ['--num_processes', '1', '--cpu'] if nproc == 1 else ['--multi_gpu', '--num_processes', str(nproc)]
    cmd = [acc, 'launch', *layout, '--main_process_port', str(29611 + nproc), 'scripts/extract_features.py',
           '-c', 'configs/mini/nlq.json', '--save_feats', str(out), '--no-progress', '--set', 'data_loader.args.num_workers=0']
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return r.stdout

def test_two_processes_each_clip_once(tmp_path):
    one, two = _run(tmp_path/'one', 1), _run(tmp_path/'two', 2)
    n = int(re.search(r'video features: (\d+) written, 0 already there, 0 failed', one)[1])
    assert re.search(rf'video features: {n} written, 0 already there, 0 failed', two), two
    assert 'query grounding' in two
    s1, s2 = (json.loads((tmp_path/d/'feature_shapes.json').read_text()) for d in ('one', 'two'))
    assert s1 == s2 and len(s1) == n
    for uid in s1:
        a, b = (torch.load(tmp_path/d/f'{uid}.pt', weights_only=True) for d in ('one', 'two'))
        assert torch.allclose(a, b, atol=1e-5), uid
