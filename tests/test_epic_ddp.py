"""EPIC MIR evaluation on 2 CPU processes (gloo, accelerate) encodes every test clip exactly once — the sharded loader's
padding is dropped — and gives the same similarity matrix and metrics as one process."""
import json, sys
from pathlib import Path
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _launch import ROOT, launch  # noqa: E402

def _run(nproc, out, mini):
    launch('tests/_epic_ddp_worker.py', out, mini, nproc=nproc, timeout=900)
    return json.loads(Path(out).read_text())

def test_epic_eval_counts_each_clip_once(tmp_path):
    sys.path.insert(0, str(ROOT))
    from egovlp.minidata import make_mini_epic, MINI_EPIC_TINY
    mini = make_mini_epic(tmp_path/'mini', **MINI_EPIC_TINY)
    one, two = _run(1, tmp_path/'one.json', mini), _run(2, tmp_path/'two.json', mini)
    assert (one['processes'], two['processes']) == (1, 2)
    assert two['seen'] == [1]*two['n_clips'], two['seen']
    np.testing.assert_allclose(np.array(two['sim']), np.array(one['sim']), atol=1e-5)
    for k, v in one['metrics'].items(): assert abs(v - two['metrics'][k]) < 1e-6, (k, one['metrics'], two['metrics'])
