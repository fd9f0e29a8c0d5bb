#!/usr/bin/env bash
# GPU checks: AMP (bf16, fp16) steps without NaN, DDP with NCCL on every GPU (torchrun),
# training throughput of crnn-small and svtr-lcnet, eval parity CUDA vs CPU.
# Writes benchmarks/results/gpu_check.json (see benchmarks/gpu_check.py).
# Usage: benchmarks/gpu_check.sh [--steps N] [--words N] [--work DIR]   (PYTHON: the interpreter)
# Exit status: 0 all checks passed, 1 a check failed, 2 no CUDA device (one line on stderr).
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${PYTHON:-python3}" -m benchmarks.gpu_check "$@"
