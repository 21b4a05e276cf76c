// The recipe parts inside a real QAT run on a tiny model: each Figure 3 case (partial quantization,
// Q/K or Q/K/V activations in full precision) trains a few steps and its student loads back with the
// same sites; KD-term weights and the clipping choice reach the step log and metadata.json.
import XCTest
import Foundation
import TICore
import TILinalg

final class QATRecipePartsRunTests: XCTestCase {
    func run(_ mode: QATMode, _ edit: (inout QATConfig) -> Void = { _ in }) throws -> (dir: URL, cfg: QATConfig, student: [Float], teacher: [Float]) {
        let data = SyntheticTaskGenerator(task: .count).make(train: 32, dev: 16)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: mode)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 2; cfg.devProbeSize = 16
        edit(&cfg)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-recipe-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        let (θ, _, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg).run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        return (dir, cfg, θ, teacher)
    }

    /// steps.csv as numbers after the intervention column (lr, total, task, logits, hidden, scores, blocks, norm, time).
    func steps(_ dir: URL) throws -> [[Double]] {
        try String(contentsOf: dir.appendingPathComponent("steps.csv"), encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",").dropFirst(3).map { Double($0)! } }
    }

    func metadata(_ dir: URL) throws -> QATRunMetadata {
        try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: dir.appendingPathComponent("metadata.json")))
    }

    func testFigure3CasesEachRunAFewStepsAndLoadBackTheirSites() throws {
        let cases: [(QATMode, String?, String?)] = [
            (.kd, "qkv,o", nil), (.kd, "ffn1,ffn2", nil), (.tiG, nil, "qk"), (.kd, nil, "qkv"),
            (.qat, "qkv,o,ffn1,ffn2,emb,pooler,classifier", nil),
        ]
        for (mode, parts, fp) in cases {
            let sites = try QuantizedSites.parse(parts: parts, fullPrecisionActivations: fp)
            let r = try run(mode) { $0.sites = sites }
            let expected = mode.method.quantization(config: r.cfg, ranges: nil)
            XCTAssertNotEqual(expected, mode.method.defaultQuantization, "\(sites.label) changes \(mode.rawValue)'s scheme")
            let log = try steps(r.dir)
            XCTAssertEqual(log.count, 4, sites.label)
            XCTAssertTrue(log.allSatisfy { $0[1].isFinite && $0[1] > 0 }, "\(sites.label): \(log)")
            XCTAssertNotEqual(r.student, r.teacher, sites.label)
            let meta = try metadata(r.dir)
            XCTAssertEqual(meta.config.sites, sites)
            XCTAssertEqual(meta.quantization, expected.summary)
            // What hessian/landscape load (AnalysisTarget → QATRun.loadStudent): the run's own sites.
            let loaded = try QATRun.loadStudent(r.dir)
            XCTAssertEqual(loaded.quantization, expected, sites.label)
            XCTAssertEqual(loaded.parameters, r.student)
        }
    }

    func testDefaultConfigurationEncodesAsBeforeTheRecipeParts() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var cfg = QATConfig(mode: .tiG)
        let plain = String(decoding: try enc.encode(cfg), as: UTF8.self)
        for key in ["sites", "distillation", "clipping"] { XCTAssertFalse(plain.contains("\"\(key)\""), plain) }
        cfg.sites = QuantizedSites(parts: [.qkv])
        cfg.distillation = DistillationTerms(logits: 1, hidden: 0, scores: 0, attentionOutput: 0)
        let back = try JSONDecoder().decode(QATConfig.self, from: try enc.encode(cfg))
        XCTAssertEqual(back, cfg)
    }

    /// The weighted run's first step starts from the same student and batch as the default run: its
    /// logged terms are the default's times the weights, and switched-off terms are 0 throughout.
    func testKDTermWeightsReachTheStepLogAndMetadata() throws {
        let terms = try DistillationTerms.parse("logits,hidden=0.5")
        let weighted = try run(.kd) { $0.distillation = terms }
        let plain = try run(.kd)
        let w = try steps(weighted.dir), p = try steps(plain.dir)
        XCTAssertEqual(w[0][3], p[0][3], accuracy: 1e-7 * abs(p[0][3]), "logits, weight 1")
        XCTAssertEqual(w[0][4], 0.5 * p[0][4], accuracy: 1e-7 * abs(p[0][4]), "hidden, weight 0.5")
        XCTAssertEqual(w[0][1], w[0][3] + w[0][4], accuracy: 1e-7 * w[0][1], "total")
        XCTAssertGreaterThan(p[0][5], 0)
        XCTAssertTrue(w.allSatisfy { $0[5] == 0 && $0[6] == 0 }, "scores and attention outputs are off: \(w)")
        XCTAssertEqual(try metadata(weighted.dir).config.distillation, terms)
        XCTAssertNotEqual(weighted.student, plain.student)
    }

    func testPerTensorClippingIsRecordedAndChangesTheTrajectory() throws {
        let per = try run(.kd) { $0.adam.clipping = .perTensor }
        let global = try run(.kd)
        XCTAssertEqual(try metadata(per.dir).config.adam.clipping, .perTensor)
        let text = try String(contentsOf: per.dir.appendingPathComponent("metadata.json"), encoding: .utf8)
        XCTAssertTrue(text.contains("per-tensor"), text)
        XCTAssertNotEqual(try metadata(per.dir).configHash, try metadata(global.dir).configHash)
        XCTAssertNotEqual(per.student, global.student)
    }
}
