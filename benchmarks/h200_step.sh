#!/usr/bin/env bash
# One device call on an H200 (issue 19): the training-step sweep (default fast path, bf16 residual stream, the
# original's maths in the same run). Logs and JSON rows go to $OUT. Run from the repository root; the PyAV wheel in
# .whl/ is installed first when present (the device image has no PyAV).
set -u
[ -d .whl ] && python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
export PYTHONPATH=$PWD:${PYTHONPATH:-} PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; echo "cores $(nproc)"
  python3 -c "import torch, transformers, timm, triton; print('torch', torch.__version__, 'transformers', transformers.__version__, 'timm', timm.__version__, 'triton', triton.__version__)"
  date -u; } | tee $OUT/machine.txt
run() { local t=$1; shift; echo "== $*"; timeout $t "$@" 2>&1 | grep -v -E "^\s*$|Warning|warnings.warn" | tail -n 30; }
B=benchmarks/train_step.py
run 230 python3 $B --frames 4 --batch 128,256,384 --modes fast --steps 8 --json $OUT/step4_fast.json
run 130 python3 $B --frames 16 --batch 48,96 --modes fast --steps 6 --json $OUT/step16_fast.json
run 100 python3 $B --frames 4 --batch 256 --modes fast-bf16res --steps 8 --json $OUT/step4_bf16res.json
run 60 python3 $B --frames 4 --batch 32 --modes reference --steps 4 --json $OUT/step4_ref.json
run 60 python3 $B --frames 16 --batch 16 --modes reference --steps 3 --json $OUT/step16_ref.json
echo "== done $(date -u)"
