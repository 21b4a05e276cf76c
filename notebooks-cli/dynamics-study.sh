#!/usr/bin/env bash
# Curvature and roughness over training (docs/dynamics.md): KD and TI-G over 3 seeds on each embedded
# task, every run tracked (top eigenvalue every K steps and at the phase boundaries, trajectory
# saved), the KD-loss surface around every student over 5 direction pairs, one table per task
# (runs/dynamics-<task>.md), and the trajectory landscape of the first seed's KD and TI-G runs
# side by side (they share θ₀). Resumable: rerunning continues where it stopped.
#   bash notebooks-cli/dynamics-study.sh                      # count pair-count pair-distance
#   TASKS=count SEEDS=1,2 bash notebooks-cli/dynamics-study.sh
source "$(dirname "$0")/common.sh"
TASKS=${TASKS:-count pair-count pair-distance}
SEEDS=${SEEDS:-1,2,3}
GRID=${GRID:-9}
EPOCHS=${EPOCHS:-1}   # the docs' table; the default QAT budget is 3
K=${K:-125}
for task in $TASKS; do
  $T dynamics --runs "$RUNS" --task "$task" --modes KD,TI-G --seeds "$SEEDS" --epochs "$EPOCHS" \
    --track-curvature "$K" --grid "$GRID" --eval-size 64
  first=${SEEDS%%,*}
  $T landscape --runs "$RUNS" --task "$task" --mode KD --objective task --directions trajectory \
    --run "$RUNS/qat-$task-KD-seed$first,$RUNS/qat-$task-TI-G-seed$first" --grid "$GRID" --eval-size 64 \
    --out "$RUNS/landscape-$task-trajectory"
done
