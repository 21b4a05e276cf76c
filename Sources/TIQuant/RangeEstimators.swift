// Range estimators for calibrated (PTQ) quantizers, and the one-dimensional range search shared by
// the MSE estimator and the MSE weight quantizer.
import TILinalg

/// How the [lo, hi] of a calibrated activation quantizer is estimated from calibration batches (the
/// seed's `--act-quant-method` names).
public enum RangeEstimator: String, Codable, CaseIterable, Sendable {
    /// The last batch's [min, max].
    case currentMinMax = "current_minmax"
    /// The [min, max] over every batch.
    case allMinMax = "allminmax"
    /// An exponential moving average of each batch's min and max (momentum 0.9), started at the first batch.
    case runningMinMax = "running_minmax"
    /// The seed's MSE estimator (MSERangeSearch.swift): range and offset searched, the error summed over
    /// every batch (grid) or searched on each batch (golden section). The tracker keeps the sums.
    case mse = "MSE"
    /// tianalyze's earlier MSE estimator: per batch the [α·min, α·max] that minimizes that batch's
    /// quantization MSE (α ∈ (0, 1], grid then golden section); the estimate is the mean over batches.
    case mseShrinkMean = "MSE-shrink-mean"

    public static let runningMomentum = 0.9

    /// One estimator step from the previous estimate. `.mse` here searches this batch alone (the grid
    /// the first batch lays out); `ActivationRangeTracker` carries its sums across batches.
    public func update<T: BLASScalar>(_ previous: TrackedRange?, _ x: UnsafePointer<T>, count n: Int, bits: Int) -> TrackedRange {
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<n { let v = Double(x[i]); lo = min(lo, v); hi = max(hi, v) }
        let steps = (previous?.steps ?? 0) + 1
        if self == .mse {
            var s = MSEGridSearch(first: x, count: n, bits: bits)
            s.accumulate(x, count: n)
            return TrackedRange(steps: steps, lo: s.best.lo, hi: s.best.hi)
        }
        guard let p = previous, p.steps > 0 else {
            if self == .mseShrinkMean { (lo, hi) = Self.mseRange(x, count: n, bits: bits, lo: lo, hi: hi) }
            return TrackedRange(steps: 1, lo: lo, hi: hi)
        }
        switch self {
        case .currentMinMax, .mse:
            return TrackedRange(steps: steps, lo: lo, hi: hi)
        case .allMinMax:
            return TrackedRange(steps: steps, lo: min(p.lo, lo), hi: max(p.hi, hi))
        case .runningMinMax:
            let m = Self.runningMomentum
            return TrackedRange(steps: steps, lo: m * p.lo + (1 - m) * lo, hi: m * p.hi + (1 - m) * hi)
        case .mseShrinkMean:
            let (l, h) = Self.mseRange(x, count: n, bits: bits, lo: lo, hi: hi)
            let t = Double(steps)
            return TrackedRange(steps: steps, lo: p.lo + (l - p.lo) / t, hi: p.hi + (h - p.hi) / t)
        }
    }

    /// The shrink factor α of [lo, hi] minimizing Σ(x − Q(x))² for the asymmetric b-bit grid.
    static func mseRange<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, lo: Double, hi: Double) -> (Double, Double) {
        let out = Buffer<T>(uninitialized: n), mask = Buffer<T>(uninitialized: n)
        let alpha = RangeSearch.minimize(upper: 1) { a in
            ActivationQuantizer.asymmetric(x, count: n, bits: bits, lo: T(a * lo), hi: T(a * hi), out: out.p, mask: mask.p)
            var e = 0.0
            for i in 0..<n { let d = Double(x[i] - out.p[i]); e += d * d }
            return e
        }
        return (alpha * lo, alpha * hi)
    }
}

/// Minimizes a quantization error f(r) over r ∈ (0, upper]: a uniform grid first (the error is not
/// unimodal over the whole interval, rounding makes it ragged), then golden-section search inside the
/// bracket around the best grid point, keeping the best value seen.
public enum RangeSearch {
    public static func minimize(upper: Double, grid: Int = 20, goldenSteps: Int = 12, golden: Bool = true,
                                _ f: (Double) -> Double) -> Double {
        guard upper > 0 else { return upper }
        var best = upper, bestValue = f(upper)
        var bestK = grid
        for k in 1..<grid {
            let r = upper * Double(k) / Double(grid), v = f(r)
            if v < bestValue { best = r; bestValue = v; bestK = k }
        }
        guard golden else { return best }
        var a = upper * Double(bestK - 1) / Double(grid), b = min(upper, upper * Double(bestK + 1) / Double(grid))
        let g = (5.0.squareRoot() - 1) / 2
        var c = b - g * (b - a), d = a + g * (b - a)
        var fc = f(c), fd = f(d)
        for _ in 0..<goldenSteps {
            if fc < fd { b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c) }
            else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d) }
            if fc < bestValue && c > 0 { best = c; bestValue = fc }
            if fd < bestValue && d > 0 { best = d; bestValue = fd }
        }
        return best
    }
}
