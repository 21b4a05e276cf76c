// A mean with its 95 % Student-t interval, for numbers repeated over seeds (direction pairs of a
// landscape, training seeds of a study). Few repetitions are the norm (3–5), so the interval uses
// the t quantile, not the normal one; the quantile is computed here (regularized incomplete beta
// and bisection) rather than tabulated, so any count works.
import Foundation

public struct MeanInterval: Sendable, Equatable, Codable {
    public let count: Int
    public let mean: Double
    /// Sample standard deviation (n − 1 in the denominator); NaN below two values.
    public let standardDeviation: Double
    /// t_{0.975, n−1} · s / √n; NaN below two values (no spread can be estimated from one).
    public let halfWidth: Double

    public var low: Double { mean - halfWidth }
    public var high: Double { mean + halfWidth }

    /// The mean of `values` and its 95 % interval (or `confidence`).
    public init(_ values: [Double], confidence: Double = 0.95) {
        precondition(!values.isEmpty, "MeanInterval: no values")
        precondition(confidence > 0 && confidence < 1, "MeanInterval: confidence must lie in (0, 1)")
        count = values.count
        mean = values.reduce(0, +) / Double(values.count)
        guard values.count >= 2 else { standardDeviation = .nan; halfWidth = .nan; return }
        let m = mean
        let ss = values.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        standardDeviation = (ss / Double(values.count - 1)).squareRoot()
        let t = StudentT.quantile(0.5 + confidence / 2, degreesOfFreedom: Double(values.count - 1))
        halfWidth = t * standardDeviation / Double(values.count).squareRoot()
    }

    /// The paired difference b − a (value by value, e.g. the same direction seed under two modes)
    /// with its interval: the pairing removes the spread the two share.
    public static func pairedDifference(_ a: [Double], _ b: [Double], confidence: Double = 0.95) -> MeanInterval {
        precondition(a.count == b.count, "pairedDifference: \(a.count) and \(b.count) values do not pair")
        return MeanInterval(zip(a, b).map { $1 - $0 }, confidence: confidence)
    }

    /// True when the interval excludes `value` (a difference that is not zero at this confidence).
    public func excludes(_ value: Double) -> Bool { halfWidth.isFinite && (value < low || value > high) }
}

/// Student's t distribution: its CDF through the regularized incomplete beta function, and the
/// quantile by bisection on the CDF (monotone, so bisection cannot miss).
public enum StudentT {
    public static func cdf(_ t: Double, degreesOfFreedom ν: Double) -> Double {
        precondition(ν > 0, "StudentT: degrees of freedom must be positive")
        let tail = 0.5 * regularizedIncompleteBeta(ν / (ν + t * t), a: ν / 2, b: 0.5)
        return t >= 0 ? 1 - tail : tail
    }

    /// The t with cdf(t) = p, for p in (0, 1).
    public static func quantile(_ p: Double, degreesOfFreedom ν: Double) -> Double {
        precondition(p > 0 && p < 1, "StudentT.quantile: p must lie in (0, 1)")
        if p == 0.5 { return 0 }
        if p < 0.5 { return -quantile(1 - p, degreesOfFreedom: ν) }
        var lo = 0.0, hi = 1.0
        while cdf(hi, degreesOfFreedom: ν) < p { hi *= 2 }
        for _ in 0..<200 where hi - lo > 1e-14 * max(1, hi) {
            let mid = (lo + hi) / 2
            if cdf(mid, degreesOfFreedom: ν) < p { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// I_x(a, b) by its continued fraction (modified Lentz), using the symmetry
    /// I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
    static func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
        let logGammas: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logFront: Double = logGammas + a * log(x) + b * log(1 - x)
        let tiny = 1e-300
        var c = 1.0, d = 1 - (a + b) * x / (a + 1)
        d = abs(d) < tiny ? 1 / tiny : 1 / d
        var f = d
        for m in 1...500 {
            let md = Double(m)
            // Even step, then odd step of the fraction's terms.
            let even = md * (b - md) * x / ((a + 2 * md - 1) * (a + 2 * md))
            d = 1 + even * d; d = abs(d) < tiny ? 1 / tiny : 1 / d
            c = 1 + even / c; if abs(c) < tiny { c = tiny }
            f *= d * c
            let odd = -(a + md) * (a + b + md) * x / ((a + 2 * md) * (a + 2 * md + 1))
            d = 1 + odd * d; d = abs(d) < tiny ? 1 / tiny : 1 / d
            c = 1 + odd / c; if abs(c) < tiny { c = tiny }
            let delta = d * c
            f *= delta
            if abs(delta - 1) < 1e-15 { break }
        }
        return exp(logFront) * f / a
    }
}
