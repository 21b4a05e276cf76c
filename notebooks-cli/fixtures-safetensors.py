#!/usr/bin/env python3
"""Regenerates the safetensors fixtures used by TIDataTests with the reference library.

Usage: python notebooks-cli/fixtures-safetensors.py [outdir]
Needs: pip install safetensors numpy ml_dtypes
Outputs (default Tests/TIDataTests/Fixtures/safetensors/):
  st_f32.safetensors   F32 tensors incl. a scalar and an empty tensor, with metadata
  st_f16.safetensors   F16 special values + their exact F32 decoding ("*_expected")
  st_bf16.safetensors  BF16 special values + their exact F32 decoding
  st_int.safetensors   I64 and I8 tensors
  half_rounding.json   float32 bit patterns -> numpy float16 / ml_dtypes bfloat16 bits
"""
import json
import os
import sys

import ml_dtypes
import numpy as np
from safetensors.numpy import save_file

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "Tests", "TIDataTests", "Fixtures", "safetensors")
os.makedirs(out, exist_ok=True)

save_file({
    "bias": np.array([0.5, -1.25, 3.0], dtype=np.float32),
    "empty": np.zeros((0, 4), dtype=np.float32),
    "scalar": np.array(7.5, dtype=np.float32),
    "weight": np.arange(6, dtype=np.float32).reshape(2, 3) / 4 - 0.5,
}, os.path.join(out, "st_f32.safetensors"), metadata={"format": "pt"})

specials = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 6.103515625e-05, 5.960464477539063e-08,
                     3.0e-05, np.inf, -np.inf, np.nan, 0.1, 1 / 3, -1e-7], dtype=np.float32)
h = specials.astype(np.float16)
save_file({"h": h.reshape(2, 7), "h_expected": h.astype(np.float32).reshape(2, 7)},
          os.path.join(out, "st_f16.safetensors"), metadata={"kind": "half"})

bspecials = np.array([0.0, -0.0, 1.0, -2.5, 3.0e38, 1e-40, 9.2e-41, np.inf, -np.inf, np.nan,
                      0.1, 1 / 3, 65504.0, -1e-7], dtype=np.float32)
b = bspecials.astype(ml_dtypes.bfloat16)
save_file({"b": b, "b_expected": b.astype(np.float32)},
          os.path.join(out, "st_bf16.safetensors"), metadata={"kind": "bfloat"})

save_file({
    "ids": np.array([[0, 1], [-5, 2**40]], dtype=np.int64),
    "codes": np.array([-128, -1, 0, 1, 127], dtype=np.int8),
}, os.path.join(out, "st_int.safetensors"), metadata={"quant": "int8", "bits": "8"})

# Rounding cases: edge patterns (ties, overflow, subnormal boundaries) plus random bit patterns.
rng = np.random.default_rng(1234)
edge = np.array([1.0 + 2**-11, 1.0 + 3 * 2**-11, 65519.0, 65520.0, 2**-25, 2**-25 * 1.0000001,
                 3 * 2**-26, 2**-24 * 1.5, 2**-24 * 2.5, 1.0 + 2**-8, 1.0 + 3 * 2**-8,
                 3.4028235e38, -0.0, 1e-45, np.inf, -np.inf], dtype=np.float32)
rand_bits = rng.integers(0, 2**32, size=3000, dtype=np.uint64).astype(np.uint32)
# Bias half the random draws toward the float16 range where rounding matters most.
rand_small = (rng.standard_normal(2000) * np.exp(rng.uniform(-20, 12, 2000))).astype(np.float32)
f = np.concatenate([edge, rand_bits.view(np.float32), rand_small])
f = f[~np.isnan(f)]
with np.errstate(over="ignore"):
    cases = {
        "f32": [int(x) for x in f.view(np.uint32)],
        "f16": [int(x) for x in f.astype(np.float16).view(np.uint16)],
        "bf16": [int(x) for x in f.astype(ml_dtypes.bfloat16).view(np.uint16)],
    }
with open(os.path.join(out, "half_rounding.json"), "w") as fh:
    json.dump(cases, fh)
print("wrote fixtures to", os.path.abspath(out))
