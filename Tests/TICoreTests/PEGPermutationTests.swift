// PEG as the seed applies it: per-embedding groups equal per-dimension quantization (by hand), one group
// equals per tensor bit for bit (quantizer and whole model), a fixed order groups its blocks, the `all`
// sites, and the permutation fixed from full-precision ranges, shared within a layer under shared-h.
import XCTest
import TICore
import TILinalg

final class PEGPermutationTests: XCTestCase {
    /// [3, 2] at 2 bits (codes 0…3), ranges calibrated on the tensor itself.
    /// Column 0: [−1, 0.4, 2] → [−1, 2], step 3/3 = 1, zero point round(1) = 1:
    ///   −1 → round(−1) + 1 = 0 → −1;  0.4 → 0 + 1 → 0;  2 → 2 + 1 = 3 → 2.
    /// Column 1: [0.35, 0.9, 0.5] → [0, 0.9] (widened to 0), step 0.3, zero point 0:
    ///   0.35/0.3 = 1.17 → 1 → 0.3;  0.9/0.3 = 3 → 0.9;  0.5/0.3 = 1.67 → 2 → 0.6.
    func testPerEmbeddingGroupsEqualPerDimensionQuantizationByHand() {
        let x: [Double] = [-1, 0.35, 0.4, 0.9, 2, 0.5]
        let (lo, hi) = PEG.dimensionRanges(x, count: 6, width: 2)
        let expected: [Double] = [-1, 0.3, 0, 0.9, 2, 0.6]
        for k in [2, PEGOptions.perEmbedding] {
            for permute in [false, true] {
                var out = x, mask = x
                PEG.quantize(x, count: 6, width: 2, bits: 2, dimLo: lo, dimHi: hi, groups: k, permute: permute, out: &out, mask: &mask)
                for (a, b) in zip(out, expected) { XCTAssertEqual(a, b, accuracy: 1e-12, "K = \(k), permute \(permute): \(out)") }
                XCTAssertEqual(mask, [1, 1, 1, 1, 1, 1])
            }
        }
    }

    /// One group is the per-tensor asymmetric quantizer over the envelope of the dimension ranges, bit for
    /// bit, with or without a permutation, also where the ranges clip.
    func testOneGroupEqualsPerTensorBitwise() {
        var rng = SeededRandom(seed: 8)
        let w = 16, x: [Double] = (0..<(64 * w)).map { j in rng.normal() * (j % w == 5 ? 20 : 1) }
        var (lo, hi) = PEG.dimensionRanges(x, count: x.count, width: w)
        lo = lo.map { 0.8 * $0 }; hi = hi.map { 0.7 * $0 }  // calibrated narrower: some entries clip
        var ref = x, refMask = x
        ActivationQuantizer.asymmetric(x, count: x.count, bits: 8, lo: lo.min()!, hi: hi.max()!, out: &ref, mask: &refMask)
        XCTAssertTrue(refMask.contains(0), "the check covers clipped entries")
        for permute in [false, true] {
            var out = x, mask = x
            PEG.quantize(x, count: x.count, width: w, bits: 8, dimLo: lo, dimHi: hi, groups: 1, permute: permute, out: &out, mask: &mask)
            XCTAssertEqual(out.map(\.bitPattern), ref.map(\.bitPattern))
            XCTAssertEqual(mask, refMask)
        }
    }

    /// PTQ with one group at every [tokens, hidden] site gives the plain per-tensor PTQ logits bit for bit.
    func testOneGroupAtAllSitesEqualsPerTensorPTQBitwise() throws {
        let model = BertModel(config: Tiny.config())
        let θ = Tiny.parameters(model, seed: 4)
        var o = PTQOptions()
        o.peg = try PEGOptions.parse("ng1", sites: "all")
        let peg = QuantConfig.ptq(o), plain = QuantConfig.ptq()
        XCTAssertEqual(Set(peg.activations.filter { if case .perEmbeddingGroup = $0.value { return true }; return false }.keys),
                       Set(PTQ.pegAllSites))
        let batches = [Tiny.batch(), Tiny.batch(labels: 2)]
        func logits(_ c: QuantConfig) -> [Double] {
            let cal = PTQ.calibrate(model: model, latent: θ, config: c, batches: batches, estimator: .currentMinMax)
            let q = QuantizedParameters(latent: θ, layout: model.layout, config: cal).effective
            return model.forward(effective: q, batch: Tiny.batch(), options: ForwardOptions(quantization: cal)).logits.array
        }
        let a = logits(peg), b = logits(plain)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        // Not vacuous: four groups change the logits.
        o.peg = try PEGOptions.parse("ng4", sites: "all")
        XCTAssertNotEqual(logits(.ptq(o)), b)
    }

    /// Grouping blocks of a given order equals grouping contiguous blocks of the columns permuted by it.
    func testFixedOrderGroupsBlocksOfThatOrder() {
        var rng = SeededRandom(seed: 9)
        let w = 6, rows = 10, order = [4, 1, 5, 0, 3, 2]
        let x: [Double] = (0..<(rows * w)).map { j in rng.normal() * Double(1 + j % w) }
        let (lo, hi) = PEG.dimensionRanges(x, count: x.count, width: w)
        var out = x, mask = x
        PEG.quantize(x, count: x.count, width: w, bits: 3, dimLo: lo, dimHi: hi, groups: 3, permute: true, order: order, out: &out, mask: &mask)
        let px = (0..<(rows * w)).map { i in x[(i / w) * w + order[i % w]] }
        var pout = px, pmask = px
        PEG.quantize(px, count: px.count, width: w, bits: 3, dimLo: order.map { lo[$0] }, dimHi: order.map { hi[$0] }, groups: 3,
                     permute: false, out: &pout, mask: &pmask)
        for i in 0..<(rows * w) { XCTAssertEqual(out[(i / w) * w + order[i % w]], pout[i]) }
        XCTAssertEqual(PEG.groups(order: order, count: 3), [[4, 1], [5, 0], [3, 2]])
    }

    func testSharedHSourceOfEachSite() {
        XCTAssertEqual(PEGPermutation.source(of: "ffnResidual.1", sharedH: true), "ffnOutput.1")
        XCTAssertEqual(PEGPermutation.source(of: "query.0", sharedH: true), "ffnOutput.0")
        XCTAssertEqual(PEGPermutation.source(of: "attentionInput.2", sharedH: true), "ffnOutput.1")  // layer 1's LayerNorm output
        XCTAssertEqual(PEGPermutation.source(of: "attentionInput.0", sharedH: true), "attentionInput.0")  // embeddings: own
        XCTAssertEqual(PEGPermutation.source(of: "ffnResidual.1", sharedH: false), "ffnResidual.1")
    }

    /// Full-precision per-dimension ranges of every site visit, by an inspector pass (the reference).
    func fullPrecisionRanges(_ model: BertModel, _ θ: [Double], _ batches: [Batch]) -> [String: (lo: [Double], hi: [Double])] {
        let inspector = ActivationInspector(recordsEverySite: true)
        for b in batches { _ = model.forward(effective: θ, batch: b, options: ForwardOptions(quantization: .fullPrecision, inspector: inspector)) }
        return inspector.sites.compactMapValues { s in s.dimLo.flatMap { lo in s.dimHi.map { (lo, $0) } } }
    }

    /// Dimensions by ascending range, ties by index, written out independently of PEG.rangeOrder.
    func expectedOrder(_ r: (lo: [Double], hi: [Double])) -> [Int] {
        r.lo.indices.map { (r.hi[$0] - r.lo[$0], $0) }.sorted { $0 < $1 }.map(\.1)
    }

    func testSharedPermutationIsTheSameAtEverySiteOfALayer() throws {
        let model = BertModel(config: Tiny.config(layers: 3))
        let θ = Tiny.parameters(model, seed: 6)
        let batches = [Tiny.batch(), Tiny.batch(labels: 2)]
        let fp = fullPrecisionRanges(model, θ, batches)
        var o = PTQOptions()
        o.peg = try PEGOptions.parse("ngp3", sites: "all", sharedH: true)
        let cal = PTQ.calibrate(model: model, latent: θ, config: .ptq(o), batches: batches, estimator: .currentMinMax, pegSharedH: true)
        let ranges = cal.ranges!.ranges
        // The embedding sums and LayerNorm output sit before every layer: each keeps its own order.
        let embedding: Set<ActivationSite> = [.embeddingTokenTypeSum, .embeddingSum, .embeddingNorm]
        let layerSites = PTQ.pegAllSites.filter { !embedding.contains($0) }
        for layer in 0..<3 {
            let shared = expectedOrder(fp["ffnOutput.\(layer)"]!)
            for k in layerSites.map({ ActivationRangeState.key($0, layer) }) {
                XCTAssertEqual(ranges[k]?.order, shared, "\(k)")
                XCTAssertEqual(ranges[k]?.steps, 2, "\(k): calibrated after the order was fixed, order kept")
            }
        }
        for site in embedding {
            let k = ActivationRangeState.key(site, 0)
            XCTAssertEqual(ranges[k]?.order, expectedOrder(fp[k]!), k)
        }
        XCTAssertNil(ranges["outputInput.0"]?.order)
        // Not shared: each quantizer its own full-precision order, and they differ between sites.
        let own = PTQ.calibrate(model: model, latent: θ, config: .ptq(o), batches: batches, estimator: .currentMinMax).ranges!.ranges
        let keys = layerSites.map { ActivationRangeState.key($0, 1) }
        for k in keys { XCTAssertEqual(own[k]?.order, expectedOrder(fp[k]!), k) }
        XCTAssertGreaterThan(Set(keys.map { own[$0]!.order! }).count, 1, "the per-quantizer orders differ, so sharing changes something")
    }

    func testPEGOptionsParseAllSitesAndSharedH() throws {
        let all = try PEGOptions.parse("ngp6", sites: "all", sharedH: true)
        XCTAssertEqual(all.activationSites, PTQ.pegAllSites)
        XCTAssertTrue(all.permuteSharedH)
        XCTAssertEqual(try PEGOptions.parse("ng2", sites: "x,y").activationSites, [.attentionNorm, .ffnResidual])
        XCTAssertThrowsError(try PEGOptions.parse("ng6", sites: "all", sharedH: true)) { XCTAssertTrue("\($0)".contains("ngpK"), "\($0)") }
        XCTAssertThrowsError(try PEGOptions.parse("pe", sites: "y", sharedH: true))
        XCTAssertThrowsError(try PEGOptions.parse("ng6", sites: "all,x")) { XCTAssertTrue("\($0)".contains("expected all or a comma list"), "\($0)") }
        // Options recorded before shared-h decode as per-quantizer permutations.
        let old = try JSONDecoder().decode(PEGOptions.self, from: Data(#"{"groups":6,"permute":true,"sites":["y"]}"#.utf8))
        XCTAssertEqual(old, PEGOptions())
        XCTAssertTrue(QuantConfig.ptq({ var p = PTQOptions(); p.peg = all; return p }()).name.hasSuffix("-peg-ngp6-all-shared-h"))
    }
}
