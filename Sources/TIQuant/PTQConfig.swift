// Post-training quantization W8A8 (Qualcomm's transformer-quantization, semantics only): symmetric
// per-tensor weights with a min-max or MSE range, asymmetric per-tensor activations at the sites the
// seed's quantized BERT quantizes (`PTQ.seedW8A8Sites`), ranges calibrated on training batches, no training.
import TILinalg
import TIData

public enum WeightRangeMethod: String, Codable, CaseIterable, Sendable {
    case minMax = "minmax"
    case mse = "MSE"
}

public struct PTQOptions: Codable, Equatable, Sendable {
    public var weightBits = 8
    public var activationBits = 8
    public var weightRange: WeightRangeMethod = .mse
    public var estimator: RangeEstimator = .currentMinMax
    public var calibrationBatches = 16
    public var calibrationBatchSize = 32
    /// Mixed precision: seed site name → bits (see `PTQ.quantDictSites`).
    public var quantDict: [String: Int] = [:]
    /// Per-embedding-group quantization at some sites; nil is per tensor everywhere.
    public var peg: PEGOptions? = nil
    /// The seed's choices (PTQSeedOptions.swift); nil is `PTQSeedOptions()`, the seed's base W8A8
    /// command. Optional so that configurations saved before it decode and hash as they did.
    public var seed: PTQSeedOptions? = nil

    /// `seed` resolved.
    public var seedOptions: PTQSeedOptions { seed ?? PTQSeedOptions() }

    public init() {}
}

/// PEG at the named sites (seed names `x`, `h`, `y`: the [rows, hidden] ones), or at every activation
/// quantizer whose tensor is [rows, hidden] (`all`, the seed's `--per-groups`): K groups (K = hidden
/// size for per-embedding), `permute` sorts dimensions by their full-precision range first (the seed's
/// `ngp` / `--per-groups-permute`, one order per quantizer), `permuteSharedH` gives every permuted quantizer
/// of an encoder layer the order of the layer's FFN output (the seed's `--per-groups-permute-shared-h`).
public struct PEGOptions: Codable, Equatable, Sendable {
    public var groups: Int
    public var permute: Bool
    public var sites: [String]
    public var permuteSharedH: Bool
    public init(groups: Int = 6, permute: Bool = true, sites: [String] = ["y"], permuteSharedH: Bool = false) {
        self.groups = groups; self.permute = permute; self.sites = sites; self.permuteSharedH = permuteSharedH
    }

    enum CodingKeys: String, CodingKey { case groups, permute, sites, permuteSharedH }

    /// Options recorded before shared-h existed decode as per-quantizer permutations.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        groups = try c.decode(Int.self, forKey: .groups)
        permute = try c.decode(Bool.self, forKey: .permute)
        sites = try c.decode([String].self, forKey: .sites)
        permuteSharedH = try c.decodeIfPresent(Bool.self, forKey: .permuteSharedH) ?? false
    }

    /// Groups as many as there are hidden dimensions (PEG clamps K to the width): per-embedding.
    public static let perEmbedding = 1 << 30

    /// The `sites` value that groups every [rows, hidden] quantizer (`PTQ.pegAllSites`).
    public static let allSites = "all"

    /// The seed's notation: `ngK` (K groups), `ngpK` (K groups after the range permutation) or `pe`
    /// (per embedding); `sites` is `all` or a comma list of x, h, y; `sharedH` needs `ngpK`.
    public static func parse(_ text: String, sites: String, sharedH: Bool = false) throws -> PEGOptions {
        let list = sites.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard list == [allSites] || (!list.isEmpty && list.allSatisfy(PTQ.pegSiteNames.contains)) else {
            throw OptionValueError(option: .pegSites, value: sites, reason: "expected all or a comma list of x, h, y")
        }
        var o: PEGOptions
        if text == "pe" {
            o = PEGOptions(groups: perEmbedding, permute: false, sites: list)
        } else {
            let permute = text.hasPrefix("ngp")
            guard text.hasPrefix("ng"), let k = Int(text.dropFirst(permute ? 3 : 2)), k >= 1 else {
                throw OptionValueError(option: .peg, value: text, reason: "expected ngK, ngpK (K ≥ 1) or pe")
            }
            o = PEGOptions(groups: k, permute: permute, sites: list)
        }
        if sharedH {
            guard o.permute else {
                throw OptionValueError(option: .peg, value: text, reason: "--peg-permute-shared-h shares a permutation: expected ngpK")
            }
            o.permuteSharedH = true
        }
        return o
    }

    /// The activation sites these options group.
    public var activationSites: [ActivationSite] {
        sites == [Self.allSites] ? PTQ.pegAllSites : sites.flatMap { PTQ.pegSiteNames.contains($0) ? PTQ.quantDictSites[$0] ?? [] : [] }
    }

    /// "-peg-ngp6-y", "-peg-ngp6-all-shared-h": the part of the config name.
    var label: String { "-peg-\(permute ? "ngp" : "ng")\(groups)-" + sites.joined(separator: ",") + (permuteSharedH ? "-shared-h" : "") }
}

public enum PTQ {
    /// The quant-dict names whose tensors are [rows, hidden], where PEG applies.
    public static let pegSiteNames: Set<String> = ["x", "h", "y"]

    /// Every PTQ W8A8 site whose tensor is [tokens, hidden]: the quantizers the seed's `--per-groups`
    /// groups (both embedding sums and the embedding LayerNorm output; per layer Q, K, V, the context,
    /// the attention output projection `g`, its residual sum `u` and LayerNorm output `x`, the FFN
    /// output `h`, its residual sum `y` and LayerNorm output `z`). Not the scores, the probabilities,
    /// the FFN's intermediate width, the pooler or the logits. PEG applies only where the setup quantizes.
    public static let pegAllSites: [ActivationSite] = [
        .embeddingTokenTypeSum, .embeddingSum, .embeddingNorm, .query, .key, .value, .contextInput,
        .attentionOutputProjection, .attentionResidual, .attentionNorm, .ffnOutput, .ffnResidual, .outputNorm]

    /// The seed's quant-dict names (its main.py): `e` both embedding sums, `s` scores, `p` probabilities,
    /// `c` context, `g` attention output projection, `u` its residual sum, `x` attention LayerNorm output
    /// (the FFN input), `h` FFN output, `y` FFN residual sum, `z` FFN LayerNorm output, `P` pooler
    /// output (after tanh), `C` classifier output.
    public static let quantDictSites: [String: [ActivationSite]] = [
        "e": [.embeddingTokenTypeSum, .embeddingSum], "s": [.scores], "p": [.probs], "c": [.contextInput],
        "g": [.attentionOutputProjection], "u": [.attentionResidual], "x": [.attentionNorm], "h": [.ffnOutput],
        "y": [.ffnResidual], "z": [.outputNorm], "P": [.pooled], "C": [.logits]]

    /// The activation sites PTQ W8A8 quantizes: those of the seed's `QuantizedBertForSequenceClassification`
    /// under quant setup `all`, in forward order. Embedding lookups are not quantized (the seed's
    /// QuantEmbedding has FP32 outputs); the GELU and tanh outputs are (`outputInput`, `pooled`), their
    /// inputs are not; every LayerNorm output is, so the next Linear's input needs no quantizer of its own.
    public static let seedW8A8Sites: [ActivationSite] = [
        .embeddingTokenTypeSum, .embeddingSum, .embeddingNorm,
        .query, .key, .value, .scores, .probs, .contextInput, .attentionOutputProjection, .attentionResidual, .attentionNorm,
        .outputInput, .ffnOutput, .ffnResidual, .outputNorm,
        .pooled, .logits]

    /// The Linear-boundary set: every Linear's input and output and both residual sums (PTQ W8A8's set
    /// before it followed the seed's sites; LSQ W4A8 quantizes these).
    public static let sites: [ActivationSite] = ActivationSite.linearInputs + [
        .query, .key, .value, .attentionOutputProjection, .attentionResidual, .intermediateOutput, .ffnOutput,
        .ffnResidual, .poolerOutput, .logits]

    /// Parses "x=16,h=16,y=16" (spaces allowed); an unknown name or a bit width outside 2…16 is an error.
    public static func parseQuantDict(_ text: String) throws -> [String: Int] {
        var d: [String: Int] = [:]
        for item in text.split(separator: ",") {
            let kv = item.split(separator: "=", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard kv.count == 2, quantDictSites[kv[0]] != nil, let b = Int(kv[1]), (2...16).contains(b) else {
                throw OptionValueError(option: .quantDict, value: String(item),
                                       reason: "expected NAME=BITS with NAME in \(quantDictSites.keys.sorted().joined(separator: ",")) and BITS in 2…16")
            }
            d[kv[0]] = b
        }
        return d
    }
}

extension QuantConfig {
    /// PTQ W8A8 (or other widths) with its options; ranges come from `PTQ.calibrate`.
    public static func ptq(_ o: PTQOptions = PTQOptions()) -> QuantConfig {
        var w: [WeightSite: WeightQuantizer] = [:]
        for s in WeightSite.allCases {
            w[s] = o.weightRange == .mse ? .symmetricMSE(bits: o.weightBits, golden: o.seedOptions.weightSearch == .goldenSection)
                                         : .uniform(bits: o.weightBits, symmetric: true, perRow: false)
        }
        var a: [ActivationSite: ActivationQuantizer] = [:]
        for s in o.seedOptions.quantSetup.sites { a[s] = .calibrated(bits: o.activationBits) }
        for (name, bits) in o.quantDict { for s in PTQ.quantDictSites[name] ?? [] { a[s] = .calibrated(bits: bits) } }
        for s in o.peg?.activationSites ?? [] where a[s] != nil {
            a[s] = .perEmbeddingGroup(bits: a[s]?.bits ?? o.activationBits, groups: o.peg!.groups, permute: o.peg!.permute)
        }
        let mixed = o.quantDict.keys.sorted().map { "\($0)\(o.quantDict[$0]!)" }.joined(separator: ",")
        let peg = o.peg?.label ?? ""
        return QuantConfig(name: "ptq-w\(o.weightBits)a\(o.activationBits)" + (mixed.isEmpty ? "" : "-" + mixed) + peg
                               + o.seedOptions.quantSetup.nameSuffix,
                           weights: w, activations: a)
    }
}
