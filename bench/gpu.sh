#!/usr/bin/env bash
# The GPU check (one prepared script): on a machine with a CUDA GPU, verify every homework on
# CUDA and CPU with identical verdicts, run the GPU tests, time batch grading on the GPU.
# Prints one summary table and writes it to bench/results/ (or $OUT). Under 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=.venv/bin/python
exec timeout 290 "$PY" bench/gpu_check.py
