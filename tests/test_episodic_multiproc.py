"""NLQ feature extraction on 2 CPU processes (accelerate launch): every mini-NLQ clip is written exactly once, the
files equal a 1-process run's, and the merged feature_shapes.json lists every clip."""
import json, re, sys
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import launch  # noqa: E402

def _run(out, nproc):
    return launch('scripts/extract_features.py', '-c', 'configs/mini/nlq.json', '--save_feats', out, '--no-progress',
                  '--set', 'data_loader.args.num_workers=0', nproc=nproc, timeout=900).stdout

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
