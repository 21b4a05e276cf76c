#!/usr/bin/env bash
# Figures 3c and 4a: dev metric and training loss vs iteration for KD, TI-M (MI), TI-O (OI) and
# TI-G, with the end of step 1 marked and the FP teacher's metric as a line; plus the comparison
# table over three seeds (steps to 99 % of FP, steps to fixed probe-loss thresholds, step-1 jump).
source "$(dirname "$0")/common.sh"
$T compare --runs "$RUNS" --task "$TASK" --modes QAT,KD,MI,OI,TI-G --seeds 1,2,3
$T plot --runs "$RUNS" --task "$TASK" --modes KD,MI,OI,TI-G --out figures/fig3c-4a
