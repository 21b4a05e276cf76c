// Determinism of training, optimizer schedule, checkpoint round trip, and bad checkpoints.
import XCTest
import Foundation
import TICore
import TILinalg
import TIData

final class TrainingTests: XCTestCase {
    func tinyTask() -> TaskData {
        var d = SyntheticTaskGenerator(task: .count).make(train: 96, dev: 32)
        d.seqLen = 26
        return d
    }

    func train(seed: UInt64) throws -> [Float] {
        let data = tinyTask()
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = FineTuneConfig()
        cfg.seed = seed; cfg.epochs = 1; cfg.batchSize = 16; cfg.evalEvery = 3
        return try FineTune.run(model: model, task: data, config: cfg).0
    }

    func testSameSeedIsBitwiseIdenticalDifferentSeedDiffers() throws {
        let a = try train(seed: 7), b = try train(seed: 7), c = try train(seed: 8)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertNotEqual(a, c)
    }

    func testWarmupLinearSchedule() {
        let s = LinearWarmupSchedule(peak: 1, totalSteps: 100)
        XCTAssertEqual(s.rate(at: 0), 0)
        XCTAssertEqual(s.rate(at: 5), 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 10), 1, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 55), 0.5, accuracy: 1e-12)
        XCTAssertEqual(s.rate(at: 100), 0, accuracy: 1e-12)
    }

    func testAdamClipsGlobalNormAndSkipsDecayOnBiases() {
        let layout = ParameterLayout([("w", [1, 2], .matrix), ("b", [1], .bias)])
        var adam = AdamW<Double>(layout: layout)
        var θ: [Double] = [1, 1, 1]
        let norm = adam.step(&θ, gradient: [0, 0, 0], learningRate: 0.1)
        XCTAssertEqual(norm, 0)
        // Zero gradient: only decoupled weight decay moves the matrix, the bias stays.
        XCTAssertEqual(θ[0], 1 - 0.1 * 0.01, accuracy: 1e-15)
        XCTAssertEqual(θ[2], 1)
        var adam2 = AdamW<Double>(layout: layout)
        var θ2: [Double] = [0, 0, 0]
        XCTAssertEqual(adam2.step(&θ2, gradient: [30, 40, 0], learningRate: 1), 50)
        XCTAssertEqual(adam2.m[0], 0.1 * 30 / 50, accuracy: 1e-12)  // clipped to unit norm before the moments
    }

    func testCheckpointRoundTripAndPrefixlessNames() throws {
        let cfg = Tiny.config()
        let model = BertModel(config: cfg)
        let θ: [Float] = model.initialParameters(seed: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-ck-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Checkpoint.save(θ, config: cfg, to: dir)
        let back = try Checkpoint.load(dir)
        XCTAssertEqual(back.config, cfg)
        XCTAssertEqual(back.parameters, θ)
        XCTAssertTrue(back.notes.isEmpty)
        // sentence-transformers style: no "bert." prefix, no pooler/classifier, an extra position_ids tensor.
        let layout = model.layout
        var tensors: [(name: String, shape: [Int], values: [Float])] = layout.slots
            .filter { !$0.name.hasPrefix("classifier") && !$0.name.hasPrefix("bert.pooler") }
            .map { (String($0.name.dropFirst(5)), $0.shape, Array(θ[$0.range])) }
        tensors.append(("embeddings.position_ids", [1, 8], (0..<8).map(Float.init)))
        try SafeTensorsWriter.write(tensors: tensors, metadata: [:], to: dir.appendingPathComponent("model.safetensors"))
        let st = try Checkpoint.load(dir, seed: 9)
        XCTAssertEqual(Array(st.parameters[layout.slot("bert.encoder.layer.1.output.dense.weight").range]),
                       Array(θ[layout.slot("bert.encoder.layer.1.output.dense.weight").range]))
        XCTAssertEqual(st.notes.count, 1)
        XCTAssertTrue(st.notes[0].contains("classifier.weight"))
    }

    func testShapeMismatchIsRefusedWithTensorName() throws {
        let cfg = Tiny.config()
        let θ: [Float] = BertModel(config: cfg).initialParameters(seed: 3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-ck-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Checkpoint.save(θ, config: cfg, to: dir)
        var other = cfg
        other.intermediateSize = 10
        try other.huggingFace.write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try Checkpoint.load(dir)) { e in
            XCTAssertTrue("\(e)".contains("intermediate.dense.weight"), "\(e)")
        }
        XCTAssertThrowsError(try Checkpoint.load(dir.appendingPathComponent("nope"))) { e in
            XCTAssertTrue("\(e)".contains("config.json"), "\(e)")
        }
    }
}

final class LayoutTests: XCTestCase {
    /// The BERT parameter table covers the flat buffer exactly once, with HF names in HF order.
    func testBertLayoutCoversBufferExactlyOnce() {
        let cfg = BertConfig.small(vocabSize: 25, maxPositions: 64, numLabels: 8)
        let layout = cfg.parameterLayout
        var next = 0
        for s in layout.slots {
            XCTAssertEqual(s.offset, next, "gap or overlap before \(s.name)")
            next += s.count
        }
        XCTAssertEqual(next, layout.count)
        XCTAssertEqual(layout.slots.count, 5 + 16 * cfg.numLayers + 4)
        XCTAssertEqual(layout.slots.first?.name, "bert.embeddings.word_embeddings.weight")
        XCTAssertEqual(layout["bert.encoder.layer.3.attention.self.query.weight"]?.shape, [128, 128])
        XCTAssertEqual(layout["bert.encoder.layer.0.intermediate.dense.weight"]?.shape, [512, 128])
        XCTAssertEqual(layout.slots.last?.name, "classifier.bias")
    }
}
