#!/usr/bin/env bash
# The main job on the embedded default, end to end, in a few minutes on 2 cores:
#   system packages → release build → FP teacher (count task) → ternary QAT with KD and with TI-G
#   → convergence comparison → per-example Hessian extremes (Figure 5 method) and a small
#   landscape with and without intervention → every figure rendered into figures/.
# Budgets are trimmed for the demo (QAT: 1 epoch; landscape: 11×11, 96 examples); the recipes
# next to this script run the full-size versions of each figure.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs/demo}
FIGURES=${FIGURES:-figures}
SEED=${SEED:-1}

bash notebooks-cli/install-deps.sh
swift build -c release --product tianalyze 2>&1 | tail -n 1
T=.build/release/tianalyze

# 1. The full-precision teacher (trained from scratch; skipped when it already exists).
if [ ! -f "$RUNS/teacher-count/model.safetensors" ]; then
  $T finetune --runs "$RUNS" --seed "$SEED"
fi

# 2. Ternary QAT: TernaryBERT's KD and two-step TI-G, same budget and learning rate, in parallel
#    (one core each). A finished run is reused.
for m in KD TI-G; do
  [ -f "$RUNS/qat-count-$m-seed$SEED/student/model.safetensors" ] || \
    $T qat --runs "$RUNS" --mode "$m" --epochs 1 --seed "$SEED" --threads 1 --quiet &
done
wait
$T compare --runs "$RUNS" --modes KD,TI-G --seeds "$SEED" --epochs 1 --quiet

# 3. Hessian of the task loss of each student: top eigenvalue on 64 dev examples and, per dev
#    example (batch size 1), the largest and most negative eigenvalue (the paper's Figure 5).
for m in KD TI-G; do
  $T hessian --runs "$RUNS" --mode "$m" --samples 64 --top-k 1 --trace-probes 10 --lanczos-steps 16 \
    --per-example 24 --quiet
done

# 4. Loss landscape at the freshly quantized teacher: KD (no intervention) against MI, CI and OI.
$T landscape --runs "$RUNS" --compare KD,MI,CI,OI --grid 11 --eval-size 96 --quiet

# 5. Figures (PNG + SVG).
$T plot --runs "$RUNS" --modes KD,TI-G --out "$FIGURES"
echo "demo: figures in $FIGURES/, runs in $RUNS/"
