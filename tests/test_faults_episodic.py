"""NLQ/MQ feature extraction (egovlp.tasks.episodic) on a tiny mini-NLQ with an untrained tiny model: the output layout
the consumers read, and every bad input of issues 25/27 a clear error (ids that leave their folder, an empty split,
re-extraction with other settings, `rate=fast`, config typos, a missing video in strict and lax mode)."""
import copy, json, logging
from pathlib import Path
import numpy as np, pytest, torch

from egovlp.core import read_config
from egovlp.minidata import MINI_EPISODIC_TINY, make_mini_episodic
from egovlp.factory import create_model, create_tokenizer
from egovlp.launch import extract_features_cli, load
from egovlp.tasks import episodic as E

ROOT = Path(__file__).resolve().parents[1]

@pytest.fixture(scope='module')
def mini():
    return make_mini_episodic(**MINI_EPISODIC_TINY)

def config(tmp, mini, kind='nlq', **args):
    "configs/mini/<kind>_features.json on the tiny set, an untrained model, output in tmp/feats; `args` override data_loader.args."
    cfg = read_config(ROOT/'configs'/'mini'/f'{kind}_features.json')
    cfg['arch']['args']['load_checkpoint'] = None
    cfg['data_loader']['args'].update({**dict(data_dir=str(mini/'videos'), meta_dir=str(mini), save_feats=str(tmp/'feats'), num_workers=0), **args})
    cfg.pop('mini', None)
    p = tmp/f'{kind}.json'; p.write_text(json.dumps(cfg)); return p

def cli(capsys, *argv):
    lg = logging.getLogger('egovlp')      # capsys swaps stderr per test: the launcher's console handler must be this test's
    lg.handlers = [h for h in lg.handlers if not getattr(h, '_egovlp_console', False)]
    rc = extract_features_cli([str(a) for a in argv]); out = capsys.readouterr()
    return rc, out.out, out.err

def test_layout_and_exit_status(tmp_path, mini, capsys):
    rc, out, err = cli(capsys, '-c', config(tmp_path, mini))
    assert rc == 0 and all(' - INFO - ' in l for l in err.splitlines()), err     # the launcher's log lines only
    f = tmp_path/'feats'
    assert sorted(p.name for p in f.iterdir()) == ['extraction.json', 'feature_shapes.json', 'text', 'video']
    ann = E.read_episodic_splits(mini, 'nlq', 'all')
    feats, shapes = E.read_features(f), json.loads((f/'feature_shapes.json').read_text())
    assert sorted(p.name for p in (f/'video').iterdir()) == sorted(f"{c['uid']}.pt" for c in ann['clips'])   # nothing else there (CONE)
    for c in ann['clips']:
        T = E.num_windows(c['start_sec'], c['end_sec'])
        assert feats[c['uid']].shape == (T, 256) and shapes[c['uid']] == T and feats[c['uid']].dtype == torch.float32
    params = json.loads((f/'extraction.json').read_text())
    assert {k: params[k] for k in E.EXTRACTION_KEYS[:5]} == dict(rate=1.87, frames_per_window=4, feature='proj', size=32, format='pt')
    q = ann['queries'][0]; n = len(create_tokenizer(load(tmp_path/'nlq.json').model)(q['query'])['input_ids'])
    assert np.load(f/'text'/'cone_token'/f"{q['key']}.npy").shape == (n - 2, 64)      # the text tower's hidden size, no [CLS]/[SEP]
    assert np.load(f/'text'/'cone_cls'/f"{q['key']}.npy").shape == (1, 256)
    assert torch.load(f/'text'/'vslnet.pt', weights_only=True)[q['key']]['input_ids'].shape == (n, 256)
    assert f"{len(ann['clips'])} written" in out and 'query grounding' in out
    rc, out, _ = cli(capsys, '-c', tmp_path/'nlq.json')                                # a rerun skips every clip
    assert rc == 0 and f"0 written, {len(ann['clips'])} already there" in out

@pytest.mark.parametrize('override,message', [
    ('data_loader.args.rate="fast"', "expected a number > 0, got the string 'fast'"),
    ('data_loader.args.rat=2', 'did you mean'),
    ('data_loader.args.split="val,nope"', "unknown split 'nope'"),
    ('data_loader.args.meta_dir="/nonexistent"', 'annotation file not found'),
])
def test_config_errors(tmp_path, mini, capsys, override, message):
    rc, out, err = cli(capsys, '-c', config(tmp_path, mini), '--set', override)
    assert rc == 1 and message in err and err.count('\n') == 1, err
    assert not (tmp_path/'feats').exists()

def test_empty_split_is_an_error(tmp_path, mini, capsys):
    empty = tmp_path/'meta'; empty.mkdir()
    for name in E.SPLIT_FILES['nlq'].values():
        d = json.loads((mini/name).read_text()); d['videos'] = []; (empty/name).write_text(json.dumps(d))
    rc, _, err = cli(capsys, '-c', config(tmp_path, mini, meta_dir=str(empty)), '--split', 'test')
    assert rc == 1 and 'has no clips: nothing to extract' in err, err

@pytest.mark.parametrize('key,value', [('rate', 1.875), ('feature', 'cls'), ('frames_per_window', 8), ('size', 64)])
def test_reextraction_with_other_settings_is_refused(tmp_path, mini, key, value):
    clips = E.clip_sources(E.read_episodic_splits(mini, 'nlq', 'val')['clips'], mini/'videos')[:1]
    model = create_model(load(config(tmp_path, mini)).model)
    kw = dict(size=32)
    E.extract_features(model, clips, tmp_path/'x', **kw)
    with pytest.raises(ValueError, match=f"holds features extracted with {key}="):
        E.extract_features(model, clips, tmp_path/'x', **{**kw, key: value})
    with pytest.raises(ValueError, match='holds features extracted with weights_sum='):      # another (untrained) model
        E.extract_features(create_model(load(tmp_path/'nlq.json').model), clips, tmp_path/'x', **kw)
    with pytest.raises(ValueError, match='rate must be windows per second'): E.extract_features(model, clips, tmp_path/'y', rate='fast')
    with pytest.raises(ValueError, match='no clips'): E.extract_features(model, [], tmp_path/'y')

def test_ids_stay_inside_their_folders(tmp_path, mini):
    run = load(config(tmp_path, mini))
    ann = E.read_episodic_splits(mini, 'nlq', 'val')
    c = E.clip_sources(ann['clips'], mini/'videos')[0]
    out = tmp_path/'a'/'b'/'feats'
    with pytest.raises(ValueError, match=r"clip_uid '\.\./\.\./escaped\.pt' is not a path inside"):
        E.extract_features(create_model(run.model), [dict(c, uid='../../escaped')], out, size=32)
    assert not list(tmp_path.rglob('escaped*'))
    with pytest.raises(E.EpisodicFormatError, match=r"nlq_val.json: clip_uid .*video_uid '\.\./outside\.mp4'"):
        E.clip_sources([dict(ann['clips'][0], video_uid='../outside')], mini/'videos')
    with pytest.raises(ValueError, match="query id"):
        E.save_text_features({'../q_0': dict(tokens=torch.zeros(3, 256), hidden=torch.zeros(1, 64), sentence=torch.zeros(256))}, tmp_path/'t')

def test_missing_video_strict_and_lax(tmp_path, mini):
    model = create_model(load(config(tmp_path, mini)).model)
    clips = E.clip_sources(E.read_episodic_splits(mini, 'nlq', 'all')['clips'], mini/'videos')
    bad = dict(clips[0], uid='no-video', path=str(mini/'videos'/'missing.mp4'))
    with pytest.raises(E.ExtractionError, match=r"missing\.mp4.*clip_uid no-video"):
        E.extract_features(model, [bad] + clips[1:], tmp_path/'s', size=32)
    r = E.extract_features(model, [bad] + clips[1:], tmp_path/'l', size=32, loading='lax')
    assert list(r['failed']) == ['no-video'] and len(r['done']) == len(clips) - 1
    late = dict(clips[0], end_sec=clips[0]['end_sec'] + 500)
    with pytest.raises(E.ExtractionError, match='past the end of the video'): E.extract_features(model, [late], tmp_path/'s2', size=32)
    assert len(E.extract_features(model, [late], tmp_path/'l2', size=32, loading='lax')['notes']) == 1

def test_cone_tokens_projected_is_explicit(tmp_path):
    f = dict(q_0=dict(tokens=torch.arange(5*256.).view(5, 256), hidden=torch.ones(3, 768), sentence=torch.ones(256)))
    hid = E.save_text_features(f, tmp_path/'h')
    assert np.load(hid['cone_token']/'q_0.npy').shape == (3, 768)
    proj = E.save_text_features(f, tmp_path/'p', cone_tokens='projected')
    assert np.array_equal(np.load(proj['cone_token']/'q_0.npy'), f['q_0']['tokens'][1:-1].numpy())
