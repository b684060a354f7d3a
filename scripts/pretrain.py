#!/usr/bin/env python
"""EgoVLP pretraining (EgoClip + EgoNCE, validated on EgoMCQ).

    python scripts/pretrain.py                                   # mini-EgoClip on this machine (the demo)
    accelerate launch scripts/pretrain.py -c configs/pt/egoclip.json                       # all local GPUs
    accelerate launch --num_machines 4 --machine_rank $R --main_process_ip $HOST \\
        --num_processes 32 scripts/pretrain.py -c configs/pt/egoclip.json                  # 4 nodes x 8 GPUs
"""
from egovlp.launch import pretrain_cli

if __name__ == '__main__': raise SystemExit(pretrain_cli())
