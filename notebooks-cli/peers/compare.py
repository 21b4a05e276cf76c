"""tianalyze against the PyTorch stack (transformers, PyHessian, a PyTorch landscape loop), in one run.

Driven by notebooks-cli/compare-peers.sh. Same numbers: tianalyze's `probe` writes the batches it
used, its loss/logits/gradient/HVP/eigenvalues/trace; this script recomputes each with the peer on
the same checkpoint and batches and prints the differences. Speed: each timing is a median of
repeats inside its own process (no start-up costs), tianalyze and the peer alternating round by
round with the same thread count, so load changes on the shared machine hit both alike.
"""
import argparse
import csv
import glob
import json
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lattice  # noqa: E402
import tbert  # noqa: E402
from tbert import PeerBert, Objective  # noqa: E402

ROWS = []      # (section, quantity, tianalyze, peer, diff_or_ratio, note)
SPEED = []     # (quantity, ratio)


def row(section, quantity, ours, peer, cmp, note=""):
    if not ROWS or ROWS[-1][0] != section:
        print(f" [{section}]")
    ROWS.append((section, quantity, ours, peer, cmp, note))
    print(f"  {quantity:<52} {fmt(ours):>14} {fmt(peer):>14} {fmt(cmp):>12}  {note}", flush=True)


def fmt(x):
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def rel(a, b):
    """‖a − b‖ / ‖b‖ (b the peer), as a float."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def max_rel(a, b):
    """max |a − b| / max |b|: the worst entry against the tensor's scale."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def median_time(fn, repeats):
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


# ---------------------------------------------------------------- tianalyze side

class Tianalyze:
    def __init__(self, binary, runs, threads, perf_dir):
        self.binary, self.runs, self.threads, self.perf_dir = binary, runs, threads, perf_dir
        self.blas_share = {}
        self.int8_share = {}

    def run(self, args, perf_label=None):
        cmd = [self.binary] + args + ["--threads", str(self.threads), "--runs", self.runs, "--quiet"]
        if perf_label and shutil.which("perf"):
            data = os.path.join(self.perf_dir, perf_label + ".perf")
            cmd = ["perf", "record", "-q", "-F", "499", "-o", data, "--"] + cmd
        t = time.perf_counter()
        out = subprocess.run(cmd, check=True, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if perf_label and shutil.which("perf"):
            self.blas_share[perf_label] = blas_share(data)
            self.int8_share[perf_label] = int8_share(data)
        return out.stdout, wall

    def gemm_shares(self, label):
        """'BLAS x%', plus tianalyze's own int8 GEMM (AMX, VNNI or AVX2 kernel) where it ran (it is not in libopenblas)."""
        text = f"BLAS {self.blas_share.get(label, float('nan')):.0%}"
        if self.int8_share.get(label, 0) > 0.005:
            text += f" + int8 GEMM {self.int8_share[label]:.0%}"
        return text + " of tianalyze"

    def probe(self, out, **kw):
        args = ["probe", "--out", out]
        for k, v in kw.items():
            flag = "--" + k.replace("_", "-")
            if v is True:
                args.append(flag)
            elif v is False:
                args.append("--no-" + k.replace("_", "-"))
            else:
                args += [flag, str(v)]
        self.run(args)
        with open(os.path.join(out, "result.json")) as f:
            return json.load(f)

    def bench(self, shape, mode, repeats, perf_label=None):
        extra = ["--no-sgemm"] if perf_label else []  # the profile should see train steps only
        out, _ = self.run(["probe", "--bench", shape, "--mode", mode, "--repeats", str(repeats)] + extra, perf_label)
        return json.loads(out.strip().splitlines()[-1])


def perf_share(perf_data, sort, column, matches):
    """Share of CPU samples (first column) whose `sort` key, in perf report's column `column`,
    satisfies `matches`."""
    rep = subprocess.run(["perf", "report", "-i", perf_data, "--stdio", "--sort", sort, "-q"],
                         capture_output=True, text=True).stdout
    share = 0.0
    for line in rep.splitlines():
        parts = line.split()
        if len(parts) >= max(2, column + 1) and parts[0].endswith("%") and matches(parts[column]):
            share += float(parts[0].rstrip("%")) / 100
    return share


def blas_share(perf_data):
    """Share of CPU samples inside libopenblas (by shared object, the last column)."""
    return perf_share(perf_data, "dso", -1, lambda dso: "openblas" in dso)


def int8_share(perf_data):
    """Share of CPU samples in tianalyze's int8 GEMM and its weight packing (by symbol:
    overhead, [.], symbol, then perf may append more columns)."""
    return perf_share(perf_data, "symbol", 2, lambda sym: sym.startswith(("gemm_amx", "tia_i8_")))


def read_f64(path):
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype="<f8").copy()


def read_directions(path):
    """tianalyze's direction file: magic, UInt32 LE header length, JSON header, Float32 vectors."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"TIDIR01\n", "not a tianalyze direction file"
    (hlen,) = struct.unpack("<I", data[8:12])
    header = json.loads(data[12:12 + hlen])
    payload = np.frombuffer(data[12 + hlen:], dtype="<f4")
    return header, payload.reshape(header["count"], header["dimension"])


def load_batches(path):
    with open(path) as f:
        raw = json.load(f)
    out = []
    for b in raw:
        shape = (b["size"], b["seqLen"])
        out.append((torch.tensor(b["tokens"]).view(shape), torch.tensor(b["tokenTypes"]).view(shape),
                    torch.tensor(b["attentionMask"]).view(shape), torch.tensor(b["labels"])))
    return out


def one_batch(batches):
    assert len(batches) == 1, "the probe runs use one batch (samples = batch size)"
    return batches[0]


# ---------------------------------------------------------------- peer side

def flatten(named_grads, layout, n):
    flat = np.zeros(n)
    for slot in layout:
        g = named_grads.get(slot["name"])
        if g is not None:
            flat[slot["offset"]:slot["offset"] + int(np.prod(slot["shape"]))] = g.detach().double().reshape(-1).numpy()
    return flat


def unflatten(vec, layout, names, dtype):
    by = {s["name"]: s for s in layout}
    out = []
    for n in names:
        s = by[n]
        out.append(torch.tensor(vec[s["offset"]:s["offset"] + int(np.prod(s["shape"]))], dtype=dtype).view(*s["shape"]))
    return out


def load_tensors(ckpt):
    from safetensors.torch import load_file
    return load_file(os.path.join(ckpt, "model.safetensors"))


def hf_model(ckpt, dtype):
    from transformers import BertForSequenceClassification
    try:
        m = BertForSequenceClassification.from_pretrained(ckpt, attn_implementation="eager", dtype=dtype)
    except TypeError:
        m = BertForSequenceClassification.from_pretrained(ckpt, attn_implementation="eager", torch_dtype=dtype)
    return m.to(dtype).eval()


class HFLogits(torch.nn.Module):
    """transformers' model behind PyHessian's model(inputs) → outputs call."""

    def __init__(self, m, batch):
        super().__init__()
        self.m = m
        self.tokens, self.types, self.mask, _ = batch

    def forward(self, _inputs=None):
        return self.m(input_ids=self.tokens, token_type_ids=self.types, attention_mask=self.mask).logits


def grads_of(loss, params, create_graph=False):
    # Under OI, V and O get no gradient at all (their outputs are replaced): zeros, as tianalyze.
    g = torch.autograd.grad(loss, params, create_graph=create_graph, allow_unused=True)
    return [torch.zeros_like(p) if x is None else x for x, p in zip(g, params)]


def pyhessian_top(module, criterion, batch, top_n, tol, max_iter, seed):
    from pyhessian import hessian
    torch.manual_seed(seed)
    # PyHessian reads param.grad after loss.backward(), which accumulates: start from none.
    module.zero_grad(set_to_none=True)
    h = hessian(module, criterion, data=(batch[0], batch[3]), cuda=False)
    t = time.perf_counter()
    vals, _ = h.eigenvalues(maxIter=max_iter, tol=tol, top_n=top_n)
    return vals, time.perf_counter() - t, h


def pyhessian_trace(h, probes, seed):
    torch.manual_seed(seed)
    # tol = −inf: PyHessian's relative-change rule never fires, so exactly `probes` probes are drawn
    # (its default can stop after 2).
    s = h.trace(maxIter=probes, tol=float("-inf"))
    return float(np.mean(s)), float(np.std(s, ddof=1) / math.sqrt(len(s))), len(s)


def peer_with_rule(make_objective, exact, layout, n):
    """The peer's loss and flat gradient with torch's float GEMM (exact=False) or the exact lattice
    rule deciding O's input, and a note counting the exact ties and the codes the float route flips."""
    tbert.EXACT_LATTICE = exact
    lattice.STATS.clear()
    try:
        obj = make_objective()
        loss = obj.terms()["total"]
        g = flatten(dict(zip(obj.student.names, grads_of(loss, list(obj.student.parameters())))), layout, n)
    finally:
        tbert.EXACT_LATTICE = False
    ties, flips = sum(x["ties"] for x in lattice.STATS), sum(x["flips"] for x in lattice.STATS)
    at_ties = sum(x["flipsAtTies"] for x in lattice.STATS)
    return loss.item(), g, f"{ties} exact ties, {flips} codes flipped by the float GEMM ({at_ties} at ties)"


# ---------------------------------------------------------------- sections

def same_numbers(ti, args):
    print("\n== same numbers (float64; tianalyze probe vs the PyTorch peer on the same checkpoint and batch) ==", flush=True)
    torch.set_default_dtype(torch.float64)
    teacher_dir = os.path.join(args.runs, f"teacher-{args.task}")
    common = dict(checkpoint=teacher_dir, task=args.task, samples=args.samples, batch_size=args.samples, precision="f64",
                  seed=1, repeats=1)

    # FP against transformers itself.
    p = ti.probe(os.path.join(args.out, "probe-FP"), mode="FP", objective="task", top_k=1, tol=args.eig_tol,
                 max_iter=args.eig_max_iter, trace_probes=args.trace_probes, landscape_eval_size=args.eval_size, **common)
    layout, n = p["layout"], p["parameterCount"]
    batch = one_batch(load_batches(os.path.join(args.out, "probe-FP", "batches.json")))
    m = hf_model(teacher_dir, torch.float64)
    params = [q for q in m.parameters()]
    names = [k for k, _ in m.named_parameters()]
    out = m(input_ids=batch[0], token_type_ids=batch[1], attention_mask=batch[2], labels=batch[3])
    row("FP", "logits, max |Δ| / max |logit| (transformers)", "", "", max_rel(p["logits"], out.logits.detach()), "goal ≤ 1e-5")
    row("FP", "task loss", p["loss"], out.loss.item(), abs(p["loss"] - out.loss.item()) / abs(out.loss.item()), "relative; goal ≤ 1e-5")
    g = grads_of(out.loss, params, create_graph=True)
    g_peer = flatten(dict(zip(names, g)), layout, n)
    g_ours = read_f64(os.path.join(args.out, "probe-FP", "gradient.f64"))
    row("FP", "gradient ‖Δ‖/‖g‖", float(np.linalg.norm(g_ours)), float(np.linalg.norm(g_peer)), rel(g_ours, g_peer), "goal ≤ 1e-4")
    row("FP", "gradient max |Δ| / max |g|", "", "", max_rel(g_ours, g_peer), "")
    v = read_f64(os.path.join(args.out, "probe-FP", "v.f64"))
    hv_peer = flatten(dict(zip(names, torch.autograd.grad(g, params, grad_outputs=unflatten(v, layout, names, torch.float64)))), layout, n)
    hv_ours = read_f64(os.path.join(args.out, "probe-FP", "hv.f64"))
    row("FP", "HVP along a seeded vector ‖Δ‖/‖Hv‖ (autograd)", float(np.linalg.norm(hv_ours)), float(np.linalg.norm(hv_peer)),
        rel(hv_ours, hv_peer), "finite differences (f64 default scheme) vs double backward")
    # Our own re-implementation in FP against transformers: it is the base of the quantized peer.
    peer = PeerBert(m.config.to_dict(), load_tensors(teacher_dir), torch.float64)
    obj = Objective(peer, None, {"quantized": False, "distillation": False}, batch)
    row("FP", "peer re-implementation logits vs transformers", "", "", max_rel(obj.terms()["_logits"].detach(), out.logits.detach()),
        "max |Δ| / max |logit|")
    vals, secs, h = pyhessian_top(HFLogits(m, batch), F.cross_entropy, batch, 1, args.eig_tol, args.eig_max_iter, 1)
    lam = p["eigenvalues"][0]
    row("FP", "top eigenvalue (PyHessian, transformers eager)", lam, vals[0], abs(lam - vals[0]) / abs(vals[0]),
        f"relative; both tol {args.eig_tol}")
    tr, se, k = pyhessian_trace(h, args.trace_probes, 2)
    t = p["trace"]
    z = (t["mean"] - tr) / math.hypot(t["stderr"], se)
    row("FP", f"trace (Hutchinson, {k} probes each)", f"{t['mean']:.5g} ± {t['stderr']:.2g}", f"{tr:.5g} ± {se:.2g}",
        round(z, 2), "difference in combined std errors")

    # Ternary W8A8 (task loss) and the KD/TI training objectives against the PyTorch re-implementation.
    tensors = load_tensors(teacher_dir)
    cfg = m.config.to_dict()
    cases = [("ternary task", "KD", "task", True), ("KD", "KD", "train", False),
             ("MI", "MI", "train", False), ("CI", "CI", "train", False), ("OI", "OI", "train", False)]
    for label, mode, objective, spectral in cases:
        d = os.path.join(args.out, f"probe-{label.replace(' ', '-')}")
        extra = dict(top_k=1, tol=args.eig_tol, max_iter=args.eig_max_iter, trace_probes=args.trace_probes) if spectral else {}
        p = ti.probe(d, mode=mode, objective=objective, **common, **extra)
        student = PeerBert(cfg, tensors, torch.float64)
        teacher = PeerBert(cfg, tensors, torch.float64)
        spec = {"quantized": True, "distillation": objective == "train",
                "intervention": mode if mode in ("MI", "CI", "OI") else None}
        obj = Objective(student, teacher, spec, batch)
        terms = obj.terms()
        loss = terms["total"]
        row(label, "loss", p["loss"], loss.item(), abs(p["loss"] - loss.item()) / abs(loss.item()), "relative")
        if objective == "train":
            for key in ("logits", "hidden", "scores", "attentionBlocks"):
                a, b = p["terms"][key], terms[key].item()
                row(label, f"  term {key}", a, b, abs(a - b) / max(abs(b), 1e-300), "relative")
        params = list(student.parameters())
        g = grads_of(loss, params, create_graph=True)
        g_peer = flatten(dict(zip(student.names, g)), layout, n)
        g_ours = read_f64(os.path.join(d, "gradient.f64"))
        row(label, "gradient ‖Δ‖/‖g‖", float(np.linalg.norm(g_ours)), float(np.linalg.norm(g_peer)), rel(g_ours, g_peer), "goal ≤ 1e-4")
        if abs(p["loss"] - loss.item()) > 1e-9 * abs(loss.item()):
            # Is it the one-ulp step formula at exact ties? Same peer with tianalyze's x̂ = round(x·s)·(max/127).
            tbert.MULTIPLY_BY_STEP = True
            alt = Objective(PeerBert(cfg, tensors, torch.float64), PeerBert(cfg, tensors, torch.float64), spec, batch)
            la = alt.terms()["total"]
            ga = flatten(dict(zip(alt.student.names, grads_of(la, list(alt.student.parameters())))), layout, n)
            tbert.MULTIPLY_BY_STEP = False
            row(label, "  loss, peer with x̂ = round(x·s)·max/127", p["loss"], la.item(), abs(p["loss"] - la.item()) / abs(la.item()),
                "relative; the ulp at exact ties")
            row(label, "  gradient ‖Δ‖/‖g‖, same", float(np.linalg.norm(g_ours)), float(np.linalg.norm(ga)), rel(g_ours, ga), "")
        # tianalyze computes P̂·V̂ exactly and rounds O's input by the exact rule (lattice.py): the same
        # peer with that rule, and the exact ties its float GEMM resolves otherwise.
        le, ge, counts = peer_with_rule(lambda: Objective(PeerBert(cfg, tensors, torch.float64), PeerBert(cfg, tensors, torch.float64),
                                                          spec, batch), True, layout, n)
        row(label, "  loss, peer with the exact lattice rule", p["loss"], le, abs(p["loss"] - le) / abs(le), "relative; " + counts)
        row(label, "  gradient ‖Δ‖/‖g‖, same", float(np.linalg.norm(g_ours)), float(np.linalg.norm(ge)), rel(g_ours, ge), "")
        v = read_f64(os.path.join(d, "v.f64"))
        # Only the entries with a graph: under OI some gradients are constant zeros.
        live = [i for i, x in enumerate(g) if x.requires_grad]
        vs = unflatten(v, layout, student.names, torch.float64)
        hl = torch.autograd.grad([g[i] for i in live], params, grad_outputs=[vs[i] for i in live], allow_unused=True)
        hv = [torch.zeros_like(q) if x is None else x for x, q in zip(hl, params)]
        hv_peer = flatten(dict(zip(student.names, hv)), layout, n)
        row(label, "HVP ‖Δ‖/‖Hv‖ (autograd through the STE)", float(np.linalg.norm(read_f64(os.path.join(d, "hv.f64")))),
            float(np.linalg.norm(hv_peer)), rel(read_f64(os.path.join(d, "hv.f64")), hv_peer), "")
        if spectral:
            vals, _, h = pyhessian_top(Objective(PeerBert(cfg, tensors, torch.float64), PeerBert(cfg, tensors, torch.float64), spec, batch),
                                       lambda o, _t: o, batch, 1, args.eig_tol, args.eig_max_iter, 1)
            lam = p["eigenvalues"][0]
            row(label, "top eigenvalue (PyHessian)", lam, vals[0], abs(lam - vals[0]) / abs(vals[0]), f"relative; both tol {args.eig_tol}")
            tr, se, k = pyhessian_trace(h, args.trace_probes, 2)
            t = p["trace"]
            z = (t["mean"] - tr) / math.hypot(t["stderr"], se)
            row(label, f"trace (Hutchinson, {k} probes each)", f"{t['mean']:.5g} ± {t['stderr']:.2g}", f"{tr:.5g} ± {se:.2g}",
                round(z, 2), "difference in combined std errors")
    torch.set_default_dtype(torch.float32)
    return cfg, tensors


def trained_students(ti, args):
    """The exact-lattice claim on trained students (where ties are common): for the KD and TI-G
    students of the workspace, the loss and gradient against the peer with torch's float GEMM
    deciding the ties and against the peer with the exact rule, with the ties counted."""
    print("\n== trained students (float64): differences with the peer are the ties its float GEMM resolves otherwise ==", flush=True)
    torch.set_default_dtype(torch.float64)
    teacher_dir = os.path.join(args.runs, f"teacher-{args.task}")
    teacher_tensors = load_tensors(teacher_dir)
    cfg = hf_model(teacher_dir, torch.float64).config.to_dict()
    cases = [("KD", "task", None), ("KD", "train", None), ("TI-G", "task", None), ("TI-G", "train", "MI")]
    for mode, objective, phase in cases:
        label = f"{mode} student, {objective}" + (f" {phase}" if phase else "")
        d = os.path.join(args.out, "probe-trained-" + label.replace(" ", "-").replace(",", ""))
        extra = {"phase": phase} if phase else {}
        # No --checkpoint: the probe resolves (or trains) the workspace's student of this mode.
        p = ti.probe(d, mode=mode, objective=objective, at="trained", task=args.task, samples=args.samples,
                     batch_size=args.samples, precision="f64", seed=1, repeats=1, **extra)
        layout, n = p["layout"], p["parameterCount"]
        batch = one_batch(load_batches(os.path.join(d, "batches.json")))
        student_dir = glob.glob(os.path.join(args.runs, f"qat-{args.task}-{mode}-seed1"))[0]
        student_tensors = load_tensors(os.path.join(student_dir, "student"))
        spec = {"quantized": True, "distillation": objective == "train", "intervention": phase}
        g_ours = read_f64(os.path.join(d, "gradient.f64"))
        for exact in (False, True):
            loss, g, counts = peer_with_rule(lambda: Objective(PeerBert(cfg, student_tensors, torch.float64),
                                                               PeerBert(cfg, teacher_tensors, torch.float64), spec, batch), exact, layout, n)
            rule = "exact lattice rule" if exact else "torch's float GEMM"
            row(label, f"loss, peer with {rule}", p["loss"], loss, abs(p["loss"] - loss) / abs(loss),
                "relative; " + counts if exact else "relative")
            row(label, "  gradient ‖Δ‖/‖g‖, same", float(np.linalg.norm(g_ours)), float(np.linalg.norm(g)), rel(g_ours, g), "")
    torch.set_default_dtype(torch.float32)


def eigen_accuracy(ti, args):
    """Reported top eigenvalues against autograd: the double-backward Rayleigh quotient along the
    eigenvector tianalyze reports, so no power iteration runs on the peer side and only the products
    differ. Also the quotient of one central product along the same vector (the refinement before
    extrapolation)."""
    print("\n== top eigenvalue vs double backward along its own eigenvector (float64) ==", flush=True)
    torch.set_default_dtype(torch.float64)
    teacher_dir = os.path.join(args.runs, f"teacher-{args.task}")
    cfg = hf_model(teacher_dir, torch.float64).config.to_dict()
    cases = [("FP teacher", dict(mode="FP", checkpoint=teacher_dir)), ("KD student, ternary task loss", dict(mode="KD", at="trained"))]
    for label, where in cases:
        d = os.path.join(args.out, "probe-eigen-" + where["mode"])
        p = ti.probe(d, objective="task", top_k=1, tol=args.eig_tol, max_iter=args.eig_max_iter, task=args.task, samples=args.samples,
                     batch_size=args.samples, precision="f64", seed=1, repeats=1, **where)
        layout, n = p["layout"], p["parameterCount"]
        batch = one_batch(load_batches(os.path.join(d, "batches.json")))
        y = read_f64(os.path.join(d, "eigenvector.f64"))
        if where["mode"] == "FP":
            m = hf_model(teacher_dir, torch.float64)
            params, names = list(m.parameters()), [k for k, _ in m.named_parameters()]
            loss = m(input_ids=batch[0], token_type_ids=batch[1], attention_mask=batch[2], labels=batch[3]).loss
        else:
            student_dir = glob.glob(os.path.join(args.runs, f"qat-{args.task}-KD-seed1"))[0]
            tbert.EXACT_LATTICE = True  # the trained student's ties decided as tianalyze decides them
            obj = Objective(PeerBert(cfg, load_tensors(os.path.join(student_dir, "student")), torch.float64), None,
                            {"quantized": True, "distillation": False, "intervention": None}, batch)
            params, names = list(obj.student.parameters()), obj.student.names
            loss = obj.terms()["total"]
        g = grads_of(loss, params, create_graph=True)
        live = [i for i, x in enumerate(g) if x.requires_grad]
        ys = unflatten(y, layout, names, torch.float64)
        hl = torch.autograd.grad([g[i] for i in live], params, grad_outputs=[ys[i] for i in live], allow_unused=True)
        tbert.EXACT_LATTICE = False
        hy = flatten({names[i]: x for i, x in enumerate(hl) if x is not None}, layout, n)
        q = float(np.dot(y, hy) / np.dot(y, y))
        lam, est, central = p["eigenvalues"][0], p["eigenvalueErrors"][0], p["centralRayleighQuotients"][0]
        row(label, "top eigenvalue as reported (extrapolated)", lam, q, abs(lam - q) / abs(q), f"relative; estimate {est / abs(lam):.1e} relative")
        row(label, "  same vector, one central product", central, q, abs(central - q) / abs(q), "relative; the refinement before")
    torch.set_default_dtype(torch.float32)


def landscape(ti, args, cfg, tensors):
    """The KD training loss surface around the freshly quantized teacher: tianalyze's grid against
    a PyTorch loop over the same saved directions and evaluation set, at a handful of points."""
    print(f"\n== landscape ({args.grid}×{args.grid}, KD objective, float32, {args.eval_size} dev examples) ==", flush=True)
    teacher_dir = os.path.join(args.runs, f"teacher-{args.task}")
    out = os.path.join(args.out, "landscape")
    dirs = os.path.join(args.out, "directions.dir")
    for f in ("landscape.csv", "landscape.json"):
        if os.path.exists(os.path.join(out, f)):
            os.remove(os.path.join(out, f))
    _, wall = ti.run(["landscape", "--checkpoint", teacher_dir, "--task", args.task, "--mode", "KD", "--objective", "train",
                      "--grid", str(args.grid), "--eval-size", str(args.eval_size), "--dir-file", dirs, "--out", out, "--seed", "1"],
                     perf_label="landscape")
    grid = {}
    with open(os.path.join(out, "landscape.csv")) as f:
        for r in csv.DictReader(f):
            if r["mode"] == "KD":
                grid[(round(float(r["x"]), 6), round(float(r["y"]), 6))] = float(r["loss"])
    header, d = read_directions(dirs)
    by = {}
    center = None
    tmp = PeerBert(cfg, tensors, torch.float32)
    # The centre in tianalyze's layout order, from the checkpoint by name.
    with open(os.path.join(args.out, "probe-FP", "result.json")) as f:
        layout = json.load(f)["layout"]
    center = np.zeros(header["dimension"])
    for s in layout:
        center[s["offset"]:s["offset"] + int(np.prod(s["shape"]))] = tensors[s["name"]].double().reshape(-1).numpy()
    batches = load_batches(os.path.join(args.out, "probe-FP", "landscape-batches.json"))
    teacher = PeerBert(cfg, tensors, torch.float32)
    student = PeerBert(cfg, tensors, torch.float32)
    spec = {"quantized": True, "distillation": True, "intervention": None}
    objs = [Objective(student, teacher, spec, b) for b in batches]
    total = sum(b[0].shape[0] for b in batches)
    d1, d2 = d[0].astype(np.float64), d[1].astype(np.float64)

    offsets = {s["name"]: s["offset"] for s in layout}

    def loss_at(x, y, model=student, objectives=objs):
        theta = (center + x * d1 + y * d2).astype(np.float32)
        with torch.no_grad():
            for name, prm in zip(model.names, model.params):
                o = offsets[name]
                prm.copy_(torch.from_numpy(theta[o:o + prm.numel()].astype(np.float64)).view_as(prm))
            return sum(float(o.terms()["total"]) * o.tokens.shape[0] / total for o in objectives)

    # The same points in float64 on the peer: how far float32 itself is from the exact value
    # (8-bit rounding boundaries flip on one-ulp differences of float32 GEMMs).
    torch.set_default_dtype(torch.float64)
    student64 = PeerBert(cfg, tensors, torch.float64)
    objs64 = [Objective(student64, PeerBert(cfg, tensors, torch.float64), spec, b) for b in batches]
    torch.set_default_dtype(torch.float32)

    ticks = [round(-1 + 2 * i / (args.grid - 1), 6) for i in range(args.grid)]
    g = args.grid
    pick = [(ticks[g // 2], ticks[g // 2]), (ticks[0], ticks[0]), (ticks[-1], ticks[0]), (ticks[g // 4], ticks[3 * g // 4]),
            (ticks[(2 * g) // 3], ticks[g // 3])]
    worst = 0.0
    for (x, y) in pick:
        a = grid[(round(x, 6), round(y, 6))]
        b = loss_at(x, y)
        c = loss_at(x, y, student64, objs64)
        worst = max(worst, abs(a - b) / abs(b))
        row("landscape", f"KD loss at ({x:+.2f}, {y:+.2f})", a, b, abs(a - b) / abs(b),
            f"relative, float32; vs peer in float64: tianalyze {abs(a - c) / abs(c):.1e}, peer {abs(b - c) / abs(c):.1e}")
    t_loop = median_time(lambda: loss_at(ticks[g // 5], ticks[g // 3]), 4)
    # Timing: the whole grid once more in `rounds` shards, each followed by a peer sample, so that both
    # sides see the same host (it drifts by tens of percent within minutes). tianalyze's time is the
    # sum of the shard runs (each pays its own start-up), the peer's the median sample × the grid.
    rounds = max(1, args.rounds)
    shard_walls, samples = [], []
    for r in range(rounds):
        sdir = os.path.join(args.out, f"landscape-timing-{r}")
        shutil.rmtree(sdir, ignore_errors=True)
        _, w = ti.run(["landscape", "--checkpoint", teacher_dir, "--task", args.task, "--mode", "KD", "--objective", "train",
                       "--grid", str(args.grid), "--eval-size", str(args.eval_size), "--dir-file", dirs, "--out", sdir,
                       "--seed", "1", "--shard", f"{r}/{rounds}"])
        shard_walls.append(w)
        samples.append(loss_landscapes_seconds_per_point(student, d1, d2, layout, objs, total))
    t_lib = statistics.median(samples)
    ours = sum(shard_walls)
    peer_total = t_lib * args.grid * args.grid
    row("speed", f"landscape {args.grid}×{args.grid} [s]", ours, peer_total, peer_total / ours,
        f"{rounds} interleaved rounds: tianalyze grid in {rounds} shards ({', '.join(f'{w:.0f}' for w in shard_walls)} s; "
        f"one unsharded run {wall:.0f} s), peer = loss-landscapes planar_interpolation, {t_lib * 1000:.0f} ms/point "
        f"(4×4 samples {', '.join(f'{x * 1000:.0f}' for x in samples)}) × {args.grid ** 2}"
        f" (the plain loop above: {t_loop * 1000:.0f} ms/point); {ti.gemm_shares('landscape')}")
    SPEED.append((f"landscape {args.grid}x{args.grid}", peer_total / ours))
    return worst


def loss_landscapes_seconds_per_point(student, d1, d2, layout, objs, total, steps=4):
    """Seconds per point of loss-landscapes' planar_interpolation with the same KD metric. Only
    timed: the library steps its plane by repeated in-place float32 additions from the start
    model and does not include the start point, so its grid is not tianalyze's [-1, 1]² grid."""
    import copy
    import loss_landscapes
    from loss_landscapes.metrics import Metric

    class KDLoss(Metric):
        def __call__(self, wrapper):
            with torch.no_grad():
                return sum(float(o.terms()["total"]) * o.tokens.shape[0] / total for o in objs)

    ends = []
    for d in (d1, d2):
        m = copy.deepcopy(student)
        with torch.no_grad():
            for name, prm in zip(m.names, m.params):
                s = next(s for s in layout if s["name"] == name)
                prm.add_(torch.from_numpy(d[s["offset"]:s["offset"] + prm.numel()].astype(np.float32)).view_as(prm))
        ends.append(m)
    t = time.perf_counter()
    loss_landscapes.planar_interpolation(student, ends[0], ends[1], KDLoss(), steps=steps, deepcopy_model=False)
    return (time.perf_counter() - t) / (steps * steps)


def hf_random(cfgjs, dtype=torch.float32):
    from transformers import BertConfig, BertForSequenceClassification
    c = BertConfig(vocab_size=cfgjs["vocabSize"], hidden_size=cfgjs["hiddenSize"], num_hidden_layers=cfgjs["numLayers"],
                   num_attention_heads=cfgjs["numHeads"], intermediate_size=cfgjs["intermediateSize"],
                   max_position_embeddings=cfgjs["maxPositions"], num_labels=cfgjs["numLabels"],
                   type_vocab_size=cfgjs.get("typeVocabSize", 2), hidden_act="gelu", layer_norm_eps=cfgjs.get("layerNormEps", 1e-12))
    torch.manual_seed(1)
    return BertForSequenceClassification(c).to(dtype).eval(), c


def peer_train_step(bench, repeats):
    """The peer's train step at the same shape: transformers (its default attention) for FP,
    the PyTorch re-implementation for ternary KD (teacher forward + student forward/backward)."""
    cfgjs, b, t = bench["config"], bench["batch"], bench["seq"]
    m, c = hf_random(cfgjs)
    g = torch.Generator().manual_seed(2)
    tokens = torch.randint(0, c.vocab_size, (b, t), generator=g)
    types = torch.zeros_like(tokens)
    mask = torch.ones_like(tokens)
    labels = torch.randint(0, c.num_labels, (b,), generator=g)
    if bench["mode"] == "FP":
        def step():
            m.zero_grad(set_to_none=True)
            m(input_ids=tokens, token_type_ids=types, attention_mask=mask, labels=labels).loss.backward()
        return median_time(step, repeats)
    tensors = {k: v.detach().clone() for k, v in m.state_dict().items() if not k.endswith("position_ids")}
    cfg = c.to_dict()
    teacher = PeerBert(cfg, tensors, torch.float32)
    student = PeerBert(cfg, {k: v + 0.01 * torch.randn(v.shape, generator=g) for k, v in tensors.items()}, torch.float32)
    spec = {"quantized": True, "distillation": True, "intervention": None}

    def step():
        student.zero_grad(set_to_none=True)
        Objective(student, teacher, spec, (tokens, types, mask, labels))().backward()
    return median_time(step, repeats)


def torch_sgemm_rate(cfgjs, rows, repeats):
    """GFLOP/s of torch's own GEMM (MKL in the CPU wheel) on the model's Linear shapes, FLOP-weighted
    like tianalyze's sgemm reference, so the two BLAS libraries can be told apart from the models."""
    h, f = cfgjs["hiddenSize"], cfgjs["intermediateSize"]
    flops = secs = 0.0
    for k, m in ((h, h), (h, f), (f, h)):
        a, w = torch.randn(rows, k), torch.randn(m, k)
        secs += median_time(lambda: F.linear(a, w), repeats)
        flops += 2.0 * rows * k * m
    return flops / secs / 1e9


def speed(ti, args, cfg, tensors):
    print(f"\n== speed (ratios peer time / tianalyze time, > 1 means tianalyze faster; {args.threads} thread(s) each, "
          f"{args.rounds} interleaved rounds, medians) ==", flush=True)
    shapes = [("default", "FP"), ("default", "KD"), ("minilm", "FP"), ("base", "FP")]
    ours = {k: [] for k in shapes}
    peer = {k: [] for k in shapes}
    info = {}
    mkl = {k: [] for k in shapes}
    openblas = {k: [] for k in shapes}
    for r in range(args.rounds):
        for k in shapes:
            bench = ti.bench(k[0], k[1], args.repeats)
            info[k] = bench
            ours[k].append(bench["seconds"])
            peer[k].append(peer_train_step(bench, args.repeats))
            openblas[k].append(bench["sgemmGflops"])
            mkl[k].append(torch_sgemm_rate(bench["config"], bench["batch"] * bench["seq"], args.repeats))
    # The BLAS share from one extra profiled run per shape, outside the timed rounds.
    # Many steps, so that set-up (random weights, Box-Muller) is a small part of the profile.
    for k in shapes:
        ti.bench(k[0], k[1], max(20, args.repeats), perf_label=f"train-{k[0]}-{k[1]}")
    for k in shapes:
        a, b = statistics.median(ours[k]), statistics.median(peer[k])
        bench = info[k]
        flops = bench["gflops"] * bench["seconds"] * 1e9
        sg = statistics.median(openblas[k])
        label = f"train step {k[0]} {'FP' if k[1] == 'FP' else 'ternary KD'} (B={bench['batch']}, T={bench['seq']}) [ms]"
        row("speed", label, a * 1000, b * 1000, b / a,
            f"share of OpenBLAS sgemm rate: tianalyze {flops / a / 1e9 / sg:.0%}, peer {flops / b / 1e9 / sg:.0%}"
            f" of {sg:.0f} GFLOP/s; {ti.gemm_shares(f'train-{k[0]}-{k[1]}')}")
        SPEED.append((f"train {k[0]} {'FP' if k[1] == 'FP' else 'KD'}", b / a))
        if k[1] == "FP":
            o = statistics.median(openblas[k])
            t = statistics.median(mkl[k])
            row("speed", f"  sgemm at {k[0]} Linear shapes [GFLOP/s]", o, t, t / o, "OpenBLAS (tianalyze) vs torch's MKL, same run")

    # One HVP and the top-3 eigenvalues on the probe's batch, float64 (tianalyze's analysis precision).
    torch.set_default_dtype(torch.float64)
    teacher_dir = os.path.join(args.runs, f"teacher-{args.task}")
    batch = one_batch(load_batches(os.path.join(args.out, "probe-FP", "batches.json")))
    m = hf_model(teacher_dir, torch.float64)
    spec_kd = {"quantized": True, "distillation": True, "intervention": None}
    hv_ours = {"FP": [], "KD": []}
    hv_peer = {"FP": [], "KD": []}
    from pyhessian import hessian
    from pyhessian.utils import hessian_vector_product
    for r in range(args.rounds):
        for mode, obj in (("FP", "task"), ("KD", "train")):
            d = os.path.join(args.out, f"time-{mode}")
            args_ = ["probe", "--out", d, "--checkpoint", teacher_dir, "--task", args.task, "--mode", mode, "--objective", obj,
                     "--samples", str(args.samples), "--batch-size", str(args.samples), "--precision", "f64", "--repeats", str(args.repeats)]
            ti.run(args_)
            with open(os.path.join(d, "result.json")) as f:
                hv_ours[mode].append(json.load(f)["seconds"]["hvp"])
            if r == args.rounds - 1:  # profiled once more, outside the timed rounds, with more repeats
                ti.run(args_[:-1] + [str(max(10, args.repeats))], perf_label=f"hvp-{mode}")
            m.zero_grad(set_to_none=True)
            if mode == "FP":
                h = hessian(HFLogits(m, batch), F.cross_entropy, data=(batch[0], batch[3]), cuda=False)
            else:
                h = hessian(Objective(PeerBert(cfg, tensors, torch.float64), PeerBert(cfg, tensors, torch.float64), spec_kd, batch),
                            lambda o, _t: o, data=(batch[0], batch[3]), cuda=False)
            v = [torch.randn(p.shape) for p in h.params]
            # PyHessian's single-batch HVP reuses the graph of one forward/backward built at set-up;
            # that set-up is counted once per HVP here too, as PyHessian's dataloader mode pays it every time.
            t_hvp = median_time(lambda: hessian_vector_product(h.gradsH, h.params, v), args.repeats)
            def setup():
                h.model.zero_grad(set_to_none=True)
                hessian(h.model, h.criterion, data=(batch[0], batch[3]), cuda=False)
            t_setup = median_time(setup, 1)
            hv_peer[mode].append((t_hvp, t_setup))
    for mode in ("FP", "KD"):
        a = statistics.median(hv_ours[mode])
        b = statistics.median(x[0] for x in hv_peer[mode])
        s = statistics.median(x[1] for x in hv_peer[mode])
        row("speed", f"one HVP {mode if mode == 'FP' else 'ternary KD'} f64, {args.samples} examples [ms]", a * 1000, b * 1000, b / a,
            f"PyHessian graph reused; with its fwd+bwd set-up {(b + s) * 1000:.0f} ms ({(b + s) / a:.2f}×); "
            f"BLAS {ti.blas_share.get('hvp-' + mode, float('nan')):.0%} of tianalyze")
        SPEED.append((f"HVP {mode}", b / a))

    d = os.path.join(args.out, "time-top3")
    _, _ = ti.run(["probe", "--out", d, "--checkpoint", teacher_dir, "--task", args.task, "--mode", "FP", "--objective", "task",
                   "--samples", str(args.samples), "--batch-size", str(args.samples), "--precision", "f64", "--no-hvp", "--top-k", "3",
                   "--repeats", "1"], perf_label="top3")
    with open(os.path.join(d, "result.json")) as f:
        p = json.load(f)
    a = p["seconds"]["topK"]
    m.zero_grad(set_to_none=True)
    t0 = time.perf_counter()
    vals, secs, _ = pyhessian_top(HFLogits(m, batch), F.cross_entropy, batch, 3, 1e-3, 100, 1)
    total = time.perf_counter() - t0
    row("speed", "top-3 eigenvalues FP f64, tol 1e-3 [s]", a, total, total / a,
        f"tianalyze {sum(p['iterations'])} HVPs, λ {', '.join(f'{x:.4g}' for x in p['eigenvalues'])}; "
        f"PyHessian λ {', '.join(f'{x:.4g}' for x in vals)}; BLAS {ti.blas_share.get('top3', float('nan')):.0%} of tianalyze")
    SPEED.append(("top-3 eigenvalues", total / a))
    torch.set_default_dtype(torch.float32)


def markdown(rows):
    """The table as Markdown (the README's copy is made from this)."""
    out = ["| section | quantity | tianalyze | peer | difference or ratio | note |", "|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(x).replace("|", "\\|") for x in r) + " |")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--markdown-from":
        with open(sys.argv[2]) as f:
            print(markdown([tuple(r.values()) for r in csv.DictReader(f)]), end="")
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--tianalyze", required=True)
    ap.add_argument("--runs", default="runs")
    ap.add_argument("--out", default="runs/peers")
    ap.add_argument("--task", default="count")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--samples", type=int, default=64)
    ap.add_argument("--eval-size", type=int, default=256)
    ap.add_argument("--grid", type=int, default=41)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--trace-probes", type=int, default=30)
    ap.add_argument("--eig-tol", type=float, default=1e-6)
    ap.add_argument("--eig-max-iter", type=int, default=300)
    ap.add_argument("--skip", default="", help="comma-separated sections to skip: numbers, trained, eigen, landscape, speed")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    perf_dir = os.path.join(args.out, "perf")
    os.makedirs(perf_dir, exist_ok=True)
    ti = Tianalyze(args.tianalyze, args.runs, args.threads, perf_dir)
    skip = set(filter(None, args.skip.split(",")))
    print(f"tianalyze vs torch {torch.__version__} (transformers, PyHessian); {args.threads} thread(s); "
          f"columns: quantity, tianalyze, peer, difference (relative) or ratio", flush=True)
    cfg = tensors = None
    if "numbers" not in skip:
        cfg, tensors = same_numbers(ti, args)
    if "trained" not in skip:
        trained_students(ti, args)
    if "eigen" not in skip:
        eigen_accuracy(ti, args)
    if cfg is None and not {"landscape", "speed"} <= skip:
        # The batches and layout the later sections read, without the spectra of the numbers section.
        if not os.path.exists(os.path.join(args.out, "probe-FP", "landscape-batches.json")):
            ti.probe(os.path.join(args.out, "probe-FP"), checkpoint=os.path.join(args.runs, f"teacher-{args.task}"), task=args.task,
                     mode="FP", objective="task", samples=args.samples, batch_size=args.samples, precision="f64", seed=1,
                     repeats=1, landscape_eval_size=args.eval_size)
        m = hf_model(os.path.join(args.runs, f"teacher-{args.task}"), torch.float32)
        cfg, tensors = m.config.to_dict(), load_tensors(os.path.join(args.runs, f"teacher-{args.task}"))
    if "landscape" not in skip:
        landscape(ti, args, cfg, tensors)
    if "speed" not in skip:
        speed(ti, args, cfg, tensors)
    with open(os.path.join(args.out, "peers.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["section", "quantity", "tianalyze", "peer", "difference_or_ratio", "note"])
        for r in ROWS:
            w.writerow([fmt(x) for x in r])
    with open(os.path.join(args.out, "speed-ratios.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["quantity", "ratio"])
        for q, r in SPEED:
            w.writerow([q, f"{r:.4g}"])
    with open(os.path.join(args.out, "peers.md"), "w") as f:
        f.write(markdown(ROWS))
    print(f"\nwrote {os.path.join(args.out, 'peers.csv')}, peers.md and speed-ratios.csv", flush=True)


if __name__ == "__main__":
    main()
