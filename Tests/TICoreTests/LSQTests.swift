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
        let allSteps = model.layout.slots.dropFirst(base.layout.slots.count)
        XCTAssertTrue(allSteps.allSatisfy { $0.role == .scale && $0.shape == [1] })
        let steps = allSteps.filter { !$0.name.hasPrefix("lsq.act.") }
        // Q, K, V, O, FFN1, FFN2 per layer, pooler, classifier, three embedding tables.
        XCTAssertEqual(steps.count, 6 * config.numLayers + 2 + 3)
        // Activation steps after the weight steps: PTQ's 16 sites, 12 of them once per layer and the 4
        // head sites (pooler input/output, classifier input, logits) once.
        let act = Array(allSteps.dropFirst(steps.count).prefix(12 * config.numLayers + 4))
        XCTAssertTrue(act.allSatisfy { $0.name.hasPrefix("lsq.act.") && $0.name.hasSuffix(".step") })
        // Then one zero point per asymmetric activation site visit (all of them in lsqW4A8).
        let zeroPoints = Array(allSteps.dropFirst(steps.count + act.count))
        XCTAssertEqual(zeroPoints.map(\.name), act.map { $0.name.replacingOccurrences(of: ".step", with: ".zero_point") })
        XCTAssertNotNil(model.layout[LSQ.activationStepName("ffnResidual.1")])
        XCTAssertNil(model.layout[LSQ.activationStepName("ffnResidual.2")])
        XCTAssertNotNil(model.layout[LSQ.activationStepName("logits.0")])
        XCTAssertEqual(QATMode.kd.method.defaultQuantization.weights.values.filter { if case .lsq = $0 { return true }; return false }.count, 0)
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
        let standIn = FrozenStandIn(model: model, quantization: c, at: θ), g = standIn.gradient
        func fd(_ v: [Double]) -> Double { standIn.difference(along: v, step: 1e-5) }
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

    func testActivationQuantizerAndStepDerivativeByHand() {
        // 2 bits (grid 0…3), s = 0.5, z = 1: x/s = [0.6, −0.8, 2.4, −1.8, 4] → round [1, −1, 2, −2, 4],
        // u = round + z = [2, 0, 3, −1 (clamped to 0), 5 (clamped to 3)].
        let x: [Double] = [0.3, -0.4, 1.2, -0.9, 2.0]
        var out = x, mask = x, d = x
        LSQ.quantizeActivation(x, count: 5, bits: 2, step: 0.5, zero: 1, out: &out, mask: &mask, d: &d)
        XCTAssertEqual(out, [0.5, -0.5, 1.0, -0.5, 1.0])
        XCTAssertEqual(mask, [1, 1, 1, 0, 0])
        XCTAssertEqual(d[0], 1 - 0.6, accuracy: 1e-12)     // round(x/s) − x/s inside
        XCTAssertEqual(d[1], -1 + 0.8, accuracy: 1e-12)
        XCTAssertEqual(d[2], 2 - 2.4, accuracy: 1e-12)
        XCTAssertEqual(Array(d[3...]), [-1, 2])            // −Q_N = −z below, Q_P = 3 − z above
        // Zero point of a calibrated [−1, 2] at 2 bits: s₀ = 3/3 = 1, z = 1; of [0.5, 2] (widened to 0): 0.
        XCTAssertEqual(LSQ.zeroPoint(lo: -1, hi: 2, bits: 2), 1)
        XCTAssertEqual(LSQ.zeroPoint(lo: 0.5, hi: 2, bits: 2), 0)
        XCTAssertEqual(LSQ.activationGradientScale(width: 8, bits: 8), 1 / (8.0 * 255).squareRoot(), accuracy: 1e-15)
    }

    /// d = ∂x̂/∂s against central differences of the quantizer itself (not frozen), entry by entry, for
    /// entries whose code does not change within ±h. Clamped, x̂ = s·(bound) and d is its derivative.
    /// Inside, x̂ = s·round(x/s) has derivative round(x/s); LSQ's STE also passes the rounding's
    /// argument, ∂(x/s)/∂s·s = −x/s, so d = round(x/s) − x/s = (finite difference) − x/s. The
    /// whole-model check below differentiates the stand-in built from d, so this is what pins d down.
    func testActivationStepDerivativeMatchesTheQuantizer() {
        var rng = SeededRandom(seed: 3)
        let n = 400, bits = 4, s = 0.21, z = 5.0, h = 1e-7
        let x = (0..<n).map { _ in 3 * rng.normal() }  // many beyond the grid [−5, 10]·s on both sides
        var out = x, mask = x, d = x, up = x, down = x, scratch = x, scratch2 = x
        LSQ.quantizeActivation(x, count: n, bits: bits, step: s, zero: z, out: &out, mask: &mask, d: &d)
        LSQ.quantizeActivation(x, count: n, bits: bits, step: s + h, zero: z, out: &up, mask: &scratch, d: &scratch2)
        LSQ.quantizeActivation(x, count: n, bits: bits, step: s - h, zero: z, out: &down, mask: &scratch, d: &scratch2)
        var checked = (inside: 0, low: 0, high: 0)
        for i in 0..<n {
            let v = x[i] / s
            guard abs(v - v.rounded(.down) - 0.5) > 1e-3 else { continue }  // a code flips within ±h
            let numeric = (up[i] - down[i]) / (2 * h)
            XCTAssertEqual(mask[i] == 1 ? numeric - v : numeric, d[i], accuracy: 1e-6, "x = \(x[i])")
            if mask[i] == 1 { checked.inside += 1 } else if d[i] < 0 { checked.low += 1 } else { checked.high += 1 }
        }
        XCTAssertGreaterThan(checked.inside, 50)
        XCTAssertGreaterThan(checked.low, 10)
        XCTAssertGreaterThan(checked.high, 10)
    }

    /// Calibrated model, LSQ layout with every step at its start.
    private func calibratedLSQ(seed: UInt64) -> (BertModel, [Double], QuantConfig) {
        let config = Tiny.config()
        let model = LSQ.model(config: config, quantization: .lsqW4A8)
        let bert = Vec.adding(Tiny.parameters(BertModel(config: config), seed: seed), Tiny.direction(BertModel(config: config).layout.count, seed: seed + 1), scaledBy: 2.0)
        var θ = LSQ.initialParameters(bert: bert, model: model, quantization: .lsqW4A8)
        let c = PTQ.calibrate(model: model, latent: θ, config: .lsqW4A8, batches: [Tiny.batch()], estimator: .currentMinMax)
        LSQ.initializeActivationSteps(&θ, model: model, quantization: c, ranges: c.ranges!)
        return (model, θ, c)
    }

    /// At their calibrated start the learned activation steps reproduce PTQ's calibrated quantizer (same
    /// grid and zero point), and moving a step changes the output.
    func testActivationStepsStartAtTheCalibratedQuantizer() {
        let (model, θ, c) = calibratedLSQ(seed: 21)
        var ptq = c
        for (k, v) in ptq.activations { ptq.activations[k] = .calibrated(bits: v.bits) }
        let effective = QuantizedParameters(latent: θ, layout: model.layout, config: c).effective
        let a = model.forward(effective: effective, batch: Tiny.batch(), options: ForwardOptions(quantization: c)).logits.array
        let b = model.forward(effective: effective, batch: Tiny.batch(), options: ForwardOptions(quantization: ptq)).logits.array
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-9) }
        var moved = effective
        moved[model.layout.slot(LSQ.activationStepName("logits.0")).offset] *= 1.5
        let m = model.forward(effective: moved, batch: Tiny.batch(), options: ForwardOptions(quantization: c)).logits.array
        XCTAssertGreaterThan(zip(a, m).map { abs($0 - $1) }.max()!, 1e-6, "the forward reads the step from θ")
    }

    /// Every activation step's gradient (LSQ rule through the whole model) against central differences
    /// of the frozen stand-in x̂ = mask·x + offset + d·s, in Double; steps shrunk so that many entries clamp.
    /// (This checks the backward's wiring for a given d; d itself is checked against the quantizer above.)
    func testActivationStepGradientAgainstFiniteDifferences() {
        var (model, θ, c) = calibratedLSQ(seed: 31)
        let act = model.layout.slots.filter { $0.name.hasPrefix("lsq.act.") && $0.name.hasSuffix(".step") }  // zero points: LSQZeroPointTests
        for slot in act { θ[slot.offset] *= 0.6 }  // the calibrated range no longer covers the batch
        let standIn = FrozenStandIn(model: model, quantization: c, at: θ), g = standIn.gradient
        func fd(_ v: [Double], step: Double = 1e-5) -> Double { standIn.difference(along: v, step: step) }
        var nonzero = 0
        for slot in act {
            var e = [Double](repeating: 0, count: θ.count)
            e[slot.offset] = 1
            // A step moves x̂ by d·h with |d| up to 2^b − 1 = 255, so a smaller h keeps the curvature term
            // of the central difference (h²·f‴/6) below the tolerance.
            let numeric = fd(e, step: 1e-7)
            XCTAssertLessThan(relativeError(numeric, g[slot.offset]), 1e-6, "\(slot.name): \(g[slot.offset]) vs \(numeric)")
            if abs(g[slot.offset]) > 1e-8 { nonzero += 1 }
        }
        XCTAssertGreaterThan(nonzero, act.count / 2, "most activation steps get a gradient")
        // Clamped entries take part: with 0.6× steps some site clamps, and its bound term (−z or 2^b − 1 − z) counts.
        let clamped = act.contains { slot in
            let key = String(slot.name.dropFirst("lsq.act.".count).dropLast(".step".count))
            return (c.ranges?.ranges[key]).map { r in max(r.hi, 0) - min(r.lo, 0) > 255 * θ[slot.offset] * 1.01 } ?? false
        }
        XCTAssertTrue(clamped)
        let v = Tiny.direction(θ.count, seed: 77)
        XCTAssertLessThan(relativeError(fd(v), BLAS.dot(g, v)), 1e-6)
    }

    func testLSQRunTrainsTheSteps() throws {
        let (model, data, cfg, teacher) = LSQRunFixture.make()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-lsq-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let (θ, summary, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        let ext = LSQ.model(config: model.config, quantization: .lsqW4A8)
        XCTAssertEqual(θ.count, ext.layout.count)
        XCTAssertEqual(summary.totalSteps, 4)
        // The run's calibrated ranges give the activation steps' start.
        var quantization = QuantConfig.lsqW4A8
        quantization.ranges = try JSONDecoder().decode(ActivationRangeState.self,
                                                        from: Data(contentsOf: dir.appendingPathComponent(QATRun.activationRangesFile)))
        let initial = LSQ.initialParameters(bert: teacher, model: ext, quantization: quantization)
        let moved = ext.layout.slots.filter { $0.role == .scale && θ[$0.offset] != initial[$0.offset] }
        XCTAssertGreaterThan(moved.count, 10, "the learned steps are trained")
        let act = ext.layout.slots.filter { $0.name.hasPrefix("lsq.act.") && $0.name.hasSuffix(".step") }
        let actMoved = act.filter { θ[$0.offset] != initial[$0.offset] }
        XCTAssertGreaterThan(actMoved.count, act.count / 2, "the activation steps are trained, not fixed at calibration")
        // Still valid steps (the clamp keeps them positive). How far they move is Adam's business: its
        // per-parameter normalization moves a step by about lr per update whatever LSQ's gradient scale.
        for slot in act { XCTAssertTrue(θ[slot.offset] > 0 && θ[slot.offset].isFinite, slot.name) }
        let loaded = try QATRun.loadStudent(dir)
        XCTAssertEqual(loaded.parameters, θ)
        XCTAssertEqual(loaded.model.layout.count, ext.layout.count)
        let steps = try SafeTensorsFile.read(url: dir.appendingPathComponent(QATRun.learnedStepsFile)).values("steps", as: Float.self)
        XCTAssertEqual(steps, Array(θ[model.layout.count...]))
        XCTAssertEqual(try Checkpoint.load(dir.appendingPathComponent("student")).parameters, Array(θ[..<model.layout.count]))
        // A rerun reuses the finished run, steps included.
        let (again, _, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(again, θ)
        // A run from the older layout (weight steps only) has the same config hash: refused by name,
        // by the rerun and by the loader, instead of running with a short parameter vector.
        let weightSteps = Array(steps.prefix(ext.layout.slots.filter { $0.role == .scale && !$0.name.hasPrefix("lsq.act.") }.count))
        try SafeTensorsWriter.write(tensors: [("steps", [weightSteps.count], weightSteps)], metadata: [:],
                                    to: dir.appendingPathComponent(QATRun.learnedStepsFile))
        XCTAssertThrowsError(try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)) {
            XCTAssertTrue("\($0)".contains(QATRun.learnedStepsFile) && "\($0)".contains("older layout"), "\($0)")
        }
        XCTAssertThrowsError(try QATRun.loadStudent(dir)) { XCTAssertTrue("\($0)".contains(QATRun.learnedStepsFile), "\($0)") }
    }

    /// An interrupted LSQ run resumes with its learned steps (weights and activations) and ends bit-identical.
    func testInterruptedLSQRunResumesWithItsSteps() throws {
        func setup() -> QATRun {
            let (model, data, cfg, teacher) = LSQRunFixture.make(epochs: 2)
            return QATRun(model: model, task: data, teacher: teacher, config: cfg)
        }
        func dir() -> URL {
            let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-lsq-\(UUID().uuidString)")
            addTeardownBlock { try? FileManager.default.removeItem(at: d) }
            return d
        }
        let whole = dir(), split = dir()
        let (θa, _, _) = try setup().run(outDir: whole, teacherPath: "t", teacherDevMetric: nil)
        var interrupted = setup()
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: split, teacherPath: "t", teacherDevMetric: nil))
        let (θb, _, _) = try setup().run(outDir: split, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(θa.count, θb.count)
        XCTAssertEqual(θa.map(\.bitPattern), θb.map(\.bitPattern))
    }
}

/// The short LSQ-W4A8 runs of the tests: a two-layer width-16 model on 64 `count` examples, batches of
/// 16, two calibration batches of 16, and a teacher drawn from seed 5.
enum LSQRunFixture {
    static func make(epochs: Int = 1, learningRate: Double = 1e-3) -> (model: BertModel, data: TaskData, config: QATConfig, teacher: [Float]) {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .lsqW4A8)
        cfg.epochs = epochs; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.devProbeSize = 16; cfg.learningRate = learningRate
        var o = PTQOptions(); o.calibrationBatches = 2; o.calibrationBatchSize = 16
        cfg.ptq = o
        return (model, data, cfg, model.initialParameters(seed: 5, std: 0.3))
    }
}
