"""The exact rule for P̂·V̂ and O's input quantizer (docs/exact-lattice-products.md), written for the
PyTorch peer with Python's exact rationals (fractions.Fraction), independently of tianalyze's
integer-threshold implementation.

P̂ = codes_P·step_P and V̂ = codes_V·step_V, so the context is σ·S with σ = step_P·step_V and S the
integer product of the codes. O's 8-bit dynamic quantizer then rounds half to even the exact
rational 127·clamp(x)/r, r = min(σ·max|S|, 2.5); the float context handed on is σ·S correctly
rounded. The float GEMM's context is kept only for its gradient (the STE is unchanged).

`STATS` collects, per quantizer call, how many entries are exact ties and how many codes the float
route (torch's GEMM, then round(x·127/max)) gives differently, and how many of those are ties.
"""
from fractions import Fraction

import torch

CLIP = 2.5
Q = 127
STATS = []


def codes_and_step(x):
    """The dynamic symmetric quantizer's integer codes and step (tianalyze's x̂ = code·(max/127))."""
    c = x.clamp(-CLIP, CLIP)
    m = c.abs().max()
    if m == 0:
        return None
    return torch.round(c * (Q / m)), float(m) / Q


def round_half_even(num, den):
    """round_half_even(num/den) elementwise for int64 num and a positive int den; also the tie mask."""
    a = num.abs()
    k = torch.div(a, den, rounding_mode="floor")
    r = a - k * den
    tie = 2 * r == den
    up = (2 * r > den) | (tie & (k % 2 == 1))
    return torch.sign(num) * (k + up.to(torch.int64)), tie


def correctly_rounded(sigma, s):
    """float(σ·s) for every entry of the int64 tensor s: Fraction → float rounds correctly."""
    values, inverse = torch.unique(s, return_inverse=True)
    table = torch.tensor([float(sigma * int(v)) for v in values.tolist()], dtype=torch.float64)
    return table[inverse]


def clipped_codes(sigma, s):
    """round_half_even(127·clamp(σ·s, ±2.5)/2.5) of the exact rationals, and the tie mask."""
    values, inverse = torch.unique(s, return_inverse=True)
    codes, ties = [], []
    for v in values.tolist():
        y = max(min(sigma * v, Fraction(CLIP)), -Fraction(CLIP)) * Q / Fraction(CLIP)
        codes.append(round(y))  # Fraction.__round__ rounds half to even
        ties.append(y.denominator == 2)
    return torch.tensor(codes, dtype=torch.int64)[inverse], torch.tensor(ties)[inverse]


def context(probs, v_heads, ctx_float, merge):
    """The exact context and O's exactly quantized input, each carrying the float route's gradient.

    probs [B, nh, T, T] and v_heads [B, nh, T, hd] are the tensors the probs and value quantizers
    see; ctx_float is the float GEMM's context [B, T, H] (the graph the gradient flows through);
    merge maps [B, nh, T, hd] to [B, T, H]."""
    with torch.no_grad():
        p, v = codes_and_step(probs), codes_and_step(v_heads)
        if p is None or v is None:
            return None
        sigma = Fraction(p[1]) * Fraction(v[1])
        s = merge(p[0] @ v[0]).to(torch.int64)  # integers below 2^53: the float64 GEMM is exact
        m = int(s.abs().max())
        if m == 0:
            return None
        exact = correctly_rounded(sigma, s)
        if sigma * m > Fraction(CLIP):
            codes, ties = clipped_codes(sigma, s)
            r = CLIP
        else:
            codes, ties = round_half_even(Q * s, m)
            r = float(sigma * m)
        q = codes.to(torch.float64) * (r / Q)
        # The float route, for the statistics: torch's context through round(x·127/max).
        c = ctx_float.detach().clamp(-CLIP, CLIP)
        flips = torch.round(c * (Q / c.abs().max())).to(torch.int64) != codes
        STATS.append({"ties": int(ties.sum()), "flips": int(flips.sum()), "flipsAtTies": int((flips & ties).sum()),
                      "entries": s.numel(), "clipped": r == CLIP})
    ctx = ctx_float + (exact - ctx_float).detach()
    cl = ctx.clamp(-CLIP, CLIP)
    return ctx, cl + (q - cl).detach()
