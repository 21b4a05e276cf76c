#!/usr/bin/env bash
# tianalyze side by side with the PyTorch stack researchers use (transformers, PyHessian, a
# PyTorch landscape loop over the same saved directions), in one run on this machine:
#   - same numbers on the same checkpoint and batches (FP vs transformers; ternary W8A8, KD and
#     MI/CI/OI vs a PyTorch re-implementation in notebooks-cli/peers/tbert.py; top eigenvalue and
#     trace vs PyHessian; landscape points vs the PyTorch loop);
#   - speed ratios measured interleaved, same thread count on both sides.
# Prints one table and writes $OUT/peers.csv, $OUT/speed-ratios.csv and the bar chart
# $OUT/speed-ratios.png (plots/speed-ratios.gp). Not part of .ci/run.
#
#   bash notebooks-cli/compare-peers.sh                 # THREADS=1 GRID=41 ROUNDS=3 by default
#   THREADS=2 GRID=21 bash notebooks-cli/compare-peers.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
THREADS=${THREADS:-1}
GRID=${GRID:-41}
ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-runs}
OUT=${OUT:-$RUNS/peers}
TASK=${TASK:-count}

bash notebooks-cli/install-deps.sh
command -v perf >/dev/null || echo "compare-peers: perf not found (Debian: linux-perf); the BLAS share is left blank" >&2
PY="$(bash notebooks-cli/setup-peers.sh)"
swift build -c release --product tianalyze 2>&1 | tail -n 1
T=.build/release/tianalyze
[ -s "$RUNS/teacher-$TASK/model.safetensors" ] || "$T" finetune --task "$TASK" --runs "$RUNS" --quiet

# The same thread count everywhere: torch.set_num_threads, tianalyze --threads, OpenBLAS and OpenMP pools.
export OPENBLAS_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
# transformers must not look anything up online: the checkpoint is a local folder.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TRANSFORMERS_VERBOSITY=error
"$PY" notebooks-cli/peers/compare.py --tianalyze "$T" --runs "$RUNS" --out "$OUT" --task "$TASK" \
    --threads "$THREADS" --grid "$GRID" --rounds "$ROUNDS" ${COMPARE_ARGS:-} | tee "$OUT.log"
# The chart needs the speed section's rows (skipped with --skip speed: no chart).
if [ "$(wc -l < "$OUT/speed-ratios.csv")" -gt 1 ]; then
  gnuplot -e "datafile='$OUT/speed-ratios.csv'; out='$OUT/speed-ratios.png'; title='tianalyze speed-up over PyTorch ($THREADS thread(s))'; ylabel='peer time / tianalyze time'" \
      plots/speed-ratios.gp
  echo "chart: $OUT/speed-ratios.png"
fi
