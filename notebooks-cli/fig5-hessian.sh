#!/usr/bin/env bash
# Figure 5: histograms of the positive and negative maximum Hessian eigenvalues, one per dev
# example (batch size 1), TernaryBERT (KD) vs TI-G, with the paper's loss (task CE + 0.01·Σ‖θ‖₂),
# plus the global top-3 eigenvalues, trace and spectral density over the dev set.
source "$(dirname "$0")/common.sh"
for m in KD TI-G; do
  $T hessian --runs "$RUNS" --task "$TASK" --mode "$m" --seed "$SEED" --norm-penalty 0.01 \
    --full --samples 512 --density --per-layer --per-example 200
done
$T plot --runs "$RUNS" --task "$TASK" --modes KD,TI-G --out figures/fig5
