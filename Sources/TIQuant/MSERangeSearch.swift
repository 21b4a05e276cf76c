// The seed's MSE range estimator for an asymmetric quantizer (Qualcomm's `MSE_Estimator`, semantics
// only). The first calibration batch lays out the search: one-sided data (no negative entry) searches
// ranges [0, c·step]; two-sided data searches a symmetric half-width c·step shifted by a whole number
// of grid steps (up to 2^b/4 of them, either way) and cut to the first batch's extremes widened by a
// margin. The grid method sums every candidate's squared quantization error over all batches and
// keeps the least sum (so later batches refine the choice instead of being averaged in); the
// golden-section method searches the half-width, and inside it the shift, on each batch alone.
import Foundation
import TILinalg

/// How the MSE estimator searches its candidates (the seed's `--act-opt-method`, `--weight-opt-method`).
public enum RangeSearchMethod: String, Codable, CaseIterable, Sendable {
    case grid
    case goldenSection = "golden_section"
}

public struct MSEGridSearch: Sendable {
    /// The seed's default number of half-widths.
    public static let defaultCandidates = 100
    /// The seed adds this to the first batch's extremes when it lays out the search.
    public static let rangeMargin = 0.5

    public let bits: Int
    public let oneSided: Bool
    /// Every candidate [lo, hi], in the seed's order: half-width, then shift, then its sign.
    public let candidates: [(lo: Double, hi: Double)]
    /// Squared error of each candidate, summed over the batches seen.
    public private(set) var loss: [Double]

    /// Lays the search out from the first batch (`accumulate` it afterwards like every other batch).
    public init<T: BLASScalar>(first x: UnsafePointer<T>, count n: Int, bits: Int, candidates count: Int = defaultCandidates) {
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<n { lo = min(lo, Double(x[i])); hi = max(hi, Double(x[i])) }
        self.bits = bits
        oneSided = lo >= 0
        var c: [(lo: Double, hi: Double)] = []
        if oneSided {
            let step = (max(abs(lo), hi) + Self.rangeMargin) / Double(count)
            for k in 1...count { c.append((0, step * Double(k))) }
        } else {
            let maxPos = hi + Self.rangeMargin, maxNeg = lo - Self.rangeMargin
            let step = max(abs(maxPos), abs(maxNeg)) / Double(count)
            let skews = (1 << bits) / 4, levels = Double((1 << bits) - 1)
            for k in 1...count {
                let half = step * Double(k), delta = 2 * half / levels
                for shift in 0..<max(1, skews) {
                    for sign in [1.0, -1.0] {
                        let skew = sign * Double(shift) * delta
                        c.append((max(-half + skew, maxNeg), min(half + skew, maxPos)))
                    }
                }
            }
        }
        candidates = c
        loss = [Double](repeating: 0, count: c.count)
    }

    /// Adds this batch's squared error of every candidate (each candidate's sum in one thread, in a
    /// fixed order: the result does not depend on the thread count).
    public mutating func accumulate<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int) {
        let add = UnsafeMutableBufferPointer<Double>.allocate(capacity: candidates.count)
        defer { add.deallocate() }
        let cands = candidates, b = bits
        Parallel.forEach(cands.count, costPerItem: Double(n), minimumWork: Double(1 << 16)) { i in
            add[i] = Self.squaredError(x, count: n, bits: b, lo: cands[i].lo, hi: cands[i].hi)
        }
        for i in loss.indices { loss[i] += add[i] }
    }

    /// The candidate with the least summed error (the first of equals, as the seed's argmin).
    public var best: (lo: Double, hi: Double) {
        var k = 0
        for i in loss.indices where loss[i] < loss[k] { k = i }
        return candidates[k]
    }

    /// Σ(x − Q(x))² for the seed's asymmetric quantizer over [lo, hi]: the range widened to contain 0,
    /// step (hi − lo)/(2^b − 1), zero point round(−lo/step), codes clamped to [0, 2^b − 1].
    public static func squaredError<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, lo: Double, hi: Double) -> Double {
        let l = min(lo, 0), h = max(hi, 1e-8)
        let top = Double((1 << bits) - 1), step = (h - l) / top
        let zero = min(max((-l / step).rounded(.toNearestOrEven), 0), top)
        var e = 0.0
        for i in 0..<n {
            let v = Double(x[i])
            let q = min(max((v / step).rounded(.toNearestOrEven) + zero, 0), top)
            let d = v - (q - zero) * step
            e += d * d
        }
        return e
    }

    /// The golden-section method on one batch: the half-width r over [0.01·R, R] (R the search extent
    /// the grid would use), and for two-sided data, inside each r, the shift over ±2^b/4 grid steps.
    public static func goldenSection<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int) -> (lo: Double, hi: Double) {
        var lo = Double.infinity, hi = -Double.infinity
        for i in 0..<n { lo = min(lo, Double(x[i])); hi = max(hi, Double(x[i])) }
        let levels = Double((1 << bits) - 1), skews = Double((1 << bits) / 4)
        if lo >= 0 {
            let extent = max(abs(lo), hi) + rangeMargin
            let r = goldenMinimum(in: 0.01 * extent, extent) { squaredError(x, count: n, bits: bits, lo: 0, hi: $0) }
            return (0, r)
        }
        let extent = max(abs(hi + rangeMargin), abs(lo - rangeMargin))
        func bestShift(_ r: Double) -> Double {
            let m = 2 * r / levels * skews
            return goldenMinimum(in: -m, m) { squaredError(x, count: n, bits: bits, lo: -r + $0, hi: r + $0) }
        }
        let r = goldenMinimum(in: 0.01 * extent, extent) { r in
            let s = bestShift(r)
            return squaredError(x, count: n, bits: bits, lo: -r + s, hi: r + s)
        }
        let s = bestShift(r)
        return (-r + s, r + s)
    }

    /// Golden-section search for a minimum of f on [a, b] (40 steps: the bracket shrinks to 10⁻⁸ of itself).
    static func goldenMinimum(in a: Double, _ b: Double, steps: Int = 40, _ f: (Double) -> Double) -> Double {
        var a = a, b = b
        let g = (5.0.squareRoot() - 1) / 2
        var c = b - g * (b - a), d = a + g * (b - a)
        var fc = f(c), fd = f(d)
        for _ in 0..<steps {
            if fc <= fd { b = d; d = c; fd = fc; c = b - g * (b - a); fc = f(c) }
            else { a = c; c = d; fc = fd; d = a + g * (b - a); fd = f(d) }
        }
        return fc <= fd ? c : d
    }
}
