#!/usr/bin/env bash
# The Teacher Intervention paper's experiment on your own model and GLUE data:
#
#   bash notebooks-cli/recipe-ti-glue.sh MODEL_DIR GLUE_DIR TASK
#
# MODEL_DIR  a HuggingFace BERT folder (config.json + model.safetensors or pytorch_model.bin + vocab.txt
#            or tokenizer.json): a pre-trained model to fine-tune into the FP teacher, or, with
#            FINETUNED=1, a model already fine-tuned on TASK (it is then only evaluated).
# GLUE_DIR   the glue_data folder (glue_data/RTE/train.tsv, …) or one task's folder.
# TASK       cola sst2 mrpc stsb qqp mnli qnli rte wnli.
#
# Stages (each timed into $RUNS/recipe-times.csv): FP teacher; ternary QAT with the public TI
# scripts' settings (`--recipe ti`: lr 2e-5, 3 epochs, s = 60 or 120, per-task length and batch,
# per-tensor clipping) for KD, TI-G and the single-point modes; Hessian by the paper's Figure 5
# method (task loss + 0.01·Σ‖θ‖₂, power iteration top 3, 100 iterations, tol 1e-3, one spectrum per
# dev example); the Figure 2a landscape on [−0.5, 0.5]²; every figure.
# Knobs: EPOCHS (QAT budget override), MODES, SEED, THREADS, PER_EXAMPLE, GRID, EVAL_SIZE, RUNS, FIGURES,
# HESSIAN_ARGS (extra hessian flags, e.g. "--samples 64 --max-iter 20" for a first look).
set -euo pipefail
[ $# -eq 3 ] || { sed -n 2,12p "$0" >&2; exit 2; }
MODEL=$(cd "$1" && pwd); GLUE_DIR=$(cd "$2" && pwd); TASK=$3
cd "$(dirname "$0")/.."
bash notebooks-cli/install-deps.sh
swift build -c release --product tianalyze 2>&1 | tail -n 1
T=.build/release/tianalyze
SEED=${SEED:-1}; THREADS=${THREADS:-2}
RUNS=${RUNS:-runs/ti-$TASK}; FIGURES=${FIGURES:-figures/ti-$TASK}
MODES=${MODES:-KD TI-G MI CI OI}
PER_EXAMPLE=${PER_EXAMPLE:-64}; GRID=${GRID:-41}; EVAL_SIZE=${EVAL_SIZE:-256}
# The public scripts' sequence lengths (CoLA, SST-2: 64; the others 128), for every stage alike.
case "$TASK" in cola|sst2) MAXLEN=${MAXLEN:-64} ;; *) MAXLEN=${MAXLEN:-128} ;; esac
DATA=(--task "$TASK" --data-dir "$GLUE_DIR" --max-seq-length "$MAXLEN")
COMMON=(--runs "$RUNS" --seed "$SEED" --threads "$THREADS" --quiet)
QAT_EXTRA=(); [ -n "${EPOCHS:-}" ] && QAT_EXTRA=(--epochs "$EPOCHS")
read -r -a HESSIAN_EXTRA <<< "${HESSIAN_ARGS:-}"
mkdir -p "$RUNS"
TIMES="$RUNS/recipe-times.csv"
[ -f "$TIMES" ] || echo "stage,seconds" > "$TIMES"
stage() {  # stage NAME command...: runs and times one stage
  local name=$1; shift
  local t0=$SECONDS
  "$@"
  echo "$name,$((SECONDS - t0))" >> "$TIMES"
  echo "recipe-ti-glue: $name done in $((SECONDS - t0)) s" >&2
}

# 1. The FP teacher: fine-tuned from MODEL (BERT's usual recipe), or MODEL itself evaluated.
if [ "${FINETUNED:-0}" = 1 ]; then
  # The workspace's teacher folder is teacher-<task name>: glue-<task> for GLUE, count-text for the
  # embedded task rendered as text. The model is copied there as it is and evaluated on dev.
  case "$TASK" in count|pair-count|pair-distance) NAME="$TASK-text" ;; *) NAME="glue-$TASK" ;; esac
  mkdir -p "$RUNS/teacher-$NAME" && cp -R "$MODEL"/. "$RUNS/teacher-$NAME"/
  stage teacher "$T" eval "${COMMON[@]}" "${DATA[@]}" --checkpoint "$RUNS/teacher-$NAME"
else
  stage teacher "$T" finetune "${COMMON[@]}" "${DATA[@]}" --checkpoint "$MODEL" --lr 2e-5 --epochs 3 --batch-size 32
fi

# 2. QAT with the TI recipe for every mode (a rerun resumes or skips finished runs).
for m in $MODES; do
  stage "qat-$m" "$T" qat "${COMMON[@]}" "${DATA[@]}" --recipe ti --mode "$m" "${QAT_EXTRA[@]}"
done

# 3. Hessian, Figure 5's method, at each trained student.
for m in KD TI-G; do
  stage "hessian-$m" "$T" hessian "${COMMON[@]}" "${DATA[@]}" --mode "$m" --objective task --full --max-iter 100 \
    --tol 1e-3 --norm-penalty 0.01 --per-example "$PER_EXAMPLE" --precision f32 ${HESSIAN_EXTRA[@]+"${HESSIAN_EXTRA[@]}"}
done

# 4. Figure 2a: the landscape on [−0.5, 0.5]² at the freshly quantized teacher (TernaryBERT vs TI).
stage landscape "$T" landscape "${COMMON[@]}" "${DATA[@]}" --at init --compare KD,MI,CI,OI --grid "$GRID" --range=-0.5:0.5 --eval-size "$EVAL_SIZE"

# 5. Every figure whose data exists.
stage figures "$T" plot --runs "$RUNS" "${DATA[@]}" --modes "$(echo $MODES | tr ' ' ',')" --out "$FIGURES"
echo "recipe-ti-glue: runs in $RUNS/, figures in $FIGURES/, stage times in $TIMES"
