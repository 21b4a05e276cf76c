#!/usr/bin/env bash
# Creates the git-ignored virtual environment .venv-peers/ with the peer stack that
# compare-peers.sh measures tianalyze against: CPU-only PyTorch, transformers, PyHessian and
# loss-landscapes. Not part of the README set-up nor of .ci/run. Idempotent; prints the python path.
#
# torch: a local +cpu wheel is preferred when pip's find-links has one (this machine kind ships
# it), which avoids pulling the multi-GB CUDA build from PyPI; otherwise PyTorch's CPU index is
# not reachable here, so plain PyPI torch is the fallback.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${PEERS_VENV:-$ROOT/.venv-peers}"
PY="$VENV/bin/python"
STAMP="$VENV/.peers-ready"

if [ -x "$PY" ] && [ -f "$STAMP" ]; then
    echo "$PY"
    exit 0
fi

python3 -m venv "$VENV"
"$PY" -m pip install --quiet --upgrade pip >&2 || true

TORCH_SPEC="torch"
if ls /opt/wheels/torch-*+cpu-*.whl >/dev/null 2>&1; then
    TORCH_SPEC="$(ls /opt/wheels/torch-*+cpu-*.whl | sort | tail -n 1)"
fi
"$PY" -m pip install --quiet "$TORCH_SPEC" >&2
# pyhessian 0.1 and loss-landscapes 3.0.6 are pure Python and pin nothing that conflicts;
# safetensors comes with transformers.
"$PY" -m pip install --quiet "transformers" "pyhessian==0.1" "loss-landscapes==3.0.6" "numpy" >&2
"$PY" - <<'PYEOF' >&2
import torch, transformers, pyhessian, loss_landscapes
print("peers: torch", torch.__version__, "transformers", transformers.__version__)
PYEOF
touch "$STAMP"
echo "$PY"
