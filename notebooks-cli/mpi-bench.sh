#!/usr/bin/env bash
# Ranks against threads on this machine, interleaved rounds: 1 process × 1 thread, 1 process × 2
# threads and `mpirun -n 2` × 1 thread, for a QAT step at MiniLM-L6 shapes, a Hessian run of H·v
# products over 256 examples and a 7×7 landscape of the embedded default; plus the time of one
# rank-order sum and one broadcast at the sizes a step moves. Prints a table and writes
# $OUT/mpi-bench.csv. Not part of .ci/run; docs/distributed.md quotes its output.
#
#   ROUNDS=3 bash notebooks-cli/mpi-bench.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${ROUNDS:-3}
RUNS=${RUNS:-runs}
OUT=${OUT:-$RUNS/mpi-bench}
bash notebooks-cli/install-deps.sh
swift build -c release 2>&1 | tail -n 1   # tianalyze and tianalyze-mpi-child
T=.build/release/tianalyze
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT"

# Inputs: the embedded default's teacher; MiniLM with a classifier fine-tuned for one short epoch (only
# the shapes matter for timing) on the embedded task rendered as text, 320 training and 64 dev examples.
[ -s "$RUNS/teacher-count/model.safetensors" ] || "$T" finetune --runs "$RUNS" --task count --quiet
MINILM=$(bash notebooks-cli/fetch-minilm.sh)
TXT="$OUT/count-text"
[ -s "$TXT/train.tsv" ] || "$T" render-task --task count --train-size 320 --dev-size 64 --out "$TXT" > /dev/null
MRUNS="$OUT/minilm-runs"
TEXT=(--task count --data-dir "$TXT" --max-seq-length 32)
[ -s "$MRUNS/teacher-count-text/model.safetensors" ] || \
  "$T" finetune --runs "$MRUNS" "${TEXT[@]}" --checkpoint "$MINILM" --epochs 1 --quiet > /dev/null

CSV="$OUT/mpi-bench.csv"
echo "quantity,configuration,round,seconds" > "$CSV"
launch() {  # launch CONFIG command...: runs the command as CONFIG (p1t1, p1t2, r2t1)
  local cfg=$1; shift
  case $cfg in
    p1t1) "$@" --threads 1 ;;
    p1t2) "$@" --threads 2 ;;
    r2t1) mpirun --oversubscribe -n 2 "$@" --threads 1 ;;
  esac
}
timed() {  # timed QUANTITY CONFIG ROUND command...: wall seconds into the CSV
  local q=$1 cfg=$2 round=$3; shift 3
  local t0 t1
  t0=$(date +%s%N); launch "$cfg" "$@" > /dev/null; t1=$(date +%s%N)
  echo "$q,$cfg,$round,$(awk "BEGIN { print ($t1 - $t0) / 1e9 }")" >> "$CSV"
}
for round in $(seq 1 "$ROUNDS"); do
  for cfg in p1t1 p1t2 r2t1; do
    d="$OUT/qat-$cfg-$round"; rm -rf "$d"
    launch "$cfg" "$T" qat --runs "$MRUNS" "${TEXT[@]}" --mode KD --epochs 2 --batch-size 32 --eval-every 1000 --out "$d" --quiet > /dev/null
    # Per step: the median gap between consecutive steps (steps.csv's cumulative seconds), leaving
    # out the steps that ended with an evaluation (evals.csv: dense over the first steps).
    python3 - "$d" "$cfg" "$round" >> "$CSV" <<'PY'
import csv, os, statistics, sys
rows = list(csv.DictReader(open(os.path.join(sys.argv[1], "steps.csv"))))
evaluated = {int(r["step"]) for r in csv.DictReader(open(os.path.join(sys.argv[1], "evals.csv")))}
gaps = [float(b["seconds"]) - float(a["seconds"]) for a, b in zip(rows, rows[1:]) if int(b["step"]) not in evaluated]
print(f"qat step KD MiniLM (B=32 T=32),{sys.argv[2]},{sys.argv[3]},{statistics.median(gaps):.4f}")
PY
    d="$OUT/hessian-$cfg-$round"; rm -rf "$d"
    timed "hessian 11 HVP over 256 examples" "$cfg" "$round" "$T" hessian --runs "$RUNS" --at init --mode KD --samples 256 \
      --batch-size 32 --top-k 1 --max-iter 10 --tol 1e-12 --lanczos-steps 0 --trace-probes 0 --out "$d" --quiet
    d="$OUT/landscape-$cfg-$round"; rm -rf "$d"
    timed "landscape 7x7 KD" "$cfg" "$round" "$T" landscape --runs "$RUNS" --at init --mode KD --grid 7 --out "$d" --quiet
  done
done
# Collectives alone at a MiniLM gradient (22.7M values) and the default model's (822,536).
for n in 822536 22713216; do
  mpirun --oversubscribe -n 2 .build/release/tianalyze-mpi-child time-sum "$n" 3
done | tee "$OUT/collectives.txt"
python3 - "$CSV" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by.setdefault(r["quantity"], {}).setdefault(r["configuration"], []).append(float(r["seconds"]))
print("| quantity | 1 process × 1 thread | 1 process × 2 threads | mpirun -n 2 × 1 thread | speed-up of 2 ranks | of 2 threads |")
print("|---|---|---|---|---|---|")
for q, c in by.items():
    m = {k: statistics.median(v) for k, v in c.items()}
    print(f"| {q} | {m['p1t1']:.3f} s | {m['p1t2']:.3f} s | {m['r2t1']:.3f} s | {m['p1t1'] / m['r2t1']:.2f}× | {m['p1t1'] / m['p1t2']:.2f}× |")
PY
