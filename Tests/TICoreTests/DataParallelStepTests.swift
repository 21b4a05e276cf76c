// One data-parallel QAT / fine-tuning step under R = 1, 2, 3 ranks (threads standing in for
// processes) against one process, in Double, with dropout on: the quantizers' ranges at every site
// are the same bits, the loss equal to 1e-12 relative, the gradient to rounding, and after an AdamW
// step every rank holds the same parameters bit for bit.
import XCTest
import TICore
import TILinalg

final class DataParallelStepTests: XCTestCase {
    struct Case { let name: String; let spec: ObjectiveSpec }

    static let cases = [
        Case(name: "KD", spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation)),
        Case(name: "TI-G (MI)", spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, intervention: .map)),
        Case(name: "FP fine-tuning", spec: ObjectiveSpec(quantization: .fullPrecision, loss: .task)),
    ]

    /// Seven sequences (so 2 and 3 ranks get unequal shares), some padded.
    static func batch() -> Batch {
        let lengths = [5, 3, 4, 5, 2, 4, 5]
        let examples = lengths.enumerated().map { i, n in
            Example(tokens: (0..<n).map { (3 * i + 2 * $0 + 1) % 11 }, tokenTypes: (0..<n).map { $0 < n / 2 ? 0 : 1 }, label: i % 3)
        }
        return Batching.batch(examples[...], seqLen: 5, regression: false)
    }

    struct Outcome: Sendable { let loss: Double; let gradient: [Double]; let ranges: [Double]; let stepped: [Double] }

    /// The step on `comm`: loss, gradient, the reduced ranges in forward order, θ after one AdamW step.
    static func step(_ c: Case, model: BertModel, θ: [Double], teacher: [Double], comm: Communicator,
                     statistics: GlobalBatchStatistics? = nil, batch: Batch = batch()) -> Outcome {
        var obj = BertObjective<Double>(model: model, spec: c.spec)
        let stats = statistics ?? GlobalBatchStatistics(communicator: comm, recording: true)
        obj.batchStatistics = stats
        let r = obj.evaluate(θ, globalBatch: batch, teacher: c.spec.needsTeacher ? teacher : nil, gradient: true,
                             dropoutSeed: 0x5EED, communicator: comm)
        var adam = AdamW<Double>(layout: model.layout)
        var stepped = θ
        _ = adam.step(&stepped, gradient: r.gradient!, learningRate: 1e-2)
        return Outcome(loss: r.terms.total, gradient: r.gradient!, ranges: stats.reduced, stepped: stepped)
    }

    func setup() -> (BertModel, [Double], [Double]) {
        let model = BertModel(config: Tiny.config())
        return (model, Tiny.parameters(model, seed: 3), Tiny.parameters(model, seed: 4))
    }

    func testOneStepUnderOneTwoThreeRanksEqualsOneProcess() throws {
        let (model, θ, teacher) = setup()
        for c in Self.cases {
            let one = Self.step(c, model: model, θ: θ, teacher: teacher, comm: SingleProcess.shared)
            XCTAssertEqual(one.ranges.isEmpty, c.spec.quantization.isFullPrecision, "\(c.name): quantized sites reduce their ranges")
            let scale = one.gradient.map(abs).max()!
            for ranks in 1...3 {
                let outs = try ThreadGroup.run(ranks: ranks) { comm in Self.step(c, model: model, θ: θ, teacher: teacher, comm: comm) }
                for (r, o) in outs.enumerated() {
                    let what = "\(c.name), rank \(r) of \(ranks)"
                    XCTAssertEqual(o.ranges, one.ranges, "\(what): the ranges at every site are one process's, bit for bit")
                    XCTAssertEqual(o.loss, one.loss, accuracy: 1e-12 * abs(one.loss), what)
                    let err = zip(o.gradient, one.gradient).map { abs($0 - $1) }.max()!
                    XCTAssertLessThanOrEqual(err, 1e-12 * scale, "\(what): gradient")
                    XCTAssertEqual(o.stepped, outs[0].stepped, "\(what): every rank holds the same parameters after the step")
                }
            }
        }
    }

    /// The same step with each rank taking its own share's ranges (no reduction) or its own dropout
    /// (rows keyed from 0): the ranges and the loss then differ from one process, so the test above can fail.
    func testWithoutGlobalRangesOrGlobalDropoutKeysTheStepDiffers() throws {
        let (model, θ, teacher) = setup()
        let kd = Self.cases[0]
        let one = Self.step(kd, model: model, θ: θ, teacher: teacher, comm: SingleProcess.shared)
        let local = try ThreadGroup.run(ranks: 2) { comm in
            Self.step(kd, model: model, θ: θ, teacher: teacher, comm: comm,
                      statistics: GlobalBatchStatistics(communicator: SingleProcess.shared, recording: true))
        }
        XCTAssertNotEqual(local[0].ranges, one.ranges, "rank 0's own maxima are not the batch's")
        XCTAssertGreaterThan(abs(local[0].loss - one.loss), 1e-9 * abs(one.loss))

        let fp = Self.cases[2]
        let oneFP = Self.step(fp, model: model, θ: θ, teacher: teacher, comm: SingleProcess.shared)
        let byRank = try ThreadGroup.run(ranks: 2) { comm -> Outcome in
            // The rank's share keyed as if it were a batch of its own: its dropout masks start at example 0.
            let rekeyed = Self.batch()
            let share = DataParallel.share(of: rekeyed, comm)
            var obj = BertObjective<Double>(model: model, spec: fp.spec)
            obj.batchStatistics = GlobalBatchStatistics.over(comm)
            var own = share
            own.firstExample = 0
            let r = obj.evaluate(θ, batch: own, teacher: nil, gradient: true, dropoutSeed: 0x5EED)
            let (terms, _) = DataParallel.mean(r.terms, share: share, of: rekeyed, comm)
            return Outcome(loss: terms.total, gradient: [], ranges: [], stepped: [])
        }
        XCTAssertGreaterThan(abs(byRank[0].loss - oneFP.loss), 1e-9 * abs(oneFP.loss), "dropout keyed by rank, not by example")
    }
}

extension DataParallelStepTests {
    /// Float, where the 8-bit inputs of the ternary Linears take the int8 GEMM route (codes from the
    /// global range): the same ranges bit for bit, the loss to Float summation order.
    func testFloatKDStepOnTheInt8RouteEqualsOneProcess() throws {
        let (model, θd, teacherd) = setup()
        let θ = θd.map(Float.init), teacher = teacherd.map(Float.init)
        let spec = Self.cases[0].spec
        @Sendable func run(_ comm: Communicator) -> (Double, [Float], [Double]) {
            var obj = BertObjective<Float>(model: model, spec: spec)
            let stats = GlobalBatchStatistics(communicator: comm, recording: true)
            obj.batchStatistics = stats
            let r = obj.evaluate(θ, globalBatch: Self.batch(), teacher: teacher, gradient: true, dropoutSeed: 7, communicator: comm)
            return (r.terms.total, r.gradient!, stats.reduced)
        }
        let one = run(SingleProcess.shared)
        let scale = Double(one.1.map(abs).max()!)
        for ranks in 2...3 {
            for o in try ThreadGroup.run(ranks: ranks, run) {
                XCTAssertEqual(o.2, one.2, "\(ranks) ranks: ranges")
                XCTAssertEqual(o.0, one.0, accuracy: 1e-6 * abs(one.0))
                XCTAssertLessThanOrEqual(zip(o.1, one.1).map { Double(abs($0 - $1)) }.max()!, 1e-5 * scale)
            }
        }
    }
}

extension DataParallelStepTests {
    /// Q8BERT's EMA ranges observe max|x| of the global batch: after one training forward every rank
    /// holds one process's range state bit for bit; observing its own share instead, rank 0's differs.
    func testQ8BERTRangesObserveTheGlobalBatch() throws {
        let (model, θ, _) = setup()
        @Sendable func run(_ comm: Communicator, local: Bool = false) -> ActivationRangeState {
            var obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: .q8bert, loss: .task))
            let tracker = ActivationRangeTracker(state: ActivationRangeState())
            obj.rangeTracker = tracker
            if local { obj.batchStatistics = GlobalBatchStatistics(communicator: SingleProcess.shared) }
            _ = obj.evaluate(θ, globalBatch: Self.batch(), teacher: nil, gradient: true, dropoutSeed: 11, communicator: comm)
            return tracker.state
        }
        let one = run(SingleProcess.shared)
        XCTAssertFalse(one.ranges.isEmpty)
        for ranks in 2...3 {
            for state in try ThreadGroup.run(ranks: ranks, { run($0) }) { XCTAssertEqual(state, one, "\(ranks) ranks") }
        }
        XCTAssertNotEqual(try ThreadGroup.run(ranks: 2, { run($0, local: true) })[0], one)
    }
}
