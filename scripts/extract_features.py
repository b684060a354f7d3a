#!/usr/bin/env python
"""EgoVLP features for Ego4D NLQ (VSLNet, CONE) and MQ (VSGN, ActionFormer): <save_feats>/video/<clip_uid>.pt,
feature_shapes.json, extraction.json (+ text/ for NLQ). Exits 0 on success, 1 with one error line.

    python scripts/extract_features.py -c configs/mini/nlq_features.json
    accelerate launch scripts/extract_features.py -c configs/eval/nlq.json --split all --checkpoint pretrained/egovlp.pth
"""
import sys
from egovlp.launch import extract_features_cli

if __name__ == '__main__': sys.exit(extract_features_cli())
