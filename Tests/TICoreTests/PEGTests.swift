// Per-embedding-group activation quantization: groups by hand, the permutation gathers outlier
// dimensions, PEG lowers the quantization error against per tensor, gradients with frozen noise.
import XCTest
import TICore
import TILinalg

final class PEGTests: XCTestCase {
    /// [256, 16] activations around 0 with unit spread, except dimensions 3 and 11 with ±50 outliers.
    func synthetic() -> (x: [Double], width: Int) {
        var rng = SeededRandom(seed: 21)
        let w = 16
        var x: [Double] = rng.normalVector(256 * w)
        for r in 0..<256 { x[r * w + 3] *= 25; x[r * w + 11] = 10 + 20 * x[r * w + 11] }
        return (x, w)
    }

    func pegError(_ x: [Double], width: Int, groups: Int, permute: Bool) -> Double {
        let (lo, hi) = PEG.dimensionRanges(x, count: x.count, width: width)
        var out = x, mask = x
        PEG.quantize(x, count: x.count, width: width, bits: 8, dimLo: lo, dimHi: hi, groups: groups, permute: permute,
                     out: &out, mask: &mask)
        XCTAssertTrue(mask.allSatisfy { $0 == 1 }, "calibrated on the tensor itself: nothing clips")
        return zip(x, out).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(x.count)
    }

    func testGroupsByHand() {
        // Ranges 1, 9, 2, 8 → sorted by range: 0, 2, 3, 1; two groups {0, 2} and {3, 1}.
        let lo = [0.0, -4, -1, -4], hi = [1.0, 5, 1, 4]
        XCTAssertEqual(PEG.groups(dimLo: lo, dimHi: hi, count: 2, permute: true), [[0, 2], [3, 1]])
        XCTAssertEqual(PEG.groups(dimLo: lo, dimHi: hi, count: 2, permute: false), [[0, 1], [2, 3]])
        XCTAssertEqual(PEG.groups(dimLo: lo, dimHi: hi, count: 4, permute: false), [[0], [1], [2], [3]])
        // Per group: dims {0, 2} share [−1, 1] → 2 bits: scale 2/3, zero point round(1.5) = 2 (ties to even).
        var out = [Double](repeating: 0, count: 4), mask = out
        PEG.quantize([0.9, 4.4, -0.2, -3.0], count: 4, width: 4, bits: 2, dimLo: lo, dimHi: hi, groups: 2, permute: true,
                     out: &out, mask: &mask)
        XCTAssertEqual(out[0], 2.0 / 3, accuracy: 1e-12)    // round(1.35)+2 = 3 → (3−2)·2/3
        XCTAssertEqual(out[2], 0, accuracy: 1e-12)          // round(−0.3)+2 = 2 → 0
        XCTAssertEqual(out[1], 3, accuracy: 1e-12)          // dims {3, 1}: [−4, 5], scale 3, zero round(4/3) = 1; round(1.47)+1 = 2 → 3
        XCTAssertEqual(out[3], -3, accuracy: 1e-12)
    }

    func testPermutationPutsTheOutlierDimensionsInOneGroup() {
        let (x, w) = synthetic()
        let (lo, hi) = PEG.dimensionRanges(x, count: x.count, width: w)
        let groups = PEG.groups(dimLo: lo, dimHi: hi, count: 4, permute: true)
        XCTAssertEqual(Set(groups.last!).intersection([3, 11]), [3, 11], "\(groups)")
        let plain = PEG.groups(dimLo: lo, dimHi: hi, count: 4, permute: false)
        XCTAssertFalse(plain.contains { Set($0).isSuperset(of: [3, 11]) })
    }

    func testPEGLowersTheQuantizationErrorAgainstPerTensor() {
        let (x, w) = synthetic()
        let perTensor = pegError(x, width: w, groups: 1, permute: false)
        let ng4 = pegError(x, width: w, groups: 4, permute: false)
        let ngp4 = pegError(x, width: w, groups: 4, permute: true)
        let perEmbedding = pegError(x, width: w, groups: w, permute: false)
        // Per tensor equals the plain asymmetric quantizer over the tensor's [min, max].
        var out = x, mask = x
        ActivationQuantizer.asymmetric(x, count: x.count, bits: 8, lo: x.min()!, hi: x.max()!, out: &out, mask: &mask)
        XCTAssertEqual(perTensor, zip(x, out).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / Double(x.count), accuracy: 1e-15)
        XCTAssertLessThan(ng4, perTensor)
        // Unpermuted, dims 3 and 11 fall into two groups that get coarse steps; permuted, into one.
        XCTAssertLessThan(ngp4, 0.7 * ng4)
        XCTAssertLessThanOrEqual(perEmbedding, ngp4)
    }

    /// [1024, 3]: dimension 0 spread evenly over [−1, 1] except two outlier rows at ±3, dimension 1 the
    /// same without the outliers, dimension 2 constant 0.5 (a degenerate column).
    func outlierColumns() -> (x: [Double], width: Int) {
        var x: [Double] = []
        for r in 0..<1024 {
            let v = -1 + 2 * Double(r) / 1023
            x += [r == 17 ? 3 : (r == 500 ? -3 : v), v, 0.5]
        }
        return (x, 3)
    }

    static let bits = 3

    func perEmbeddingError(_ x: [Double], width: Int, lo: [Double], hi: [Double]) -> Double {
        var out = x, mask = x
        PEG.quantize(x, count: x.count, width: width, bits: Self.bits, dimLo: lo, dimHi: hi, groups: width, permute: false,
                     out: &out, mask: &mask)
        return zip(x, out).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
    }

    func testPerDimensionMSEClipsTheOutlierDimensionAndLowersTheError() {
        let (x, w) = outlierColumns()
        let (lo, hi) = PEG.dimensionRanges(x, count: x.count, width: w)
        XCTAssertEqual(hi, [3, 1, 0.5])
        let mse = PEG.mseDimensionRanges(x, count: x.count, width: w, bits: Self.bits, lo: lo, hi: hi)
        // 3 bits over [−3, 3] is a step of 0.86 for 1022 entries inside [−1, 1] (squared error ≈ 1022·0.86²/12 ≈ 63);
        // over about [−1, 1] the step is 0.29 (≈ 7) and the two clipped outliers cost about 2·2² = 8.
        XCTAssertLessThan(mse.hi[0], 1.6, "\(mse)")
        XCTAssertGreaterThan(mse.lo[0], -1.6, "\(mse)")
        for j in 0..<w { XCTAssertLessThanOrEqual(mse.hi[j] - mse.lo[j], hi[j] - lo[j] + 1e-12) }  // never wider
        // Each dimension's search is its own: dim 0's shrink does not leak into dim 1.
        XCTAssertGreaterThan(mse.hi[1] - mse.lo[1], 1.5)
        let eMinMax = perEmbeddingError(x, width: w, lo: lo, hi: hi), eMSE = perEmbeddingError(x, width: w, lo: mse.lo, hi: mse.hi)
        XCTAssertLessThan(eMSE, 0.5 * eMinMax, "MSE \(eMSE) vs min-max \(eMinMax)")
    }

    func testPerDimensionMSEEstimatorAveragesThePerBatchOptima() {
        let (x, w) = outlierColumns()
        let y = x.map { 0.5 * $0 }  // a second batch with half the spread
        let tracker = ActivationRangeTracker(state: ActivationRangeState(), estimator: .mse)
        _ = tracker.observePerDimension("ffnResidual.0", x, count: x.count, width: w, bits: Self.bits)
        let (lo, hi) = tracker.observePerDimension("ffnResidual.0", y, count: y.count, width: w, bits: Self.bits)
        func optimum(_ t: [Double]) -> (lo: [Double], hi: [Double]) {
            let r = PEG.dimensionRanges(t, count: t.count, width: w)
            return PEG.mseDimensionRanges(t, count: t.count, width: w, bits: Self.bits, lo: r.lo, hi: r.hi)
        }
        let a = optimum(x), b = optimum(y)
        for j in 0..<w {
            XCTAssertEqual(lo[j], (a.lo[j] + b.lo[j]) / 2, accuracy: 1e-12)
            XCTAssertEqual(hi[j], (a.hi[j] + b.hi[j]) / 2, accuracy: 1e-12)
        }
        let saved = tracker.state.ranges["ffnResidual.0"]!
        XCTAssertEqual(saved.steps, 2)
        XCTAssertEqual(saved.dimHi!, hi)
        // running_minmax on the same batches keeps the outlier: 0.9·3 + 0.1·1.5.
        let running = ActivationRangeTracker(state: ActivationRangeState(), estimator: .runningMinMax)
        _ = running.observePerDimension("k", x, count: x.count, width: w, bits: Self.bits)
        XCTAssertEqual(running.observePerDimension("k", y, count: y.count, width: w, bits: Self.bits).1[0], 2.85, accuracy: 1e-12)
        XCTAssertLessThan(hi[0], 1.5)
    }

    func testPEGInAPTQConfigCalibratesPerDimension() {
        var o = PTQOptions()
        o.peg = PEGOptions(groups: 3, permute: true, sites: ["y", "h"])
        let c = QuantConfig.ptq(o)
        XCTAssertEqual(c.activations[.ffnResidual], .perEmbeddingGroup(bits: 8, groups: 3, permute: true))
        XCTAssertEqual(c.activations[.ffnOutput], .perEmbeddingGroup(bits: 8, groups: 3, permute: true))
        XCTAssertEqual(c.activations[.attentionResidual], .calibrated(bits: 8))
        let model = BertModel(config: Tiny.config())
        let cal = PTQ.calibrate(model: model, latent: Tiny.parameters(model, seed: 2), config: c, batches: [Tiny.batch()],
                                estimator: .currentMinMax)
        XCTAssertEqual(cal.ranges?.ranges["ffnResidual.1"]?.dimLo?.count, 8)
        XCTAssertNil(cal.ranges?.ranges["attentionResidual.1"]?.dimLo)
    }
}

extension ModelGradientTests {
    func testPEGGradientWithFrozenNoise() {
        var o = PTQOptions()
        o.peg = PEGOptions(groups: 3, permute: true, sites: ["x", "h", "y"])
        checkObjective(ObjectiveSpec(quantization: .ptq(o), loss: .task), frozen: true)
        let model = BertModel(config: Tiny.config())
        let base = Tiny.parameters(model, seed: 11)
        let θ = Vec.adding(base, Tiny.direction(base.count, seed: 12), scaledBy: 2.0)
        var c = PTQ.calibrate(model: model, latent: θ, config: .ptq(o), batches: [Tiny.batch()], estimator: .currentMinMax)
        for k in c.ranges!.ranges.keys where c.ranges!.ranges[k]!.dimLo != nil {
            c.ranges!.ranges[k]!.dimLo = c.ranges!.ranges[k]!.dimLo!.map { 0.9 * $0 }  // clip some entries
            c.ranges!.ranges[k]!.dimHi = c.ranges!.ranges[k]!.dimHi!.map { 0.9 * $0 }
        }
        checkObjective(ObjectiveSpec(quantization: c, loss: .task), frozen: true)
    }
}
