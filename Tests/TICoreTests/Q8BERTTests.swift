// Q8BERT: EMA range tracking, the stored-range quantizer, its STE gradient, evaluation with frozen
// ranges, the int8 export round trip and a resumable training run that carries the ranges.
import XCTest
import Foundation
import TICore
import TILinalg
import TIData

final class Q8BERTTests: XCTestCase {
    func testEMAUpdateWithBiasCorrectionByHand() {
        var s = ActivationRangeState(decay: 0.9)
        // 1st: biased 0.1·2 = 0.2, corrected 0.2/(1 − 0.9) = 2 (the first observation itself).
        XCTAssertEqual(s.update("a.0", observedMaxAbs: 2), 2, accuracy: 1e-12)
        // 2nd: biased 0.9·0.2 + 0.1·4 = 0.58, corrected 0.58/(1 − 0.81) = 3.0526…
        XCTAssertEqual(s.update("a.0", observedMaxAbs: 4), 0.58 / 0.19, accuracy: 1e-12)
        XCTAssertEqual(s.threshold("a.0")!, 0.58 / 0.19, accuracy: 1e-12)
        XCTAssertNil(s.threshold("a.1"))
    }

    /// Intel's nlp-architect `_update_ema`: the first observation, then ema −= (1 − decay)(ema − x).
    func testEMAStartsAtTheFirstValueAsIntelsByHand() {
        var s = ActivationRangeState(decay: 0.9, start: .firstValue)
        XCTAssertEqual(s.update("a.0", observedMaxAbs: 2), 2)
        XCTAssertEqual(s.update("a.0", observedMaxAbs: 4), 2 - 0.1 * (2 - 4), accuracy: 1e-15)      // 2.2
        XCTAssertEqual(s.update("a.0", observedMaxAbs: 1), 2.2 - 0.1 * (2.2 - 1), accuracy: 1e-15)  // 2.08
        XCTAssertEqual(s.threshold("a.0")!, 2.08, accuracy: 1e-15)
        // The bias-corrected rule on the same sequence differs from the second value on.
        var b = ActivationRangeState(decay: 0.9)
        for m in [2.0, 4, 1] { b.update("a.0", observedMaxAbs: m) }
        XCTAssertGreaterThan(abs(b.threshold("a.0")! - 2.08), 0.1)
        // A Q8BERT run starts from Intel's choices.
        let student = QATMode.q8bert.method.initialStudent(teacher: BertModel(config: Tiny.config()), parameters: [], config: QATConfig(mode: .q8bert))
        XCTAssertEqual(student.ranges?.start, .firstValue)
        XCTAssertEqual(student.ranges?.straightThrough, true)
        XCTAssertEqual(student.ranges?.decay, 0.9999)
    }

    /// A range state saved before the EMA start and STE were recorded decodes as what it was trained with.
    func testOldRangeStateDecodesAsBiasCorrectedWithClipMask() throws {
        let json = #"{"decay":0.9999,"ranges":{"a.0":{"biased":0.2,"steps":1,"lo":0,"hi":0}}}"#
        let s = try JSONDecoder().decode(ActivationRangeState.self, from: Data(json.utf8))
        XCTAssertEqual(s.start, .zeroBiasCorrected)
        XCTAssertFalse(s.straightThrough)
        XCTAssertEqual(s.threshold("a.0")!, 0.2 / (1 - 0.9999), accuracy: 1e-9)
    }

    /// Intel's FakeLinearQuantizationWithSTE passes the gradient where x was clipped to the range; the
    /// clip-mask STE stops it there. Same forward values either way.
    func testPassThroughSTEKeepsTheGradientOutsideTheRange() {
        let x = Buffer<Double>([3, -1, 0.5, 2, -5])
        var state = ActivationRangeState(decay: 0.9999, start: .firstValue)
        state.update(ActivationRangeState.key(.attentionInput, 0), observedMaxAbs: 2)
        func run(_ passThrough: Bool) -> ([Double], [Double]) {
            var s = state
            s.straightThrough = passThrough
            var c = QuantConfig.q8bert
            c.ranges = s
            let (out, mask) = ActivationQuantization<Double>(config: c).apply(.attentionInput, x)
            let g = Buffer<Double>([1, 1, 1, 1, 1])
            var sink = [Double](repeating: 0, count: 1)
            sink.withUnsafeMutableBufferPointer { mask!.backward(g, grads: $0.baseAddress!) }
            return (out.array, g.array)
        }
        let (clipOut, clipGrad) = run(false), (passOut, passGrad) = run(true)
        XCTAssertEqual(clipOut, passOut)
        XCTAssertEqual(clipGrad, [0, 1, 1, 1, 0])
        XCTAssertEqual(passGrad, [1, 1, 1, 1, 1])
    }

    func testSymmetricQuantizerWithStoredRangeByHand() {
        // r = 2, 8 bits: s = 127/2 = 63.5. 3 clips to 2 (mask 0); −1·63.5 = −63.5 ties to −64; 0.5 → 31.75 → 32.
        let x: [Double] = [3, -1, 0.5, 2]
        var out = [Double](repeating: .nan, count: 4), mask = out
        ActivationQuantizer.symmetric(x, count: 4, bits: 8, range: 2.0, out: &out, mask: &mask)
        XCTAssertEqual(out, [2, -64 / 63.5, 32 / 63.5, 2])
        XCTAssertEqual(mask, [0, 1, 1, 1])
    }

    /// A range state recorded by one training-mode forward of the tiny model at θ (Linear inputs only).
    func trackedRanges(_ model: BertModel, _ θ: [Double], scale: Double = 1) -> ActivationRangeState {
        let tracker = ActivationRangeTracker(state: ActivationRangeState(decay: 0.9999))
        let inputsOnly = QuantConfig.q8bert(requantizeOutput: false)
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: inputsOnly).effective
        _ = model.forward(effective: q, batch: Tiny.batch(), options: ForwardOptions(quantization: inputsOnly, rangeTracker: tracker))
        var s = tracker.state
        for k in s.ranges.keys { s.ranges[k]!.biased *= scale }
        return s
    }

    func testTrackerKeysEveryLinearInputOfEveryLayer() {
        let model = BertModel(config: Tiny.config())
        let s = trackedRanges(model, Tiny.parameters(model, seed: 1))
        // 4 Linear inputs per layer × 2 layers + pooler + classifier.
        XCTAssertEqual(s.ranges.count, 10)
        XCTAssertNotNil(s.ranges["outputInput.1"])
        XCTAssertNotNil(s.ranges["classifierInput.0"])
        XCTAssertTrue(s.ranges.values.allSatisfy { $0.steps == 1 && $0.biased > 0 })
    }

    func testEvaluationUsesTheFrozenRanges() {
        let model = BertModel(config: Tiny.config())
        let θ = Tiny.parameters(model, seed: 2)
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: .q8bert(requantizeOutput: false)).effective
        func logits(_ ranges: ActivationRangeState?) -> [Double] {
            var c = QuantConfig.q8bert(requantizeOutput: false)
            c.ranges = ranges
            return model.forward(effective: q, batch: Tiny.batch(), options: ForwardOptions(quantization: c)).logits.array
        }
        let exact = trackedRanges(model, θ)
        let dynamic = logits(nil)
        // The ranges recorded on this very batch are its max|x|: the same as the dynamic fallback.
        for (a, b) in zip(logits(exact), dynamic) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        // Halved ranges clip: the frozen state is really used.
        let clipped = logits(trackedRanges(model, θ, scale: 0.5))
        XCTAssertGreaterThan(zip(clipped, dynamic).map { abs($0 - $1) }.max()!, 1e-4)
    }

    func testQ8BERTModeResolvesItsConfig() {
        XCTAssertEqual(QATMode(rawValue: "Q8BERT"), .q8bert)
        XCTAssertEqual(QATMode.q8bert.method.loss, .task)
        XCTAssertEqual(QATMode.q8bert.method.phases(total: 10, stepOne: 2), [TrainingPhase(number: 0, steps: 10)])
        XCTAssertTrue(QATMode.q8bert.method.defaultQuantization.usesStoredRanges)
        XCTAssertFalse(QATMode.kd.method.defaultQuantization.usesStoredRanges)
        XCTAssertEqual(QATMode.q8bert.method.defaultQuantization.weights.count, WeightSite.allCases.count)
        // TernaryBERT's activation sites did not grow with the new classifier-input site.
        XCTAssertNil(QATMode.kd.method.defaultQuantization.activations[.classifierInput])
        XCTAssertEqual(QATMode.kd.method.defaultQuantization.activations.count, 9)
    }

    func testExportRoundTripEvaluatesToTheFakeQuantizedLogits() throws {
        let export = try TinyQ8BERTExport(self)
        let (model, θ, fake, ranges, config, url) = (export.model, export.latent, export.fake, export.ranges, export.config, export.url)

        let file = try SafeTensorsFile.read(url: url)
        XCTAssertEqual(file.info("bert.encoder.layer.0.attention.self.query.weight")?.dtype, .i8)
        XCTAssertEqual(file.info("classifier.weight")?.dtype, .i8)
        XCTAssertEqual(file.info("bert.embeddings.position_embeddings.weight")?.dtype, .i8)
        XCTAssertEqual(file.info("bert.encoder.layer.0.output.LayerNorm.weight")?.dtype, .f32)

        // Intel's int32 biases: round(b / (step_x · step_w)), step_x = r_x/127 of the Linear's input range
        // and step_w = max|W|/127, by hand for FFN1 of layer 1 and the classifier.
        for (bias, weight, key) in [("bert.encoder.layer.1.intermediate.dense.bias", "bert.encoder.layer.1.intermediate.dense.weight", "intermediateInput.1"),
                                    ("classifier.bias", "classifier.weight", "classifierInput.0")] {
            XCTAssertEqual(file.info(bias)?.dtype, .i32, bias)
            let b = θ[model.layout.slot(bias).range], w = θ[model.layout.slot(weight).range]
            let stepW = Double(w.map(abs).max()!) / 127, stepX = try XCTUnwrap(ranges.threshold(key)) / 127
            let expected = b.map { Double(Int32((Double($0) / (stepX * stepW)).rounded(.toNearestOrEven))) }
            XCTAssertEqual(try file.values(bias, as: Double.self), expected, bias)
            XCTAssertEqual(Double(try file.values(QuantizedExport.scaleName(bias), as: Float.self)[0]), stepX * stepW, accuracy: 1e-6 * stepX * stepW)
        }
        XCTAssertEqual(file.info("bert.encoder.layer.0.output.LayerNorm.bias")?.dtype, .f32, "no int8 product, no int32 bias")

        let (loaded, q) = try QuantizedExport.load(url, model: model)
        XCTAssertTrue(q.weights.isEmpty)
        XCTAssertEqual(q.ranges, ranges)
        // Dequantized codes·scale sit on the fake quantizer's grid up to float rounding; int32 biases
        // within half their (tiny) accumulator step.
        for slot in model.layout.slots {
            let tolerance = file.info(slot.name)?.dtype == .i32
                ? Double(try file.values(QuantizedExport.scaleName(slot.name), as: Float.self)[0]) * 0.5001 : 0
            for i in slot.range {
                XCTAssertEqual(Double(loaded[i]), Double(fake[i]), accuracy: tolerance + 1e-6 * max(1, abs(Double(fake[i]))), slot.name)
            }
        }
        let a = model.forward(effective: fake, batch: Tiny.batch(), options: ForwardOptions(quantization: config)).logits.array
        let b = model.forward(effective: loaded, batch: Tiny.batch(), options: ForwardOptions(quantization: q)).logits.array
        let scale = a.map(abs).max()!
        // Within quantization tolerance: an ulp in a weight can flip one activation code (step r/127).
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 0.02 * scale) }
    }

    func testInterruptedQ8BERTRunResumesWithItsRanges() throws {
        func setup(mode: QATMode) -> QATRun {
            let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
            let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                     intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
            var cfg = QATConfig(mode: mode)
            cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.devProbeSize = 16
            return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
        }
        func dir() -> URL {
            let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-q8-\(UUID().uuidString)")
            addTeardownBlock { try? FileManager.default.removeItem(at: d) }
            return d
        }
        let whole = dir(), split = dir()
        let (θa, sa, _) = try setup(mode: .q8bert).run(outDir: whole, teacherPath: "t", teacherDevMetric: nil)
        var interrupted = setup(mode: .q8bert)
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: split, teacherPath: "t", teacherDevMetric: nil))
        let (θb, sb, _) = try setup(mode: .q8bert).run(outDir: split, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(θa.map(\.bitPattern), θb.map(\.bitPattern))
        XCTAssertEqual(sa.finalDevMetric, sb.finalDevMetric)
        let ranges = try JSONDecoder().decode(ActivationRangeState.self,
                                              from: Data(contentsOf: split.appendingPathComponent(QATRun.activationRangesFile)))
        XCTAssertEqual(ranges.decay, 0.9999)
        XCTAssertTrue(ranges.ranges.values.allSatisfy { $0.steps == sa.totalSteps }, "\(ranges.ranges.values.map(\.steps))")
        let student = try Checkpoint.load(split.appendingPathComponent("student"))
        XCTAssertNotNil(student.metadata["tianalyze.activation_ranges"])
        // The int8 export evaluates like the fake-quantized student (same dev metric on this task).
        let model = setup(mode: .q8bert).model, data = setup(mode: .q8bert).task
        let (deq, q) = try QuantizedExport.load(split.appendingPathComponent(QATRun.int8ExportFile), model: model)
        XCTAssertEqual(q.ranges, ranges)
        let exported = Evaluator<Float>(model: model, task: data).evaluate(deq, quantization: q).metric
        XCTAssertEqual(exported, sb.finalDevMetric, accuracy: 0.04)  // at most one of 32 dev examples flips
    }
}

extension ModelGradientTests {
    func testQ8BERTGradientWithFrozenNoise() {
        // Dynamic fallback (no ranges) and frozen EMA ranges that clip (STE mask 0 outside ±r).
        checkObjective(ObjectiveSpec(quantization: .q8bert, loss: .task), frozen: true)
        let model = BertModel(config: Tiny.config())
        let tracker = ActivationRangeTracker(state: ActivationRangeState())
        let θ = Tiny.parameters(model, seed: 11)
        _ = model.forward(effective: θ, batch: Tiny.batch(), options: ForwardOptions(quantization: .q8bert, rangeTracker: tracker))
        var s = tracker.state
        for k in s.ranges.keys { s.ranges[k]!.biased *= 0.7 }
        checkObjective(ObjectiveSpec(quantization: QATMode.q8bert.method.quantization(config: QATConfig(mode: .q8bert), ranges: s), loss: .task), frozen: true)
    }
}
