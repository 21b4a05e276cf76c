// O's input quantizer when the context is an exact lattice product (LatticeProduct.swift): the
// dynamic symmetric quantizer takes its codes and STE mask from the integer sums S by the exact rule
// of LatticeRounding.swift, instead of rounding the float context. Range and step are what the
// quantizer computes from the float context it is handed (σ·S correctly rounded, so max|x| = σ·M
// correctly rounded, or the clip), hence x̂ = code·step as on every other site, and the int8 Linear
// gets the same codes. Any other quantizer at the site (none in the project's schemes that quantize
// both P and V) rounds the correctly rounded context by its own float rule, see
// docs/exact-lattice-products.md.
import TILinalg

extension ActivationQuantization {
    /// `applyToLinearInput(site, x)`, exact when x is `lattice.context`. The values, mask and codes are
    /// those of the exact rule; recording (FrozenPoint) and the inspector see them as for any site.
    public func applyToLinearInput(_ site: ActivationSite, _ x: Buffer<T>, lattice: LatticeProduct<T>?)
        -> (Buffer<T>, STEMask<T>?, Int8Lattice?) {
        guard let lattice, x === lattice.context, frozen?.phase != .replaying,
              case .symmetric(let bits, let clip)? = config.activations[site],
              let (rule, step) = Self.exactRule(lattice, bits: bits, clip: clip, across: statistics)
        else { return applyToLinearInput(site, x) }
        let n = x.count
        let out = Buffer<T>(uninitialized: n)
        let mask = keepsMasks || frozen != nil ? Buffer<T>(uninitialized: n) : nil
        let int8 = Int8Path.enabled && T.self == Float.self && frozen == nil && inspector == nil && bits <= 8
        var codes = [Int8](repeating: 0, count: int8 ? n : 0)
        // code·step for every code, once (a generic Int → T conversion per entry is slow).
        let values = (-rule.q...rule.q).map { T($0) * step }
        codes.withUnsafeMutableBufferPointer { cp in
            values.withUnsafeBufferPointer { vp in
                let codesOut = int8 ? cp.baseAddress : nil
                // Elementwise over the exact sums: any split across threads gives the same bits.
                Parallel.rows(n, width: 1, minimumRows: 1 << 14) { r in
                    rule.apply(sums: lattice.sums, range: r, values: vp.baseAddress!, out: out.p, mask: mask?.p, codes: codesOut)
                }
            }
        }
        if let f = frozen, let mask {
            let offset = Buffer<T>(uninitialized: n)
            for i in 0..<n { offset.p[i] = out.p[i] - mask.p[i] * x.p[i] }
            f.record(offset: offset, mask: mask, terms: [])
        }
        if let inspector {
            inspector.record(counter.next(site), site: site, quantizer: config.activations[site], x: x, quantized: out, width: hiddenWidth)
        }
        return (out, mask.map { STEMask($0) }, int8 ? Int8Lattice(codes: codes, step: Float(step)) : nil)
    }

    /// The exact rule and the step of the dynamic symmetric quantizer on σ·S; nil when S is all zero
    /// (the float route then gives the same zeros). `across`: M is the batch's, as the float route's max|x|.
    static func exactRule(_ lattice: LatticeProduct<T>, bits: Int, clip: Double?, across: GlobalBatchStatistics? = nil)
        -> (LatticeRounding, T)? {
        let m = across.map { $0.maximum(lattice.maxAbsSum) } ?? lattice.maxAbsSum
        guard m > 0 else { return nil }
        let grid = IntegerGrid.symmetric(bits: bits), steps = (lattice.probs.step, lattice.values.step)
        let c = clip.map { T($0) }
        if let c, LatticeRounding.exceeds(steps: steps, maxAbs: m, range: c) {
            return (LatticeRounding(q: grid.qmax, steps: steps, range: c, maxAbs: m, inclusiveMask: false), grid.step(range: c))
        }
        let maskBound = c.map { LatticeRounding.maskBound(steps: steps, range: $0, maxAbs: m, inclusive: false) } ?? m
        return (LatticeRounding(q: grid.qmax, maxAbs: m, maskBound: maskBound), grid.step(range: lattice.rounded(m)))
    }
}
