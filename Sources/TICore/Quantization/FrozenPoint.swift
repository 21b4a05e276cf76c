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
    private var activations: [(offset: Buffer<T>, mask: Buffer<T>)] = []
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

    func record(offset: Buffer<T>, mask: Buffer<T>) { activations.append((offset, mask)) }

    func nextActivation(count: Int) -> (offset: Buffer<T>, mask: Buffer<T>) {
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

/// Applies the activation quantizers of a config inside one forward pass, recording or replaying
/// the frozen noise when a `FrozenPoint` is attached.
public struct ActivationQuantization<T: BLASScalar> {
    public let config: QuantConfig
    public let frozen: FrozenPoint<T>?
    /// Training only: stored-range quantizers update this EMA state and quantize with it.
    public let tracker: ActivationRangeTracker?
    /// Width of [rows, hidden] activations, for per-embedding-group quantizers.
    public let hiddenWidth: Int
    /// Analysis only (quant-report): sees every site's input and output, quantized or not.
    public let inspector: ActivationInspector?
    /// Keys each visit of a stored-range site ("site.occurrence"); one per forward pass.
    private let counter = SiteCounter()
    /// False in loss-only passes: dynamic quantizers then skip writing the STE mask.
    public var keepsMasks = true

    public init(config: QuantConfig, frozen: FrozenPoint<T>? = nil, tracker: ActivationRangeTracker? = nil, hiddenWidth: Int = 0,
                inspector: ActivationInspector? = nil) {
        self.config = config; self.frozen = frozen; self.tracker = tracker; self.hiddenWidth = hiddenWidth
        self.inspector = inspector
    }

    /// Returns the quantized tensor and its STE mask (nil mask: identity, the input is returned as is).
    public func apply(_ site: ActivationSite, _ x: Buffer<T>) -> (Buffer<T>, Buffer<T>?) {
        guard let q = config.activations[site] else {
            inspector?.record(counter.next(site), site: site, quantizer: nil, x: x, quantized: x, width: hiddenWidth)
            return (x, nil)
        }
        // Counted on replay too, so keys stay aligned.
        let key = q.usesStoredRange || inspector != nil ? counter.next(site) : nil
        let n = x.count
        let out = Buffer<T>(uninitialized: n)
        if !keepsMasks, key == nil, frozen == nil, case .symmetric(let bits, let clip) = q {
            ActivationQuantizer.symmetricDynamic(x.p, count: n, bits: bits, clip: clip, out: out.p, mask: nil)
            return (out, nil)
        }
        defer { if let key { inspector?.record(key, site: site, quantizer: q, x: x, quantized: out, width: hiddenWidth) } }
        if let f = frozen, f.phase == .replaying {
            let e = f.nextActivation(count: n)
            for i in 0..<n { out.p[i] = e.mask.p[i] * x.p[i] + e.offset.p[i] }
            return (out, e.mask)
        }
        let mask = Buffer<T>(uninitialized: n)
        if let key, case .tracked(let bits) = q {
            // Training: update the EMA with this batch, then quantize with it. Evaluation: the frozen range.
            let r = tracker.map { $0.update(key, observedMaxAbs: Double(ActivationQuantizer.maxAbs(x.p, count: n))) }
                ?? config.ranges?.threshold(key)
            if let r { ActivationQuantizer.symmetric(x.p, count: n, bits: bits, range: T(r), out: out.p, mask: mask.p) }
            else { q.quantize(x.p, count: n, out: out.p, mask: mask.p) }
        } else if let key, case .calibrated(let bits) = q {
            // Calibration: the estimator sees this tensor first, then it is quantized with the estimate so
            // far (later sites see quantized inputs, as at inference). Evaluation: the frozen range.
            let r = tracker.map { $0.observe(key, x.p, count: n, bits: bits) } ?? config.ranges?.ranges[key].map { ($0.lo, $0.hi) }
            if let r { ActivationQuantizer.asymmetric(x.p, count: n, bits: bits, lo: T(r.0), hi: T(r.1), out: out.p, mask: mask.p) }
            else { q.quantize(x.p, count: n, out: out.p, mask: mask.p) }
        } else if let key, case .perEmbeddingGroup(let bits, let groups, let permute) = q, hiddenWidth > 0 {
            let w = hiddenWidth
            let r = tracker.map { $0.observePerDimension(key, x.p, count: n, width: w) }
                ?? config.ranges?.ranges[key].flatMap { t in t.dimLo.flatMap { lo in t.dimHi.map { (lo, $0) } } }
                ?? PEG.dimensionRanges(x.p, count: n, width: w)  // uncalibrated: the tensor's own ranges
            PEG.quantize(x.p, count: n, width: w, bits: bits, dimLo: r.0, dimHi: r.1, groups: groups, permute: permute,
                         out: out.p, mask: mask.p)
        } else {
            q.quantize(x.p, count: n, out: out.p, mask: mask.p)
        }
        if let f = frozen {
            let offset = Buffer<T>(uninitialized: n)
            for i in 0..<n { offset.p[i] = out.p[i] - mask.p[i] * x.p[i] }
            f.record(offset: offset, mask: mask)
        }
        return (out, mask)
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
