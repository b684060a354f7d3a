#!/usr/bin/env bash
# The 8-GPU node run (issue 20), in one device call of kind nvidia-h200-x8: the real trainer + loader on 8 GPUs,
# the same on 1 GPU (scaling efficiency), and ddp_match 8 vs 1 process at the same global batch (fp32 and bf16).
# Needs .whl (PyAV, the tokenizer vocab in .benchdata/pkgs) and the encoded base pieces in .benchdata/bases, as
# h200_e2e.sh. NVLink multicast stays off (NCCL_NVLS_ENABLE=0) in every launch.
set -u
[ -d .whl ] && python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
export PYTHONPATH=$PWD:$PWD/.benchdata/pkgs:${PYTHONPATH:-} PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
OUT=${OUT:-/tmp/out}; mkdir -p $OUT /tmp/bp; cp -r .benchdata/bases /tmp/bp/bases
N=${N:-8}; BATCH=${BATCH:-128}; STEPS=${STEPS:-600}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee $OUT/machine.txt; nproc | tee -a $OUT/machine.txt
# every clip from its own file: 8 GPUs x 15 workers read 128 distinct 600-s chunks
DATA="--root /tmp/bp --scenes 4 --videos 128 --chunk-sec 600 --clips 400000 --mcq 200"
timeout 420 accelerate launch --multi_gpu --num_processes $N --main_process_port 29500 benchmarks/pretrain.py $DATA \
    --steps $STEPS --batch $BATCH --workers 15 2>&1 | grep -v "INFO - epoch" | tee $OUT/node.txt | tail -n 5
timeout 300 python3 benchmarks/pretrain.py $DATA --steps 300 --batch $BATCH --workers 15 2>&1 | grep -v "INFO - epoch" | tee $OUT/one.txt | tail -n 5
for P in no bf16; do
  timeout 200 accelerate launch --num_processes 1 benchmarks/ddp_match.py --global-batch 64 --steps 30 --precision $P --out $OUT/m1_$P.json >/dev/null 2>&1
  timeout 200 accelerate launch --multi_gpu --num_processes $N benchmarks/ddp_match.py --global-batch 64 --steps 30 --precision $P --out $OUT/m8_$P.json >/dev/null 2>&1
  python3 benchmarks/ddp_match.py --compare $OUT/m1_$P.json $OUT/m8_$P.json
done
