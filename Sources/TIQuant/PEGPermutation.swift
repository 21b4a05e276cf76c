// PEG's range-based permutation as the seed fixes it (transformer-quantization, semantics only): before
// the ranges are calibrated, one full-precision pass over training batches measures every grouped
// quantizer's per-dimension range (max − min), and the dimensions are sorted by it once. Calibration
// and every later forward then group blocks of that fixed order; the order is not re-sorted by the
// quantized ranges.
//
// The seed's `--per-groups-permute-shared-h` replaces, in each encoder layer, the ranges of every permuted
// quantizer by those of the FFN output `h` of the layer, so that all tensors of the layer's residual
// stream group the same hidden dimensions together (the outlier dimensions the FFN writes are the ones
// the residual stream carries). Here a layer's sites are those keyed with its index, except the layer's
// input: `attentionInput.l` is the LayerNorm output of layer l − 1 (the seed's `z` of that layer), so it
// follows layer l − 1's `h`; `attentionInput.0`, the embedding LayerNorm output, is outside every layer
// and keeps its own order, as in the seed.
//
// Differences from the seed, kept on purpose: the per-dimension ranges are the envelope over the
// calibration batches (the seed's update `0.1·r + 0.9·r` keeps only its last batch's ranges), and the
// shared order comes from `h`'s full-precision ranges whether or not `h` itself is grouped (the seed
// takes them from `h`'s quantizer and fails when `h` is not a permuted one).
public enum PEGPermutation {
    /// The key whose full-precision ranges order the dimensions of `key`.
    public static func source(of key: String, sharedH: Bool) -> String {
        guard sharedH, let (site, occurrence) = parse(key), let layer = layer(of: site, occurrence: occurrence) else { return key }
        return ActivationRangeState.key(.ffnOutput, layer)
    }

    /// The encoder layer a visit of a per-layer site belongs to (nil: outside every layer).
    static func layer(of site: ActivationSite, occurrence: Int) -> Int? {
        switch site {
        case .attentionInput: return occurrence > 0 ? occurrence - 1 : nil
        case .embeddingTokenTypeSum, .embeddingSum, .embeddingNorm: return nil
        case .poolerInput, .poolerOutput, .pooled, .classifierInput, .logits: return nil
        default: return occurrence
        }
    }

    /// "ffnResidual.2" → (.ffnResidual, 2).
    static func parse(_ key: String) -> (ActivationSite, Int)? {
        guard let dot = key.lastIndex(of: "."), let site = ActivationSite(rawValue: String(key[..<dot])),
              let occurrence = Int(key[key.index(after: dot)...]) else { return nil }
        return (site, occurrence)
    }

    /// The permutation of each key: its source's dimensions sorted by full-precision range (ascending,
    /// ties by index). A key whose source has no recorded ranges gets none (it then sorts by its own
    /// calibrated ranges, the rule before permutations were fixed).
    public static func orders(keys: [String], fullPrecision ranges: [String: (lo: [Double], hi: [Double])],
                              sharedH: Bool) -> [String: [Int]] {
        var orders: [String: [Int]] = [:]
        for key in keys {
            guard let r = ranges[source(of: key, sharedH: sharedH)] else { continue }
            orders[key] = PEG.rangeOrder(dimLo: r.lo, dimHi: r.hi)
        }
        return orders
    }
}
