// The integer state of every weight under the quantizer that trains it, and whether it sits near a
// decision threshold of that quantizer: what weight-oscillation telemetry counts (Nagel et al., ICML
// 2022). The codes come from the quantizers' own arithmetic (the TWN kernel's Δ, IntegerGrid's
// scales), so that code × step is the quantizer's output; QuantizerTests checks that bit for bit.
import TILinalg

extension WeightQuantizer {
    /// Writes the integer code of each weight of a [rows, cols] tensor into `codes` (ternary −1/0/1;
    /// the n-bit grid's integer) and returns how many weights lie within `epsilon` of a threshold:
    /// ternary ||clamp(W)| − Δ| ≤ ε·Δ; n-bit within ε steps of a rounding midpoint. `learnedStep` is
    /// LSQ's step from the parameter buffer (nil where the layout has none).
    public func integerStates(_ w: UnsafePointer<Float>, rows: Int, cols: Int, epsilon: Double, learnedStep: Float? = nil,
                              codes: UnsafeMutablePointer<Int32>) -> Int {
        let n = rows * cols
        switch self {
        case .ternary(let clip, let perRow):
            let groups = perRow ? rows : 1, len = n / groups
            var near = 0
            for g in 0..<groups {
                near += Self.ternaryStates(w + g * len, count: len, clip: Float(clip), epsilon: Float(epsilon), codes: codes + g * len)
            }
            return near
        case .uniform(let bits, let symmetric, let perRow):
            let groups = perRow ? rows : 1, len = n / groups
            var near = 0
            for g in 0..<groups {
                let x = w + g * len, c = codes + g * len
                near += symmetric ? Self.symmetricStates(x, count: len, bits: bits, epsilon: epsilon, codes: c)
                                  : Self.asymmetricStates(x, count: len, bits: bits, epsilon: epsilon, codes: c)
            }
            return near
        case .symmetricMSE(let bits, let golden):
            let r = Float(Self.mseSymmetricRange(w, count: n, bits: bits, golden: golden))
            guard r > 0 else { return Self.allZero(n, codes) }
            let s = IntegerGrid.symmetric(bits: bits).scale(range: r)
            return Self.gridStates(count: n, epsilon: epsilon, codes: codes) { i in min(max(w[i], -r), r) * s }
        case .lsq(let bits):
            let grid = IntegerGrid.signed(bits: bits)
            let step = learnedStep ?? grid.step(range: max(Float(Self.mseSymmetricRange(w, count: n, bits: bits, golden: true)), 1e-8))
            let (lo, hi) = grid.codeBounds(as: Float.self)
            return Self.gridStates(count: n, epsilon: epsilon, codes: codes, clampTo: (lo, hi)) { i in w[i] / step }
        }
    }

    static func ternaryStates(_ w: UnsafePointer<Float>, count n: Int, clip: Float, epsilon: Float,
                              codes: UnsafeMutablePointer<Int32>) -> Int {
        let delta = FloatKernels.ternaryThreshold(w, count: n, clip: clip)
        var near = 0
        for i in 0..<n {
            let c = min(max(w[i], -clip), clip)
            codes[i] = c > delta ? 1 : (c < -delta ? -1 : 0)
            if abs(abs(c) - delta) <= epsilon * delta { near += 1 }
        }
        return near
    }

    static func symmetricStates(_ w: UnsafePointer<Float>, count n: Int, bits: Int, epsilon: Double,
                                codes: UnsafeMutablePointer<Int32>) -> Int {
        var m: Float = 0
        for i in 0..<n { m = max(m, abs(w[i])) }
        guard m > 0 else { return allZero(n, codes) }
        let s = IntegerGrid.symmetric(bits: bits).scale(range: m)
        return gridStates(count: n, epsilon: epsilon, codes: codes) { i in w[i] * s }
    }

    static func asymmetricStates(_ w: UnsafePointer<Float>, count n: Int, bits: Int, epsilon: Double,
                                 codes: UnsafeMutablePointer<Int32>) -> Int {
        var lo = n > 0 ? w[0] : 0, hi = lo
        for i in 0..<n { lo = min(lo, w[i]); hi = max(hi, w[i]) }
        lo = min(lo, 0); hi = max(hi, 0)
        guard hi > lo else { return allZero(n, codes) }
        let grid = IntegerGrid.unsigned(bits: bits)
        let scale = grid.step(lo: lo, hi: hi), zero = grid.zeroPoint(lo: lo, step: scale)
        let (qlo, qhi) = grid.codeBounds(as: Float.self)
        return gridStates(count: n, epsilon: epsilon, codes: codes, clampTo: (qlo - zero, qhi - zero)) { i in w[i] / scale }
    }

    /// Codes round(x_i) half to even (clamped to `clampTo`), and the count of x_i within ε of a
    /// midpoint k + ½ that the rounding decides on (a clamped value decides nothing).
    static func gridStates(count n: Int, epsilon: Double, codes: UnsafeMutablePointer<Int32>,
                           clampTo bounds: (lo: Float, hi: Float)? = nil, scaled x: (Int) -> Float) -> Int {
        var near = 0
        let e = Float(epsilon)
        for i in 0..<n {
            let v = x(i)
            var q = roundEven(v)
            if let b = bounds { q = min(max(q, b.lo), b.hi) }
            codes[i] = Int32(q)
            let inside = bounds.map { v > $0.lo - 0.5 && v < $0.hi + 0.5 } ?? true
            if inside, abs(abs(v - v.rounded(.down)) - 0.5) <= e { near += 1 }
        }
        return near
    }

    static func allZero(_ n: Int, _ codes: UnsafeMutablePointer<Int32>) -> Int {
        for i in 0..<n { codes[i] = 0 }
        return 0
    }
}
