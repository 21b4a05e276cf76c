// Per-tensor weight precisions (mixed precision, e.g. a HAWQ-style bit allocation): the one filter
// from a parameter name to its precision. A scheme (QuantConfig) keeps deciding *which* tensors are
// quantized and how activations are; a `WeightPrecisions` table only replaces the weight quantizer of
// the tensors it names, through `QuantConfig.weightQuantizer(for:)`, so no model or method code asks
// about precisions itself.
import TILinalg

/// The precision of one weight tensor: TernaryBERT's TWN ternary, or an n-bit symmetric uniform grid.
public enum WeightPrecision: Hashable, Comparable, Sendable, CustomStringConvertible {
    case ternary
    case bits(Int)

    /// The precisions a bit allocation chooses from.
    public static let candidates: [WeightPrecision] = [.ternary, .bits(2), .bits(3), .bits(4), .bits(8)]
    /// Bit widths accepted for `.bits` (a narrower grid has no non-zero code; a wider one is full precision in effect).
    public static let bitRange = 2...8

    /// Bits per stored code: ternary codes are stored in 2 bits, as TernaryBERT counts them.
    public var codeBits: Int {
        switch self {
        case .ternary: return 2
        case .bits(let b): return b
        }
    }

    /// "ternary" or the bit width ("4"), as allocation.json and sensitivity.csv write it.
    public var description: String {
        switch self {
        case .ternary: return "ternary"
        case .bits(let b): return String(b)
        }
    }

    /// Parses "ternary" or a bit width in `bitRange`; nil otherwise.
    public init?(_ text: String) {
        if text == "ternary" { self = .ternary; return }
        guard let b = Int(text), Self.bitRange.contains(b) else { return nil }
        self = .bits(b)
    }

    /// The quantizer of this precision for a tensor of `site`, in the conventions of the ternary and
    /// uniform schemes (`QuantConfig.ternaryW8A8`, `.uniform`): clip 2.5, per row for word embeddings.
    public func quantizer(site: WeightSite) -> WeightQuantizer {
        let perRow = site == .wordEmbeddings
        switch self {
        case .ternary: return .ternary(clip: 2.5, perRow: perRow)
        case .bits(let b): return .uniform(bits: b, symmetric: true, perRow: perRow)
        }
    }

    public static func < (a: WeightPrecision, b: WeightPrecision) -> Bool {
        (a.codeBits, a == .ternary ? 0 : 1) < (b.codeBits, b == .ternary ? 0 : 1)
    }
}

extension WeightPrecision: Codable {
    /// Written as the string "ternary" or as the integer bit width; read from either, or from the bit width as a string.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        let expected = "expected \"ternary\" or a bit width \(Self.bitRange.lowerBound)…\(Self.bitRange.upperBound)"
        if let b = try? c.decode(Int.self) {
            guard Self.bitRange.contains(b) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "\(b) bits: \(expected)") }
            self = .bits(b)
        } else if let s = try? c.decode(String.self) {
            guard let p = WeightPrecision(s) else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s)': \(expected)") }
            self = p
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: expected)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .ternary: try c.encode("ternary")
        case .bits(let b): try c.encode(b)
        }
    }
}

/// Parameter name → weight precision, for the tensors a mixed-precision run sets itself.
public struct WeightPrecisions: Codable, Equatable, Sendable {
    public var byTensor: [String: WeightPrecision]

    public init(_ byTensor: [String: WeightPrecision]) { self.byTensor = byTensor }

    /// A readable one-line summary: how many tensors at each precision.
    public var label: String {
        var counts: [WeightPrecision: Int] = [:]
        for p in byTensor.values { counts[p, default: 0] += 1 }
        return counts.keys.sorted().map { "\(counts[$0]!)×\($0)" }.joined(separator: ",")
    }
}

extension QuantConfig {
    /// The quantizer of a tensor: its own precision where the scheme quantizes it and `tensorPrecisions`
    /// names it, else the scheme's quantizer of its site; nil for tensors the scheme leaves in full precision.
    public func weightQuantizer(for slot: ParameterSlot) -> WeightQuantizer? {
        guard let site = slot.weightSite, let q = weights[site] else { return nil }
        return tensorPrecisions?[slot.name].map { $0.quantizer(site: site) } ?? q
    }

    /// This scheme with the weights of the named tensors at their own precisions (nil or empty: unchanged).
    public func with(weightPrecisions p: WeightPrecisions?) -> QuantConfig {
        guard let p, !p.byTensor.isEmpty else { return self }
        var q = self
        q.tensorPrecisions = (tensorPrecisions ?? [:]).merging(p.byTensor) { $1 }
        q.name = name + "[mixed " + p.label + "]"
        return q
    }

    /// True when per-tensor precisions can replace this scheme's weight quantizers: every one is ternary or uniform
    /// (learned steps, MSE ranges and learned rounding keep state per tensor that a plain precision would drop).
    public var acceptsWeightPrecisions: Bool {
        weights.values.allSatisfy {
            switch $0 {
            case .ternary, .uniform: return true
            case .symmetricMSE, .lsq: return false
            }
        }
    }
}
