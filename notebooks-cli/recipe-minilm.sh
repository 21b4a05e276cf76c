#!/usr/bin/env bash
# End-to-end on a real pre-trained model: all-MiniLM-L6-v2 (6 layers, hidden 384, 22.7M
# parameters) fine-tuned on one GLUE task as the FP teacher, then ternary QAT (KD against TI-G),
# convergence comparison, Hessian spectra and loss landscapes of the students, and figures.
#
#   GLUE_DIR=/path/to/glue_data TASK=rte bash notebooks-cli/recipe-minilm.sh
#
# GLUE_DIR is the usual glue_data folder (glue_data/RTE/train.tsv, ...) or one task's folder; it is
# not downloaded here. TASK is a GLUE task name as tianalyze spells it: cola, sst2, mrpc, stsb, qqp,
# mnli, qnli, rte, wnli. Without GLUE_DIR the recipe renders the embedded `count` task as GLUE-format
# text (symbols a…t, which are real WordPiece tokens) and runs the same real loading path on it.
# RTE (2.5k training pairs) keeps every step within hours on 2 cores; SST-2, QNLI, QQP and MNLI are
# 20–150× larger.
set -euo pipefail
cd "$(dirname "$0")/.."
TASK=${TASK:-rte}
MAX_LEN=${MAX_LEN:-128}
SEED=${SEED:-1}
RUNS=${RUNS:-runs/minilm}
FIGURES=${FIGURES:-figures/minilm-$TASK}
THREADS=${THREADS:-2}

# 0. The model: config.json, model.safetensors, tokenizer.json in third_party/minilm/model.
MODEL=$(bash notebooks-cli/fetch-minilm.sh)

# 1. Does tianalyze compute what transformers computes on this checkpoint? The integration test
#    compares all 7 hidden states (Float and Double) with the committed reference statistics; the
#    reference can be regenerated with torch + transformers in a private venv.
if [ "${REGENERATE_REFERENCE:-0}" = 1 ]; then
  [ -x .venv-ref/bin/python ] || { python3 -m venv .venv-ref && .venv-ref/bin/pip install -q torch transformers; }
  .venv-ref/bin/python notebooks-cli/reference-minilm-hidden.py
fi
swift build --build-tests 2>&1 | tail -n 1
swift test --skip-build --filter MiniLMHiddenStateTests 2>&1 | grep -E "max relative error|Executed" | head -n 2

# 2. Release build.
swift build -c release --product tianalyze 2>&1 | tail -n 1
T=.build/release/tianalyze

# The task: real GLUE files, or the embedded task rendered as text.
if [ -n "${GLUE_DIR:-}" ]; then
  GLUE=(--task "$TASK" --data-dir "$GLUE_DIR" --max-seq-length "$MAX_LEN")
  NAME="glue-$TASK"
else
  TASK=count; MAX_LEN=32
  $T render-task --task count --out "$RUNS/count-text"
  GLUE=(--task count --data-dir "$RUNS/count-text" --max-seq-length "$MAX_LEN")
  NAME="count-text"
fi
TEACHER="$RUNS/teacher-$NAME"

# 3. FP teacher: MiniLM + fresh classifier fine-tuned on the task (BERT-style recipe: lr 2e-5 to
#    5e-5, batch 32, 3 epochs; early stopping on dev).
if [ ! -f "$TEACHER/model.safetensors" ]; then
  $T finetune --runs "$RUNS" --seed "$SEED" --threads "$THREADS" --checkpoint "$MODEL" "${GLUE[@]}" \
    --lr 5e-5 --epochs 3 --batch-size 32
fi

# 4. Ternary QAT with KD and with TI-G, same budget and learning rate.
for m in KD TI-G; do
  [ -f "$RUNS/qat-$NAME-$m-seed$SEED/student/model.safetensors" ] || \
    $T qat --runs "$RUNS" --mode "$m" "${GLUE[@]}" --epochs 3 --batch-size 32 \
      --seed "$SEED" --threads "$THREADS" --quiet
done
$T compare --runs "$RUNS" "${GLUE[@]}" --modes KD,TI-G --seeds "$SEED" --epochs 3 --quiet  #

# 5. Hessian of the task loss at each student (f32: the f64 HVP of a 22.7M-parameter model costs
#    twice the memory and time): top eigenvalue, trace, Figure-5 per-example extremes on 32 dev
#    examples.
for m in KD TI-G; do
  $T hessian --runs "$RUNS" "${GLUE[@]}" --mode "$m" --seed "$SEED" \
    --precision f32 --samples 128 --batch-size 16 --top-k 1 --trace-probes 10 --lanczos-steps 20 --per-example 32 \
    --threads "$THREADS" --quiet
done

# 6. Landscape at the freshly quantized teacher, KD against MI, CI, OI (resumable; add
#    --shard i/n on several machines and merge).
$T landscape --runs "$RUNS" "${GLUE[@]}" --at init --compare KD,MI,CI,OI --grid 15 --eval-size 128 \
  --threads "$THREADS" --quiet

# 7. Figures.
$T plot --runs "$RUNS" "${GLUE[@]}" --modes KD,TI-G --out "$FIGURES"
echo "recipe-minilm: figures in $FIGURES/, runs in $RUNS/"
