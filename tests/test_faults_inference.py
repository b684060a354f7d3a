"""Faults of the inference API (issue 25): each bad call gives a clear error (or a warning) naming what was wrong.

Fast: a tiny random model written to a temporary folder; no mini model, no video decoding."""
import json, logging, math, subprocess, sys, uuid
from pathlib import Path

import pytest
import torch

from egovlp.model import FrozenInTime, tiny_text_params, tiny_video_params
from egovlp.inference import TEMPERATURE, load_model, probabilities, similarity, zero_shot_classify

ROOT = Path(__file__).resolve().parents[1]
ARGS = dict(video_params=tiny_video_params(num_frames=2), text_params=tiny_text_params(), projection_dim=16)
CFG = {'arch': {'type': 'FrozenInTime', 'args': ARGS}}


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp('infer')
    torch.manual_seed(0)
    sd = FrozenInTime(**ARGS).state_dict()
    torch.save({'state_dict': sd, 'config': CFG}, d/'with_config.pth')             # config inside, as the released files
    torch.save({'state_dict': sd}, d/'weights_only.pth')                            # a model_best.pth copied on its own
    for name, key, bad in (('nan.pth', 'vid_proj.0.weight', math.nan), ('inf.pth', 'txt_proj.1.bias', math.inf)):
        s = {k: v.clone() for k, v in sd.items()}; s[key].view(-1)[3] = bad
        torch.save({'state_dict': s, 'config': CFG}, d/name)
    run = d/'run'; (run/'checkpoints'/'epoch001').mkdir(parents=True)              # a run folder as the trainer leaves it
    torch.save({'state_dict': sd, 'epoch': 1}, run/'model_best.pth')
    (run/'checkpoints'/'latest').write_text('epoch001')
    (run/'checkpoints'/'epoch001'/'config.json').write_text(json.dumps({'train_config': {}, 'config': CFG}))
    return d


@pytest.fixture(scope='module')
def model(files): return load_model(files/'with_config.pth', device='cpu')


FRAMES = torch.zeros(2, 32, 32, 3, dtype=torch.uint8)
E2 = torch.tensor([[1., 0.], [0., 1.]])

CASES = {   # name: (call(model, files), exception, what the message must say)
    'class_names a str': (lambda m, f: zero_shot_classify(m, FRAMES, 'ball'), TypeError, "class_names is one string ('ball')"),
    'templates a str': (lambda m, f: m.zero_shot_classify(FRAMES, ['ball'], 'a {}'), TypeError, 'templates is one string'),
    'class_names empty': (lambda m, f: m.zero_shot_classify(FRAMES, []), ValueError, 'class_names is empty'),
    'temperature 0 (classify)': (lambda m, f: m.zero_shot_classify(FRAMES, ['ball', 'cup'], temperature=0), ValueError,
                                 'temperature must be a positive number, got 0'),
    'temperature 0': (lambda m, f: probabilities(E2, E2, temperature=0), ValueError, 'got 0'),
    'temperature < 0': (lambda m, f: m.probabilities(E2, E2, temperature=-0.05), ValueError, 'got -0.05'),
    'temperature nan': (lambda m, f: probabilities(E2, E2, temperature=math.nan), ValueError, 'got nan'),
    'temperature inf': (lambda m, f: probabilities(E2, E2, temperature=math.inf), ValueError, 'got inf'),
    'similarity of other sizes': (lambda m, f: similarity(E2, torch.ones(3, 5)), ValueError, '(2, 2) and (3, 5)'),
    'zero frames': (lambda m, f: m.encode_video(torch.zeros(0, 32, 32, 3, dtype=torch.uint8)), ValueError, 'T ≥ 1'),
    'zero frames in a batch': (lambda m, f: m.encode_video(torch.zeros(3, 0, 32, 32, 3, dtype=torch.uint8)), ValueError, 'T ≥ 1'),
    'no videos': (lambda m, f: m.encode_video([]), ValueError, 'empty list of videos'),
    'float frames': (lambda m, f: m.encode_video(FRAMES.float()), ValueError, 'expected uint8 frames'),
    'NaN weights': (lambda m, f: load_model(f/'nan.pth'), ValueError, "nan.pth: 1 tensor(s) hold NaN or inf values, first 'vid_proj.0.weight'"),
    'inf weights': (lambda m, f: load_model(f/'inf.pth'), ValueError, "first 'txt_proj.1.bias'"),
    'weights without config': (lambda m, f: load_model(f/'weights_only.pth'), ValueError, 'weights_only.pth: holds weights only'),
    'num_frames 0': (lambda m, f: load_model(f/'with_config.pth', num_frames=0), ValueError, 'num_frames: expected an integer >= 1, got 0'),
}

@pytest.mark.parametrize('case', list(CASES))
def test_bad_call_is_a_clear_error(case, model, files):
    call, exc, says = CASES[case]
    with pytest.raises(exc) as e: call(model, files)
    assert says in str(e.value), str(e.value)


def test_probabilities_are_softmax_of_cosine_over_tau():
    "Hand-computed: cosines (1, 0) → softmax(1/τ, 0): 1/(1+e^-20) at τ = 0.05, 1/(1+e^-1) = 0.7311 at τ = 1."
    a, b = torch.tensor([[2., 0.]]), torch.tensor([[3., 0.], [0., 0.5]])    # not unit length: cosines are still (1, 0)
    assert similarity(a, b).tolist() == [[1., 0.]]
    assert TEMPERATURE == 0.05
    p = probabilities(a, b)
    assert abs(p[0, 0].item() - 1 / (1 + math.exp(-20))) < 1e-7 and abs(p.sum().item() - 1) < 1e-6
    assert abs(probabilities(a, b, temperature=1.0)[0, 0].item() - 0.7310586) < 1e-6


def test_one_class_name_in_a_list_works(model):
    out = model.zero_shot_classify(FRAMES, ['ball'])
    assert out['probs'].shape == (1, 1) and out['topk'][0][0][0] == 'ball'


def test_model_best_finds_its_runs_config(files):
    "A run folder's model_best.pth (no config beside it) takes the architecture of checkpoints/latest/config.json."
    m = load_model(files/'run'/'model_best.pth', device='cpu')
    assert m.num_frames == 2 and m.spec.projection_dim == 16


def test_text_over_512_tokens_warns_with_the_count(model, caplog):
    text = f'{uuid.uuid4().hex} ' + 'cup ' * 700                 # unique: the warning is given once per text
    with caplog.at_level(logging.WARNING, logger='egovlp.textvideo'):
        e = model.encode_text([text, 'a cup'])
    assert e.shape == (2, 16)
    msg = ' '.join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert '1 text(s) longer than' in msg and '512 tokens' in msg and text[:20] in msg, msg


def test_import_egovlp_is_light_and_offers_load_model():
    code = ("import sys, egovlp; assert 'torch' not in sys.modules, 'import egovlp imported torch'; "
            "from egovlp.inference import load_model, EgoVLP; assert egovlp.load_model is load_model and egovlp.EgoVLP is EgoVLP; "
            "import egovlp.launch; assert egovlp.launch.mini_pretrained; print('ok')")
    r = subprocess.run([sys.executable, '-c', code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**__import__('os').environ, 'PYTHONPATH': str(ROOT)})
    assert r.returncode == 0 and r.stdout.strip() == 'ok', r.stderr[-2000:]
