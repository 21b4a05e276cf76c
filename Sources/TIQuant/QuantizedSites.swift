// Which parts of the network a scheme quantizes: the paper's Figure 3 cases (only some sub-layers
// ternary; the Q/K or Q/K/V activations inside attention kept in full precision). A value of this type
// turns a method's scheme into the partial one; everything not named keeps the scheme's quantizers.
import Foundation
import TIData

public struct QuantizedSites: Codable, Equatable, Sendable {
    /// A sub-layer: its weight tensor(s) and the activation entering it.
    public enum Part: String, Codable, CaseIterable, Sendable {
        case qkv, o, ffn1, ffn2, emb, pooler, classifier

        /// The weight sites of the part (`emb`: every embedding table the scheme quantizes).
        public var weightSites: [WeightSite] {
            switch self {
            case .qkv: return [.query, .key, .value]
            case .o: return [.attentionOutput]
            case .ffn1: return [.intermediate]
            case .ffn2: return [.output]
            case .emb: return [.wordEmbeddings, .positionEmbeddings, .tokenTypeEmbeddings]
            case .pooler: return [.pooler]
            case .classifier: return [.classifier]
            }
        }

        /// The activation quantized on its way into the part (none for the embedding lookup).
        public var inputSite: ActivationSite? {
            switch self {
            case .qkv: return .attentionInput
            case .o: return .contextInput
            case .ffn1: return .intermediateInput
            case .ffn2: return .outputInput
            case .emb: return nil
            case .pooler: return .poolerInput
            case .classifier: return .classifierInput
            }
        }
    }

    /// Activations inside attention kept in full precision.
    public enum FullPrecisionActivations: String, Codable, CaseIterable, Sendable {
        case qk, qkv

        public var sites: [ActivationSite] {
            switch self {
            case .qk: return [.query, .key]
            case .qkv: return [.query, .key, .value]
            }
        }
    }

    /// The quantized parts, in `Part.allCases` order without repeats (so that equal sets encode equally).
    public private(set) var parts: [Part]
    public var fullPrecisionActivations: FullPrecisionActivations?

    public init(parts: [Part], fullPrecisionActivations: FullPrecisionActivations? = nil) {
        self.parts = Part.allCases.filter(parts.contains)
        self.fullPrecisionActivations = fullPrecisionActivations
    }

    /// TernaryBERT's (and TI's) set: every encoder Linear, the word embeddings and the pooler; not the classifier.
    public static let ternaryBERT = QuantizedSites(parts: [.qkv, .o, .ffn1, .ffn2, .emb, .pooler])

    /// "qkv+o+ffn1+ffn2+emb+pooler", with "/fp-qk" when Q/K stay in full precision.
    public var label: String {
        parts.map(\.rawValue).joined(separator: "+") + (fullPrecisionActivations.map { "/fp-\($0.rawValue)" } ?? "")
    }
}

extension QuantizedSites {
    /// Parses a comma list of parts and an optional full-precision activation set. Nil input means
    /// the default (`ternaryBERT`, no full-precision activations).
    public static func parse(parts text: String?, fullPrecisionActivations fp: String?) throws -> QuantizedSites {
        var sites = ternaryBERT
        if let text {
            let names = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let expected = "expected a comma list of \(Part.allCases.map(\.rawValue).joined(separator: ", "))"
            guard !names.isEmpty, !names.contains(where: \.isEmpty) else {
                throw OptionValueError(option: .quantizedSites, value: text, reason: expected)
            }
            let parts = try names.map { n -> Part in
                guard let p = Part(rawValue: n) else { throw OptionValueError(option: .quantizedSites, value: n, reason: "unknown part; \(expected)") }
                return p
            }
            sites = QuantizedSites(parts: parts)
        }
        if let fp {
            guard let f = FullPrecisionActivations(rawValue: fp) else {
                throw OptionValueError(option: .fullPrecisionActivations, value: fp,
                                       reason: "expected one of \(FullPrecisionActivations.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sites.fullPrecisionActivations = f
        }
        return sites
    }
}

extension QuantConfig {
    /// This scheme quantizing only `sites`: the weights and input activations of the parts left out
    /// are dropped, and so are the full-precision attention activations. A part the scheme does not
    /// quantize (TernaryBERT's classifier) gets the quantizers of the scheme's pooler, its nearest
    /// Linear. When nothing changes (nil sites, the default set, a full-precision scheme) the scheme
    /// is returned as it is, name included, so that default runs keep their names and hashes.
    public func restricted(to sites: QuantizedSites?) -> QuantConfig {
        guard let sites else { return self }
        var q = self
        for part in QuantizedSites.Part.allCases {
            if sites.parts.contains(part) {
                q.add(part, weightLike: weights[.pooler], inputLike: activations[.poolerInput])
            } else {
                for w in part.weightSites { q.weights[w] = nil }
                if let a = part.inputSite { q.activations[a] = nil }
            }
        }
        for a in sites.fullPrecisionActivations?.sites ?? [] { q.activations[a] = nil }
        guard q.weights != weights || q.activations != activations else { return self }
        q.name = name + "[" + sites.label + "]"
        return q
    }

    /// Gives a part the scheme leaves unquantized the given quantizers (embeddings keep what they have).
    mutating func add(_ part: QuantizedSites.Part, weightLike w: WeightQuantizer?, inputLike a: ActivationQuantizer?) {
        guard part != .emb else { return }
        for s in part.weightSites where weights[s] == nil { weights[s] = w }
        if let site = part.inputSite, activations[site] == nil { activations[site] = a }
    }
}
