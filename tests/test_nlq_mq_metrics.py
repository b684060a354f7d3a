"""The Ego4D NLQ and MQ metrics of egovlp.tasks.nlq / egovlp.tasks.mq on hand-computed cases, including the official
scripts' behaviour on ties, empty predictions, predictions past the clip and boundary IoUs."""
import json
import math

import numpy as np
import pytest
import torch

from egovlp.tasks.nlq import (nlq_metrics, nlq_submission, window_iou, time_to_index, index_to_time, pool_rows,
                              read_annotations, top_spans, query_key, read_token_features)
from egovlp.tasks.mq import mq_metrics, class_ap, interpolated_ap, mq_submission, assign, diou_loss, soft_nms, points


def q(i, s, e, clip='c', ann='a'): return dict(clip_uid=clip, annotation_uid=ann, query_idx=i, start=s, end=e)
def r(i, windows, clip='c', ann='a'): return dict(clip_uid=clip, annotation_uid=ann, query_idx=i, predicted_times=windows)


# ---------------------------------------------------------------------------------------------------------- NLQ
def test_nlq_recall_and_miou_by_hand():
    qs = [q(0, 2.0, 4.0), q(1, 10.0, 11.0), q(2, 0.0, 1.0)]
    res = [r(0, [[2.5, 4.5], [0, 1]]),                      # IoU 0.6 then 0
           r(1, [[8.0, 10.5], [10.0, 11.0]]),               # IoU 1/6 then 1
           r(2, [[5, 6], [6, 7], [7, 8], [8, 9], [9, 10], [0, 1]])]   # the exact window is 6th: not in the top 5
    m = nlq_metrics(res, qs)
    assert m['R1@0.3'] == pytest.approx(100 / 3) and m['R1@0.5'] == pytest.approx(100 / 3)
    assert m['R5@0.3'] == pytest.approx(200 / 3) and m['R5@0.5'] == pytest.approx(200 / 3)
    assert m['mIoU'] == pytest.approx(100 * (0.6 + 1 / 6 + 0) / 3)           # the top-1 IoU, as the official "mIoU"
    assert (m['n_evaluated'], m['n_missing']) == (3, 0)


def test_nlq_strict_threshold_and_past_the_clip():
    qs = [q(0, 2.0, 4.0)]
    assert nlq_metrics([r(0, [[2.0, 3.0]])], qs)['R1@0.5'] == 0.0          # IoU exactly 0.5 is not above 0.5
    assert nlq_metrics([r(0, [[2.0, 3.01]])], qs)['R1@0.5'] == 100.0
    m = nlq_metrics([r(0, [[3.0, 40.0]])], qs)                             # past the clip's end: not clipped
    assert m['mIoU'] == pytest.approx(100 / 38)


def test_nlq_missing_queries_are_counted_not_scored():
    qs = [q(0, 2.0, 4.0), q(1, 5.0, 6.0)]
    m = nlq_metrics([r(0, [[2.0, 4.0]])], qs)
    assert m['R1@0.3'] == 100.0 and m['n_missing'] == 1 and m['n_evaluated'] == 1   # the official script reports 100 too
    e = nlq_metrics([], qs)
    assert math.isnan(e['R1@0.3']) and e['n_missing'] == 2                 # nothing evaluated: nan, as numpy's mean of []


def test_nlq_bad_predictions():
    qs = [q(0, 2.0, 4.0)]
    with pytest.raises(ValueError, match='empty predicted_times'): nlq_metrics([r(0, [])], qs)
    with pytest.raises(ValueError, match='no ground truth'): nlq_metrics([r(5, [[0, 1]])], qs)


def test_nlq_zero_length_windows():
    # the official formula: a zero-length ground truth scores 0 unless the prediction is the same instant (0/0 = nan)
    assert window_iou([[4.0, 6.0]], [[5.0, 5.0]])[0, 0] == 0.0
    assert math.isnan(window_iou([[5.0, 5.0]], [[5.0, 5.0]])[0, 0])


def test_nlq_submission_schema():
    sub = nlq_submission([r(0, [(1, 2.5)])])
    assert sub == {'version': '1.0', 'challenge': 'ego4d_nlq_challenge',
                   'results': [{'clip_uid': 'c', 'annotation_uid': 'a', 'query_idx': 0, 'predicted_times': [[1.0, 2.5]]}]}
    json.dumps(sub)


def test_rows_and_seconds():
    assert time_to_index(2.0, 4.0, 10, 10.0) == (2, 3)
    assert time_to_index(0.0, 10.0, 10, 10.0) == (0, 9)
    assert time_to_index(2.2, 3.4, 10, 10.0) == (2, 3)                     # [2, 4] (IoU 0.6) over [2, 3] (0.57)
    assert index_to_time(2, 3, 10, 10.0) == (2.0, 4.0)
    assert pool_rows(torch.arange(6.)[:, None], 3)[:, 0].tolist() == [0.5, 2.5, 4.0]   # VSLNet's bins: edges 0 2 4 5
    assert len(pool_rows(torch.zeros(5, 2), 8)) == 5


def test_top_spans_ranks_products_without_suppression():
    p_s = torch.tensor([[0.1, 0.6, 0.3]]).log(); p_e = torch.tensor([[0.2, 0.2, 0.6]]).log()
    s, e = top_spans(p_s, p_e, 3)
    # products with start <= end: (1,2) .36, (1,1) .12, (0,2) .06 = (2,2) .18 ... sorted: .36 (1,2), .18 (2,2), .12 (1,1)
    assert list(zip(s[0].tolist(), e[0].tolist())) == [(1, 2), (2, 2), (1, 1)]


def test_read_annotations_and_token_file(tmp_path):
    data = {'videos': [{'video_uid': 'v', 'clips': [{'clip_uid': 'c', 'video_start_sec': 10.0, 'video_end_sec': 20.0, 'annotations': [
        {'annotation_uid': 'a', 'language_queries': [{'query': 'where is it?', 'clip_start_sec': 1, 'clip_end_sec': 2}, {'query': ''}]}]}]}]}
    (tmp_path/'nlq.json').write_text(json.dumps(data))
    clips, qs = read_annotations(tmp_path/'nlq.json')
    assert clips['c']['duration'] == 10.0 and len(qs) == 1 and (qs[0]['start'], qs[0]['end']) == (1.0, 2.0)
    del data['videos'][0]['clips'][0]['video_end_sec']
    (tmp_path/'bad.json').write_text(json.dumps(data))
    with pytest.raises(ValueError, match=r"clips\[0\]: missing \['video_end_sec'\]"): read_annotations(tmp_path/'bad.json')
    torch.save({'a_0': {'input_ids': torch.ones(3, 4)}}, tmp_path/'t.pt')
    assert read_token_features(tmp_path/'t.pt', qs)[query_key(qs[0])].shape == (3, 4)
    with pytest.raises(KeyError, match='no token features for 1 queries'): read_token_features(tmp_path/'t.pt', [dict(qs[0], query_idx=7)])


# ---------------------------------------------------------------------------------------------------------- MQ
def m(label, s, e, clip='c'): return dict(clip_uid=clip, label=label, start=s, end=e)
def d(label, score, s, e): return dict(label=label, score=score, segment=[s, e])


def test_interpolated_ap_by_hand():
    # precision 1, .5, 2/3 at recall .5, .5, 1 → .5·1 + .5·(2/3)
    assert interpolated_ap(np.array([1, .5, 2 / 3]), np.array([.5, .5, 1])) == pytest.approx(.5 + 1 / 3)


def test_mq_detection_map_and_retrieval_by_hand():
    gt = [m('take', 0, 2), m('take', 5, 6), m('put', 8, 9), m('put', 1, 3, clip='c2')]
    det = {'c': [d('take', .9, 0, 2), d('take', .8, .5, 2.5), d('take', .7, 5, 6.5), d('cut', .95, 5, 6), d('put', .6, 8, 9.5)],
           'c2': [d('put', .5, 1, 3)]}
    r_ = mq_metrics(det, gt)
    ap_take = .5 + .5 * 2 / 3                      # TP, FP (its best moment is taken), TP (tIoU 2/3)
    ap_put = {0.1: 1.0, 0.2: 1.0, 0.3: 1.0, 0.4: 1.0, 0.5: 1.0}   # [8, 9.5] has tIoU 2/3 with [8, 9]; [1, 3] exact
    for t in (0.1, 0.3, 0.5): assert r_[f'mAP@{t:g}'] == pytest.approx(100 * (ap_take + ap_put[t]) / 2)
    # retrieval: take (2 moments) top-2 = [0,2], [.5,2.5] → 1 of 2; put in c: [8, 9.5] → 1; put in c2 → 1
    assert r_['R1@0.5'] == pytest.approx(100 * 3 / 4) and r_['R5@0.5'] == 100.0
    assert r_['n_missing'] == 0


def test_mq_ties_follow_the_official_order():
    # argsort()[::-1]: among equal scores the LAST listed comes first
    gt = [('c', 0.0, 2.0)]
    assert class_ap(gt, [('c', 0., 2., .5), ('c', 9., 10., .5)])[0] == pytest.approx(0.5)
    assert class_ap(gt, [('c', 9., 10., .5), ('c', 0., 2., .5)])[0] == pytest.approx(1.0)


def test_mq_thresholds_detection_ge_retrieval_gt():
    gt = [m('take', 0, 2)]
    r_ = mq_metrics({'c': [d('take', 1., 0, 4)]}, gt)                      # tIoU exactly 0.5
    assert r_['mAP@0.5'] == 100.0 and r_['R1@0.5'] == 0.0


def test_mq_empty_missing_and_past_the_clip():
    gt = [m('take', 0, 2), m('take', 5, 6)]
    e = mq_metrics({}, gt)
    assert e['mAP'] == 0.0 and e['R1@0.5'] == 0.0 and e['n_missing'] == 1
    p = mq_metrics({'c': [d('take', 1., 0, 20)]}, gt)                      # tIoU 2/20 with [0, 2]: not clipped
    assert (p['mAP@0.1'], p['mAP@0.2']) == (50.0, 0.0)
    o = mq_metrics({'c': [d('other', 1., 0, 2)]}, gt)                      # a class absent from the ground truth is dropped
    assert o['mAP'] == 0.0 and o['R5@0.5'] == 0.0 and o['n_missing'] == 0


def test_mq_submission_schema():
    sub = mq_submission({'c': [d('a', .2, 0, 1), d('b', .9, 1, 2)]})
    assert (sub['version'], sub['challenge']) == ('1.0', 'ego4d_moment_queries')
    assert [x['label'] for x in sub['retrieve_results']['c']] == ['b', 'a'] and len(sub['detect_results']['c']) == 2
    json.dumps(sub)


def test_actionformer_assignment_loss_and_nms():
    pts = points([1, 2], [(0, 4), (4, 10000)], [8, 4])
    cls, reg = assign(pts, torch.tensor([[1.0, 3.0]]), torch.tensor([1]), 2)
    pos = cls.sum(1) > 0
    assert pts[pos, 0].tolist() == [2.0]            # inside (1, 3), within 1.5 strides of the centre 2, range [0, 4] at stride 1
    assert reg[pos].tolist() == [[1.0, 1.0]] and cls[pos].tolist() == [[0.0, 1.0]]
    t = torch.tensor([[1.0, 2.0]])
    assert diou_loss(t, t).item() == pytest.approx(0.0)
    assert diou_loss(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 3.0]])).item() == pytest.approx(1 - 2 / 4 + (1 / 4) ** 2)
    keep = soft_nms(torch.tensor([[0., 2.], [0., 2.], [5., 6.]]), torch.tensor([.9, .8, .7]), torch.tensor([0, 0, 0]), sigma=0.9)
    assert [round(float(k[1]), 4) for k in keep] == [0.9, 0.7, round(0.8 * math.exp(-1 / 0.9), 4)]
