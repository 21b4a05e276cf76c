// PTQ W8A8: the asymmetric stored-range quantizer, range estimators and the MSE weight range by hand,
// mixed-precision parsing, calibration over every site, STE gradients with frozen noise, the mode end to end.
import XCTest
import Foundation
import TICore
import TILinalg

final class PTQTests: XCTestCase {
    func testAsymmetricQuantizerWithStoredRangeByHand() {
        // [−1, 2], 2 bits: scale 1, zero point 1, grid {−1, 0, 1, 2}. 1.5 → 2 (ties to even), 3 and −2 clip.
        let x: [Double] = [-2, -0.4, 0.6, 1.5, 3]
        var out = [Double](repeating: .nan, count: 5), mask = out
        ActivationQuantizer.asymmetric(x, count: 5, bits: 2, lo: -1, hi: 2, out: &out, mask: &mask)
        XCTAssertEqual(out, [-1, 0, 1, 2, 2])
        XCTAssertEqual(mask, [0, 1, 1, 1, 0])
    }

    func estimate(_ e: RangeEstimator, _ batches: [[Double]], bits: Int = 8) -> TrackedRange {
        var r: TrackedRange? = nil
        for b in batches { r = e.update(r, b, count: b.count, bits: bits) }
        return r!
    }

    func testMinMaxEstimatorsByHand() {
        let batches: [[Double]] = [[1, -2, 3], [0.5, -1]]
        let c = estimate(.currentMinMax, batches)
        XCTAssertEqual([c.lo, c.hi], [-1, 0.5])
        let r = estimate(.runningMinMax, batches)
        XCTAssertEqual(r.lo, 0.9 * -2 + 0.1 * -1, accuracy: 1e-12)
        XCTAssertEqual(r.hi, 0.9 * 3 + 0.1 * 0.5, accuracy: 1e-12)
        XCTAssertEqual(r.steps, 2)
    }

    func quantError(_ x: [Double], bits: Int, lo: Double, hi: Double) -> Double {
        var out = x, mask = x
        ActivationQuantizer.asymmetric(x, count: x.count, bits: bits, lo: lo, hi: hi, out: &out, mask: &mask)
        return zip(x, out).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
    }

    func testMSEEstimatorClipsAnOutlierAndLowersTheError() {
        var rng = SeededRandom(seed: 3)
        var x: [Double] = (0..<2000).map { _ in rng.normal() }
        x.append(40)
        let m = estimate(.mse, [x], bits: 4)
        // Clipping the outlier costs (40 − hi)², so the optimum keeps a wide range, but a narrower one than min-max.
        XCTAssertLessThan(m.hi, 30)
        XCTAssertLessThan(quantError(x, bits: 4, lo: m.lo, hi: m.hi), 0.7 * quantError(x, bits: 4, lo: x.min()!, hi: 40))
    }

    func testRangeSearchGoldenSectionRefinesTheGrid() {
        let f = { (r: Double) in (r - 0.37) * (r - 0.37) }
        XCTAssertEqual(RangeSearch.minimize(upper: 1, golden: false, f), 0.35, accuracy: 1e-12)  // grid step 0.05
        XCTAssertEqual(RangeSearch.minimize(upper: 1, f), 0.37, accuracy: 2e-3)
    }

    func testMSEWeightRangeBeatsMinMaxOnGaussianWeights() {
        var rng = SeededRandom(seed: 9)
        let w: [Double] = (0..<4096).map { _ in rng.normal() }
        func err(_ q: WeightQuantizer) -> (Double, [Double]) {
            var out = w, mask = w
            q.quantize(w, rows: 64, cols: 64, out: &out, mask: &mask)
            return (zip(w, out).map { ($0 - $1) * ($0 - $1) }.reduce(0, +), mask)
        }
        let (minmax, _) = err(.uniform(bits: 4, symmetric: true, perRow: false))
        let (grid, _) = err(.symmetricMSE(bits: 4, golden: false))
        let (golden, mask) = err(.symmetricMSE(bits: 4, golden: true))
        XCTAssertLessThan(grid, 0.8 * minmax)
        XCTAssertLessThanOrEqual(golden, grid)
        XCTAssertTrue(mask.contains(0), "the MSE range clips the largest weights (no gradient through them)")
        let r = WeightQuantizer.mseSymmetricRange(w, count: w.count, bits: 4, golden: true)
        XCTAssertLessThan(r, w.map(abs).max()!)
    }

    func testQuantDictParsingAndMixedPrecisionConfig() throws {
        XCTAssertEqual(try PTQ.parseQuantDict("x=16, h=16,y=16"), ["x": 16, "h": 16, "y": 16])
        XCTAssertThrowsError(try PTQ.parseQuantDict("q=16"))
        XCTAssertThrowsError(try PTQ.parseQuantDict("x=40"))
        XCTAssertThrowsError(try PTQ.parseQuantDict("x16"))
        var o = PTQOptions()
        o.quantDict = try PTQ.parseQuantDict("x=16,h=16,y=16")
        let c = QuantConfig.ptq(o)
        XCTAssertEqual(c.activations[.attentionNorm], .calibrated(bits: 16))
        XCTAssertEqual(c.activations[.ffnOutput], .calibrated(bits: 16))
        XCTAssertEqual(c.activations[.ffnResidual], .calibrated(bits: 16))
        XCTAssertEqual(c.activations[.attentionResidual], .calibrated(bits: 8))
        XCTAssertEqual(c.activations[.logits], .calibrated(bits: 8))
        XCTAssertNil(c.activations[.intermediateInput])  // the attention LayerNorm output is quantized instead
        XCTAssertEqual(try PTQ.parseQuantDict("e=16"), ["e": 16])
        o.quantDict = ["e": 16, "P": 16]
        XCTAssertEqual(QuantConfig.ptq(o).activations[.embeddingTokenTypeSum], .calibrated(bits: 16))
        XCTAssertEqual(QuantConfig.ptq(o).activations[.embeddingSum], .calibrated(bits: 16))
        XCTAssertEqual(QuantConfig.ptq(o).activations[.pooled], .calibrated(bits: 16))
        XCTAssertEqual(c.name, "ptq-w8a8-h16,x16,y16")
    }

    func testCalibrationCoversEverySiteAndStaysCloseToFullPrecision() {
        let model = BertModel(config: Tiny.config())
        let θ = Tiny.parameters(model, seed: 5)
        let c = PTQ.calibrate(model: model, latent: θ, config: .ptq(), batches: [Tiny.batch(), Tiny.batch()], estimator: .runningMinMax)
        // 3 embedding sites + 13 sites per layer × 2 layers + pooler output + logits.
        XCTAssertEqual(c.ranges?.ranges.count, 31)
        XCTAssertEqual(c.ranges?.ranges["ffnResidual.1"]?.steps, 2)
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: c).effective
        let a = model.forward(effective: q, batch: Tiny.batch(), options: ForwardOptions(quantization: c)).logits.array
        let fp = model.forward(effective: θ, batch: Tiny.batch(), options: ForwardOptions()).logits.array
        let scale = fp.map(abs).max()!
        let err = zip(a, fp).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(err, 0.1 * scale)
        XCTAssertGreaterThan(err, 0)  // it is quantized
    }

    func testPTQModeCalibratesWithoutTraining() throws {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .ptqW8A8)
        cfg.devProbeSize = 16
        var o = PTQOptions()
        o.calibrationBatches = 2; o.calibrationBatchSize = 8; o.estimator = .allMinMax
        cfg.ptq = o
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-ptq-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let (θ, summary, evals) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(summary.totalSteps, 0)
        XCTAssertEqual(evals.count, 1)
        XCTAssertEqual(θ, teacher)
        let ranges = try JSONDecoder().decode(ActivationRangeState.self,
                                              from: Data(contentsOf: dir.appendingPathComponent(QATRun.activationRangesFile)))
        XCTAssertTrue(ranges.ranges.values.allSatisfy { $0.steps == 2 })
        let q = QATMode.ptqW8A8.method.quantization(config: { var c = QATConfig(mode: .ptqW8A8); c.ptq = o; return c }(), ranges: ranges)
        XCTAssertEqual(Evaluator<Float>(model: model, task: data).evaluate(θ, quantization: q).metric, summary.finalDevMetric)
        // The default configuration hash of the other modes does not see the new option.
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(QATConfig(mode: .kd)), as: UTF8.self).contains("ptq"))
    }
}

extension ModelGradientTests {
    func testPTQGradientWithFrozenNoiseAtEverySite() {
        // Dynamic asymmetric fallback, then ranges calibrated at the point the check uses (θ of
        // checkObjective) and shrunk so that every site also clips (STE mask 0 there).
        checkObjective(ObjectiveSpec(quantization: .ptq(), loss: .task), frozen: true)
        for labels in [3, 1] {
            let model = BertModel(config: Tiny.config(labels: labels))
            let base = Tiny.parameters(model, seed: 11)
            let θ = Vec.adding(base, Tiny.direction(base.count, seed: 12), scaledBy: 2.0)
            var c = PTQ.calibrate(model: model, latent: θ, config: .ptq(), batches: [Tiny.batch(labels: labels)], estimator: .currentMinMax)
            for k in c.ranges!.ranges.keys { c.ranges!.ranges[k]!.lo *= 0.9; c.ranges!.ranges[k]!.hi *= 0.9 }
            // Not the logits: a regression head's three outputs are so close that any shift clips them all.
            c.ranges!.ranges["logits.0"]!.lo = -10; c.ranges!.ranges["logits.0"]!.hi = 10
            checkObjective(ObjectiveSpec(quantization: c, loss: .task), labels: labels, frozen: true)
        }
    }
}
