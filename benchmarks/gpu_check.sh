#!/usr/bin/env bash
# The GPU check in one call (benchmarks/gpu_check.py says what it runs and needs):
# tests/test_gpu.py, then MMoE and PLE throughput at batch 1024 and 8192 on 1M rows,
# eager and compiled; writes benchmarks/results/gpu-check-cuda.{json,md} in under
# 6 minutes on one H100. Downloads nothing. Options go to gpu_check.py, e.g.
# "--device cpu --n-samples 4000 --batch-size 512" to try its path on a CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python}" -m benchmarks.gpu_check "$@"
