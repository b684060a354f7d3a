"""Charades-Ego's fault cases (issue 25), one parametrised test per surface: the annotation files, the dataset (ids that
escape `data_dir`, empty splits, actions past the video's end, missing videos), the config and the metric. Each bad
input is a clear error naming the file and line (or key), or in lax loading a counted, logged fallback. No training."""
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from egovlp.core import ConfigError, parse_config, read_config
from egovlp.factory import create_task
from egovlp.minidata import MINI_CHARADES_TINY, make_mini_charades
from egovlp.tasks.charades_ego import (CHARADES_COLUMNS, CLASSES_FILE, SPLIT_FILES, CharadesEgo, charades_map,
                                       read_charades, read_classes)
from egovlp.video import VideoReadError, video_info

ROOT = Path(__file__).resolve().parents[1]
ROW = 'AAAAAEGO,S1,Kitchen,6,6,Yes,"Holds clothes, then laughs.",clothes,desc,c000 1.00 2.50;c002 0.00 2.20,8.0'
HEADER = ','.join(CHARADES_COLUMNS)

@pytest.fixture(scope='module')
def mini(tmp_path_factory):
    "A private copy of the tiny mini-Charades-Ego (3 training, 5 test videos), for tests that break it."
    return make_mini_charades(tmp_path_factory.mktemp('charades')/'mini', **MINI_CHARADES_TINY)

@pytest.fixture
def classes(tmp_path):
    p = tmp_path/'classes.txt'
    p.write_text('c000 Holding some clothes\nc001 Putting clothes somewhere\nc002 Sitting in a bed, laughing\n')
    return p

@pytest.mark.parametrize('text, error', [
    ('c000 Holding\nc002 Putting\n', "classes.txt:2: expected 'c001 <class name>', got 'c002 Putting'"),
    ('000 Holding\n', "classes.txt:1: expected 'c000 <class name>'"),
    ('\n\n', "classes.txt: no classes")])
def test_class_file(tmp_path, text, error):
    (tmp_path/'classes.txt').write_text(text)
    with pytest.raises(ValueError, match=error.replace('(', r'\(').replace(')', r'\)')): read_classes(tmp_path/'classes.txt')

@pytest.mark.parametrize('rows, error', [
    (['id,subject,length', 'AAAAAEGO,S1,8.0'], ":1: the header has no column ['actions']"),
    ([HEADER, ROW + ',extra'], ":2: expected 11 fields with a video id, got 12 fields"),
    ([HEADER, 'AAAAAEGO,S1,Kitchen'], ":2: expected 11 fields with a video id, got 3 fields"),
    ([HEADER, ROW.replace('AAAAAEGO', ' ')], ":2: expected 11 fields with a video id, got 11 fields, id ''"),
    ([HEADER, ROW, ROW], ":3: video id 'AAAAAEGO' appears twice (first on line 2)"),
    ([HEADER, ROW.replace('c002 0.00 2.20', 'c002 0.00')], ":2: video AAAAAEGO: action 'c002 0.00' is not 'c<class> <start sec> <end sec>'"),
    ([HEADER, ROW.replace('c002', 'c003')], ":2: video AAAAAEGO: action 'c003 0.00 2.20' names class c003, the class file has 3"),
    ([HEADER, ROW.replace('c002 0.00 2.20', 'c002 3.00 2.20')], ":2: video AAAAAEGO: action 'c002 3.00 2.20' ends before it starts")])
def test_annotation_rows(tmp_path, classes, rows, error):
    (tmp_path/'a.csv').write_text('\n'.join(rows) + '\n')
    with pytest.raises(ValueError) as e: read_charades(tmp_path/'a.csv', classes)
    assert str(e.value).startswith(str(tmp_path/'a.csv')) and error in str(e.value), str(e.value)

def test_bad_actions_lax(tmp_path, classes, caplog):
    "Lax: the bad actions are dropped, the video keeps its good ones, every drop is counted and one warning names the file."
    (tmp_path/'a.csv').write_text('\n'.join([HEADER, ROW.replace('c002', 'c009'), ROW.replace('AAAAA', 'BBBBB').replace('c000 1.00 2.50', 'c000 2.50')]) + '\n')
    with caplog.at_level(logging.WARNING, 'egovlp'): m = read_charades(tmp_path/'a.csv', classes, 'lax')
    assert [b[:2] for b in m.bad] == [(2, 'AAAAAEGO'), (3, 'BBBBBEGO')]
    assert m.targets.tolist() == [[1, 0, 0], [0, 0, 1]]
    assert f"{tmp_path/'a.csv'}: dropped 2 bad action(s)" in caplog.text

def _meta(mini, split, edit):
    "The mini csv of `split` with `edit(df)` applied (df: the raw csv), written as `edited_<split>.csv` and read."
    df = pd.read_csv(mini/'CharadesEgo'/SPLIT_FILES[split], dtype=str, keep_default_na=False)
    p = mini/'CharadesEgo'/f'edited_{split}.csv'
    edit(df).to_csv(p, index=False)
    return read_charades(p, mini/'CharadesEgo'/CLASSES_FILE)

def _set(row, col, value):
    "An edit: `df.loc[row, col] = value`."
    def edit(df):
        df.loc[row, col] = value(df) if callable(value) else value
        return df
    return edit

@pytest.mark.parametrize('loading', ['strict', 'lax'])
@pytest.mark.parametrize('bad_id, why', [('../../escaped', "its '..' leads out"), ('/etc/passwd', 'it is an absolute path')])
def test_video_id_stays_inside_data_dir(mini, loading, bad_id, why):
    m = _meta(mini, 'test', _set(2, 'id', bad_id))
    with pytest.raises(ValueError) as e: CharadesEgo(m, mini/'CharadesEgo_v1_480', 'test', 2, 32, loading)
    assert f"edited_test.csv:4: video id '{bad_id}.mp4' is not a path inside" in str(e.value) and why in str(e.value), str(e.value)

@pytest.mark.parametrize('split, what', [('test', 'videos'), ('train', 'actions')])
def test_empty_split(mini, split, what):
    m = _meta(mini, split, lambda df: df.iloc[:0] if split == 'test' else df.assign(actions=''))
    with pytest.raises(ValueError, match=f"edited_{split}.csv: no {what}: the {split} split needs at least one"):
        CharadesEgo(m, mini/'CharadesEgo_v1_480', split, 2, 32)

def test_action_past_the_end(mini, caplog):
    "An action ending 5 s after its video: strict names the csv line and the video's length; lax clamps and counts it."
    ends = lambda i, extra: lambda df: f"c000 0.50 {float(df.loc[i, 'length']) + extra:.2f}"
    m = _meta(mini, 'train', lambda df: _set(1, 'actions', ends(1, 0.01))(_set(0, 'actions', ends(0, 5))(df)))   # +0.01 s: within a frame
    vid, vdir = m.actions.id.iat[0], mini/'CharadesEgo_v1_480'
    with pytest.raises(VideoReadError) as e: CharadesEgo(m, vdir, 'train', 4, 32, 'strict')[0]
    assert "ends past the end of the video" in str(e.value) and f"[wanted by {m.path}:2 (video {vid})]" in str(e.value), str(e.value)
    assert CharadesEgo(m, vdir, 'train', 4, 32, 'strict')[1]['load_failures'] == 0
    lax = CharadesEgo(m, vdir, 'train', 4, 32, 'lax')
    with caplog.at_level(logging.WARNING, 'egovlp'): item = lax[0]
    assert item['load_failures'] == 1 and lax.stats.by_reason() == {'index': 1}
    assert "clamped (lax loading)" in caplog.text and f"{m.path}:2" in caplog.text
    info = video_info(vdir/f'{vid}.mp4')
    assert lax.span(0, lax.stats)[1] == pytest.approx(info.num_frames / info.fps)

@pytest.mark.parametrize('loading', ['strict', 'lax'])
def test_missing_video(mini, loading):
    m = _meta(mini, 'test', _set(1, 'id', 'NOSUCHEGO'))
    ds = CharadesEgo(m, mini/'CharadesEgo_v1_480', 'test', 2, 32, loading)
    if loading == 'strict':
        with pytest.raises(VideoReadError, match=r"\[missing\].*NOSUCHEGO.mp4.*\[wanted by .*edited_test.csv:3 \(video NOSUCHEGO\)\]"): ds[1]
    else: assert ds[1]['load_failures'] == 1 and ds.stats.by_reason() == {'missing': 1} and ds[0]['load_failures'] == 0

def _config(mini, **args):
    cfg = read_config(ROOT/'configs'/'mini'/'charades.json')
    cfg['arch']['args']['load_checkpoint'] = None
    cfg['data_loader']['args'].update({'data_dir': str(mini/'CharadesEgo_v1_480'), 'meta_dir': str(mini/'CharadesEgo'), **args})
    return cfg

@pytest.mark.parametrize('key, value, error', [
    ('fps', 30, "data_loader.args.fps: Charades-Ego does not use it (each video's fps is read from its file)"),
    ('chunk_sec', 600, 'data_loader.args.chunk_sec: Charades-Ego does not use it'),
    ('neg_param', 60, 'data_loader.args.neg_param: Charades-Ego does not use it'),
    ('egomcq_path', 'egomcq.json', 'data_loader.args.egomcq_path: Charades-Ego does not use it'),
    ('templates', ['#C C'], "data_loader.args.templates: item '#C C': expected a prompt with '{}'"),
    ('test_csv', 3, 'data_loader.args.test_csv: expected a string, got 3')])
def test_config_keys(mini, key, value, error):
    with pytest.raises(ConfigError) as e: parse_config(_config(mini, **{key: value}))
    assert error in str(e.value), str(e.value)

def test_config_paths(mini):
    cfg = _config(mini, meta_dir=None)
    with pytest.raises(ConfigError, match="data_loader.args.meta_dir is missing"): create_task(parse_config(cfg))
    task = create_task(parse_config(_config(mini, test_csv='nothing.csv')))
    with pytest.raises(FileNotFoundError, match='nothing.csv'): task.eval_dataset()

@pytest.mark.parametrize('scores, targets, error', [
    (np.zeros((3, 2)), np.zeros((3, 2), int), 'no class has a positive video'),
    (np.zeros((3, 2)), np.zeros((2, 3), int), r'must both be \(videos, classes\), got \(3, 2\) and \(2, 3\)')])
def test_metric_inputs(scores, targets, error):
    with pytest.raises(ValueError, match=error): charades_map(scores, targets)
