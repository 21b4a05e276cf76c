// --threads must not change results: a train step's loss and gradient, a Hessian-vector product
// and a landscape point are bitwise identical on 1, 2 and 3 threads. The shapes are chosen so that
// every intra-step split is active (GEMM blocks, attention heads, row-wise kernels, column sums).
import XCTest
@testable import TIStudies
import TICore
import TILinalg

final class ThreadIndependenceTests: XCTestCase {
    override func tearDown() { Parallel.workers = 1 }

    /// The default model's widths, so Linear GEMMs (16·26 × 128 × 128 and wider) split into blocks.
    let config = BertConfig(vocabSize: 40, hiddenSize: 128, numLayers: 2, numHeads: 4, intermediateSize: 512,
                            maxPositions: 32, numLabels: 3)

    func onThreads<R: Equatable>(_ body: () -> R, file: StaticString = #filePath, line: UInt = #line) {
        Parallel.workers = 1
        let one = body()
        for n in [2, 3] {
            Parallel.workers = n
            XCTAssert(body() == one, "result on \(n) threads differs from 1 thread", file: file, line: line)
        }
    }

    func testTrainStepIsBitwiseIndependentOfThreads() {
        for kind in ScalingWorkload.TrainKind.allCases {
            let model = BertModel(config: config)
            let teacher: [Float] = model.initialParameters(seed: 1)
            var rng = SeededRandom(seed: 2)
            let student = teacher.map { $0 + Float(0.02 * rng.normal()) }
            let batch = ScalingWorkload.batch(config, size: 16, seq: 26, seed: 3)
            let spec: ObjectiveSpec = kind == .fullPrecision ? ObjectiveSpec(quantization: .fullPrecision, loss: .task)
                : QATMode.tiG.method.objective(intervention: kind == .ternaryKD ? nil : .map, quantization: .ternaryW8A8)
            let obj = BertObjective<Float>(model: model, spec: spec)
            onThreads {
                let r = QATRun.forwardBackward(obj, θ: student, batch: batch, teacher: teacher, dropoutSeed: 9)
                return [Float(r.terms.total)] + r.gradient!
            }
        }
    }

    func testHessianVectorProductIsBitwiseIndependentOfThreads() {
        let model = BertModel(config: config)
        let teacher: [Double] = model.initialParameters(seed: 1)
        var rng = SeededRandom(seed: 4)
        let θ = teacher.map { $0 + 0.02 * rng.normal() }
        let v: [Double] = rng.normalVector(θ.count)
        let obj = DatasetObjective<Double>(
            objective: BertObjective(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation)),
            batches: [ScalingWorkload.batch(config, size: 16, seq: 26, seed: 5)], teacher: teacher)
        onThreads { obj.hessianVectorProduct(at: θ, along: v) }
    }

    func testLandscapePointIsBitwiseIndependentOfThreads() throws {
        var data = SyntheticTaskGenerator(task: .count).make(train: 8, dev: 32)
        data.seqLen = 26
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 128, numLayers: 1, numHeads: 4,
                                                 intermediateSize: 512, maxPositions: 32, numLabels: data.numLabels))
        let teacher: [Float] = model.initialParameters(seed: 2)
        var rng = SeededRandom(seed: 3)
        let student = teacher.map { $0 + Float(0.02 * rng.normal()) }
        let target = AnalysisTarget(model: model, task: data, taskName: .embedded(.count), teacher: teacher, parameters: student,
                                    checkpointPath: "memory", checkpointHash: Checkpoint.hash(student))
        let modes = try ["KD", "TI-G"].map { try LandscapeMode(parsing: $0) }
        // Two batches (split across items) and one batch (split within the step).
        for batchSize in [16, 32] {
            let evaluator = ModelLandscapeEvaluator(target: target, modes: modes, objective: .train, examples: data.dev,
                                                    batchSize: batchSize)
            onThreads { (try? evaluator.evaluate(parameters: student)) ?? [] }
        }
    }
}
