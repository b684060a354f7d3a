#!/usr/bin/env python
"""EgoMCQ evaluation of a checkpoint (released EgoVLP files load as they are).

    accelerate launch scripts/eval_egomcq.py -c configs/eval/egomcq.json --set arch.args.load_checkpoint=pretrained/egovlp.pth
"""
from egovlp.launch import eval_egomcq_cli

if __name__ == '__main__': raise SystemExit(eval_egomcq_cli())
