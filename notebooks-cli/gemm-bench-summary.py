#!/usr/bin/env python3
"""Reads gemm-bench's Markdown table (stdin) and prints, per model, thread count and row-chunk size, the time
of one encoder layer's Linear GEMMs (forward, dX, dW) as one training step calls them: Q, K, V and the
attention output are four H->H layers, then H->FFN and FFN->H once each. Whole-batch single-threaded rows
also add the per-head attention GEMMs (heads x batch calls of each, twice: forward and backward).
Speed-up = OpenBLAS time / back-end time, so > 1 means faster than OpenBLAS."""
import sys
from collections import defaultdict

LAYER_COUNT = {"H->H": 4, "H->FFN": 1, "FFN->H": 1}
HEADS_BATCH = {"embedded": 4 * 32, "MiniLM-L6": 12 * 32, "BERT-base": 12 * 32}
BACKENDS = ("OpenBLAS", "BLIS", "oneDNN")


def gflops(cell):
    cell = cell.strip()
    return None if cell == "—" else float(cell.split()[0])


def rows_of(op, m, k):
    return k if op == "dW" else m


def main():
    linear = defaultdict(lambda: [0.0, 0.0, 0.0])   # (model, threads, rows) -> seconds per back-end
    attention = defaultdict(lambda: [0.0, 0.0, 0.0])  # (model, threads) -> seconds per back-end
    missing = set()
    for line in sys.stdin:
        cells = line.strip().strip("|").split("|")
        if len(cells) < 8 or not cells[4].strip().isdigit():
            continue
        model, layer, op, dims, threads = (c.strip() for c in cells[:5])
        m, n, k = (int(x) for x in dims.split("×"))
        flops = 2.0 * m * n * k
        for i, cell in enumerate(cells[5:8]):
            g = gflops(cell)
            if g is None:
                missing.add(i)
                continue
            if layer == "attn":
                attention[(model, threads)][i] += 2 * HEADS_BATCH[model] * flops / (g * 1e9)
            else:
                linear[(model, threads, rows_of(op, m, k))][i] += LAYER_COUNT[layer] * flops / (g * 1e9)
    whole = {}
    for (model, threads, rows) in linear:
        whole[(model, threads)] = max(whole.get((model, threads), 0), rows)
    print("| model | threads | rows per call | OpenBLAS ms | BLIS speed-up | oneDNN speed-up |")
    print("|---|---|---|---|---|---|")
    for (model, threads, rows), t in linear.items():
        label = f"{rows} (whole batch)" if rows == whole[(model, threads)] else str(rows)
        if rows == whole[(model, threads)] and (model, threads) in attention:
            t = [a + b for a, b in zip(t, attention[(model, threads)])]
            label += " + attention"
        ups = ["—" if i in missing else f"{t[0] / t[i]:.2f}" for i in (1, 2)]
        print(f"| {model} | {threads} | {label} | {t[0] * 1e3:.2f} | {ups[0]} | {ups[1]} |")


if __name__ == "__main__":
    main()
