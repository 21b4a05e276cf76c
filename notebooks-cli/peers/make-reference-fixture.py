#!/usr/bin/env python3
"""Regenerates Tests/ReferenceTests/Fixtures/: a tiny BERT checkpoint, one batch and what the
PyTorch peers compute on them in float64, for the reference tests (the spirit of llm.c's
test_gpt2.c: a committed model, batch, loss and gradients that the implementation must reproduce).

Usage: <venv>/bin/python notebooks-cli/peers/make-reference-fixture.py [outdir]
Needs: torch, transformers, safetensors, numpy (notebooks-cli/setup-peers.sh makes such a venv).
Deterministic: every draw comes from numpy's PCG64 with SEED, and torch runs in float64 with one
thread, so the same versions rewrite the same bytes.

Objectives (tianalyze's BertObjective with ObjectiveSpec; the peer's spec in brackets):
  FP       task cross-entropy, no quantization              transformers' BertForSequenceClassification
                                                             (checked against tbert.PeerBert, which must agree)
  ternary  task cross-entropy, ternary W8A8                 tbert.PeerBert {quantized}
  KD       TernaryBERT KD terms, ternary W8A8               tbert {quantized, distillation}
  MI/CI/OI KD terms under the intervention, ternary W8A8   tbert {quantized, distillation, intervention}
The student (a perturbed copy of the teacher) is the point θ for every objective; the teacher is
the full-precision model whose trace KD and the interventions read.

Per objective: the loss and its terms, the gradient with respect to every parameter tensor, and
H·v along one fixed v, where H is the Hessian of the straight-through stand-in loss (tbert's STEs
have zero second derivative, so double back-propagation gives exactly that Hessian).

MI and the 8-bit step: tianalyze dequantizes as x̂ = round(x·s)·(max/127); the peer's default is
round(x·s)/s, one ulp away. Under MI the context is a product of two already-quantized tensors
(teacher probabilities and V), so its values lie on a lattice and that ulp can decide exact
rounding ties of the next quantizer. The fixture is made with tianalyze's formula
(tbert.MULTIPLY_BY_STEP = True) for every objective. The script also
- recomputes each quantized objective with the peer's default formula and records how far that
  moves loss and gradient ("stepFormulaEffect"; it refuses more than 1e-12: on this batch MI moves
  by 3e-16, so no tie is decided by that ulp);
- records how far every quantizer input lies from a decision boundary (rounding half-points, the
  ±2.5 clips, the ternary threshold Δ), in ulps ("marginsUlps"), and refuses a fixture where one
  lies closer than MIN_MARGIN_ULPS: there a one-ulp difference in summation order between torch
  and tianalyze could flip a decision, and no tolerance would be honest.

Files (arrays in safetensors, scalars in JSON):
  config.json                 HF BertConfig
  teacher.safetensors         F32 teacher weights (HF names); the values are float32 numbers,
  student.safetensors         so they are exact in float64, where everything is computed
  batch.safetensors           I64 input_ids, token_type_ids, attention_mask [B, T], labels [B]
  expected.safetensors        F32 "v"; F64 "<objective>.gradient" and "<objective>.hv", each the
                              concatenation of the parameter tensors in expected.json's "layout"
  expected.json               layout (HF names, shapes, offsets), per-objective loss and terms,
                              decision margins, the FP peer-vs-transformers agreement, and the
                              extreme eigenvalues of each objective's dense Hessian (double backward)
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tbert  # noqa: E402
from tbert import PeerBert, Objective  # noqa: E402

SEED = 20240615
# Hidden 8 keeps the fixture (12 float64 vectors of every parameter) under 300 KB.
CONFIG = {
    "architectures": ["BertForSequenceClassification"], "model_type": "bert",
    "vocab_size": 40, "hidden_size": 8, "num_hidden_layers": 2, "num_attention_heads": 2,
    "intermediate_size": 16, "max_position_embeddings": 16, "type_vocab_size": 2,
    "hidden_act": "gelu", "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "initializer_range": 0.02, "pad_token_id": 0,
    "position_embedding_type": "absolute", "problem_type": "single_label_classification",
    "num_labels": 3,
}
BATCH, SEQ = 4, 8
LENGTHS = (8, 7, 5, 3)       # real tokens per example; the rest is padding (mask 0, id 0)
STUDENT_NOISE = 0.15         # student = teacher + N(0, 0.15²): every KD term and intervention non-zero
MIN_MARGIN_ULPS = 1e6        # nearest decision boundary, in ulps of the compared value
OBJECTIVES = {
    "FP": {"quantized": False, "distillation": False, "intervention": None},
    "ternary": {"quantized": True, "distillation": False, "intervention": None},
    "KD": {"quantized": True, "distillation": True, "intervention": None},
    "MI": {"quantized": True, "distillation": True, "intervention": "MI"},
    "CI": {"quantized": True, "distillation": True, "intervention": "CI"},
    "OI": {"quantized": True, "distillation": True, "intervention": "OI"},
}
ULP = 2.0 ** -52


def layout(cfg):
    """(name, shape) in HF's named_parameters order (tianalyze's flat layout uses the same)."""
    h, f, out = cfg["hidden_size"], cfg["intermediate_size"], []
    out += [("bert.embeddings.word_embeddings.weight", (cfg["vocab_size"], h)),
            ("bert.embeddings.position_embeddings.weight", (cfg["max_position_embeddings"], h)),
            ("bert.embeddings.token_type_embeddings.weight", (cfg["type_vocab_size"], h)),
            ("bert.embeddings.LayerNorm.weight", (h,)), ("bert.embeddings.LayerNorm.bias", (h,))]
    for l in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}"
        for m in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            out += [(f"{p}.{m}.weight", (h, h)), (f"{p}.{m}.bias", (h,))]
        out += [(f"{p}.attention.output.LayerNorm.weight", (h,)), (f"{p}.attention.output.LayerNorm.bias", (h,)),
                (f"{p}.intermediate.dense.weight", (f, h)), (f"{p}.intermediate.dense.bias", (f,)),
                (f"{p}.output.dense.weight", (h, f)), (f"{p}.output.dense.bias", (h,)),
                (f"{p}.output.LayerNorm.weight", (h,)), (f"{p}.output.LayerNorm.bias", (h,))]
    out += [("bert.pooler.dense.weight", (h, h)), ("bert.pooler.dense.bias", (h,)),
            ("classifier.weight", (cfg["num_labels"], h)), ("classifier.bias", (cfg["num_labels"],))]
    return out


def teacher_weights(rng, cfg):
    """Spread chosen so the quantizers have work: matrices N(0, 0.6²) with 3 % of entries pushed
    past the ±2.5 weight clip (their STE mask is 0), LayerNorm gains 1 + N(0, 0.3²) so normalized
    activations cross the ±2.5 activation clip, embeddings N(0, 0.8²)."""
    out = {}
    for name, shape in layout(cfg):
        if name.endswith("LayerNorm.weight"):
            w = 1.0 + 0.3 * rng.standard_normal(shape)
        elif name.endswith(".bias"):
            w = 0.1 * rng.standard_normal(shape)
        elif "embeddings" in name:
            w = 0.8 * rng.standard_normal(shape)
        else:
            w = 0.6 * rng.standard_normal(shape)
            far = rng.random(shape) < 0.03
            w[far] = np.sign(w[far]) * rng.uniform(2.6, 3.2, size=int(far.sum()))
        out[name] = torch.from_numpy(w.astype(np.float32))
    return out


def make_batch(rng, cfg):
    """[CLS]-like id 2 first, then ids in [3, vocab); the second half of each example is segment 1."""
    tokens = np.zeros((BATCH, SEQ), dtype=np.int64)
    types = np.zeros_like(tokens)
    mask = np.zeros_like(tokens)
    for b, n in enumerate(LENGTHS):
        tokens[b, 0] = 2
        tokens[b, 1:n] = rng.integers(3, cfg["vocab_size"], size=n - 1)
        mask[b, :n] = 1
        types[b, (n + 1) // 2:n] = 1
    labels = rng.integers(0, cfg["num_labels"], size=BATCH).astype(np.int64)
    return tuple(torch.from_numpy(x) for x in (tokens, types, mask, labels))


# ------------------------------------------------------------------ decision margins

class Margins:
    """The nearest decision boundary of every quantizer call, in ulps of the value compared."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.m = {"rounding": math.inf, "activationClip": math.inf, "ternaryThreshold": math.inf, "weightClip": math.inf}

    def note(self, key, dist_ulps):
        if dist_ulps.numel():
            self.m[key] = min(self.m[key], float(dist_ulps.min()))


MARGINS = Margins()
_act8, _ternary = tbert.act8_ste, tbert.ternary_ste


def act8_watched(x):
    with torch.no_grad():
        a = x.abs()
        MARGINS.note("activationClip", (a - tbert.CLIP).abs() / (tbert.CLIP * ULP))
        c = x.clamp(-tbert.CLIP, tbert.CLIP)
        m = c.abs().max()
        if m > 0:
            t = (c * (127.0 / m)).abs()
            MARGINS.note("rounding", ((t - t.floor()) - 0.5).abs() / (t.clamp(min=1) * ULP))
    return _act8(x)


def ternary_watched(w, per_row):
    with torch.no_grad():
        a = w.abs()
        MARGINS.note("weightClip", (a - tbert.CLIP).abs() / (tbert.CLIP * ULP))
        c = a.clamp(max=tbert.CLIP)
        delta = 0.7 * (c.mean(dim=1, keepdim=True) if per_row else c.mean())
        MARGINS.note("ternaryThreshold", ((c - delta).abs() / (delta * ULP)).reshape(-1))
    return _ternary(w, per_row)


tbert.act8_ste, tbert.ternary_ste = act8_watched, ternary_watched


# ------------------------------------------------------------------ the peers

def grads_and_hv(loss, params, v):
    """∇L and H·v by double back-propagation; parameters the loss does not reach get zeros."""
    g = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    live = [i for i, x in enumerate(g) if x is not None and x.requires_grad]
    hl = torch.autograd.grad([g[i] for i in live], params, grad_outputs=[v[i] for i in live], allow_unused=True)
    zero = lambda xs: [torch.zeros_like(p) if x is None else x.detach() for x, p in zip(xs, params)]
    return zero(g), zero(hl)


def peer_objective(name, cfg, teacher, student, batch, v_named):
    MARGINS.reset()
    s = PeerBert(cfg, student, torch.float64)
    t = PeerBert(cfg, teacher, torch.float64)
    obj = Objective(s, t, OBJECTIVES[name], batch)
    terms = obj.terms()
    params = list(s.parameters())
    g, hv = grads_and_hv(terms["total"], params, [v_named[n] for n in s.names])
    scalars = {k: float(x.detach()) for k, x in terms.items() if not k.startswith("_")}
    margins = dict(MARGINS.m) if OBJECTIVES[name]["quantized"] else {}
    return scalars, dict(zip(s.names, g)), dict(zip(s.names, hv)), margins


def hessian_extremes(name, cfg, teacher, student, batch):
    """The dense Hessian of the objective by double back-propagation, one row per parameter, and its
    extreme eigenvalues (LAPACK through torch): the reference for the refined Ritz values."""
    s = PeerBert(cfg, student, torch.float64)
    t = PeerBert(cfg, teacher, torch.float64)
    params = list(s.parameters())
    loss = Objective(s, t, OBJECTIVES[name], batch).terms()["total"]
    g = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    flat_g = torch.cat([torch.zeros(p.numel()) if x is None else x.reshape(-1) for x, p in zip(g, params)])
    rows = []
    for i in range(flat_g.numel()):
        if not flat_g[i].requires_grad:
            rows.append(torch.zeros(flat_g.numel()))
            continue
        r = torch.autograd.grad(flat_g[i], params, retain_graph=True, allow_unused=True)
        rows.append(torch.cat([torch.zeros(p.numel()) if x is None else x.reshape(-1) for x, p in zip(r, params)]))
    h = torch.stack(rows)
    asymmetry = float((h - h.T).abs().max() / h.abs().max())
    assert asymmetry < 1e-12, f"{name}: the double-backward Hessian is not symmetric ({asymmetry})"
    w = torch.linalg.eigvalsh((h + h.T) / 2)
    top = w[w.abs().argmax()]
    return {"largestMagnitude": float(top), "largestAlgebraic": float(w[-1]), "smallestAlgebraic": float(w[0])}


def transformers_fp(cfg, student, batch, v_named):
    """FP through transformers itself (eager attention: the math kernel has double backward)."""
    from transformers import BertConfig, BertForSequenceClassification
    m = BertForSequenceClassification(BertConfig(**cfg, attn_implementation="eager")).to(torch.float64).eval()
    own = dict(m.named_parameters())
    assert set(own) == set(student), f"transformers' parameters differ: {sorted(set(own) ^ set(student))}"
    with torch.no_grad():
        for n, p in own.items():
            p.copy_(student[n].to(torch.float64))
    tokens, types, mask, labels = batch
    loss = m(input_ids=tokens, token_type_ids=types, attention_mask=mask, labels=labels).loss
    names = list(own)
    g, hv = grads_and_hv(loss, [own[n] for n in names], [v_named[n] for n in names])
    value = float(loss.detach())
    return {"task": value, "total": value}, dict(zip(names, g)), dict(zip(names, hv))


def max_rel(a, b):
    a = torch.cat([x.reshape(-1) for x in a]) if isinstance(a, list) else a
    b = torch.cat([x.reshape(-1) for x in b]) if isinstance(b, list) else b
    return float((a - b).abs().max() / b.abs().max())


def flat(named, lay):
    return torch.cat([named[n].reshape(-1).to(torch.float64) for n, _ in lay])


# ------------------------------------------------------------------ main

def make_inputs():
    """Teacher, student, batch and v, all drawn from SEED in this order."""
    rng = np.random.default_rng(SEED)
    lay = layout(CONFIG)
    teacher = teacher_weights(rng, CONFIG)
    student = {n: (w.double() + STUDENT_NOISE * torch.from_numpy(rng.standard_normal(tuple(w.shape)))).float()
               for n, w in teacher.items()}
    batch = make_batch(rng, CONFIG)
    v32 = torch.from_numpy(rng.standard_normal(sum(math.prod(s) for _, s in lay)).astype(np.float32))
    v_named, off = {}, 0
    for n, s in lay:
        v_named[n] = v32[off:off + math.prod(s)].double().view(*s)
        off += math.prod(s)
    return lay, teacher, student, batch, v32, v_named


def reference(name, lay, teacher, student, batch, v_named, expected):
    """One objective's entry of expected.json and its gradient and H·v, flat in `lay` order."""
    spec = OBJECTIVES[name]
    peer_cfg = {k: CONFIG[k] for k in ("hidden_size", "num_attention_heads", "num_hidden_layers", "layer_norm_eps")}
    scalars, g, hv, margins = peer_objective(name, peer_cfg, teacher, student, batch, v_named)
    source = "tbert.PeerBert"
    if name == "FP":
        import transformers
        hf_scalars, hf_g, hf_hv = transformers_fp(CONFIG, student, batch, v_named)
        agreement = {"loss": abs(hf_scalars["total"] - scalars["total"]) / abs(hf_scalars["total"]),
                     "gradient": max_rel(flat(g, lay), flat(hf_g, lay)), "hv": max_rel(flat(hv, lay), flat(hf_hv, lay))}
        assert max(agreement.values()) < 1e-12, f"the peer's FP disagrees with transformers: {agreement}"
        expected["fpPeerVsTransformers"] = agreement
        expected["transformers"] = transformers.__version__
        scalars, g, hv, source = hf_scalars, hf_g, hf_hv, "transformers.BertForSequenceClassification"
    if spec["quantized"]:
        # The same objective with the peer's default x̂ = round(x·s)/s: how much the one-ulp
        # step formula moves this batch (large only if some rounding tie were decided by it).
        tbert.MULTIPLY_BY_STEP = False
        alt, alt_g, _, _ = peer_objective(name, peer_cfg, teacher, student, batch, v_named)
        tbert.MULTIPLY_BY_STEP = True
        effect = {"loss": abs(alt["total"] - scalars["total"]) / abs(scalars["total"]),
                  "gradient": max_rel(flat(alt_g, lay), flat(g, lay))}
        assert max(effect.values()) < 1e-12, f"{name}: the 8-bit step formula changes the numbers: {effect}"
        expected["stepFormulaEffect"][name] = effect
    for key, ulps in margins.items():
        assert ulps > MIN_MARGIN_ULPS, f"{name}: a quantizer input lies {ulps:.3g} ulps from its {key} boundary; change SEED"
    g, hv = flat(g, lay).contiguous(), flat(hv, lay).contiguous()
    entry = {"spec": spec, "peer": source, "loss": scalars["total"], "terms": scalars, "marginsUlps": margins,
             "gradientNorm": float(g.norm()), "hvNorm": float(hv.norm()),
             "hessian": hessian_extremes(name, peer_cfg, teacher, student, batch)}
    print(f"{name:8s} loss {entry['loss']:.12g}  ‖g‖ {entry['gradientNorm']:.6g}  ‖Hv‖ {entry['hvNorm']:.6g}  "
          "margins (ulps) " + ", ".join(f"{k} {x:.2g}" for k, x in margins.items()), flush=True)
    return entry, g, hv


def write_fixture(out, teacher, student, batch, arrays, expected):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2, sort_keys=True)
        f.write("\n")
    meta = {"format": "pt"}
    save_file({n: w.contiguous() for n, w in teacher.items()}, os.path.join(out, "teacher.safetensors"), metadata=meta)
    save_file({n: w.contiguous() for n, w in student.items()}, os.path.join(out, "student.safetensors"), metadata=meta)
    save_file(dict(zip(("input_ids", "token_type_ids", "attention_mask", "labels"), batch)),
              os.path.join(out, "batch.safetensors"))
    save_file(arrays, os.path.join(out, "expected.safetensors"))
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(out, x)) for x in os.listdir(out))
    print(f"wrote {out} ({total / 1024:.1f} KB)")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "Tests", "ReferenceTests", "Fixtures"))
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    tbert.MULTIPLY_BY_STEP = True  # tianalyze's x̂ = round(x·s)·(max/127); see the header

    lay, teacher, student, batch, v32, v_named = make_inputs()
    expected = {"layout": [], "objectives": {}, "multiplyByStep": True, "stepFormulaEffect": {}, "seed": SEED,
                "torch": torch.__version__}
    off = 0
    for n, s in lay:
        expected["layout"].append({"name": n, "shape": list(s), "offset": off})
        off += math.prod(s)
    arrays = {"v": v32}
    for name in OBJECTIVES:
        entry, arrays[f"{name}.gradient"], arrays[f"{name}.hv"] = reference(name, lay, teacher, student, batch, v_named, expected)
        expected["objectives"][name] = entry
    write_fixture(out, teacher, student, batch, arrays, expected)


if __name__ == "__main__":
    main()
