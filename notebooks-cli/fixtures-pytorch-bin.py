#!/usr/bin/env python3
"""Regenerates the pytorch_model.bin fixtures used by TIDataTests (PyTorchCheckpointTests) and
TICoreTests (PyTorchCheckpointLoadTests) with torch.save itself.

Usage: python notebooks-cli/fixtures-pytorch-bin.py [outdir]
Needs: pip install torch transformers safetensors numpy
Outputs (default Tests/TIDataTests/Fixtures/pytorch/):
  tiny-bert-bin/          config.json + pytorch_model.bin: a tiny BertForSequenceClassification
                          state_dict (zip format) plus TinyBERT's extra fit_dense tensors and an
                          int64 embeddings.position_ids buffer, as older checkpoints carry
  tiny-bert-safetensors/  config.json + model.safetensors: the same tensors via safetensors
  tiny-bert-logits.json   transformers' float32 logits of that model on fixed token ids
  tiny-bert-legacy/       config.json + pytorch_model.bin: the same state_dict in torch's legacy
                          (pre-1.6, non-zip) format with LayerNorm gamma/beta names, as 2019 exports
  tiny-bert-proto4.bin    the same state_dict pickled with protocol 4
  tiny-bert-f16.bin / .safetensors, tiny-bert-bf16.bin / .safetensors   half-precision copies
  views.bin / views.safetensors   non-contiguous views (transpose, slices with storage
                          offsets, permuted 3-D) sharing one storage, and their contiguous values
  parameters.bin          a dict of nn.Parameter (torch._utils._rebuild_parameter)
  evil-os-system.bin, evil-eval.bin   a tensor next to an object whose __reduce__ names
                          os.system / builtins.eval: the reader must refuse them (never run)
"""
import collections
import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import BertConfig, BertForSequenceClassification

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TIDataTests", "Fixtures", "pytorch")
os.makedirs(out, exist_ok=True)
torch.manual_seed(20260517)

config = BertConfig(vocab_size=40, hidden_size=8, num_hidden_layers=2, num_attention_heads=2,
                    intermediate_size=16, max_position_embeddings=16, type_vocab_size=2, num_labels=3,
                    hidden_act="gelu")
model = BertForSequenceClassification(config).eval()
# Random init draws LayerNorm weights of exactly 1 and biases of 0; perturb everything so a
# swapped or dropped tensor changes the logits.
with torch.no_grad():
    for p in model.parameters():
        p.add_(torch.randn_like(p) * 0.5)

state = model.state_dict()
state["bert.embeddings.position_ids"] = torch.arange(16, dtype=torch.int64).expand((1, -1))
# TinyBERT's distillation projection from student to teacher width, absent from BertModel.
state["fit_dense.weight"] = torch.randn(12, 8)
state["fit_dense.bias"] = torch.randn(12)


def save_dir(name, weights_name, writer):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    config.to_json_file(os.path.join(d, "config.json"))
    writer(os.path.join(d, weights_name))


save_dir("tiny-bert-bin", "pytorch_model.bin", lambda p: torch.save(state, p))
contiguous = {k: v.contiguous() for k, v in state.items()}
save_dir("tiny-bert-safetensors", "model.safetensors", lambda p: save_file(contiguous, p, metadata={"format": "pt"}))
# As a 2019 export would have it: legacy container, LayerNorm parameters named gamma/beta.
legacy = collections.OrderedDict(
    (k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"), v) for k, v in state.items())
save_dir("tiny-bert-legacy", "pytorch_model.bin",
         lambda p: torch.save(legacy, p, _use_new_zipfile_serialization=False))
torch.save(state, os.path.join(out, "tiny-bert-proto4.bin"), pickle_protocol=4)

ids = torch.tensor([[2, 7, 13, 39, 5, 3, 0, 0], [2, 21, 4, 3, 9, 17, 11, 3]])
types = torch.tensor([[0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 1]])
mask = torch.tensor([[1, 1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]])
with torch.no_grad():
    logits = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits
with open(os.path.join(out, "tiny-bert-logits.json"), "w") as fh:
    json.dump({"input_ids": ids.tolist(), "token_type_ids": types.tolist(), "attention_mask": mask.tolist(),
               "logits": logits.tolist()}, fh, indent=1)

for tag, dtype in [("f16", torch.float16), ("bf16", torch.bfloat16)]:
    half = {k: v.to(dtype) for k, v in model.state_dict().items()}
    torch.save(half, os.path.join(out, f"tiny-bert-{tag}.bin"))
    save_file(half, os.path.join(out, f"tiny-bert-{tag}.safetensors"))

# Views of one storage: the .bin keeps offsets and strides, the .safetensors holds what they mean.
base = torch.arange(60, dtype=torch.float32).reshape(6, 10) / 8 - 3
views = {
    "base": base,
    "transposed": base.t(),
    "row": base[2],
    "block": base[1:4, 3:8],
    "column": base[:, 7],
    "stepped": base[::2, 1::3],
    "permuted": base.reshape(3, 4, 5).permute(2, 0, 1),
    "empty": base[:, 4:4],
    "scalar": base[3, 3],
}
torch.save(views, os.path.join(out, "views.bin"))
save_file({k: v.contiguous().clone() for k, v in views.items()}, os.path.join(out, "views.safetensors"))

params = {"weight": torch.nn.Parameter(torch.randn(3, 4)), "bias": torch.nn.Parameter(torch.randn(3), requires_grad=False)}
torch.save(params, os.path.join(out, "parameters.bin"))
save_file({k: v.detach() for k, v in params.items()}, os.path.join(out, "parameters.safetensors"))


class Evil:
    """Pickles as a call of `target`; torch.load(weights_only=False) would run it."""

    def __init__(self, target, argument):
        self.target, self.argument = target, argument

    def __reduce__(self):
        return (self.target, (self.argument,))


torch.save({"w": torch.ones(2), "x": Evil(os.system, "echo pwned")}, os.path.join(out, "evil-os-system.bin"))
torch.save({"w": torch.ones(2), "x": Evil(eval, "1+1")}, os.path.join(out, "evil-eval.bin"))
print("wrote fixtures to", os.path.abspath(out))
