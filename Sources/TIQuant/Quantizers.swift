// Fake quantizers with straight-through estimators. Each returns the quantized values and the STE
// mask (1 where the gradient passes, 0 where the input was clipped); the scale is not differentiated.
import TILinalg

/// Rounds half to even like `torch.round`; Swift's default `.rounded()` rounds ties away from zero,
/// which differs on structured inputs such as uniform attention probabilities.
@inline(__always) func roundEven<T: BLASScalar>(_ x: T) -> T { x.rounded(.toNearestOrEven) }

public enum WeightQuantizer: Codable, Equatable, Sendable {
    /// TernaryBERT's TWN: clamp to ±clip, Δ = 0.7·mean|W|, α = mean|W| over |W| > Δ, Ŵ = α·sign(W)·1[|W| > Δ].
    case ternary(clip: Double, perRow: Bool)
    /// Uniform n-bit grid over [−max|W|, max|W|] (symmetric) or [min, max] (asymmetric), per tensor or per row.
    case uniform(bits: Int, symmetric: Bool, perRow: Bool)
    /// Symmetric n-bit per tensor over ±r, r ≤ max|W| minimizing ‖W − Q_r(W)‖² (grid search, then
    /// golden-section refinement when `golden`); the STE passes where |W| ≤ r. PTQ's MSE weight range.
    case symmetricMSE(bits: Int, golden: Bool)
    /// LSQ: symmetric n-bit with a learned step read from the parameter buffer (LSQ.swift). Where the
    /// layout has no step slot (a plain BERT layout) the step is the MSE-optimal range over Q_P.
    case lsq(bits: Int)

    public var label: String {
        switch self {
        case .ternary(let c, let r): return "ternary(clip=\(c)\(r ? ",row" : ""))"
        case .uniform(let b, let s, let r): return "uniform\(b)(\(s ? "sym" : "asym")\(r ? ",row" : ""))"
        case .symmetricMSE(let b, let g): return "uniform\(b)(sym,mse\(g ? "+golden" : ""))"
        case .lsq(let b): return "lsq\(b)"
        }
    }

    /// Quantizes a [rows, cols] tensor into `out`, writing the STE mask into `mask`.
    public func quantize<T: BLASScalar>(_ w: UnsafePointer<T>, rows: Int, cols: Int,
                                        out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>) {
        switch self {
        case .ternary(let clip, let perRow):
            let groups = perRow ? rows : 1, len = rows * cols / groups
            for g in 0..<groups { Self.ternarize(w + g * len, count: len, clip: T(clip), out: out + g * len, mask: mask + g * len) }
        case .uniform(let bits, let symmetric, let perRow):
            let groups = perRow ? rows : 1, len = rows * cols / groups
            for g in 0..<groups {
                Self.uniformGrid(w + g * len, count: len, bits: bits, symmetric: symmetric, out: out + g * len, mask: mask + g * len)
            }
        case .symmetricMSE(let bits, let golden):
            let n = rows * cols
            let r = Self.mseSymmetricRange(w, count: n, bits: bits, golden: golden)
            ActivationQuantizer.symmetric(w, count: n, bits: bits, range: T(r), out: out, mask: mask)
        case .lsq(let bits):
            let n = rows * cols
            let r = Self.mseSymmetricRange(w, count: n, bits: bits, golden: true)
            let d = UnsafeMutablePointer<T>.allocate(capacity: n)
            defer { d.deallocate() }
            LSQ.quantize(w, count: n, bits: bits, step: T(IntegerGrid.signed(bits: bits).step(range: max(r, 1e-8))), out: out, mask: mask, d: d)
        }
    }


    /// The symmetric range r ∈ (0, max|W|] with the least squared quantization error.
    public static func mseSymmetricRange<T: BLASScalar>(_ w: UnsafePointer<T>, count n: Int, bits: Int, golden: Bool) -> Double {
        let m = Double(ActivationQuantizer.maxAbs(w, count: n))
        let grid = IntegerGrid.symmetric(bits: bits)
        return RangeSearch.minimize(upper: m, golden: golden) { r in
            let s = grid.scale(range: r)
            var e = 0.0
            for i in 0..<n {
                let v = min(max(Double(w[i]), -r), r)
                let d = Double(w[i]) - (v * s).rounded(.toNearestOrEven) / s
                e += d * d
            }
            return e
        }
    }

    static func ternarize<T: BLASScalar>(_ w: UnsafePointer<T>, count n: Int, clip: T,
                                         out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>) {
        if T.self == Float.self {  // vectorized, means summed in double (8 % of a KD train step in Swift)
            FloatKernels.ternarize(w, count: n, clip: clip, out: out, mask: mask)
            return
        }
        var meanAbs: T = 0
        for i in 0..<n {
            let c = min(max(w[i], -clip), clip)
            meanAbs += abs(c)
            mask[i] = abs(w[i]) < clip ? 1 : 0
        }
        meanAbs /= T(n)
        let delta = T(0.7) * meanAbs
        var sum: T = 0, kept = 0
        for i in 0..<n {
            let c = abs(min(max(w[i], -clip), clip))
            if c > delta { sum += c; kept += 1 }
        }
        let alpha = kept > 0 ? sum / T(kept) : 0
        for i in 0..<n {
            let c = min(max(w[i], -clip), clip)
            out[i] = c > delta ? alpha : (c < -delta ? -alpha : 0)
        }
    }


    /// `across`: the tensor is one rank's rows of a batch split across ranks; its range is the batch's.
    static func uniformGrid<T: BLASScalar>(_ w: UnsafePointer<T>, count n: Int, bits: Int, symmetric: Bool,
                                           out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>,
                                           across: GlobalBatchStatistics? = nil) {
        for i in 0..<n { mask[i] = 1 }  // the range covers every entry, so nothing is clipped
        if symmetric {
            var m: T = 0
            for i in 0..<n { m = max(m, abs(w[i])) }
            if let across { m = across.maxAbs(m) }
            guard m > 0 else { for i in 0..<n { out[i] = 0 }; return }
            let s = IntegerGrid.symmetric(bits: bits).scale(range: m)
            for i in 0..<n { out[i] = roundEven(w[i] * s) / s }
        } else {
            var lo = n > 0 ? w[0] : 0, hi = lo
            for i in 0..<n { lo = min(lo, w[i]); hi = max(hi, w[i]) }
            lo = min(lo, 0); hi = max(hi, 0)  // keep 0 exactly representable
            if let across { (lo, hi) = across.range(lo: lo, hi: hi) }
            guard hi > lo else { for i in 0..<n { out[i] = 0 }; return }
            let grid = IntegerGrid.unsigned(bits: bits), (qlo, qhi) = grid.codeBounds(as: T.self)
            let scale = grid.step(lo: lo, hi: hi)
            let zero = grid.zeroPoint(lo: lo, step: scale)
            for i in 0..<n {
                let q = min(max(roundEven(w[i] / scale) + zero, qlo), qhi)
                out[i] = (q - zero) * scale
            }
        }
    }
}

public enum ActivationQuantizer: Codable, Equatable, Sendable {
    /// Symmetric dynamic per-tensor: clamp to ±clip, s = (2^(b−1)−1)/max|x|, x̂ = round(x·s)/s.
    case symmetric(bits: Int, clip: Double?)
    /// Asymmetric dynamic per-tensor over [min(x, 0), max(x, 0)].
    case asymmetric(bits: Int)
    /// Q8BERT: symmetric over ±r with r a range kept across passes (the EMA of max|x| in training,
    /// frozen at evaluation; see ActivationRanges.swift). Without a known range it falls back to the
    /// dynamic max|x| of the tensor (what the first EMA update yields anyway).
    case tracked(bits: Int)
    /// PTQ: asymmetric uniform over a calibrated [lo, hi] kept in the range state (see PTQ.swift); without
    /// one, the tensor's own [min, max] (dynamic asymmetric).
    case calibrated(bits: Int)
    /// PEG: asymmetric per group of hidden dimensions over calibrated per-dimension ranges (PEG.swift);
    /// `groups` = hidden size is per-embedding. Only for [rows, hidden] sites.
    case perEmbeddingGroup(bits: Int, groups: Int, permute: Bool)
    /// LSQ activations (the seed's `asymmetric_uniform` with learned ranges): asymmetric b-bit with a
    /// learned step and a learned zero point read from the parameter buffer (LSQ.swift; a layout without
    /// zero-point slots keeps the one of the calibrated range). Calibrated like `.calibrated`, which also
    /// stands in where the layout has no step slot.
    case lsq(bits: Int)
    /// LSQ activations, the seed's `symmetric_uniform`: a learned step, zero point 0, the signed grid
    /// −2^(b−1) … 2^(b−1) − 1 when the calibrated range reaches below 0, else the unsigned 0 … 2^b − 1.
    case lsqSymmetric(bits: Int)

    /// True for the quantizers whose range lives in an `ActivationRangeState` rather than in the tensor.
    public var usesStoredRange: Bool {
        switch self {
        case .tracked, .calibrated, .perEmbeddingGroup, .lsq, .lsqSymmetric: return true
        case .symmetric, .asymmetric: return false
        }
    }

    /// Asymmetric over one calibrated [lo, hi] per tensor (LSQ's too, until its step is learned).
    public var isCalibratedAsymmetric: Bool {
        switch self {
        case .calibrated, .lsq: return true
        default: return false
        }
    }

    /// True for the LSQ quantizers, whose step (and zero point) are parameters.
    public var learnsStep: Bool {
        switch self {
        case .lsq, .lsqSymmetric: return true
        default: return false
        }
    }

    public var bits: Int {
        switch self {
        case .symmetric(let b, _), .asymmetric(let b), .tracked(let b), .calibrated(let b), .lsq(let b), .lsqSymmetric(let b): return b
        case .perEmbeddingGroup(let b, _, _): return b
        }
    }

    public var label: String {
        switch self {
        case .symmetric(let b, let c): return "sym\(b)" + (c.map { "(clip=\($0))" } ?? "")
        case .asymmetric(let b): return "asym\(b)"
        case .tracked(let b): return "sym\(b)(ema)"
        case .calibrated(let b): return "asym\(b)(calibrated)"
        case .perEmbeddingGroup(let b, let k, let p): return "asym\(b)(peg,\(p ? "ngp" : "ng")\(k))"
        case .lsq(let b): return "asym\(b)(lsq)"
        case .lsqSymmetric(let b): return "sym\(b)(lsq)"
        }
    }

    /// `across`: x is one rank's rows of a batch split across ranks; the range is the batch's.
    public func quantize<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int,
                                        out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>,
                                        across: GlobalBatchStatistics? = nil) {
        switch self {
        case .symmetric(let bits, let clip):
            ActivationQuantizer.symmetricDynamic(x, count: n, bits: bits, clip: clip, out: out, mask: mask, across: across)
        case .asymmetric(let bits):
            WeightQuantizer.uniformGrid(x, count: n, bits: bits, symmetric: false, out: out, mask: mask, across: across)
        case .tracked(let bits):
            ActivationQuantizer.symmetric(bits: bits, clip: nil).quantize(x, count: n, out: out, mask: mask, across: across)
        case .calibrated(let bits), .perEmbeddingGroup(let bits, _, _), .lsq(let bits):  // (PEG without its width, LSQ without its step: per tensor)
            WeightQuantizer.uniformGrid(x, count: n, bits: bits, symmetric: false, out: out, mask: mask, across: across)
        case .lsqSymmetric(let bits):
            WeightQuantizer.uniformGrid(x, count: n, bits: bits, symmetric: true, out: out, mask: mask, across: across)
        }
    }

    /// Symmetric dynamic per tensor (`.symmetric`); a nil mask skips the STE mask (loss-only passes).
    public static func symmetricDynamic<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, clip: Double?,
                                                       out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>?,
                                                       across: GlobalBatchStatistics? = nil) {
        guard let g = dynamicGrid(x, count: n, bits: bits, clip: clip, across: across) else {  // all zeros stay zeros
            for i in 0..<n { out[i] = 0; mask?[i] = 1 }
            return
        }
        Parallel.rows(n, width: 1, minimumRows: 16384) { r in  // elementwise, so any split gives the same bits
            T.quantizeSymmetric(x + r.lowerBound, count: r.count, clip: g.clip, scale: g.scale, step: g.step,
                                out: out + r.lowerBound, mask: mask.map { $0 + r.lowerBound })
        }
    }

    /// `symmetricDynamic` in Float keeping the integers: out = codes·step as rounded there. Returns the
    /// step (0 for an all-zero tensor, whose codes are 0), or nil when x is not finite where it
    /// counts (a NaN, or ±∞ without a clip): out then holds what `symmetricDynamic` gives, and the
    /// codes must not be used. bits ≤ 8, so the codes fit in Int8.
    public static func symmetricDynamicCodes(_ x: UnsafePointer<Float>, count n: Int, bits: Int, clip: Double?,
                                             out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>?,
                                             codes: UnsafeMutablePointer<Int8>, across: GlobalBatchStatistics? = nil) -> Float? {
        precondition(bits <= 8, "symmetricDynamicCodes: \(bits)-bit codes do not fit in Int8")
        guard let g = dynamicGrid(x, count: n, bits: bits, clip: clip, across: across) else {
            for i in 0..<n { out[i] = 0; mask?[i] = 1; codes[i] = 0 }
            return 0
        }
        let finite = FloatKernels.quantizeSymmetricCodes(x, count: n, clip: g.clip, scale: g.scale, step: g.step, out: out,
                                                         mask: mask, codes: codes)
        return finite && g.step.isFinite ? g.step : nil
    }

    /// The per-tensor grid of the dynamic symmetric quantizer, shared by both forms above so that they
    /// round alike: clip c, scale s = (2^(b−1)−1)/m and step m/(2^(b−1)−1) with m = max|clamp(x)|;
    /// nil for an all-zero tensor. `across`: m is that of the batch x is one rank's share of.
    static func dynamicGrid<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, clip: Double?,
                                           across: GlobalBatchStatistics? = nil) -> (clip: T, scale: T, step: T)? {
        let c = clip.map { T($0) } ?? T.infinity
        // max|clamp(x)| = min(max|x|, c): one vectorized reduction, then one branch-free pass.
        let local = n > 0 ? T.absMax(n, x) : 0
        let m = min(across.map { $0.maxAbs(local) } ?? local, c)
        guard m > 0 else { return nil }
        // |clamp(x)·s| ≤ 2^(bits−1) − 1, well inside the kernel's rounding range. Multiplying by the
        // step m/(2^(b−1)−1) instead of dividing by s changes x̂ by at most one ulp.
        let grid = IntegerGrid.symmetric(bits: bits)
        return (c, grid.scale(range: m), grid.step(range: m))
    }

    /// Symmetric b-bit over a given range ±r: clamp, x̂ = round(x·s)/s with s = (2^(b−1)−1)/r. The STE
    /// passes where |x| ≤ r (clamp's derivative, boundary included, as in PyTorch).
    public static func symmetric<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, range r: T,
                                                out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>) {
        guard r > 0 else {
            for i in 0..<n { out[i] = 0; mask[i] = 1 }
            return
        }
        let s = IntegerGrid.symmetric(bits: bits).scale(range: r)
        for i in 0..<n {
            let v = min(max(x[i], -r), r)
            mask[i] = abs(x[i]) <= r ? 1 : 0
            out[i] = roundEven(v * s) / s
        }
    }

    /// Asymmetric b-bit over a given [lo, hi] (widened to contain 0 so that 0 is exact): scale
    /// (hi − lo)/(2^b − 1), integer zero point; the STE stops only where the clamp to [0, 2^b − 1] acts
    /// (not for values within half a step of the grid's ends, which the rounded zero point may shift).
    public static func asymmetric<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int, bits: Int, lo: T, hi: T,
                                                 out: UnsafeMutablePointer<T>, mask: UnsafeMutablePointer<T>) {
        let lo = min(lo, 0), hi = max(hi, 0)
        guard hi > lo else {
            for i in 0..<n { out[i] = 0; mask[i] = 1 }
            return
        }
        let grid = IntegerGrid.unsigned(bits: bits), (qlo, qhi) = grid.codeBounds(as: T.self)
        let scale = grid.step(lo: lo, hi: hi)
        let zero = grid.zeroPoint(lo: lo, step: scale)
        for i in 0..<n {
            let u = roundEven(x[i] / scale) + zero
            out[i] = (min(max(u, qlo), qhi) - zero) * scale
            mask[i] = u >= qlo && u <= qhi ? 1 : 0
        }
    }

    static func maxAbs<T: BLASScalar>(_ x: UnsafePointer<T>, count n: Int) -> T {
        var m: T = 0
        for i in 0..<n { m = max(m, abs(x[i])) }
        return m
    }
}
