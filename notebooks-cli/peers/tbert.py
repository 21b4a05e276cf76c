"""A PyTorch BertForSequenceClassification with TernaryBERT-style fake quantization and the
Teacher Intervention points, written for this comparison harness from the definitions in the
project's QAT/TI issue (not taken from any reference repository).

Every tensor the distillation losses and the interventions read is returned in a trace, so the
KD/TI losses are plain functions of two traces. Parameters carry HuggingFace names, so a
tianalyze checkpoint (model.safetensors) loads by name and gradients map onto tianalyze's flat
layout by name.

The straight-through estimators are written as `clamp(x) + (q(clamp(x)) - clamp(x)).detach()`:
the forward value is q, the derivative is the clamp's mask, and the second derivative is zero, so
double back-propagation gives the Hessian of the stand-in loss tianalyze defines (quantizer =
mask·x + constant at the base point; detached inputs constant).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

import lattice

CLIP = 2.5
MASKED_SCORE = -10000.0  # tianalyze's (and original BERT's) additive key mask


def ternary_ste(w, per_row):
    """TWN: clamp ±2.5, Δ = 0.7·mean|W|, α = mean |W| over |W| > Δ (per tensor, or per row)."""
    c = w.clamp(-CLIP, CLIP)
    with torch.no_grad():
        a = c.abs()
        if per_row:
            delta = 0.7 * a.mean(dim=1, keepdim=True)
            keep = (a > delta).to(c.dtype)
            alpha = (a * keep).sum(dim=1, keepdim=True) / keep.sum(dim=1, keepdim=True).clamp(min=1)
        else:
            delta = 0.7 * a.mean()
            keep = (a > delta).to(c.dtype)
            alpha = (a * keep).sum() / keep.sum().clamp(min=1)
        q = alpha * torch.sign(c) * keep
    return c + (q - c).detach()


# x̂ = round(x·s)/s as the reference writes it. tianalyze computes round(x·s)·(max/127) instead,
# which differs by one ulp; where inputs lie on a lattice (products of already-quantized tensors)
# that ulp decides exact ties. The comparison flips this switch to show such a disagreement is
# that ulp and nothing else.
MULTIPLY_BY_STEP = False


def act8_ste(x):
    """8-bit symmetric dynamic per tensor: clamp ±2.5, s = 127/max|x|, round half to even."""
    c = x.clamp(-CLIP, CLIP)
    with torch.no_grad():
        m = c.abs().max()
        if m == 0:
            q = torch.zeros_like(c)
        elif MULTIPLY_BY_STEP:
            q = torch.round(c * (127.0 / m)) * (m / 127.0)
        else:
            s = 127.0 / m
            q = torch.round(c * s) / s
    return c + (q - c).detach()


# P̂·V̂ in exact integer arithmetic and O's input rounded by the exact rule (lattice.py), as
# tianalyze defines it; off, the float GEMM's last bit decides exact ties.
EXACT_LATTICE = False


def identity(x):
    return x


class PeerBert(nn.Module):
    WEIGHT_SITES = ("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense", "intermediate.dense", "output.dense")

    def __init__(self, cfg, tensors, dtype):
        super().__init__()
        self.cfg = cfg
        self.names = list(tensors.keys())
        self.params = nn.ParameterList([nn.Parameter(tensors[n].to(dtype).clone()) for n in self.names])
        self.index = {n: i for i, n in enumerate(self.names)}
        self.quantized = False
        self.intervention = None  # None, "MI", "CI" or "OI"
        self.teacher_trace = None

    def p(self, name):
        return self.params[self.index[name]]

    def weight(self, name):
        w = self.p(name)
        if not self.quantized:
            return w
        if name == "bert.embeddings.word_embeddings.weight":
            return ternary_ste(w, per_row=True)
        if name.endswith(".weight") and ("pooler.dense" in name or any(s + ".weight" in name for s in self.WEIGHT_SITES)):
            return ternary_ste(w, per_row=False)
        return w

    def linear(self, x, prefix):
        return F.linear(x, self.weight(prefix + ".weight"), self.p(prefix + ".bias"))

    def layer_norm(self, x, prefix):
        return F.layer_norm(x, (x.shape[-1],), self.p(prefix + ".weight"), self.p(prefix + ".bias"), self.cfg["layer_norm_eps"])

    def forward_trace(self, tokens, types, mask):
        """Evaluation-mode forward (no dropout); returns every internal tensor the losses read."""
        q = act8_ste if self.quantized else identity
        iv, tt = self.intervention, self.teacher_trace
        B, T = tokens.shape
        H, nh = self.cfg["hidden_size"], self.cfg["num_attention_heads"]
        hd = H // nh
        pos = torch.arange(T)
        e = (F.embedding(tokens, self.weight("bert.embeddings.word_embeddings.weight"))
             + self.p("bert.embeddings.position_embeddings.weight")[pos][None]
             + F.embedding(types, self.p("bert.embeddings.token_type_embeddings.weight")))
        x = self.layer_norm(e, "bert.embeddings.LayerNorm")
        trace = {"embeddings": x, "layers": []}
        key_bias = (1.0 - mask.to(x.dtype))[:, None, None, :] * MASKED_SCORE
        for l in range(self.cfg["num_hidden_layers"]):
            pre = f"bert.encoder.layer.{l}"
            xq = q(x)
            in_qk = xq.detach() if iv else xq
            in_v = xq.detach() if iv in ("CI", "OI") else xq
            heads = lambda t: t.view(B, T, nh, hd).transpose(1, 2)
            qh = heads(q(self.linear(in_qk, pre + ".attention.self.query")))
            kh = heads(q(self.linear(in_qk, pre + ".attention.self.key")))
            v = self.linear(in_v, pre + ".attention.self.value")
            scores = qh @ kh.transpose(-1, -2) / math.sqrt(hd) + key_bias
            probs = torch.softmax(scores, dim=-1)
            used = tt["layers"][l]["probs"] if iv == "MI" else probs
            merge = lambda t: t.transpose(1, 2).reshape(B, T, H)
            ctx = merge(q(used) @ heads(q(v)))
            exact = lattice.context(used, heads(v), ctx, merge) if EXACT_LATTICE and self.quantized and iv != "CI" else None
            ctx_q = None
            if exact is not None:
                ctx, ctx_q = exact
            ctx_used = tt["layers"][l]["context"] if iv == "CI" else ctx
            proj = self.linear(q(ctx_used) if ctx_q is None else ctx_q, pre + ".attention.output.dense")
            proj_used = tt["layers"][l]["projected"] if iv == "OI" else proj
            block = self.layer_norm(proj_used + x, pre + ".attention.output.LayerNorm")
            hmid = F.gelu(self.linear(q(block), pre + ".intermediate.dense"))
            out = self.layer_norm(self.linear(q(hmid), pre + ".output.dense") + block, pre + ".output.LayerNorm")
            trace["layers"].append({"scores": scores, "probs": probs, "context": ctx, "projected": proj,
                                    "block": block, "output": out})
            x = out
        pooled = torch.tanh(self.linear(q(x[:, 0]), "bert.pooler.dense"))
        trace["logits"] = self.linear(pooled, "classifier")
        return trace


def kd_terms(s, t, mask):
    """TernaryBERT KD, every weight 1: soft CE of logits; MSE of embedding output and each layer
    output; masked-key MSE of pre-softmax scores (padded keys set to 0 in both, mean over all
    entries); MSE of each attention-block output."""
    logits = -(torch.softmax(t["logits"], -1) * torch.log_softmax(s["logits"], -1)).sum(-1).mean()
    hidden = F.mse_loss(s["embeddings"], t["embeddings"])
    scores = s["logits"].new_zeros(())
    blocks = s["logits"].new_zeros(())
    keep = mask.to(s["logits"].dtype)[:, None, None, :]
    for ls, lt in zip(s["layers"], t["layers"]):
        hidden = hidden + F.mse_loss(ls["output"], lt["output"])
        scores = scores + F.mse_loss(ls["scores"] * keep, lt["scores"] * keep)
        blocks = blocks + F.mse_loss(ls["block"], lt["block"])
    return {"logits": logits, "hidden": hidden, "scores": scores, "attentionBlocks": blocks,
            "total": logits + hidden + scores + blocks}


class Objective(nn.Module):
    """One batch's loss as a module whose forward returns the scalar: PyHessian calls
    criterion(model(inputs), targets), so criterion is the identity on the loss."""

    def __init__(self, student, teacher, spec, batch):
        super().__init__()
        self.student = student
        self.spec = spec
        self.tokens, self.types, self.mask, self.labels = batch
        self.student.quantized = spec["quantized"]
        self.student.intervention = spec.get("intervention")
        if spec["distillation"] or spec.get("intervention"):
            with torch.no_grad():
                teacher.quantized = False
                teacher.intervention = None
                self.teacher = teacher.forward_trace(self.tokens, self.types, self.mask)
        else:
            self.teacher = None
        self.student.teacher_trace = self.teacher

    def terms(self):
        s = self.student.forward_trace(self.tokens, self.types, self.mask)
        if self.spec["distillation"]:
            out = kd_terms(s, self.teacher, self.mask)
        else:
            task = F.cross_entropy(s["logits"], self.labels)
            out = {"task": task, "total": task}
        out["_logits"] = s["logits"]
        return out

    def forward(self, _inputs=None):
        return self.terms()["total"]
