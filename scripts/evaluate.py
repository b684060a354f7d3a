#!/usr/bin/env python
"""Evaluate a checkpoint on a downstream task; the config's `dataset_name` picks the task.

    python scripts/evaluate.py -c configs/mini/charades.json                     # zero-shot mini-Charades-Ego (the demo)
    accelerate launch scripts/evaluate.py -c configs/eval/epic.json --set arch.args.load_checkpoint=pretrained/egovlp_mir.pth
"""
from egovlp.launch import evaluate_cli

if __name__ == '__main__': raise SystemExit(evaluate_cli())
