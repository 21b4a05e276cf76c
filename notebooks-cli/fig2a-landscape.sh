#!/usr/bin/env bash
# Figure 2a (smoothing): 2-D loss contours on [-0.5, 0.5]² around the freshly quantized teacher,
# full precision vs TernaryBERT's KD loss vs KD with teacher intervention (MI, CI, OI), all on the
# same filter-normalized directions and evaluation set. 41×41 points, resumable: rerun to continue.
source "$(dirname "$0")/common.sh"
$T landscape --runs "$RUNS" --task "$TASK" --compare FP,KD,MI,CI,OI --at init --grid 41 --range=-0.5:0.5 --seed "$SEED" \
  --out "$RUNS/landscape-$TASK-fig2a"
$T plot --runs "$RUNS" --task "$TASK" --out figures/fig2a
