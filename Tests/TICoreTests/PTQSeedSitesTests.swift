// PTQ W8A8 quantizes the activations the seed's W8A8 quantizes: the sites quant-report lists as
// quantized, in forward order, equal a hand table of the seed's activation quantizers.
import XCTest
import TICore
import TILinalg

final class PTQSeedSitesTests: XCTestCase {
    /// The seed's activation quantizers under quant setup `all`, in forward order, each with the site that
    /// stands for it here. Read from Qualcomm-AI-research/transformer-quantization `models/quantized_bert.py`
    /// (QuantizedBertEmbeddings, QuantizedBertSelfAttention, QuantizedBertSelfOutput, quantize_intermediate,
    /// QuantizedBertOutput, QuantizedBertPooler, QuantizedBertForSequenceClassification) and
    /// `quantization/autoquant_utils.py` (a QuantLinear or QuantLayerNorm quantizes its output, after a
    /// fused activation function; a QuantEmbedding's output is FP32).
    static let seedEmbeddings: [(seed: String, site: ActivationSite)] = [
        ("embeddings.sum_input_token_type_embd_act_quantizer", .embeddingTokenTypeSum),
        ("embeddings.sum_pos_embd_act_quantizer", .embeddingSum),
        ("embeddings.LayerNorm", .embeddingNorm),
    ]
    static let seedLayer: [(seed: String, site: ActivationSite)] = [
        ("attention.self.query", .query),
        ("attention.self.key", .key),
        ("attention.self.value", .value),
        ("attention.self.attn_scores_act_quantizer", .scores),
        ("attention.self.attn_probs_act_quantizer", .probs),
        ("attention.self.context_act_quantizer", .contextInput),
        ("attention.output.dense", .attentionOutputProjection),
        ("attention.output.res_act_quantizer", .attentionResidual),
        ("attention.output.LayerNorm", .attentionNorm),
        ("intermediate (dense + GELU)", .outputInput),
        ("output.dense", .ffnOutput),
        ("output.res_act_quantizer", .ffnResidual),
        ("output.LayerNorm", .outputNorm),
    ]
    static let seedHead: [(seed: String, site: ActivationSite)] = [
        ("pooler.dense_act (dense + tanh)", .pooled),
        ("classifier", .logits),
    ]

    func testQuantReportListsTheSeedsW8A8Sites() {
        let model = BertModel(config: Tiny.config())
        let θ: [Float] = Tiny.parameters(model, seed: 3).map(Float.init)
        let c = PTQ.calibrate(model: model, latent: θ, config: .ptq(), batches: [Tiny.batch()], estimator: .currentMinMax)
        let (sites, _) = QuantReport.measure(model: model, parameters: θ, quantization: c, batches: [Tiny.batch()])
        let reported = sites.filter { $0.kind == "activation" && $0.quantizer != "none" }.map(\.name)
        func keys(_ table: [(seed: String, site: ActivationSite)], _ occurrence: Int) -> [String] {
            table.map { "\($0.site.rawValue).\(occurrence)" }
        }
        let expected = keys(Self.seedEmbeddings, 0) + (0..<model.config.numLayers).flatMap { keys(Self.seedLayer, $0) }
            + keys(Self.seedHead, 0)
        // As sets: V is quantized here where probs·V consumes it, after the scores and probabilities (the
        // tensor is the same; the seed quantizes it at its Linear's output, before them).
        XCTAssertEqual(reported.count, expected.count)
        XCTAssertEqual(Set(reported), Set(expected))
        XCTAssertEqual(reported.filter { !$0.hasPrefix("value.") }, expected.filter { !$0.hasPrefix("value.") })
        XCTAssertEqual(Set(PTQ.seedW8A8Sites), Set((Self.seedEmbeddings + Self.seedLayer + Self.seedHead).map(\.site)))
    }

    func testOtherSchemesDoNotVisitTheSeedOnlySites() {
        // The report of a scheme without them lists none of the seed-only sites (their visits are skipped).
        let model = BertModel(config: Tiny.config())
        let θ: [Float] = Tiny.parameters(model, seed: 3).map(Float.init)
        let (sites, _) = QuantReport.measure(model: model, parameters: θ, quantization: .ternaryW8A8, batches: [Tiny.batch()])
        let seedOnly: Set<ActivationSite> = [.embeddingTokenTypeSum, .embeddingSum, .embeddingNorm, .scores, .attentionNorm,
                                             .outputNorm, .pooled]
        XCTAssertFalse(sites.contains { s in seedOnly.contains { s.name.hasPrefix($0.rawValue + ".") } })
    }
}

final class PTQSeedMSEEstimatorTests: XCTestCase {
    /// Σ(x − Q(x))² with the seed's asymmetric quantizer, written out here independently of the library.
    static func error(_ x: [Double], bits: Int, lo: Double, hi: Double) -> Double {
        let l = min(lo, 0), h = max(hi, 1e-8), top = Double((1 << bits) - 1), s = (h - l) / top
        let z = min(max((-l / s).rounded(.toNearestOrEven), 0), top)
        return x.map { v in
            let q = min(max((v / s).rounded(.toNearestOrEven) + z, 0), top)
            return (v - (q - z) * s) * (v - (q - z) * s)
        }.reduce(0, +)
    }

    /// The seed's candidates for two-sided data whose first batch spans [lo, hi]: half-widths k·step,
    /// step = max(|hi + ½|, |lo − ½|)/100, each shifted by 0…2^b/4 − 1 grid steps either way and cut to
    /// [lo − ½, hi + ½].
    static func candidates(lo: Double, hi: Double, bits: Int) -> [(Double, Double)] {
        let maxPos = hi + 0.5, maxNeg = lo - 0.5, step = max(abs(maxPos), abs(maxNeg)) / 100
        var c: [(Double, Double)] = []
        for k in 1...100 {
            let half = step * Double(k), delta = 2 * half / Double((1 << bits) - 1)
            for shift in 0..<((1 << bits) / 4) {
                for sign in [1.0, -1.0] {
                    let skew = sign * Double(shift) * delta
                    c.append((max(-half + skew, maxNeg), min(half + skew, maxPos)))
                }
            }
        }
        return c
    }

    func testGridSearchFindsTheBruteForceOptimumOfTheSummedError() {
        // A skewed two-sided distribution (mostly positive, a thin negative tail) in two batches whose
        // own optima differ: the second batch carries a cluster near 2.6 the first lacks.
        var rng = SeededRandom(seed: 21)
        let bits = 4
        let a: [Double] = (0..<300).map { _ in abs(rng.normal()) * 0.8 - 0.15 }
        let b: [Double] = (0..<200).map { _ in abs(rng.normal()) * 0.8 - 0.15 } + (0..<40).map { _ in 2.6 + 0.05 * rng.normal() }
        let cands = Self.candidates(lo: a.min()!, hi: a.max()!, bits: bits)
        let summed = cands.map { Self.error(a, bits: bits, lo: $0.0, hi: $0.1) + Self.error(b, bits: bits, lo: $0.0, hi: $0.1) }
        let best = cands[summed.indices.min { summed[$0] < summed[$1] }!]

        let tracker = ActivationRangeTracker(state: ActivationRangeState(), estimator: .mse)
        for batch in [a, b] { _ = tracker.observe("logits.0", site: .logits, batch, count: batch.count, bits: bits) }
        let r = tracker.state.ranges["logits.0"]!
        XCTAssertEqual(r.lo, best.0, accuracy: 1e-12)
        XCTAssertEqual(r.hi, best.1, accuracy: 1e-12)
        XCTAssertEqual(r.steps, 2)
        XCTAssertNotEqual(r.lo, -r.hi, accuracy: 1e-6, "the offset is searched: the optimum is not symmetric")
        // Summing is not averaging per-batch optima: the mean of the two batch-wise optima is worse on the data.
        let alone = [a, b].map { x -> (Double, Double) in
            let e = cands.map { Self.error(x, bits: bits, lo: $0.0, hi: $0.1) }
            return cands[e.indices.min { e[$0] < e[$1] }!]
        }
        let mean = ((alone[0].0 + alone[1].0) / 2, (alone[0].1 + alone[1].1) / 2)
        XCTAssertNotEqual(alone[0].1, alone[1].1)
        let total = { (lo: Double, hi: Double) in Self.error(a, bits: bits, lo: lo, hi: hi) + Self.error(b, bits: bits, lo: lo, hi: hi) }
        XCTAssertLessThan(total(r.lo, r.hi), total(mean.0, mean.1))
    }

    func testOneSidedDataSearchesRangesFromZero() {
        // Probabilities-like data: the candidates are [0, k·step] with step = (max + ½)/100.
        var rng = SeededRandom(seed: 4)
        let x: [Double] = (0..<400).map { _ in pow(rng.uniform(), 3) }
        let step = (x.max()! + 0.5) / 100
        let e = (1...100).map { Self.error(x, bits: 4, lo: 0, hi: step * Double($0)) }
        let k = e.indices.min { e[$0] < e[$1] }! + 1
        let tracker = ActivationRangeTracker(state: ActivationRangeState(), estimator: .mse)
        _ = tracker.observe("probs.0", site: .probs, x, count: x.count, bits: 4)
        XCTAssertEqual(tracker.state.ranges["probs.0"]!.lo, 0)
        XCTAssertEqual(tracker.state.ranges["probs.0"]!.hi, step * Double(k), accuracy: 1e-12)
    }

    func testGoldenSectionIsNoWorseThanTheMinMaxRange() {
        var rng = SeededRandom(seed: 8)
        var x: [Double] = (0..<500).map { _ in rng.normal() }
        x.append(9)
        let g = MSEGridSearch.goldenSection(x, count: x.count, bits: 4)
        XCTAssertLessThan(Self.error(x, bits: 4, lo: g.lo, hi: g.hi), Self.error(x, bits: 4, lo: x.min()!, hi: x.max()!))
    }
}

final class PTQSeedOptionsTests: XCTestCase {
    func testBitsAndQuantSetups() throws {
        var o = PTQOptions()
        try o.setBits(weights: 6, activations: nil)
        XCTAssertEqual([o.weightBits, o.activationBits], [6, 6])
        XCTAssertThrowsError(try o.setBits(weights: 8, activations: 1))
        var s = PTQSeedOptions()
        s.quantSetup = .fpLogits
        o.seed = s
        let c = QuantConfig.ptq(o)
        XCTAssertNil(c.activations[.logits])
        XCTAssertEqual(c.activations[.pooled], .calibrated(bits: 6))
        XCTAssertEqual(c.weights[.query], .symmetricMSE(bits: 6, golden: true))
        XCTAssertEqual(c.name, "ptq-w6a6-FP_logits")
        s.weightSearch = .grid
        o.seed = s
        XCTAssertEqual(QuantConfig.ptq(o).weights[.classifier], .symmetricMSE(bits: 6, golden: false))
        XCTAssertEqual(QuantConfig.ptq(PTQOptions()).name, "ptq-w8a8")  // the default keeps its name
    }

    func testMSELogitsCalibratesTheLogitsByGoldenSectionAndTheRestAsBefore() {
        let model = BertModel(config: Tiny.config())
        let θ = Tiny.parameters(model, seed: 6)
        var o = PTQOptions()
        var s = PTQSeedOptions()
        s.quantSetup = .fpLogits
        o.seed = s
        let fp = PTQ.calibrate(model: model, latent: θ, config: .ptq(o), batches: [Tiny.batch()], tracker: o.rangeTracker())
        s.quantSetup = .mseLogits
        o.seed = s
        let mse = PTQ.calibrate(model: model, latent: θ, config: .ptq(o), batches: [Tiny.batch()], tracker: o.rangeTracker())
        // The logits are the last site: every other range is the same, and the logits the quantizer saw are
        // those of the FP_logits network.
        var others = mse.ranges!.ranges
        others["logits.0"] = nil
        XCTAssertEqual(others, fp.ranges!.ranges)
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: fp).effective
        let logits = model.forward(effective: q, batch: Tiny.batch(), options: ForwardOptions(quantization: fp)).logits.array
        let g = MSEGridSearch.goldenSection(logits, count: logits.count, bits: 8)
        XCTAssertEqual(mse.ranges!.ranges["logits.0"]!.lo, g.lo)
        XCTAssertEqual(mse.ranges!.ranges["logits.0"]!.hi, g.hi)
        XCTAssertNotEqual(g.hi, logits.max()!)  // not the min-max range `all` would give
    }
}
