// tianalyze sensitivity's pieces on a tiny model: the perturbation against a hand computation, the
// stored sizes, the study's files and budget, and the allocation read back as a run's precisions.
import Foundation
import XCTest
@testable import TIStudies
import TICore
import TILinalg
import TIData

final class SensitivityTests: XCTestCase {
    func testPerturbationMatchesAHandComputation() {
        var layout = ParameterLayout()
        layout.append("lead", shape: [1], role: .bias)
        layout.append("bert.encoder.layer.0.attention.self.query.weight", shape: [2, 3], role: .matrix, site: WeightSite.query.rawValue)
        let slot = layout.slot("bert.encoder.layer.0.attention.self.query.weight")
        let θ: [Float] = [9, 0.1, -0.4, 0.8, -1.2, 0.05, 3.0, 9]
        // Ternary: clamp to ±2.5 → mean|W| = 5.05/6, Δ = 0.7·that ≈ 0.589; kept 0.8, 1.2, 2.5 → α = 1.5;
        // Q = (0, 0, 1.5, −1.5, 0, 1.5).
        let ternary = 0.01 + 0.16 + 0.49 + 0.09 + 0.0025 + 2.25
        XCTAssertEqual(SensitivityBlocks.perturbation(θ, slot: slot, precision: .ternary), ternary, accuracy: 1e-6)
        // 4 bits: step 3/7 over ±3; codes 0, −1, 2, −3, 0, 7.
        let four = 0.01 + pow(0.4 - 3.0 / 7, 2) + pow(0.8 - 6.0 / 7, 2) + pow(1.2 - 9.0 / 7, 2) + 0.0025
        XCTAssertEqual(SensitivityBlocks.perturbation(θ, slot: slot, precision: .bits(4)), four, accuracy: 1e-6)
        // 2 bits: codes −1, 0, 1 at step 3; everything but 3.0 rounds to 0.
        XCTAssertEqual(SensitivityBlocks.perturbation(θ, slot: slot, precision: .bits(2)), 0.01 + 0.16 + 0.64 + 1.44 + 0.0025, accuracy: 1e-6)
        // Stored: 6 codes of 4 bits = 3 bytes, 2 bits = 2 bytes (rounded up), plus one f32 scale.
        XCTAssertEqual(ModelSize.storedBytes(slot, precision: .bits(4)), 7)
        XCTAssertEqual(ModelSize.storedBytes(slot, precision: .ternary), 6)
        XCTAssertEqual(ModelSize.storedBytes(slot, precision: .bits(8)), 10)
    }

    func testStudyWritesAnAllocationWithinBudgetThatARunReadsBack() throws {
        var target = TinyAnalysisTarget.make(train: 16, studentNoise: 0.05)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sensitivity-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var o = SensitivityOptions()
        o.mode = QATMode(rawValue: "KD")!; o.samples = 8; o.batchSize = 8; o.traceProbes = 4; o.eigenIterations = 3; o.budget = .averageBits(3.5)
        target.mode = nil
        let r = try SensitivityStudy.run(target: target, options: o, outDir: dir)
        XCTAssertLessThanOrEqual(r.bytes, r.budgetBytes)
        // Tensor block traces (plus the rest) and group traces are sums over the same probes.
        let tensors = r.rows.filter { $0.kind == .tensor }
        XCTAssertEqual(tensors.count, 6 + 1 + 1)  // Q, K, V, O, FFN1, FFN2; pooler; word embeddings
        for f in ["sensitivity.csv", "pareto.csv", "uniform.csv", "allocation.json", "sensitivity.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent(f).path), f)
        }
        // Ω = Tr/n · perturbation, per tensor and precision.
        for t in tensors {
            for p in SensitivityStudy.candidates.map(\.description) {
                XCTAssertEqual(t.omega![p]!, max(t.trace.mean, 0) / Double(t.parameters) * t.perturbation![p]!, accuracy: 1e-12 * max(1, abs(t.omega![p]!)))
            }
        }
        // Round trip: allocation.json → --quant-config → the run's quantization quantizes each tensor at its precision.
        let file = try QuantConfigFile(path: dir.appendingPathComponent("allocation.json").path)
        let precisions = try file.precisions(for: target.model.layout)
        XCTAssertEqual(precisions.byTensor, Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, WeightPrecision($0.allocated!)!) }))
        var cfg = QATConfig(mode: QATMode(rawValue: "KD")!)
        cfg.weightPrecisions = precisions
        try cfg.validate()
        let q = cfg.mode.method.runQuantization(config: cfg, ranges: nil)
        let report = QuantReport.measure(model: target.model, parameters: target.parameters, quantization: q, batches: []).sites
        for t in tensors {
            let slot = target.model.layout[t.name]!
            let expected = WeightPrecision(t.allocated!)!.quantizer(site: slot.weightSite!)
            XCTAssertEqual(q.weightQuantizer(for: slot), expected, t.name)
            XCTAssertEqual(report.first { $0.name == t.name }?.quantizer, expected.label, t.name)
        }
        // Untouched tensors keep the scheme's quantizer; the stored size of the allocation is what the study reported.
        XCTAssertEqual(ModelSize.storedBytes(layout: target.model.layout, precisions: precisions.byTensor), r.bytes)
    }

    func testInterruptedEigenvaluesResumeToTheSameResult() throws {
        let target = TinyAnalysisTarget.make(train: 16, studentNoise: 0.05)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sensitivity-resume-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        var o = SensitivityOptions()
        o.mode = QATMode(rawValue: "KD")!; o.samples = 8; o.batchSize = 8; o.traceProbes = 3; o.eigenIterations = 3
        let whole = try SensitivityStudy.run(target: target, options: o, outDir: dir)
        // Keep the header and three blocks, the fourth torn mid-line: as if killed during block 4.
        let url = dir.appendingPathComponent("eigen-partial.jsonl")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 1 + whole.rows.count)
        try (lines.prefix(4).joined(separator: "\n") + "\n" + lines[4].prefix(20)).write(to: url, atomically: true, encoding: .utf8)
        let resumed = try SensitivityStudy.run(target: target, options: o, outDir: dir)
        XCTAssertEqual(resumed.rows.map(\.lambdaMax), whole.rows.map(\.lambdaMax))
        XCTAssertLessThan(resumed.hvpCount, whole.hvpCount, "three blocks were not recomputed")
        // Another configuration does not reuse the file.
        o.samples = 4
        let other = try SensitivityStudy.run(target: target, options: o, outDir: dir)
        XCTAssertNotEqual(other.rows.map(\.lambdaMax), whole.rows.map(\.lambdaMax))
    }

    func testBudgetBelowTheSmallestAllocationIsRefusedBeforeAnyWork() {
        let target = TinyAnalysisTarget.make(train: 16)
        var o = SensitivityOptions()
        o.mode = QATMode(rawValue: "KD")!; o.budget = .megabytes(1e-6)
        XCTAssertThrowsError(try SensitivityStudy.run(target: target, options: o, outDir: URL(fileURLWithPath: "/nonexistent/never"))) { e in
            XCTAssertEqual((e as? OptionValueError)?.option, .sizeBudget)
        }
    }

    func testQuantConfigReachesTheAnalysedObjective() throws {
        var target = TinyAnalysisTarget.make(train: 16)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("quant-config-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let name = "bert.encoder.layer.0.intermediate.dense.weight", url = dir.appendingPathComponent("a.json")
        try Data("{\"blocks\": [{\"name\": \"\(name)\", \"shape\": [8, 8], \"precision\": 3}]}".utf8).write(to: url)
        let kd = QATMode(rawValue: "KD")!, hash = target.checkpointHash
        try target.apply(QuantConfigFile(path: url.path), modes: [kd])
        let q = target.spec(mode: kd, objective: .task, phase: nil).quantization
        XCTAssertEqual(q.weightQuantizer(for: target.model.layout[name]!), .uniform(bits: 3, symmetric: true, perRow: false))
        let other = target.model.layout["bert.encoder.layer.0.output.dense.weight"]!
        XCTAssertEqual(q.weightQuantizer(for: other), .ternary(clip: 2.5, perRow: false))
        XCTAssertNotEqual(target.checkpointHash, hash, "resumable results keyed by the point must not mix precisions")
        XCTAssertThrowsError(try target.apply(QuantConfigFile(path: url.path), modes: [QATMode(rawValue: "FP")!]))
    }

    func testSchemesWithPerTensorStateRefusePrecisions() throws {
        var cfg = QATConfig(mode: QATMode(rawValue: "LSQ-W4A8")!)
        cfg.weightPrecisions = WeightPrecisions(["bert.pooler.dense.weight": .bits(4)])
        XCTAssertThrowsError(try cfg.validate())
        cfg.mode = QATMode(rawValue: "KD")!
        XCTAssertNoThrow(try cfg.validate())
    }
}
