#!/usr/bin/env python
"""EgoVLP features for Ego4D NLQ (VSLNet, CONE) and MQ (VSGN): one .pt per clip + feature_shapes.json (+ text features).

    python scripts/extract_features.py -c configs/mini/nlq.json
    accelerate launch scripts/extract_features.py -c configs/eval/nlq.json --split all --set arch.args.load_checkpoint=pretrained/egovlp.pth
"""
from egovlp.episodic import extract_cli

if __name__ == '__main__': extract_cli()
