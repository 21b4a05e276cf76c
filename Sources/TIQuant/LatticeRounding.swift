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

    /// The unclipped dynamic range: y = Q·|S|/M, all in integers.
    public init(q: Int, maxAbs m: Int64, maskBound: Int64) {
        precondition(m > 0 && q > 0, "LatticeRounding: M and Q must be positive")
        self.q = q
        self.maskBound = maskBound
        bounds = (0..<q).map { k in Int64(2 * k + 1) * m / Int64(2 * q) }
        ties = (0..<q).map { k in (Int64(2 * k + 1) * m) % Int64(2 * q) == 0 }
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

    /// round_half_even(y(|S|)) with the sign of S; at most Q in magnitude (the clamp).
    @inline(__always) public func code(_ s: Int64) -> Int {
        let a = s.magnitude
        // Number of boundaries strictly below |S| (bounds are non-decreasing): binary search.
        var lo = 0, hi = q
        while lo < hi {
            let mid = (lo + hi) / 2
            if UInt64(bounds[mid]) < a { lo = mid + 1 } else { hi = mid }
        }
        var k = lo
        if k < q, ties[k], UInt64(bounds[k]) == a, k % 2 == 1 { k += 1 }  // y = k + ½: to the even neighbour
        return s < 0 ? -k : k
    }

    @inline(__always) public func mask(_ s: Int64) -> Bool { s.magnitude <= UInt64(maskBound) }
}
