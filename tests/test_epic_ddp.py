"""EPIC MIR evaluation on 2 CPU processes (gloo, accelerate) encodes every test clip exactly once — the sharded loader's
padding is dropped — and gives the same similarity matrix and metrics as one process."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]

def _launch(nproc, out, mini):
    acc = shutil.which('accelerate') or str(Path(sys.executable).parent/'accelerate')
    layout = ['--num_processes', '1', '--cpu'] if nproc == 1 else ['--multi_gpu', '--num_processes', str(nproc)]
    cmd = [acc, 'launch', *layout, '--main_process_port', str(29600 + 7*nproc), 'tests/_epic_ddp_worker.py', str(out), str(mini)]
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, env=env)
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-6000:]}"
    return json.loads(Path(out).read_text())

def test_epic_eval_counts_each_clip_once(tmp_path):
    sys.path.insert(0, str(ROOT))
    from egovlp.minidata import make_mini_epic, MINI_EPIC_TINY
    mini = make_mini_epic(tmp_path/'mini', **MINI_EPIC_TINY)
    one, two = _launch(1, tmp_path/'one.json', mini), _launch(2, tmp_path/'two.json', mini)
    assert (one['processes'], two['processes']) == (1, 2)
    assert two['seen'] == [1]*two['n_clips'], two['seen']
    np.testing.assert_allclose(np.array(two['sim']), np.array(one['sim']), atol=1e-5)
    for k, v in one['metrics'].items(): assert abs(v - two['metrics'][k]) < 1e-6, (k, one['metrics'], two['metrics'])
