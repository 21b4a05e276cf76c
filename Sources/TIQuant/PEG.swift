// Per-embedding-group (PEG) activation quantization (Bondarenko et al., EMNLP 2021; semantics only).
// A few hidden dimensions of the residual stream carry ranges far above the rest; one per-tensor
// range then wastes most of the grid on them. PEG gives each group of hidden dimensions its own
// asymmetric range: K = width is per-embedding, smaller K shares ranges, and sorting dimensions by
// range first (the permutation) puts the outlier dimensions into the same group so the other groups
// keep fine steps. Ranges are calibrated per dimension; group ranges are their envelopes.
import TILinalg

public enum PEG {
    /// Hidden dimensions of each of K groups: contiguous blocks of the identity, or of the dimensions
    /// sorted by calibrated range (hi − lo, ascending; ties by index) when `permute`.
    public static func groups(dimLo: [Double], dimHi: [Double], count k: Int, permute: Bool) -> [[Int]] {
        groups(order: permute ? rangeOrder(dimLo: dimLo, dimHi: dimHi) : Array(0..<dimLo.count), count: k)
    }

    /// The dimensions sorted by range hi − lo, ascending, ties by index: the seed's argsort of the ranges.
    public static func rangeOrder(dimLo: [Double], dimHi: [Double]) -> [Int] {
        Array(0..<dimLo.count).sorted { a, b in
            let ra = dimHi[a] - dimLo[a], rb = dimHi[b] - dimLo[b]
            return ra != rb ? ra < rb : a < b
        }
    }

    /// K contiguous blocks of `order`, sizes differing by at most one: group g takes
    /// order[g·h/k ..< (g+1)·h/k]. (The seed requires h divisible by K; then the blocks are its groups.)
    public static func groups(order: [Int], count k: Int) -> [[Int]] {
        let h = order.count
        let k = max(1, min(k, h))
        return (0..<k).map { g in Array(order[(g * h / k)..<((g + 1) * h / k)]) }
    }

    /// Quantizes rows of `width` entries with one asymmetric b-bit grid per group of dimensions. With
    /// `permute`, the groups are blocks of `order` when given (the permutation fixed before calibration,
    /// PEGPermutation.swift), else of the dimensions sorted by their calibrated ranges.
    // Specialized: its callers are generic over T (the forward), and unspecialized, the per-entry loop
    // over the group scales and zero points made a PTQ run with PEG at every site 4–5× slower.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func quantize<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, width: Int, bits: Int,
                                               dimLo: [Double], dimHi: [Double], groups k: Int, permute: Bool, order: [Int]? = nil,
                                               out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>) {
        precondition(n % width == 0 && dimLo.count == width && dimHi.count == width, "PEG: tensor is not [rows, \(width)]")
        precondition(order.map { $0.count == width } ?? true, "PEG: permutation of \(order?.count ?? 0) dimensions for width \(width)")
        let grid = IntegerGrid.unsigned(bits: bits), (qlo, qhi) = grid.codeBounds(as: T.self)
        var scale = [T](repeating: 0, count: width), zero = scale
        let blocks = permute ? (order ?? rangeOrder(dimLo: dimLo, dimHi: dimHi)) : Array(0..<width)
        for g in groups(order: blocks, count: k) {
            let lo = min(g.map { dimLo[$0] }.min() ?? 0, 0), hi = max(g.map { dimHi[$0] }.max() ?? 0, 0)
            let s = hi > lo ? grid.step(width: T(hi - lo)) : 0
            let z = s > 0 ? grid.zeroPoint(lo: T(lo), step: s) : 0  // −T(lo) = T(−lo): rounding to T is odd-symmetric
            for j in g { scale[j] = s; zero[j] = z }
        }
        for r in 0..<(n / width) {
            for j in 0..<width {
                let i = r * width + j
                guard scale[j] > 0 else { out[i] = 0; mask[i] = 1; continue }
                let u = roundEven(x[i] / scale[j]) + zero[j]
                out[i] = (min(max(u, qlo), qhi) - zero[j]) * scale[j]
                mask[i] = u >= qlo && u <= qhi ? 1 : 0  // the STE stops only where the clamp acts
            }
        }
    }

    /// Per-dimension MSE ranges of a [rows, width] tensor: for each dimension j, the [α·lo_j, α·hi_j]
    /// (α ∈ (0, 1]) with the least squared error of the asymmetric b-bit grid over column j, by the
    /// same grid + golden-section search as the per-tensor MSE estimator. Clipping a dimension's rare
    /// extremes buys a finer step for the rest of its column.
    public static func mseDimensionRanges<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, width: Int, bits: Int,
                                                         lo: [Double], hi: [Double]) -> (lo: [Double], hi: [Double]) {
        let rows = n / width
        var outLo = lo, outHi = hi
        let column = Buffer<T>(uninitialized: rows)
        for j in 0..<width {
            for r in 0..<rows { column.p[r] = x[r * width + j] }
            (outLo[j], outHi[j]) = RangeEstimator.mseRange(column.p, count: rows, bits: bits, lo: lo[j], hi: hi[j])
        }
        return (outLo, outHi)
    }

    /// Per-dimension [min, max] of a [rows, width] tensor.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func dimensionRanges<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, width: Int) -> (lo: [Double], hi: [Double]) {
        var lo = [Double](repeating: .infinity, count: width), hi = [Double](repeating: -.infinity, count: width)
        for r in 0..<(n / width) {
            for j in 0..<width { let v = Double(x[r * width + j]); lo[j] = min(lo[j], v); hi[j] = max(hi[j], v) }
        }
        return (lo, hi)
    }
}
