"""EPIC-Kitchens-100 MIR faults (issue 25): every bad annotation, relevancy pickle or frame gives a clear error naming
the file (and row / id / counts), never a silent shift, a NaN metric or code run from a data file. Fast: the tiny
mini-EPIC-MIR (~10 clips a split), no training."""
import os, pickle, shutil, subprocess, sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from egovlp.minidata import make_mini_epic, MINI_EPIC_TINY
from egovlp.tasks.epic_mir import EpicFormatError, EpicMIR, read_relevancy, save_relevancy
from egovlp.video import VideoReadError

ROOT = Path(__file__).resolve().parents[1]
REL = 'relevancy/caption_relevancy_EPIC_100_retrieval_test.pkl'
CLIPS, SENTS = 'EPIC_100_retrieval_test.csv', 'EPIC_100_retrieval_test_sentence.csv'

@pytest.fixture(scope='module')
def mini(tmp_path_factory):
    return make_mini_epic(tmp_path_factory.mktemp('epic')/'mini', **MINI_EPIC_TINY)

@pytest.fixture
def ann(mini, tmp_path):
    "A copy of the annotations, to break; the frames stay the mini dataset's."
    return Path(shutil.copytree(mini/'annotations', tmp_path/'ann'))

def _dataset(ann, mini, loading='strict'): return EpicMIR(ann, mini/'frames', 'test', num_frames=4, size=32, loading=loading)

# -- the relevancy pickle ----------------------------------------------------------------------------------------------
class _Evil:
    def __init__(self, flag): self.flag = flag
    def __reduce__(self): return (os.system, (f'touch {self.flag}',))

def test_relevancy_pickle_that_runs_code_is_refused(ann, mini, tmp_path):
    flag = tmp_path/'ran'
    (ann/REL).write_bytes(pickle.dumps(_Evil(flag)))
    with pytest.raises(pickle.UnpicklingError, match=r'caption_relevancy_EPIC_100_retrieval_test\.pkl.*(posix|os)\.system'):
        _dataset(ann, mini)
    assert not flag.exists()

def test_truncated_relevancy_names_its_path(ann, mini):
    data = (ann/REL).read_bytes()
    (ann/REL).write_bytes(data[:len(data)//2])
    with pytest.raises(Exception, match=r'caption_relevancy_EPIC_100_retrieval_test\.pkl') as e: _dataset(ann, mini)
    assert 'truncated' in str(e.value) or 'unreadable' in str(e.value), e.value

def test_nan_relevancy_is_an_error(ann, mini):
    R = read_relevancy(ann/REL); R[2, 1] = np.nan
    save_relevancy(R, ann/REL)
    with pytest.raises(EpicFormatError, match=r'test\.pkl: 1 relevancies are NaN or outside \[0, 1\], the first at \[2, 1\] = nan'):
        _dataset(ann, mini)

@pytest.mark.parametrize('loading', ['strict', 'lax'])
@pytest.mark.parametrize('change', ['extra sentence row', 'extra relevancy column', 'missing relevancy row'])
def test_shape_mismatch_is_always_an_error(ann, mini, loading, change):
    "Lax or strict, a relevancy matrix that is not (clips × sentences) is an error naming the files and the counts."
    R, s = read_relevancy(ann/REL), pd.read_csv(ann/SENTS)
    n, m = R.shape
    if change == 'extra sentence row': pd.concat([s, s.iloc[:1]]).to_csv(ann/SENTS, index=False); want = f'is {n} × {m}, but .*{CLIPS} has {n} clips and .*{SENTS} has {m + 1} sentences'
    elif change == 'extra relevancy column': save_relevancy(np.c_[R, R[:, :1]], ann/REL); want = f'is {n} × {m + 1}, but .* has {m} sentences: expected {n} × {m}'
    else: save_relevancy(R[:-1], ann/REL); want = f'is {n - 1} × {m}, but .* has {n} clips'
    with pytest.raises(EpicFormatError, match=want): _dataset(ann, mini, loading)

# -- empty splits, the relevancy script -------------------------------------------------------------------------------
@pytest.mark.parametrize('name,what', [(CLIPS, 'clip'), (SENTS, 'sentence')])
def test_header_only_split(ann, mini, name, what):
    pd.read_csv(ann/name).iloc[:0].to_csv(ann/name, index=False)
    with pytest.raises(EpicFormatError, match=f'{name}: no rows .*expected one row per {what}'): _dataset(ann, mini)
    (ann/name).write_text('')
    with pytest.raises(EpicFormatError, match=f'{name}: no rows'): _dataset(ann, mini)

def test_relevancy_script(ann, tmp_path, capsys):
    sys.path.insert(0, str(ROOT/'scripts'))
    from epic_relevancy import main
    assert main([str(ann/CLIPS), str(ann/SENTS), str(tmp_path/'rel.pkl')]) == 0
    assert ' clips x ' in capsys.readouterr().out
    np.testing.assert_array_equal(read_relevancy(tmp_path/'rel.pkl'), read_relevancy(ann/REL))
    for name in (CLIPS, SENTS): pd.read_csv(ann/name).iloc[:0].to_csv(tmp_path/name, index=False)
    assert main([str(ann/CLIPS), str(tmp_path/SENTS), str(tmp_path/'out.pkl')]) == 1
    assert f'{SENTS}: no rows' in capsys.readouterr().err
    r = subprocess.run([sys.executable, str(ROOT/'scripts'/'epic_relevancy.py'), str(tmp_path/CLIPS), str(ann/SENTS), str(tmp_path/'out.pkl')],
                       capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': str(ROOT)}, timeout=300)
    assert r.returncode == 1 and f'{CLIPS}: no rows' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (tmp_path/'out.pkl').exists()

# -- frames and ids ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('loading', ['strict', 'lax'])
def test_frame_of_another_size_names_the_file(mini, tmp_path, loading):
    from PIL import Image
    frames = Path(shutil.copytree(mini/'frames', tmp_path/'frames'))
    ds = EpicMIR(mini/'annotations', frames, 'test', num_frames=4, size=32, loading=loading)
    c = ds.clips.iloc[0]
    from egovlp.video import sample_frame_indices
    n = sample_frame_indices(4, c.start_frame, c.stop_frame + 1, 'uniform')[2]
    bad = frames/c.video_id/f'frame_{n:010d}.jpg'
    Image.new('RGB', (64, 48)).save(bad)
    with pytest.raises(VideoReadError, match=f'frames of different sizes in one clip: .*/{bad.name} is 48x64 .*{CLIPS}:2'): ds[0]

@pytest.mark.parametrize('col,value', [('video_id', '../../escaped'), ('video_id', '/etc'), ('participant_id', 'P01/../..')])
def test_ids_stay_inside_data_dir(ann, mini, col, value):
    df = pd.read_csv(ann/CLIPS); df.loc[3, col] = value; df.to_csv(ann/CLIPS, index=False)
    with pytest.raises(ValueError, match=f"{CLIPS}:5: {col} '{value}' is not a path inside"): _dataset(ann, mini, 'lax')
