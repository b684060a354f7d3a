#!/usr/bin/env python
"""Fine-tune EgoVLP on a downstream task; the config's `dataset_name` picks the task (EPIC-MIR, Charades-Ego, OSCC, PNR).

    python scripts/finetune.py -c configs/mini/epic.json                         # mini-EPIC on this machine (the demo)
    accelerate launch --num_processes 8 scripts/finetune.py -c configs/ft/epic.json
"""
from egovlp.launch import finetune_cli

if __name__ == '__main__': raise SystemExit(finetune_cli())
