#!/usr/bin/env bash
# Figures 2b / 4b: per-layer MSE of the attention-block and layer outputs against the teacher at
# the end of QAT, TernaryBERT (KD) vs the TI modes. Full budget (3 epochs), same lr for all.
source "$(dirname "$0")/common.sh"
for m in KD MI CI OI TI-G; do $T qat --runs "$RUNS" --task "$TASK" --mode "$m" --seed "$SEED"; done
$T plot --runs "$RUNS" --task "$TASK" --modes KD,MI,CI,OI,TI-G --out figures/fig2b
