// Evaluation and the distillation probe under 2 and 3 thread ranks: the ranks deal out the batches,
// evaluate each whole and gather the logits and per-batch terms, so every rank reports one process's
// metric (MCC, from the gathered predictions), loss, KD loss and per-layer MSE bit for bit.
import XCTest
import TICore
import TILinalg

final class DataParallelEvaluationTests: XCTestCase {
    func testEvaluationAndProbeUnderRanksEqualOneProcess() throws {
        let data: TaskData = {
            var d = SyntheticTaskGenerator(task: .count).make(train: 8, dev: 70)
            d.metricName = "mcc"
            return d
        }()
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        var rng = SeededRandom(seed: 9)
        let student = teacher.map { $0 + Float(0.05 * rng.normal()) }
        @Sendable func measure(_ comm: Communicator) -> (EvaluationResult, Double, [Double], [Double]) {
            // Batches of 16 and 32: more batches than ranks, and a short last one.
            let ev = Evaluator<Float>(model: model, task: data, batchSize: 16, communicator: comm)
                .evaluate(student, quantization: .ternaryW8A8)
            let probe = DistillationProbe(model: model, task: data, teacher: teacher, size: 70, communicator: comm)
                .measure(student, quantization: .ternaryW8A8)
            return (ev, probe.kd, probe.attention, probe.output)
        }
        let one = measure(SingleProcess.shared)
        XCTAssertNotEqual(one.0.metric, 0, "a metric of 0 would not show a lost prediction")
        for ranks in 2...3 {
            for (r, o) in try ThreadGroup.run(ranks: ranks, measure).enumerated() {
                XCTAssertEqual(o.0, one.0, "rank \(r) of \(ranks): metric, loss and every score")
                XCTAssertEqual(o.1, one.1)
                XCTAssertEqual(o.2, one.2)
                XCTAssertEqual(o.3, one.3)
            }
        }
    }
}
