#!/usr/bin/env python3
"""Reference token ids and tensor samples for the real all-MiniLM-L6-v2 checkpoint, used by the
TIDataTests MiniLM test when notebooks-cli/fetch-minilm.sh has populated third_party/minilm/model.

Usage: bash notebooks-cli/fetch-minilm.sh && python notebooks-cli/fixtures-minilm.py
Needs: pip install tokenizers safetensors numpy
Writes Tests/TIDataTests/Fixtures/minilm/expected.json.
"""
import json
import os

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
model = os.path.join(root, "third_party", "minilm", "model")
out = os.path.join(root, "Tests", "TIDataTests", "Fixtures", "minilm")
os.makedirs(out, exist_ok=True)

cases = [
    ("The quick brown fox jumps over the lazy dog.", None, 32),
    ("Unbelievably, the hypothesis wasn't entailed by the premise!", None, 32),
    ("Héllo naïve café — résumé of Ångström's 3.14159 results", None, 32),
    ("中文字符 and 日本語のテキスト with émojis 😀", None, 32),
    ("A man is playing a flute.", "A man plays the flute.", 24),
    ("How do I learn Swift quickly and well without spending money on courses?",
     "What is the best free way to learn the Swift programming language?", 20),
    ("[MASK] tokens stay whole", "", 16),
    ("", None, 8),
]
tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
encodings = []
for a, b, n in cases:
    tok.enable_truncation(n)
    tok.enable_padding(length=n, pad_id=0, pad_token="[PAD]")
    e = tok.encode(a, b) if b is not None else tok.encode(a)
    encodings.append({"a": a, "b": b, "max_length": n, "ids": e.ids, "type_ids": e.type_ids,
                      "mask": e.attention_mask, "tokens": e.tokens})

tensors = load_file(os.path.join(model, "model.safetensors"))
samples = {}
for name in ["embeddings.word_embeddings.weight", "encoder.layer.5.output.dense.weight",
             "embeddings.LayerNorm.weight", "pooler.dense.bias"]:
    t = tensors[name]
    samples[name] = {"first": [float(x) for x in t.reshape(-1)[:8]],
                     "sum": float(t.astype(np.float64).sum())}
samples["embeddings.position_ids"] = {"first": [float(x) for x in tensors["embeddings.position_ids"].reshape(-1)[:8]],
                                      "sum": float(tensors["embeddings.position_ids"].astype(np.float64).sum())}
with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as fh:
    json.dump({"encodings": encodings, "tensor_count": len(tensors), "samples": samples}, fh, ensure_ascii=False, indent=1)
print("wrote", os.path.join(out, "expected.json"))
for e in encodings:
    print(e["tokens"])
