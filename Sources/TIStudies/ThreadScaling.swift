// How a unit of work (a train step, an HVP, a landscape point) speeds up from 1 to N threads, and
// the serial fraction that speedup implies (Amdahl), so a user can predict a larger server. The
// two thread counts alternate within each repetition, so load changes on a shared machine hit
// both alike; the reported speedup is the median of the per-repetition ratios.
import Foundation
import TILinalg
import TICore

public struct ScalingRow: Sendable {
    public var name: String
    public var threads: Int
    /// Median seconds per unit on one thread and on `threads`.
    public var serialSeconds: Double
    public var parallelSeconds: Double
    /// Median of the per-repetition ratios t(1)/t(N).
    public var speedup: Double
    /// Share of the one-thread time spent in work that splits across threads (Parallel's meter):
    /// 1 − f measured directly, unaffected by other jobs on the machine.
    public var splittableShare: Double

    /// Amdahl's serial fraction from the meter rather than from the speedup.
    public var meteredSerialFraction: Double { 1 - splittableShare }

    /// f in Amdahl's law S(N) = 1/(f + (1 − f)/N), solved from the measured S(N); 0 when the
    /// measurement shows perfect (or better) scaling, 1 when none.
    public var serialFraction: Double { ThreadScaling.serialFraction(speedup: speedup, threads: threads) }

    /// The speedup Amdahl's law predicts on `cores` cores from this serial fraction.
    public func predictedSpeedup(cores: Int) -> Double { ThreadScaling.amdahl(serialFraction: serialFraction, cores: cores) }
}

public enum ThreadScaling {
    public static func serialFraction(speedup s: Double, threads n: Int) -> Double {
        guard n > 1, s > 0 else { return 1 }
        return min(1, max(0, (Double(n) / s - 1) / Double(n - 1)))
    }

    public static func amdahl(serialFraction f: Double, cores: Int) -> Double {
        1 / (f + (1 - f) / Double(max(1, cores)))
    }

    /// Times `body` with a thread budget of 1 and of `threads`, alternating, after one warm-up of each.
    public static func measure(_ name: String, threads: Int, repeats: Int, _ body: () -> Void) -> ScalingRow {
        let saved = Parallel.workers
        defer { Parallel.workers = saved }
        var shares: [Double] = []
        func timed(_ n: Int) -> Double {
            Parallel.workers = n
            Parallel.resetSplittableTime()
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let wall = Double(DispatchTime.now().uptimeNanoseconds - start)
            if n == 1 { shares.append(Double(Parallel.splittableNanoseconds) / wall) }
            return wall / 1e9
        }
        _ = timed(1); _ = timed(threads)
        shares = []
        var one: [Double] = [], many: [Double] = [], ratios: [Double] = []
        for rep in 0..<max(1, repeats) {
            // Which count goes first alternates too: the second of a pair runs on warmer caches.
            let (a, b) = rep % 2 == 0 ? (timed(1), timed(threads)) : { let b = timed(threads); return (timed(1), b) }()
            one.append(a); many.append(b); ratios.append(a / b)
        }
        return ScalingRow(name: name, threads: threads, serialSeconds: median(one), parallelSeconds: median(many),
                          speedup: median(ratios), splittableShare: median(shares))
    }

    static func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
}

/// The units of work `tianalyze bench` scales: train steps of the three training kinds at a
/// model's shapes, one Hessian-vector product, one landscape point.
public enum ScalingWorkload {
    public enum TrainKind: String, CaseIterable, Sendable {
        case fullPrecision = "FP"
        case ternaryKD = "KD"
        case teacherIntervention = "TI-G (MI)"
    }

    /// A random batch for `c` (all tokens real, labels from the seed).
    public static func batch(_ c: BertConfig, size b: Int, seq t: Int, seed: UInt64) -> Batch {
        var rng = SeededRandom(seed: seed)
        return Batch(size: b, seqLen: t, tokens: (0..<(b * t)).map { _ in rng.below(c.vocabSize) },
                     tokenTypes: [Int](repeating: 0, count: b * t), attentionMask: [Int](repeating: 1, count: b * t),
                     labels: (0..<b).map { _ in rng.below(c.numLabels) })
    }

    /// One train step's forward and backward (the optimizer step is a few vector passes, left out):
    /// FP is the task loss; KD and TI are the ternary W/8-bit A students' objectives with the
    /// teacher's forward, as QAT runs them (TI-G's step 1 with MI).
    public static func trainStep(_ kind: TrainKind, _ c: BertConfig, batch b: Int, seq t: Int) -> () -> Void {
        let model = BertModel(config: c)
        let teacher: [Float] = model.initialParameters(seed: 1)
        var rng = SeededRandom(seed: 4)
        let student = teacher.map { $0 + Float(0.01 * rng.normal()) }
        let batch = batch(c, size: b, seq: t, seed: 5)
        let spec: ObjectiveSpec
        switch kind {
        case .fullPrecision: spec = ObjectiveSpec(quantization: .fullPrecision, loss: .task)
        case .ternaryKD: spec = QATMode.kd.method.objective(intervention: nil, quantization: .ternaryW8A8)
        case .teacherIntervention: spec = QATMode.tiG.method.objective(intervention: .map, quantization: .ternaryW8A8)
        }
        let obj = BertObjective<Float>(model: model, spec: spec)
        return {
            _ = QATRun.forwardBackward(obj, θ: kind == .fullPrecision ? teacher : student, batch: batch, teacher: teacher,
                                       dropoutSeed: 7)
        }
    }

    /// One f64 Hessian-vector product of the ternary KD objective on one batch (as the Hessian
    /// command runs it on a dev set that fits one batch: the case the item-level split cannot help).
    public static func hvp(_ c: BertConfig, batch b: Int, seq t: Int) -> () -> Void {
        let model = BertModel(config: c)
        let teacher: [Double] = model.initialParameters(seed: 1)
        var rng = SeededRandom(seed: 3)
        let θ = teacher.map { $0 + 0.01 * rng.normal() }
        let obj = DatasetObjective<Double>(
            objective: BertObjective(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation)),
            batches: [batch(c, size: b, seq: t, seed: 6)], teacher: teacher)
        let v: [Double] = rng.normalVector(θ.count)
        return { _ = obj.hessianVectorProduct(at: θ, along: v) }
    }

    /// One landscape point of KD and TI-G (the default surfaces) on `examples` dev examples.
    public static func landscapePoint(_ target: AnalysisTarget, examples: [Example], batchSize: Int) throws -> () -> Void {
        let modes = try ["KD", "TI-G"].map { try LandscapeMode(parsing: $0) }
        let evaluator = ModelLandscapeEvaluator(target: target, modes: modes, objective: .train, examples: examples,
                                                batchSize: batchSize)
        let θ = target.parameters
        return { _ = try? evaluator.evaluate(parameters: θ) }
    }

    /// The default model on the embedded `count` task (256 dev examples), teacher and a seeded
    /// perturbation of it as the student: a landscape point's work without training first.
    public static func embeddedTarget() -> AnalysisTarget {
        var data = SyntheticTaskGenerator(task: .count).make(train: 32, dev: 256)
        data.seqLen = 26
        let model = BertModel(config: BertConfig.small(vocabSize: data.vocabSize, maxPositions: 64, numLabels: data.numLabels))
        let teacher: [Float] = model.initialParameters(seed: 2)
        var rng = SeededRandom(seed: 3)
        let student = teacher.map { $0 + Float(0.01 * rng.normal()) }
        return AnalysisTarget(model: model, task: data, taskName: .embedded(.count), teacher: teacher, parameters: student,
                              checkpointPath: "memory", checkpointHash: Checkpoint.hash(student))
    }
}
