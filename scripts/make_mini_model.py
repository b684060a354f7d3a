"""Regenerate the committed mini-EgoClip model, `egovlp/assets/mini_egoclip/` (model.safetensors + meta.json).

It is the model `egovlp.launch.mini_pretrained()` trains: the same resolved `configs/mini/egoclip.json`, pretrained in
a subprocess of its own on the CPU with `MINI_PRETRAIN_THREADS` threads. Committed, it saves every CI run and every
fresh clone the mini pretraining; `mini_pretrained()` uses it only while the key it records equals the key of the
current config (else it trains into the cache as before).

    python scripts/make_mini_model.py            # write the asset from the cache's model of this config (training it if needed)
    python scripts/make_mini_model.py --check    # train afresh into a temporary folder, compare with the committed tensors
"""
import argparse, hashlib, json, sys, tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from egovlp.launch import MINI_ASSET, MINI_PRETRAIN_THREADS, mini_config, train_mini
from egovlp.model import load_checkpoint_file


def sha256(path) -> str: return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_asset(pth: Path, key: str, arch: dict, out: Path = MINI_ASSET) -> Path:
    """The state_dict of `pth` (a model_best.pth) as `out/model.safetensors`, with `out/meta.json` (key, epoch, sha256)
    and `out/config.json` (its `arch` section: `egovlp.load_model` reads the folder like a Hub-style one)."""
    ck = load_checkpoint_file(pth)
    sd = {k: v.contiguous() for k, v in ck['state_dict'].items()}
    out.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(out/'model.safetensors')); (out/'model.safetensors').chmod(0o644)
    meta = dict(key=key, epoch=ck.get('epoch'), monitor_best=ck.get('monitor_best'), sha256=sha256(out/'model.safetensors'),
                threads=MINI_PRETRAIN_THREADS, torch=torch.__version__, config='configs/mini/egoclip.json',
                made_by='scripts/make_mini_model.py')
    (out/'meta.json').write_text(json.dumps(meta, indent=1) + '\n')
    (out/'config.json').write_text(json.dumps({'name': 'MiniEgoClip', 'arch': arch}, indent=1) + '\n')
    return out


def compare(a: dict, b: dict) -> list:
    "The differences between two state_dicts: [] when every tensor is bit-identical."
    diff = [f"only in one: {k}" for k in sorted(set(a) ^ set(b))]
    for k in sorted(set(a) & set(b)):
        if a[k].shape != b[k].shape or a[k].dtype != b[k].dtype: diff.append(f"{k}: {a[k].shape}/{a[k].dtype} vs {b[k].shape}/{b[k].dtype}")
        elif not torch.equal(a[k], b[k]): diff.append(f"{k}: max |diff| {(a[k].double() - b[k].double()).abs().max().item():.3g}")
    return diff


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('--check', action='store_true', help='train afresh and compare with the committed model (exit 1 if not identical)')
    a = p.parse_args(argv)
    cfg, key, portable = mini_config()
    if not a.check:
        out = write_asset(train_mini(cfg, key), portable, cfg['arch'])
        print(f"wrote {out} (key {portable}, {(out/'model.safetensors').stat().st_size / 1e6:.1f} MB)")
        return 0
    meta = json.loads((MINI_ASSET/'meta.json').read_text())
    if meta['key'] != portable:
        print(f"the committed model was trained with another config (key {meta['key']}, now {portable}): run this script without --check")
        return 1
    with tempfile.TemporaryDirectory() as d:
        fresh = write_asset(train_mini(cfg, out=Path(d)/'run'), portable, cfg['arch'], Path(d)/'asset')
        diff = compare(load_file(str(fresh/'model.safetensors')), load_file(str(MINI_ASSET/'model.safetensors')))
    print('\n'.join(diff[:20]) if diff else f"identical: every tensor of {MINI_ASSET.name}/model.safetensors regenerated bit-exactly")
    return 1 if diff else 0


if __name__ == '__main__': sys.exit(main())
