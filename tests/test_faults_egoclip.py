"""Faults of the EgoClip/EgoMCQ annotations and clip addressing (issue 25), on hand-made csv/json files: ids that would
lead outside data_dir, a second chunk with its own fps, float64 times of long videos, `on_bad_lines='skip'` keeping
every kept row's tags, a misspelt dataset_name. Fast: no model, no training."""
import json, math

import numpy as np
import pytest

from egovlp.egoclip import EGOCLIP_COLUMNS, ClipReader, EgoClip, EgoClipFormatError, read_egoclip, read_egomcq
from egovlp.video import VideoInfo, VideoReadError

UID = '001e3e4e-2743-47fc-8564-d5efd11f9e90'

def _row(i, uid=UID, t=3.3445, verb='[93]', noun='[192, 115, 12]', start=None, end=None):
    s, e = (t - 0.4 if start is None else start), (t + 0.4 if end is None else end)
    return [str(i), uid, '1200.0', 'narration_pass_1', str(i), repr(t), str(s), str(e), f'#C C does thing {i}', verb, noun]

def _csv(path, rows):
    path.write_text('\n'.join('\t'.join(r) for r in [EGOCLIP_COLUMNS, *rows]) + '\n')
    return path

# -- ids that become paths ---------------------------------------------------------------------------------------------
ESCAPING = ['../../escaped', '/etc/passwd', 'a/../../b', '..']

@pytest.mark.parametrize('uid', ESCAPING)
@pytest.mark.parametrize('on_bad_lines', ['error', 'skip'])
def test_egoclip_csv_id_outside_data_dir_is_an_error_naming_file_and_line(tmp_path, uid, on_bad_lines):
    p = _csv(tmp_path/'egoclip.csv', [_row(0), _row(1), _row(2, uid=uid), _row(3, uid=uid)])
    with pytest.raises(EgoClipFormatError) as e: read_egoclip(p, on_bad_lines=on_bad_lines)
    msg = str(e.value)
    assert f'{p}:4:' in msg and repr(uid) in msg, msg           # the first row with that id is line 4 (header = 1)
    with pytest.raises(EgoClipFormatError, match=f'{p}:4:'):   # the dataset refuses it before any read
        EgoClip(p, tmp_path/'videos', num_frames=2, size=32)

@pytest.mark.parametrize('uid', ESCAPING)
def test_egomcq_json_id_outside_data_dir_is_an_error_naming_question_and_choice(tmp_path, uid):
    clip = lambda k, u=UID: dict(video_uid=u, clip_start=1.0 + k, clip_end=2.0 + k, clip_text=f'#C C thing {k}')
    q = dict(query=clip(0), choices={str(k): clip(k) for k in range(5)}, answer=0, types=1)
    bad = json.loads(json.dumps(q)); bad['choices']['3']['video_uid'] = uid
    p = tmp_path/'egomcq.json'; p.write_text(json.dumps({'0': q, '7': bad}))
    with pytest.raises(EgoClipFormatError) as e: read_egomcq(p)
    assert f"{p}: question '7', choice 3" in str(e.value) and repr(uid) in str(e.value), str(e.value)

@pytest.mark.parametrize('chunk_sec', [600, None])
@pytest.mark.parametrize('uid', ESCAPING[:3])       # ('..' + '.mp4' is a file name inside data_dir)
def test_clip_reader_never_builds_a_path_outside_data_dir(tmp_path, uid, chunk_sec):
    r = ClipReader(tmp_path/'videos', chunk_sec, loading='lax')            # lax does not turn it into black frames
    with pytest.raises(ValueError, match='video_uid'): r.path(uid)
    with pytest.raises(ValueError, match='video_uid'): r(uid, 1.0, 2.0, 2)
    assert r.stats.total == 0
    assert r.path('a/../' + UID, 1) == (tmp_path/'videos'/UID/'1.mp4' if chunk_sec else tmp_path/'videos'/f'{UID}.mp4')   # inside: fine

# -- a clip over two chunks of different fps ---------------------------------------------------------------------------
def _reader_with(tmp_path, fps0, fps1, n=300, **kw):
    "A ClipReader on 5-s chunks whose file headers (fps, frame count) are given, not read."
    r = ClipReader(tmp_path, chunk_sec=5, **kw)
    for k, f in ((0, fps0), (1, fps1)): r.infos[str(r.path(UID, k))] = VideoInfo(float(f), n, 64, 48)
    return r

def test_second_chunk_is_read_at_its_own_fps(tmp_path):
    segs = _reader_with(tmp_path, 30, 15).segments(UID, 4.5, 5.5, 4, 'uniform')
    # frames of the full video at chunk 0's 30 fps: [135, 165) in 4 parts -> middles 138, 145, 153, 160 (4.6, 4.83, 5.1, 5.33 s)
    # chunk 0 (30 fps): 138, 145; chunk 1 (15 fps): floor((5.1 - 5) * 15) = 1, floor((5.333 - 5) * 15 + 1e-6) = 5
    assert [(p.name, loc) for p, loc, _ in segs] == [('0.mp4', [138, 145]), ('1.mp4', [1, 5])]
    same = _reader_with(tmp_path, 30, 30).segments(UID, 4.5, 5.5, 4, 'uniform')
    assert [loc for _, loc, _ in same] == [[138, 145], [3, 10]]          # at one fps: f - 150

def test_second_chunk_at_its_own_fps_reads_those_frames(tmp_path):
    "Real files: every frame's grey level is its own index (x8), chunk 0 at 30 fps, chunk 1 at 10 fps."
    import torch
    from egovlp.video import write_video
    for k, (fps, n) in enumerate(((30, 150), (10, 30))):
        (tmp_path/UID).mkdir(exist_ok=True)
        frames = torch.arange(n, dtype=torch.uint8)[:, None, None, None].mul(8 if n <= 30 else 1).expand(n, 32, 32, 3).contiguous()
        write_video(tmp_path/UID/f'{k}.mp4', frames, fps, crf=0)
    r = ClipReader(tmp_path, chunk_sec=5, loading='strict')
    segs = r.segments(UID, 4.5, 6.5, 4, 'uniform')
    # 30 fps frames [135, 195): middles 142, 157, 172, 187 -> chunk 0: 142; chunk 1 at 10 fps: t - 5 = 0.233, 0.733, 1.233 s -> 2, 7, 12
    assert [loc for _, loc, _ in segs] == [[142], [2, 7, 12]]
    grey = r(UID, 4.5, 6.5, 4, 'uniform').float().mean((1, 2, 3))
    assert torch.allclose(grey, torch.tensor([142., 16., 56., 96.]), atol=2), grey
    with pytest.raises(VideoReadError, match=r"1.mp4.*fps=30 was given .* the file has 10 fps"):   # an explicit fps: every chunk's
        ClipReader(tmp_path, chunk_sec=5, fps=30, loading='strict')(UID, 4.5, 6.5, 4, 'uniform')
    lax = ClipReader(tmp_path, chunk_sec=5, fps=30, loading='lax')
    lax(UID, 4.5, 6.5, 4, 'uniform'); assert lax.stats.by_reason() == {'fps': 1}

# -- float64 times -----------------------------------------------------------------------------------------------------
def test_long_video_times_stay_float64(tmp_path):
    rng = np.random.default_rng(0)
    t = np.round(rng.uniform(600, 25_000, 20_000), 6)
    f32 = np.floor(t.astype(np.float32).astype(np.float64) * 30) != np.floor(t * 30)
    times = np.r_[t[f32][:20], t[~f32][:20]]
    assert f32[:len(t)].sum() >= 20                                        # float32 would move these to another frame
    p = _csv(tmp_path/'egoclip.csv', [_row(i, t=float(x), start=f'{x:.6f}', end=f'{x + 1:.6f}') for i, x in enumerate(times)])
    m = read_egoclip(p)
    assert m.df.clip_start.dtype == np.float64 and m.df.narration_time.dtype == np.float64
    starts = np.array([float(f'{x:.6f}') for x in times])
    np.testing.assert_array_equal(m.df.clip_start.to_numpy(), starts)
    np.testing.assert_array_equal(np.floor(m.df.clip_start.to_numpy() * 30), np.floor(starts * 30))   # the original's frame

# -- on_bad_lines='skip' ----------------------------------------------------------------------------------------------
def test_skip_keeps_the_tags_of_every_kept_row(tmp_path):
    rows = [_row(i, verb=f'[{i}]', noun=f'[{100 + i}, {200 + i}]') for i in range(8)]
    rows[1][6] = '3.2.1'                 # line 3: a bad clip_start, its tags are fine
    rows[3][9] = '[93'                   # line 5: a bad tag list
    rows[5][7] = str(float(rows[5][6]) - 1)   # line 7: ends before it starts, tags fine
    p = _csv(tmp_path/'egoclip.csv', rows)
    with pytest.raises(EgoClipFormatError, match=f'{p}:3: column clip_start'): read_egoclip(p)
    m = read_egoclip(p, on_bad_lines='skip')
    assert m.skipped.tolist() == [3, 5, 7] and m.df.clip_idx.tolist() == [0, 2, 4, 6, 7]
    for r, i in enumerate(m.df.clip_idx.tolist()):
        assert (m.verbs(r).tolist(), m.nouns(r).tolist(), m.text(r)) == ([i], [100 + i, 200 + i], f'#C C does thing {i}'), (r, i)
        v, n = m.tags(r)
        assert np.flatnonzero(v).tolist() == [i] and np.flatnonzero(n).tolist() == [100 + i, 200 + i]

# -- the config ---------------------------------------------------------------------------------------------------------
def _config(**args):
    return {'arch': {'type': 'FrozenInTime', 'args': {}},
            'data_loader': [{'type': 'MultiDistTextVideoDataLoader', 'args': {'dataset_name': 'EgoClip', **args}}]}

def test_misspelt_dataset_name_and_bad_egoclip_keys_are_named():
    from egovlp.core import ConfigError
    from egovlp.launch import load
    with pytest.raises(ConfigError, match="unknown dataset 'EgoClp'; did you mean 'EgoClip'"): load(_config(dataset_name='EgoClp'))
    for key, value in (('chunk_sec', 0), ('on_bad_lines', 'warn'), ('neg_param', -1), ('val_loading', 'loose')):
        with pytest.raises(ConfigError, match=f'data_loader.0.args.{key}'): load(_config(**{key: value}))
    with pytest.raises(ConfigError, match="did you mean '[a-z_.0-9]*chunk_sec'"): load(_config(chunk_secs=600))
    run = load(_config(neg_param=60, fps=30))
    assert (run.task_name, run.loader.args.neg_param, run.loader.args.fps, run.loader.args.chunk_sec) == ('EgoClip', 60, 30, 600)
