// Freezing the quantization noise and the detached inputs at a base point θ₀.
//
// The Hessian tianalyze reports is that of the stand-in loss in which every quantizer is
// `mask·x + c` (c and mask taken at θ₀) and every detached input is a constant (its θ₀ value):
// the matrix autograd double-backprop computes on the reference PyTorch code. Recording one
// forward at θ₀ and replaying the recorded (c, mask) pairs and detached tensors at θ₀ ± εv makes
// finite differences of analytic gradients differentiate exactly that stand-in.
import TILinalg

public final class FrozenPoint<T: BLASScalar> {
    public enum Phase { case recording, replaying }
    public private(set) var phase: Phase = .recording
    private var activations: [(offset: Buffer<T>, mask: Buffer<T>, terms: [LSQActivationTerm<T>])] = []
    private var detached: [Buffer<T>] = []
    private var activationCursor = 0, detachedCursor = 0

    /// Weight quantization at θ₀: θ̂ = mask·θ + offset on replay.
    public var weights: (offset: [T], mask: [T])?
    /// LSQ steps at θ₀: θ̂ also moves by d·(step) on replay.
    public var weightScaleTerms: [LSQScaleTerm<T>] = []

    public init() {}

    /// Switches from recording to replaying and rewinds; call before each replayed forward pass.
    public func beginReplay() {
        phase = .replaying
        activationCursor = 0
        detachedCursor = 0
    }

    func record(offset: Buffer<T>, mask: Buffer<T>, terms: [LSQActivationTerm<T>]) { activations.append((offset, mask, terms)) }

    func nextActivation(count: Int) -> (offset: Buffer<T>, mask: Buffer<T>, terms: [LSQActivationTerm<T>]) {
        precondition(activationCursor < activations.count, "FrozenPoint: replay visits more quantizer sites than were recorded")
        let e = activations[activationCursor]
        activationCursor += 1
        precondition(e.offset.count == count, "FrozenPoint: replayed site size \(count) differs from recorded \(e.offset.count)")
        return e
    }

    func recordDetached(_ x: Buffer<T>) { detached.append(x.copy()) }

    func nextDetached() -> Buffer<T> {
        precondition(detachedCursor < detached.count, "FrozenPoint: replay detaches more tensors than were recorded")
        defer { detachedCursor += 1 }
        return detached[detachedCursor]
    }
}

/// The backward of one activation quantizer, kept next to its forward (`ActivationQuantization.apply`):
/// the STE mask, and for an LSQ site the learned step's ∂x̂/∂s (and zero point's ∂x̂/∂z_f).
public struct STEMask<T: BLASScalar> {
    public let mask: Buffer<T>
    /// LSQ activation sites only: where each learned parameter sits in the flat gradient and ∂x̂/∂p per entry.
    public let terms: [LSQActivationTerm<T>]

    public init(_ mask: Buffer<T>, terms: [LSQActivationTerm<T>] = []) { self.mask = mask; self.terms = terms }

    /// g ← mask ⊙ g, where g is the gradient at the quantizer's output. Each learned parameter's gradient
    /// Σᵢ gᵢ·dᵢ is taken first, from the unmasked g: clamped entries move with the step and the zero point
    /// even though no gradient passes to their input.
    public func backward(_ g: Buffer<T>, grads: UnsafeMutablePointer<T>) {
        for t in terms {
            precondition(t.d.count == g.count, "STEMask: gradient of \(g.count) entries, parameter derivative of \(t.d.count)")
            grads[t.index] += T.dot(g.count, g.p, t.d.p)
        }
        g.multiply(by: mask)
    }
}

/// Applies the activation quantizers of a config inside one forward pass, recording or replaying
/// the frozen noise when a `FrozenPoint` is attached.
public struct ActivationQuantization<T: BLASScalar> {
    public let config: QuantConfig
    public let frozen: FrozenPoint<T>?
    /// LSQ activation steps of the parameter vector being evaluated, by site key; nil when the layout
    /// has none (then an LSQ site quantizes with its calibrated range, like `.calibrated`).
    public let steps: LSQActivationSteps<T>?
    /// Training only: stored-range quantizers update this EMA state and quantize with it.
    public let tracker: ActivationRangeTracker?
    /// Width of [rows, hidden] activations, for per-embedding-group quantizers.
    public let hiddenWidth: Int
    /// Analysis only (quant-report): sees every site's input and output, quantized or not.
    public let inspector: ActivationInspector?
    /// Keys each visit of a stored-range site ("site.occurrence"); one per forward pass.
    let counter = SiteCounter()
    /// False in loss-only passes: dynamic quantizers then skip writing the STE mask.
    public var keepsMasks = true
    /// Data-parallel training: the tensors are one rank's rows of a batch split across ranks, and every
    /// range taken from a tensor (dynamic max|x| or [min, max], an EMA observation) is the batch's.
    public var statistics: GlobalBatchStatistics? = nil
    /// Integer inference: the int8 Linears of this pass, bound to its parameter vector (IntegerLinears.swift).
    public var integerLinears: IntegerLinears? = nil

    /// A loss-only pass may leave out sites whose result an intervention discards when nothing keys
    /// or records visits: no stored-range or learned-step quantizer, no recording, no inspector.
    public var maySkipUnusedSites: Bool {
        !keepsMasks && frozen == nil && tracker == nil && inspector == nil && !config.usesStoredRanges
    }

    public init(config: QuantConfig, frozen: FrozenPoint<T>? = nil, tracker: ActivationRangeTracker? = nil, hiddenWidth: Int = 0,
                inspector: ActivationInspector? = nil, steps: LSQActivationSteps<T>? = nil) {
        self.config = config; self.frozen = frozen; self.tracker = tracker; self.hiddenWidth = hiddenWidth
        self.inspector = inspector; self.steps = steps
    }

    /// Returns the quantized tensor and its STE backward (nil: identity, the input is returned as is).
    public func apply(_ site: ActivationSite, _ x: Buffer<T>) -> (Buffer<T>, STEMask<T>?) {
        guard let q = config.activations[site] else {
            inspector?.record(counter.next(site), site: site, quantizer: nil, x: x, quantized: x, width: hiddenWidth)
            return (x, nil)
        }
        // Counted on replay too, so keys stay aligned.
        let key = q.usesStoredRange || inspector != nil ? counter.next(site) : nil
        let n = x.count
        let out = Buffer<T>(uninitialized: n)
        if !keepsMasks, key == nil, frozen == nil, case .symmetric(let bits, let clip) = q {
            ActivationQuantizer.symmetricDynamic(x.p, count: n, bits: bits, clip: clip, out: out.p, mask: nil, across: statistics)
            return (out, nil)
        }
        defer { if let key { inspector?.record(key, site: site, quantizer: q, x: x, quantized: out, width: hiddenWidth) } }
        if let f = frozen, f.phase == .replaying {
            let e = f.nextActivation(count: n)
            Parallel.rows(n, width: 1, minimumRows: 1 << 15) { r in  // elementwise: any split, same bits
                T.maskedAffine(mask: e.mask.p + r.lowerBound, x: x.p + r.lowerBound, offset: e.offset.p + r.lowerBound,
                               count: r.count, out: out.p + r.lowerBound)
            }
            // LSQ: x̂ = mask·x + offset + Σ d·(p − p₀) over the step (and zero point) p of the θ being
            // replayed, so that finite differences (and Hessian-vector products) see them like any other
            // parameter. Adding d·(p − p₀) rather than d·p (with d·p₀ taken out of the offset) adds exactly
            // 0 at θ₀ and only the perturbation's rounding near it.
            for t in e.terms {
                guard let p = steps?.value(at: t.index) else { preconditionFailure("FrozenPoint: replayed LSQ parameter moved in the layout") }
                let dp = p - t.value
                for i in 0..<n { out.p[i] += t.d.p[i] * dp }
            }
            return (out, STEMask(e.mask, terms: e.terms))
        }
        let mask = Buffer<T>(uninitialized: n)
        var terms: [LSQActivationTerm<T>] = []
        if let key, q.learnsStep, let t = applyLSQ(key, site: site, q, x, out: out, mask: mask) {
            terms = t
        } else if let key, case .tracked(let bits) = q {
            // Training: update the EMA with this batch, then quantize with it. Evaluation: the frozen range.
            let r = tracker.map { $0.update(key, observedMaxAbs: Double(globalMaxAbs(x))) }
                ?? config.ranges?.threshold(key)
            if let r { ActivationQuantizer.symmetric(x.p, count: n, bits: bits, range: T(r), out: out.p, mask: mask.p) }
            else { q.quantize(x.p, count: n, out: out.p, mask: mask.p) }
            // Intel's STE passes the gradient where x was clipped too.
            if (tracker?.state ?? config.ranges)?.straightThrough == true { for i in 0..<n { mask.p[i] = 1 } }
        } else if let key, q.isCalibratedAsymmetric {
            // Calibration: the estimator sees this tensor first, then it is quantized with the estimate so
            // far (later sites see quantized inputs, as at inference). Evaluation: the frozen range.
            // LSQ sites take this path while they are calibrated (which initializes their steps) and in
            // a layout without step slots.
            let bits = q.bits
            let r = tracker.map { $0.observe(key, site: site, x.p, count: n, bits: bits) } ?? config.ranges?.ranges[key].map { ($0.lo, $0.hi) }
            if let r { ActivationQuantizer.asymmetric(x.p, count: n, bits: bits, lo: T(r.0), hi: T(r.1), out: out.p, mask: mask.p) }
            else { q.quantize(x.p, count: n, out: out.p, mask: mask.p) }
        } else if let key, case .perEmbeddingGroup(let bits, let groups, let permute) = q, hiddenWidth > 0 {
            let w = hiddenWidth
            let r = tracker.map { $0.observePerDimension(key, x.p, count: n, width: w, bits: bits) }
                ?? config.ranges?.ranges[key].flatMap { t in t.dimLo.flatMap { lo in t.dimHi.map { (lo, $0) } } }
                ?? globalDimensionRanges(x, width: w)  // uncalibrated: the tensor's own ranges
            let order = (tracker?.state ?? config.ranges)?.ranges[key]?.order
            PEG.quantize(x.p, count: n, width: w, bits: bits, dimLo: r.0, dimHi: r.1, groups: groups, permute: permute, order: order,
                         out: out.p, mask: mask.p)
        } else {
            q.quantize(x.p, count: n, out: out.p, mask: mask.p, across: statistics)
        }
        if let f = frozen {
            // Recorded so that the replay reproduces out exactly at θ₀: offset = out − mask·x.
            let offset = Buffer<T>(uninitialized: n)
            for i in 0..<n { offset.p[i] = out.p[i] - mask.p[i] * x.p[i] }
            f.record(offset: offset, mask: mask, terms: terms)
        }
        return (out, STEMask(mask, terms: terms))
    }

    /// max|x| of the batch x is this rank's share of (of x itself in one process).
    func globalMaxAbs(_ x: Buffer<T>) -> T {
        let m = ActivationQuantizer.maxAbs(x.p, count: x.count)
        return statistics.map { $0.maxAbs(m) } ?? m
    }

    func globalDimensionRanges(_ x: Buffer<T>, width w: Int) -> ([Double], [Double]) {
        let r = PEG.dimensionRanges(x.p, count: x.count, width: w)
        return statistics.map { $0.ranges(lo: r.0, hi: r.1) } ?? r
    }

    /// A detached input: its value flows forward, no gradient flows back; frozen at θ₀ on replay.
    public func detach(_ x: Buffer<T>) -> Buffer<T> {
        guard let f = frozen else { return x }
        switch f.phase {
        case .recording: f.recordDetached(x); return x
        case .replaying: return f.nextDetached()
        }
    }
}

extension ActivationQuantization {
    /// True when the config quantizes `site`.
    public func quantizes(_ site: ActivationSite) -> Bool { config.activations[site] != nil }

    /// `apply` at a site only some schemes visit (the seed-W8A8 sites): where the config does not
    /// quantize it, the tensor passes untouched and unrecorded, so that the other schemes' passes and
    /// reports stay what they were.
    public func applyIfQuantized(_ site: ActivationSite, _ x: Buffer<T>) -> (Buffer<T>, STEMask<T>?) {
        visits(site) ? apply(site, x) : (x, nil)
    }

    /// True when the forward must form the tensor of `site` on its own: the config quantizes it, or an
    /// inspector records every site (PEG's full-precision range pass).
    public func visits(_ site: ActivationSite) -> Bool { quantizes(site) || inspector?.recordsEverySite == true }
}
