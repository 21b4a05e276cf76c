"""Writes Tests/ReferenceTests/Fixtures/lattice: a tiny BERT (the reference fixture's shape and
generator, another seed) whose batch makes O's 8-bit input quantizer meet exact rounding ties in
the lattice product P̂·V̂ (docs/exact-lattice-products.md), with what the PyTorch peer computes in
float64 for the ternary task loss, KD and MI:

  exact       P̂·V̂ in integers and the exact tie rule (tbert.EXACT_LATTICE, lattice.py): the
              definition tianalyze implements, so tianalyze must agree to rounding (1e-12);
  floatGEMM   torch's float GEMM and round(x·127/max): the last bit of the GEMM decides the ties.

Per objective it stores loss, terms and gradient of both, and per quantizer call the number of
exact ties, of codes the float route gives otherwise ("flips") and how many of those are ties.
The seed is the first (in a search from 400) where every objective has a flipped tie.

    "$(bash notebooks-cli/setup-peers.sh)" notebooks-cli/peers/make-lattice-fixture.py [out-dir]
"""
import importlib.util
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lattice  # noqa: E402
import tbert  # noqa: E402

_spec = importlib.util.spec_from_file_location("reference_fixture", os.path.join(HERE, "make-reference-fixture.py"))
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

SEED = 410
OBJECTIVES = ("ternary", "KD", "MI")


def run(name, teacher, student, batch, exact):
    """Loss terms, gradient (flat, reference layout) and tie statistics of one objective."""
    tbert.EXACT_LATTICE = exact
    lattice.STATS.clear()
    cfg = {k: ref.CONFIG[k] for k in ("hidden_size", "num_attention_heads", "num_hidden_layers", "layer_norm_eps")}
    s, t = tbert.PeerBert(cfg, student, torch.float64), tbert.PeerBert(cfg, teacher, torch.float64)
    terms = tbert.Objective(s, t, ref.OBJECTIVES[name], batch).terms()
    g = torch.autograd.grad(terms["total"], list(s.parameters()), allow_unused=True)
    named = {n: torch.zeros_like(p) if x is None else x.detach() for n, x, p in zip(s.names, g, s.parameters())}
    scalars = {k: float(x.detach()) for k, x in terms.items() if not k.startswith("_")}
    stats = [dict(x) for x in lattice.STATS]
    tbert.EXACT_LATTICE = False
    return scalars, ref.flat(named, ref.layout(ref.CONFIG)).contiguous(), stats


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.normpath(os.path.join(HERE, "..", "..", "Tests", "ReferenceTests",
                                                                               "Fixtures", "lattice"))
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    tbert.MULTIPLY_BY_STEP = True  # tianalyze's x̂ = round(x·s)·(max/127)
    ref.SEED = SEED
    lay, teacher, student, batch, _, _ = ref.make_inputs()
    expected = {"layout": [], "objectives": {}, "seed": SEED, "torch": torch.__version__}
    off = 0
    for n, s in lay:
        expected["layout"].append({"name": n, "shape": list(s), "offset": off})
        off += math.prod(s)
    arrays = {}
    for name in OBJECTIVES:
        exact, g_exact, stats = run(name, teacher, student, batch, exact=True)
        floating, g_float, _ = run(name, teacher, student, batch, exact=False)
        flips = sum(x["flips"] for x in stats)
        assert flips > 0 and flips == sum(x["flipsAtTies"] for x in stats), f"{name}: {stats}"
        effect = {"loss": abs(floating["total"] - exact["total"]) / abs(exact["total"]),
                  "gradient": float((g_float - g_exact).abs().max() / g_exact.abs().max())}
        expected["objectives"][name] = {"exact": exact, "floatGEMM": floating, "quantizerCalls": stats,
                                        "ties": sum(x["ties"] for x in stats), "flips": flips, "floatGEMMEffect": effect}
        arrays[f"{name}.gradient"], arrays[f"{name}.floatGradient"] = g_exact, g_float
        print(f"{name:8s} ties {expected['objectives'][name]['ties']} flipped {flips}  float GEMM vs exact: "
              f"loss {effect['loss']:.3g}, gradient {effect['gradient']:.3g}", flush=True)
    ref.write_fixture(out, teacher, student, batch, arrays, expected)


if __name__ == "__main__":
    main()
