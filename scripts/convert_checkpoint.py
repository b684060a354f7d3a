#!/usr/bin/env python
"""Convert an EgoVLP checkpoint (e.g. the released egovlp.pth, as it is) to a Hub-style folder
(config.json + model.safetensors + tokenizer files), and check that reloading it gives back every tensor.

    python scripts/convert_checkpoint.py pretrained/egovlp.pth hub/egovlp
    # then: egovlp.load_model('hub/egovlp')  or  egovlp.EgoVLP.from_pretrained('hub/egovlp')
"""
import argparse, sys

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument('source', help='released .pth, model_best.pth, trainer checkpoint dir or Hub-style folder')
    p.add_argument('out_dir', help='folder to write config.json, model.safetensors and the tokenizer into')
    p.add_argument('--config', default=None, help='original-format JSON config, if the checkpoint does not say')
    p.add_argument('--num_frames', type=int, default=None, help='temporal slots of the saved model (default: as loaded)')
    a = p.parse_args(argv)
    import torch
    from egovlp.inference import load_model
    try:
        m = load_model(a.source, device='cpu', num_frames=a.num_frames, config=a.config)
        out, sd = m.save_pretrained(a.out_dir), m.state_dict()
        back = load_model(out, device='cpu').state_dict()
    except (OSError, ValueError, TypeError) as e:
        print(f"convert_checkpoint: {e}", file=sys.stderr); return 1
    if not all(torch.equal(v, back[k]) for k, v in sd.items()):
        print(f"convert_checkpoint: {out}: reloading does not give back the same tensors", file=sys.stderr); return 1
    print(f"{a.source} → {out}: {len(sd)} tensors, {sum(v.numel() for v in sd.values())/1e6:.1f}M values, round trip exact")
    return 0

if __name__ == '__main__': sys.exit(main())
