#!/usr/bin/env bash
# Does the sensitivity allocation help? On the embedded default, for two budgets (3 and 4 bits per
# quantized weight), the HAWQ-V2 allocation of `tianalyze sensitivity` (ternary/2/3/4/8 bits per
# tensor, chosen on the FP teacher's Hessian traces) against uniform precision of the same size:
#   PTQ  the teacher quantized at those precisions (8-bit activations), no training: `eval --quant-config`
#   QAT  one short KD run per seed (1 epoch, 25 steps, on an 800-example rendering of the task, dev
#        500 examples of it; --step-one 1 leaves out the dense early evaluations): `qat --quant-config`
# Seeds 1 2 3 for QAT (PTQ has no random draw). Writes $OUT/summary.md (mean ± sample sd, min–max).
source "$(dirname "$0")/common.sh"
OUT=${OUT:-$RUNS/sensitivity-study}
TRAIN=${TRAIN:-800}
DEV=${DEV:-500}
SEEDS=${SEEDS:-"1 2 3"}
mkdir -p "$OUT"; rm -f "$OUT/results.csv.new"   # a rerun appends afresh (finished QAT runs are reused)

# sensitivity trains the teacher on demand. The short QAT reads a smaller rendering of the same
# task; its runs are filed under <task>-text, whose teacher is the embedded task's own.
$T render-task --task "$TASK" --out "$OUT/data" --train-size "$TRAIN" --dev-size "$DEV" > /dev/null
[ -e "$RUNS/teacher-$TASK-text" ] || ln -s "teacher-$TASK" "$RUNS/teacher-$TASK-text"

# uniform.json <allocation.json> <precision>: the same tensors, every one at <precision>.
uniform() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p=sys.argv[2]
for b in d["blocks"]: b["precision"] = p if p == "ternary" else int(p)
json.dump(d, sys.stdout, indent=1)' "$1" "$2"
}

for bits in 3 4; do
  s="$OUT/sensitivity-avg$bits"
  [ -f "$s/allocation.json" ] ||
    $T sensitivity --runs "$RUNS" --task "$TASK" --mode FP --avg-bits "$bits" --eigen-iter 0 --trace-probes 60 --out "$s" > "$s.log"
  uniform "$s/allocation.json" "$bits" > "$OUT/uniform-$bits.json"
  for cfg in "mixed-$bits:$s/allocation.json" "uniform-$bits:$OUT/uniform-$bits.json"; do
    name=${cfg%%:*} file=${cfg#*:}
    $T eval --runs "$RUNS" --task "$TASK" --checkpoint "$RUNS/teacher-$TASK" --quant-config "$file" \
      | awk -v n="$name" '/^headline/ { print n ",ptq,0," $3 }' >> "$OUT/results.csv.new"
    for seed in $SEEDS; do
      $T qat --runs "$RUNS" --task "$TASK" --data-dir "$OUT/data" --mode KD --epochs 1 --step-one 1 --eval-every 1000 --seed "$seed" \
        --quant-config "$file" --out "$OUT/qat-$name-seed$seed" > /dev/null
      python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print("%s,qat,%s,%.6f" % (sys.argv[2], sys.argv[3], m["summary"]["finalDevMetric"]))' \
        "$OUT/qat-$name-seed$seed/metadata.json" "$name" "$seed" >> "$OUT/results.csv.new"
    done
  done
done
{ echo "config,stage,seed,dev_accuracy"; cat "$OUT/results.csv.new"; } > "$OUT/results.csv" && rm "$OUT/results.csv.new"

python3 - "$OUT" <<'PY' > "$OUT/summary.md"
import csv, json, os, statistics, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/results.csv")))
print("| budget | precision | size (bytes) | Σ Ω | PTQ: dev acc. | QAT: dev acc. mean ± sd | QAT: min–max | QAT seeds |")
print("|---|---|---|---|---|---|---|---|")
for bits in (3, 4):
    f = f"{out}/sensitivity-avg{bits}/allocation.json"
    if not os.path.exists(f):
        print(f"| {bits} bits/weight | not measured | | | | | | |"); continue
    alloc = json.load(open(f))
    uni = next(u for u in alloc["uniform"] if str(u["precision"]) == str(bits))
    mix = {}
    for b in alloc["blocks"]: mix[str(b["precision"])] = mix.get(str(b["precision"]), 0) + 1
    label = ", ".join(f"{n}×{p}" for p, n in sorted(mix.items()))
    for name, what, size, omega in ((f"mixed-{bits}", f"allocated ({label})", alloc["bytes"], alloc["totalOmega"]),
                                    (f"uniform-{bits}", f"uniform {bits}-bit", uni["bytes"], uni["omega"])):
        ptq = [float(r["dev_accuracy"]) for r in rows if r["config"] == name and r["stage"] == "ptq"]
        qat = [float(r["dev_accuracy"]) for r in rows if r["config"] == name and r["stage"] == "qat"]
        sd = statistics.stdev(qat) if len(qat) > 1 else float("nan")
        q = f"{statistics.mean(qat):.4f} ± {sd:.4f}" if qat else "not measured"
        mm = f"{min(qat):.4f}–{max(qat):.4f}" if qat else ""
        p = f"{ptq[0]:.4f}" if ptq else "not measured"
        print(f"| {bits} bits/weight | {what} | {size} | {omega:.4g} | {p} | {q} | {mm} | {len(qat)} |")
PY
cat "$OUT/summary.md"
