// Per-site activation statistics gathered during forward passes (quant-report's input): the model
// records into it at every activation site, so it lives with the quantizers, below the model.
import TILinalg

/// Accumulates each activation site's statistics over forward passes (one worker at a time).
public final class ActivationInspector {
    public struct Site {
        public var key: String
        public var site: ActivationSite
        public var quantizer: ActivationQuantizer?
        public var signal = 0.0, noise = 0.0
        public var lo = Double.infinity, hi = -Double.infinity
        public var count = 0
        public var dimLo: [Double]? = nil, dimHi: [Double]? = nil
    }
    public private(set) var sites: [String: Site] = [:]
    public private(set) var order: [String] = []
    /// Also record the sites only some schemes visit (the seed-W8A8 LayerNorm outputs) where the config
    /// does not quantize them: PEG's full-precision range pass needs every site it will group; reports
    /// keep to the sites their scheme visits.
    public let recordsEverySite: Bool

    public init(recordsEverySite: Bool = false) { self.recordsEverySite = recordsEverySite }

    func record<T: BLASScalar>(_ key: String, site: ActivationSite, quantizer: ActivationQuantizer?, x: Buffer<T>, quantized q: Buffer<T>, width: Int) {
        var s = sites[key] ?? { order.append(key); return Site(key: key, site: site, quantizer: quantizer) }()
        let n = x.count
        for i in 0..<n {
            let v = Double(x.p[i]), e = v - Double(q.p[i])
            s.signal += v * v; s.noise += e * e
            s.lo = min(s.lo, v); s.hi = max(s.hi, v)
        }
        s.count += n
        if site.isHiddenWide, width > 0, n % width == 0 {
            let (lo, hi) = PEG.dimensionRanges(x.p, count: n, width: width)
            s.dimLo = zip(s.dimLo ?? lo, lo).map { min($0, $1) }
            s.dimHi = zip(s.dimHi ?? hi, hi).map { max($0, $1) }
        }
        sites[key] = s
    }
}

extension ActivationSite {
    /// Sites whose tensors are [rows, hidden] (per-dimension ranges make sense there).
    public var isHiddenWide: Bool {
        switch self {
        case .probs, .scores, .outputInput, .intermediateOutput, .logits: return false
        default: return true
        }
    }
}
