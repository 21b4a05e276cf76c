// LSQ: the quantizer and its step derivative by hand, the step gradient against finite differences of
// the frozen stand-in loss, the extended layout, and a training run that moves the steps.
import XCTest
import Foundation
import TICore
import TILinalg
import TIData
import TITestSupport

final class LSQTests: XCTestCase {
    func testQuantizerAndStepDerivativeByHand() {
        // 2 bits: Q_N = 2, Q_P = 1, s = 0.5. W/s = [0.6, −1.4, 3, −5] → round [1, −1, clamp 1, clamp −2].
        let w: [Double] = [0.3, -0.7, 1.5, -2.5]
        var out = w, mask = w, d = w
        LSQ.quantize(w, count: 4, bits: 2, step: 0.5, out: &out, mask: &mask, d: &d)
        XCTAssertEqual(out, [0.5, -0.5, 0.5, -1.0])
        XCTAssertEqual(mask, [1, 1, 0, 0])
        XCTAssertEqual(d[0], 1 - 0.6, accuracy: 1e-12)     // round(z) − z
        XCTAssertEqual(d[1], -1 + 1.4, accuracy: 1e-12)
        XCTAssertEqual(Array(d[2...]), [1, -2])            // Q_P, −Q_N where clamped
        XCTAssertEqual(LSQ.gradientScale(count: 100, bits: 4), 1 / (100.0 * 7).squareRoot(), accuracy: 1e-15)
    }

    func testLayoutExtendsBERTWithOneStepPerQuantizedWeight() {
        let config = Tiny.config()
        let base = BertModel(config: config), model = LSQ.model(config: config, quantization: .lsqW4A8)
        XCTAssertEqual(Array(model.layout.slots.prefix(base.layout.slots.count)), base.layout.slots)
        let steps = model.layout.slots.dropFirst(base.layout.slots.count)
        // Q, K, V, O, FFN1, FFN2 per layer, pooler, classifier, three embedding tables.
        XCTAssertEqual(steps.count, 6 * config.numLayers + 2 + 3)
        XCTAssertTrue(steps.allSatisfy { $0.role == .scale && $0.shape == [1] })
        XCTAssertEqual(QATMode.kd.quantization.weights.values.filter { if case .lsq = $0 { return true }; return false }.count, 0)
        let θ = LSQ.initialParameters(bert: Tiny.parameters(base, seed: 1), model: model, quantization: .lsqW4A8)
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: .lsqW4A8)
        XCTAssertEqual(q.scaleTerms.count, steps.count)
        let s = model.layout.slot(LSQ.scaleName("bert.encoder.layer.0.intermediate.dense.weight"))
        let w = model.layout.slot("bert.encoder.layer.0.intermediate.dense.weight")
        // Every quantized entry is an integer multiple of its step, within [−8, 7].
        for i in w.range {
            let k = q.effective[i] / θ[s.offset]
            XCTAssertEqual(k, k.rounded(), accuracy: 1e-9); XCTAssertTrue((-8...7).contains(Int(k.rounded())))
        }
    }

    /// The whole objective's gradient, steps included, against central differences of the frozen stand-in.
    func testStepGradientAgainstFiniteDifferences() {
        let config = Tiny.config()
        let model = LSQ.model(config: config, quantization: .lsqW4A8)
        let base = BertModel(config: config)
        let bert = Vec.adding(Tiny.parameters(base, seed: 11), Tiny.direction(base.layout.count, seed: 12), scaledBy: 2.0)
        var θ = LSQ.initialParameters(bert: bert, model: model, quantization: .lsqW4A8)
        for slot in model.layout.slots where slot.role == .scale { θ[slot.offset] *= 0.7 }  // more clamped entries
        let c = PTQ.calibrate(model: model, latent: θ, config: .lsqW4A8, batches: [Tiny.batch()], estimator: .currentMinMax)
        let obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: c, loss: .task))
        let frozen = FrozenPoint<Double>()
        let g = obj.evaluate(θ, batch: Tiny.batch(), teacher: nil, gradient: true, frozen: frozen).gradient!
        func fd(_ v: [Double]) -> Double {
            centralDifference(step: 1e-5) { h in
                frozen.beginReplay()
                return obj.evaluate(Vec.adding(θ, v, scaledBy: h), batch: Tiny.batch(), teacher: nil, gradient: false, frozen: frozen).terms.total
            }
        }
        // Each step alone (unit directions), then random directions over everything.
        var checked = 0
        for slot in model.layout.slots where slot.role == .scale {
            var e = [Double](repeating: 0, count: θ.count)
            e[slot.offset] = 1
            let numeric = fd(e)
            XCTAssertLessThan(relativeError(numeric, g[slot.offset]), 1e-6, "\(slot.name): \(g[slot.offset]) vs \(numeric)")
            if g[slot.offset] != 0 { checked += 1 }
        }
        XCTAssertGreaterThan(checked, 10)
        for k in 0..<2 {
            let v = Tiny.direction(θ.count, seed: 50 + UInt64(k))
            XCTAssertLessThan(relativeError(fd(v), BLAS.dot(g, v)), 1e-6)
        }
        // Without the step terms the gradient of a step would be 0: the check above can fail.
        XCTAssertTrue(model.layout.slots.filter { $0.role == .scale }.contains { abs(g[$0.offset]) > 1e-6 })
    }

    func testLSQRunTrainsTheSteps() throws {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .lsqW4A8)
        cfg.epochs = 1; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.devProbeSize = 16; cfg.learningRate = 1e-3
        var o = PTQOptions(); o.calibrationBatches = 2; o.calibrationBatchSize = 16
        cfg.ptq = o
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-lsq-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let (θ, summary, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil, progress: false)
        let ext = LSQ.model(config: model.config, quantization: .lsqW4A8)
        XCTAssertEqual(θ.count, ext.layout.count)
        XCTAssertEqual(summary.totalSteps, 4)
        let initial = LSQ.initialParameters(bert: teacher, model: ext, quantization: .lsqW4A8)
        let moved = ext.layout.slots.filter { $0.role == .scale && θ[$0.offset] != initial[$0.offset] }
        XCTAssertGreaterThan(moved.count, 10, "the learned steps are trained")
        let steps = try SafeTensorsFile.read(url: dir.appendingPathComponent(QATRun.learnedStepsFile)).values("steps", as: Float.self)
        XCTAssertEqual(steps, Array(θ[model.layout.count...]))
        XCTAssertEqual(try Checkpoint.load(dir.appendingPathComponent("student")).parameters, Array(θ[..<model.layout.count]))
        // A rerun reuses the finished run, steps included.
        let (again, _, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil, progress: false)
        XCTAssertEqual(again, θ)
    }
}
