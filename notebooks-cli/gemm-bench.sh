#!/usr/bin/env bash
# Builds notebooks-cli/gemm-bench.c and runs it: sgemm GFLOP/s of OpenBLAS, BLIS and oneDNN at the model's
# shapes, single-threaded and with 2 threads. The libraries are loaded at run time, so none is needed to build.
# Usage: notebooks-cli/gemm-bench.sh [--reps N] [--threads N] [--block-ms MS] [--single-only | --multi-only] [--model NAME]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${TMPDIR:-/tmp}/tianalyze-gemm-bench"
bash "$here/install-deps.sh" --gemm-backends
cc -O2 -std=c11 -Wall -Wextra -o "$out" "$here/gemm-bench.c" -ldl -lm
echo "# $(date -u '+%Y-%m-%d %H:%M UTC'); $(lscpu | sed -n 's/^Model name: *//p'); $(nproc) CPUs"
echo "# load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# AVX2/FMA/AVX-512 flags: $(grep -m1 -o -w -E 'avx2|fma|avx512[a-z_]*' /proc/cpuinfo | sort -u | tr '\n' ' ')"
exec "$out" "$@"
