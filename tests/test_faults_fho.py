"""OSCC/PNR faults (issue 25): bad annotations, empty splits, damaged or non-finite checkpoints give a clear error or a
warning naming the file, never a silent metric."""
import json, logging

import pytest
import torch

from egovlp.launch import CONFIGS, load, trainer_for
from egovlp.minidata import make_mini_fho, MINI_FHO_TINY
from egovlp.tasks.fho import SPLIT_FILES, FHOAnnotationError, FHOTask, VideoClassifier, read_fho_json

POS = dict(clip_uid='c', clip_id='1', unique_id='u-1', video_uid='v-1', parent_start_sec=1.0, parent_end_sec=9.0,
           parent_start_frame=30, parent_end_frame=270, state_change=True, parent_pnr_frame=100)
NEG = {**{k: v for k, v in POS.items() if k != 'parent_pnr_frame'}, 'unique_id': 'u-2', 'state_change': False, 'pnr_frame': None}


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return make_mini_fho(tmp_path_factory.mktemp('fho')/'tiny', seed=0, **MINI_FHO_TINY)


def run_of(kind, root, *overrides):
    return load(CONFIGS/'mini'/f'{kind}.json', [f'data_loader.args.meta_dir="{root}"', f'data_loader.args.data_dir="{root}/videos"',
                                                'arch.args.load_checkpoint=null', 'data_loader.args.num_workers=0',
                                                'trainer.progress=false', 'trainer.tensorboard=false',
                                                f'trainer.save_dir="{root}/run"', *overrides])


def write(path, clips):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'clips': clips}))
    return path


@pytest.mark.parametrize('clip, says', [
    ({**NEG, 'state_change': 'false'}, "state_change is 'false': expected true or false"),
    ({**POS, 'state_change': 1}, "state_change is 1: expected true or false"),
    ({**POS, 'unique_id': '../../escaped'}, "unique_id '../../escaped' is not a path inside"),
    ({**POS, 'video_uid': '/etc/passwd'}, "video_uid '/etc/passwd' is not a path inside"),
    ({**POS, 'parent_pnr_frame': 400}, 'parent_pnr_frame 400 outside the parent window 30..270'),
])
def test_bad_clip_is_an_error_naming_file_and_clip(tmp_path, clip, says):
    f = write(tmp_path/'fho_oscc-pnr_train.json', [POS, clip])
    with pytest.raises(FHOAnnotationError) as e: read_fho_json(f)
    assert f"{f}: clips[1] (unique_id {clip['unique_id']!r}): {says}" in str(e.value)
    assert [r['unique_id'] for r in read_fho_json(f, loading='lax')] == ['u-1']          # lax: skipped (and counted)


@pytest.mark.parametrize('kind, clips, says', [('oscc', [], 'no clips: expected at least one in the val split'),
                                               ('pnr', [NEG], 'no clips with a state change (PNR uses only those)')])
def test_empty_split_is_a_clear_error(tiny, tmp_path, kind, clips, says):
    root = tmp_path/'root'
    for split in SPLIT_FILES: write(root/SPLIT_FILES[split], json.loads((tiny/SPLIT_FILES[split]).read_text())['clips'])
    write(root/SPLIT_FILES['val'], clips)
    task = FHOTask(run_of(kind, root), kind=kind)
    with pytest.raises(ValueError) as e: task.eval_dataset()
    assert f"{root/SPLIT_FILES['val']}: {says}" in str(e.value)


def _checkpoint(run, path, fill=None):
    m = VideoClassifier(run.model.video_params, run.model.projection_dim)
    if fill is not None:
        with torch.no_grad():
            for p in m.parameters(): p.fill_(fill)
    torch.save({'state_dict': m.state_dict()}, path)
    return path


@pytest.mark.parametrize('damage, says', [('empty', 'is empty (0 bytes)'), ('truncated', 'cannot be loaded'),
                                          ('missing', 'does not exist')])
def test_damaged_checkpoint_names_the_file(tiny, tmp_path, damage, says):
    run = run_of('oscc', tiny)
    ck = _checkpoint(run, tmp_path/'model.pth')
    if damage == 'empty': ck.write_bytes(b'')
    elif damage == 'truncated': ck.write_bytes(ck.read_bytes()[:1000])
    else: ck.unlink()
    task = FHOTask(run_of('oscc', tiny, f'arch.args.load_checkpoint="{ck}"'), kind='oscc')
    with pytest.raises((OSError, ValueError, RuntimeError)) as e: task.build_model()
    assert str(ck) in str(e.value) and says in str(e.value), str(e.value)


def test_nan_checkpoint_warns_or_stops_and_never_scores(tiny, tmp_path, caplog):
    ck = _checkpoint(run_of('oscc', tiny), tmp_path/'nan.pth', fill=float('nan'))
    strict = FHOTask(run_of('oscc', tiny, f'arch.args.load_checkpoint="{ck}"', 'trainer.strict_checkpoint=true'), kind='oscc')
    with pytest.raises(FloatingPointError, match='non-finite'): strict.build_model()
    with caplog.at_level(logging.WARNING, logger='egovlp.fho'):
        tr = trainer_for(run_of('oscc', tiny, f'arch.args.load_checkpoint="{ck}"'), train=False)
    assert any('non-finite' in r.getMessage() and str(ck) in r.getMessage() for r in caplog.records)
    with pytest.raises(FloatingPointError, match=r'4 of 4 clips have non-finite logits'): tr.evaluate()   # not 50 %


def test_evaluation_scores_each_val_clip_once(tiny, tmp_path):
    "The metrics against the hand formula on the gathered logits (one process; tests/test_encode_ddp.py covers N)."
    from egovlp.tasks.fho import keyframe_distance, oscc_accuracy
    for kind in ('oscc', 'pnr'):
        tr = trainer_for(run_of(kind, tiny), train=False)
        res, task = tr.evaluate(), tr.task
        ds = task.eval_dataset()
        assert task.last.shape == (len(ds), 2 if kind == 'oscc' else 16)
        p = ds.metric_inputs()
        want = oscc_accuracy(task.last, p['state']) if kind == 'oscc' else keyframe_distance(task.last, *p.values())
        assert res[task.metrics[0]] == pytest.approx(want)
