// intervention-map: each entry equals a direct computation of the KD objective with the intervention
// in that one layer (loss over the same examples through DatasetObjective, a separate power
// iteration from another start), layers before it keep the reference's MSE, and a rerun continues.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TILinalg
import TIAnalysis

final class InterventionMapTests: XCTestCase {
    func target() -> AnalysisTarget {
        var data = SyntheticTaskGenerator(task: .count).make(train: 16, dev: 12)
        data.seqLen = 26
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 8, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 8, maxPositions: 32, numLabels: data.numLabels))
        let teacher: [Float] = model.initialParameters(seed: 2, std: 0.4)
        var rng = SeededRandom(seed: 3)
        let student = teacher.map { $0 + Float(0.05 * rng.normal()) }
        return AnalysisTarget(model: model, task: data, taskName: .embedded(.count), teacher: teacher, parameters: student,
                              checkpointPath: "memory", checkpointHash: Checkpoint.hash(student))
    }

    func testEntriesEqualADirectComputationAtThatLayerAlone() throws {
        let t = target()
        var o = InterventionMapOptions()
        o.samples = 12; o.batchSize = 6; o.tolerance = 1e-4; o.maxIterations = 150
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-imap-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let entries = try InterventionMap.run(target: t, options: o, outDir: dir)
        XCTAssertEqual(entries.count, 1 + 2 * 3)
        let ref = entries[0]
        for e in entries.dropFirst() {
            let l = try XCTUnwrap(e.layer), p = try XCTUnwrap(e.point)
            var spec = ObjectiveSpec(quantization: QATMode.tiG.method.defaultQuantization, loss: .distillation, intervention: p)
            spec.interventionLayers = [l]
            let batches = Batching.batches(t.task.dev, batchSize: 6, seqLen: t.task.seqLen, regression: false)
            let direct = DatasetObjective<Double>(objective: BertObjective(model: t.model, spec: spec), batches: batches,
                                                  teacher: t.teacher.map { Double($0) })
            let θ = t.parameters.map { Double($0) }
            XCTAssertEqual(e.loss, direct.evaluate(θ, gradient: false).loss, accuracy: 1e-12 * abs(e.loss), "\(p) at \(l): loss")
            for k in 0..<l { XCTAssertEqual(e.layerOutputMSE[k], ref.layerOutputMSE[k], "\(p) at \(l): layer \(k) before it is untouched") }
            XCTAssertNotEqual(e.layerOutputMSE[l], ref.layerOutputMSE[l], "\(p) at \(l): the intervened layer changes")
            guard (p, l) == (.map, 1) || (p, l) == (.output, 0) else { continue }  // two cells keep the test short
            var rng = SeededRandom(seed: 77)
            let λ = try PowerIteration(count: 1, tolerance: 1e-6, maxIterations: 600).topEigenpairs(of: direct.hessianOperator(at: θ), rng: &rng)
            XCTAssertEqual(e.topEigenvalue, λ.result.values[0], accuracy: 2e-3 * abs(λ.result.values[0]), "\(p) at \(l): λmax")
        }
        // A rerun with the same options recomputes nothing and returns the same entries.
        let csv = try String(contentsOf: dir.appendingPathComponent(InterventionMap.file), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + entries.count)
        XCTAssertEqual(try InterventionMap.run(target: t, options: o, outDir: dir), entries)
    }
}
