// The exact rule by which a symmetric quantizer rounds values that lie on a lattice x = σ·S (σ > 0 a
// product of two quantizer steps, S an integer). Definitions, as docs/exact-lattice-products.md
// states them:
//   range     r = min(σ·M, c) with M = max|S| (dynamic quantizer, clip c, c = ∞ without one), or a
//             stored float range r (EMA/calibrated); comparisons of σ·M with c are exact.
//   code      round_half_even(Q·clamp(x, −r, r)/r) of the exact rational, Q = 2^(b−1) − 1; for the
//             unclipped dynamic range that is round_half_even(Q·S/M), which no step enters at all.
//   STE mask  1[σ·|S| < c] for the dynamic quantizer (as `T.quantizeSymmetric`), 1[σ·|S| ≤ r] for a
//             stored range (as `ActivationQuantizer.symmetric`), both exact.
// Because σ > 0 is one number for the whole tensor, the code is a non-decreasing step function of
// |S| with Q steps. Their places are found once per tensor, exactly (integers, or ExactDyadic where
// a float range or clip enters), and every entry then needs only integer comparisons.
import TILinalg

/// Where round_half_even(y(|S|)) steps up, y(|S|) = |S|·Q/M or σ·|S|·Q/r: `bounds[k]` is the largest
/// integer with y ≤ k + ½, and `ties[k]` says y equals k + ½ there.
public struct LatticeRounding: Equatable, Sendable {
    public let q: Int
    public let bounds: [Int64]
    public let ties: [Bool]
    /// Largest |S| whose STE mask is 1.
    public let maskBound: Int64
    /// Boundaries per unit of |S|, for the first guess in `apply` (any value gives the same codes).
    let slope: Double
    /// M of the unclipped dynamic range, where the code is round_half_even(Q·|S|/M) of two integers.
    let dynamicMax: Int64?

    static func slope(q: Int, bounds: [Int64]) -> Double { Double(q) / Double(max(1, bounds[q - 1] + 1)) }

    /// The unclipped dynamic range: y = Q·|S|/M, all in integers.
    public init(q: Int, maxAbs m: Int64, maskBound: Int64) {
        precondition(m > 0 && q > 0, "LatticeRounding: M and Q must be positive")
        self.q = q
        self.maskBound = maskBound
        bounds = (0..<q).map { k in Int64(2 * k + 1) * m / Int64(2 * q) }
        ties = (0..<q).map { k in (Int64(2 * k + 1) * m) % Int64(2 * q) == 0 }
        slope = Self.slope(q: q, bounds: bounds)
        dynamicMax = m
    }

    /// A float range r (a clip, a stored range): y = σ·|S|·Q/r with σ = step₁·step₂, decided exactly.
    /// `inclusiveMask`: 1[σ|S| ≤ r] (stored range) rather than 1[σ|S| < r] (clip).
    public init<T: BLASScalar>(q: Int, steps: (T, T), range r: T, maxAbs m: Int64, inclusiveMask: Bool) {
        self.q = q
        var b: [Int64] = [], tie: [Bool] = []
        for k in 0..<q {
            let (t, eq) = Self.largest(steps: steps, timesDen: Int64(2 * q), below: r, timesNum: Int64(2 * k + 1), cap: m, strict: false)
            b.append(t); tie.append(eq)
        }
        bounds = b; ties = tie
        slope = Self.slope(q: q, bounds: b)
        dynamicMax = nil
        maskBound = Self.maskBound(steps: steps, range: r, maxAbs: m, inclusive: inclusiveMask)
    }

    /// Largest |S| ≤ M + 1 with σ·|S| < r (or ≤ r when `inclusive`), exactly.
    public static func maskBound<T: BLASScalar>(steps: (T, T), range r: T, maxAbs m: Int64, inclusive: Bool) -> Int64 {
        largest(steps: steps, timesDen: 1, below: r, timesNum: 1, cap: m, strict: !inclusive).0
    }

    /// σ·M > r, exactly: the dynamic range is the clip rather than the tensor's own max.
    public static func exceeds<T: BLASScalar>(steps: (T, T), maxAbs m: Int64, range r: T) -> Bool {
        ExactDyadic.compare(ExactDyadic.product([steps.0, steps.1], [m]), ExactDyadic(r)) > 0
    }

    /// The largest integer t ≤ cap + 1 with σ·den·t ≤ num·r (< when `strict`), and whether σ·den·t = num·r:
    /// a float estimate, then corrected by exact comparisons (a step or two at most).
    static func largest<T: BLASScalar>(steps: (T, T), timesDen den: Int64, below r: T, timesNum num: Int64, cap: Int64,
                                       strict: Bool) -> (Int64, Bool) {
        let rhs = ExactDyadic.product([r], [num])
        func sign(_ t: Int64) -> Int { ExactDyadic.compare(ExactDyadic.product([steps.0, steps.1], [den, t]), rhs) }
        func ok(_ t: Int64) -> Bool { strict ? sign(t) < 0 : sign(t) <= 0 }
        let guess = Double(r) * Double(num) / (Double(steps.0) * Double(steps.1) * Double(den))
        var t = guess.isFinite ? Int64(max(0, min(guess.rounded(.down), Double(cap + 1)))) : cap + 1
        while t > 0 && !ok(t) { t -= 1 }
        while t <= cap && ok(t + 1) { t += 1 }
        return (t, sign(t) == 0)
    }

    /// The rule over `range` of `sums`: code = round_half_even(y(|S|)) with the sign of S (at most Q
    /// in magnitude: the clamp), out = values[code + Q], mask 1[|S| ≤ maskBound], and the codes when
    /// given. The tables are read through pointers: this loop runs once per context entry of every
    /// attention layer.
    public func apply<T: BLASScalar>(sums: UnsafePointer<Int64>, range: Range<Int>, values: UnsafePointer<T>,
                                     out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>?, codes: UnsafeMutablePointer<Int8>?) {
        if let m = dynamicMax, m < 1 << 45, Int64(q) < 1 << 8 {
            // Q·|S| ≤ Q·M < 2^53 is exact in Double and the quotient y < 2^8 is correctly rounded, so
            // it is off by at most half an ulp, 2^-46. A y that is not a tie lies at least 1/(2M) >
            // 2^-46 from every k + ½, so its rounding stays on the same side; a tie k + ½ is computed
            // exactly. Rounding the Double half to even therefore gives the exact code, branch-free.
            let qd = Double(q), md = Double(m), maskBound = maskBound
            for i in range {
                let s = sums[i], a = abs(s)
                let k = Int((qd * Double(a) / md).rounded(.toNearestOrEven))
                let c = s < 0 ? -k : k
                out[i] = values[c + q]
                mask?[i] = a <= maskBound ? 1 : 0
                codes?[i] = Int8(truncatingIfNeeded: c)
            }
            return
        }
        bounds.withUnsafeBufferPointer { bp in
            ties.withUnsafeBufferPointer { tp in
                let b = bp.baseAddress!, t = tp.baseAddress!, slope = slope, q = q, maskBound = maskBound
                for i in range {
                    let s = sums[i], a = abs(s)
                    // k = number of boundaries strictly below |S| (non-decreasing, about evenly spaced):
                    // a guess from the spacing, then a step or two to the exact count.
                    var k = min(q, Int(Double(a) * slope))
                    while k > 0 && b[k - 1] >= a { k -= 1 }
                    while k < q && b[k] < a { k += 1 }
                    if k < q, t[k], b[k] == a, k & 1 == 1 { k += 1 }  // y = k + ½: to the even neighbour
                    let c = s < 0 ? -k : k
                    out[i] = values[c + q]
                    mask?[i] = a <= maskBound ? 1 : 0
                    codes?[i] = Int8(truncatingIfNeeded: c)
                }
            }
        }
    }
}
