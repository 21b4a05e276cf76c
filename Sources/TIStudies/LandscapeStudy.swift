// `tianalyze landscape`: the loss surface around a point along two filter-normalized random
// directions, for several objectives (with and without intervention) on the same directions and
// points, resumable and shardable (TILandscape), evaluated by the model (this file).
import Foundation
import TILinalg
import TIData
import TICore
import TILandscape

/// One surface: a QAT method's objective, with a schedule's phase when it has one ("TI-G:MI").
public struct LandscapeMode: Sendable, Equatable {
    public var name: String
    public var mode: QATMode
    public var phase: InterventionPoint?

    public init(parsing text: String) throws {
        // "TI-G:MI" (or "TI-G_MI"); the name kept for files and legends is the file-safe "TI-G_MI".
        let parts = text.split(whereSeparator: { $0 == ":" || $0 == "_" }).map(String.init)
        guard let first = parts.first, let m = QATMode(rawValue: first), parts.count <= 2 else {
            throw OptionValueError(option: .landscapeModes, value: text,
                                   reason: "unknown mode (expected one of \(QATMode.allCases.map(\.rawValue).joined(separator: ", ")), optionally :OI|:CI|:MI)")
        }
        var phase: InterventionPoint? = nil
        if parts.count == 2 {
            guard let p = InterventionPoint(rawValue: parts[1]) else {
                throw OptionValueError(option: .landscapeModes, value: text, reason: "unknown phase '\(parts[1])' (expected OI, CI or MI)")
            }
            phase = p
        }
        name = parts.joined(separator: "_"); mode = m; self.phase = phase
    }
}

public struct LandscapeOptions: Sendable {
    public var modes: [LandscapeMode] = []
    public var objective: ObjectiveChoice = .train
    public var grid = "41"
    public var range: ClosedRange<Double> = -1...1
    public var oneDimensional = false
    public var evalSize = 256
    /// Dynamic activation quantizers take their range per batch, so the batch size is part of what is
    /// evaluated (and of the config hash). Training's batch size by default.
    public var batchSize = 32
    public var seed: UInt64 = 1
    public var directionOptions = DirectionOptions()
    public var directionFile: String? = nil
    /// Directions from a Hessian run's eigenvector file (normalized like random ones unless
    /// the normalization is `none`).
    public var eigenDirections: String? = nil
    public var shard: ShardSpec = .whole
    public var interpolate = false  // θ(t) = (1−t)·teacher + t·point
    /// Interpolation from this point instead of the teacher (`--interpolate-runs A,B`: A's student),
    /// with a label naming it in the configuration.
    public var interpolationStart: (label: String, parameters: [Float])? = nil
    /// Random directions from this seed instead of `seed` (the evaluation set stays `seed`'s), so
    /// repeated direction pairs (`--direction-seeds`) average over the same examples.
    public var directionSeed: UInt64? = nil
    /// The PCA plane of a QAT run's saved trajectory (`--directions trajectory --run RUN`), with the
    /// run's name for the configuration.
    public var trajectory: (label: String, plane: TrajectoryGridPlane)? = nil
    public init() {}
}

/// Evaluates every mode's objective, plus the task loss and metric of the quantized model, at θ.
/// The teacher's activations on the evaluation set are computed once and reused at every point.
public final class ModelLandscapeEvaluator: LandscapeEvaluator {
    public let modes: [String]
    public let quantities = ["loss", "task_loss", "metric"]
    let specs: [ObjectiveSpec]
    let model: BertModel
    let task: TaskData
    let examples: [Example]
    let batches: [Batch]
    let teacherTraces: [ForwardTrace<Float>]

    public init(target: AnalysisTarget, modes: [LandscapeMode], objective: ObjectiveChoice, examples: [Example], batchSize: Int) {
        self.modes = modes.map(\.name)
        specs = modes.map { target.spec(mode: $0.mode, objective: objective, phase: $0.phase) }
        model = target.model
        task = target.task
        self.examples = examples
        batches = Batching.batches(examples, batchSize: batchSize, seqLen: target.task.seqLen, regression: target.task.isRegression)
        let m = target.model, teacher = target.teacher, bs = batches
        teacherTraces = Parallel.map(bs.count) { i in m.forward(effective: teacher, batch: bs[i], options: ForwardOptions()) }
    }

    /// Landscape points need values only: no STE masks or cached Φ for a backward pass.
    func lossOnly(_ o: ForwardOptions<Float>) -> ForwardOptions<Float> {
        var o = o
        o.keepsBackwardState = false
        return o
    }

    public func evaluate(parameters θ: [Float]) throws -> [[Double]] {
        // One plain forward per quantization scheme serves the task loss, the metric and every
        // objective without intervention; intervened objectives need their own forward.
        // Schemes keyed by the first spec that uses them (configs compare by value, ranges included).
        let schemeOf = specs.map { spec in specs.firstIndex { $0.quantization == spec.quantization }! }
        let schemes = Array(Set(schemeOf)).sorted()
        // Quantized weights once per scheme and point, shared by every batch and mode.
        var effective: [Int: [Float]] = [:]
        for k in schemes {
            effective[k] = BertObjective<Float>(model: model, spec: specs[k]).effectiveParameters(θ, frozen: nil).effective
        }
        let perBatch = Parallel.map(batches.count) { b -> (modeLoss: [Double], taskLoss: [Int: Double], logits: [Int: [Float]]) in
            let batch = batches[b], teacher = teacherTraces[b]
            var plain: [Int: ForwardTrace<Float>] = [:]
            var taskLoss: [Int: Double] = [:], logits: [Int: [Float]] = [:]
            for name in schemes {
                let q = specs[name].quantization
                let obj = BertObjective<Float>(model: model, spec: ObjectiveSpec(quantization: q, loss: .task))
                let tr = model.forward(effective: effective[name]!, batch: batch, options: lossOnly(ForwardOptions(quantization: q)))
                plain[name] = tr
                taskLoss[name] = Double(obj.taskLoss(tr.logits, batch: batch).0)
                logits[name] = tr.logits.array
            }
            let modeLoss = specs.indices.map { k -> Double in
                let spec = specs[k]
                let obj = BertObjective<Float>(model: model, spec: spec)
                if spec.intervention == nil { return obj.loss(of: plain[schemeOf[k]]!, batch: batch, teacher: teacher).total }
                let tr = model.forward(effective: effective[schemeOf[k]]!, batch: batch,
                                       options: lossOnly(ForwardOptions(quantization: spec.quantization, intervention: spec.intervention, teacher: teacher)))
                return obj.loss(of: tr, batch: batch, teacher: teacher).total
            }
            return (modeLoss, taskLoss, logits)
        }
        let n = Double(examples.count)
        var out: [[Double]] = []
        for (k, spec) in specs.enumerated() {
            let name = schemeOf[k]
            var loss = 0.0, taskLoss = 0.0
            var predictions: [Int] = [], outputs: [Double] = []
            for (b, r) in perBatch.enumerated() {
                let w = Double(batches[b].size) / n
                loss += w * r.modeLoss[k]
                taskLoss += w * r.taskLoss[name]!
                let lg = r.logits[name]!, c = model.config.numLabels
                for i in 0..<batches[b].size {
                    if task.isRegression { outputs.append(Double(lg[i])); continue }
                    predictions.append((0..<c).max { lg[i * c + $0] < lg[i * c + $1] }!)
                }
            }
            let metric = Evaluator<Float>.score(task: task, data: examples, predictions: predictions, outputs: outputs, loss: taskLoss).metric
            out.append([loss, taskLoss, metric])
        }
        return out
    }
}

public enum LandscapeStudy {
    /// The seeded evaluation subset of the dev set a landscape run averages over (public so that
    /// an outside evaluator, e.g. the PyTorch comparison, can use exactly the same examples).
    public static func evaluationExamples(task: TaskData, size: Int, seed: UInt64) -> [Example] {
        var order = Array(task.dev.indices)
        var rng = SeededRandom(seed: seed).derived("eval-set")
        rng.shuffle(&order)
        return order.prefix(min(size, order.count)).sorted().map { task.dev[$0] }
    }

    /// Over several ranks (`communicator`) rank r evaluates shard r of R (every R-th point, in its
    /// own resumable shard folder); once every rank is done, rank 0 merges the shards into `outDir`
    /// and writes the grid files, as `tianalyze merge` does for array jobs, and returns the whole grid.
    public static func run(target: AnalysisTarget, options: LandscapeOptions, outDir: URL,
                           events: RunEvents = .silent, communicator comm: Communicator = SingleProcess.shared) throws -> (LandscapeProgress, LandscapeConfig) {
        var o = options
        if comm.isDistributed {
            let mine = try ShardSpec(index: comm.rank, count: comm.size)
            guard o.shard.isWhole || o.shard == mine else {
                throw LandscapeError.invalidConfig("shard \(o.shard) given while \(comm.size) ranks split the grid; give one or the other")
            }
            o.shard = mine
        }
        let events = comm.isRoot ? events : .silent
        let examples = evaluationExamples(task: target.task, size: o.evalSize, seed: o.seed)
        let (space, normalization, seed, plane) = try surfaceSpace(target: target, options: o, communicator: comm)
        let grid = try LandscapeGrid.parse(o.grid, kind: o.interpolate ? .interpolation : .directions, oneDimensional: o.oneDimensional,
                                           range: o.interpolate ? 0...1 : o.range)
        // The int8 route rounds differently from sgemm (1e-5-level loss differences through the 8-bit
        // quantizers), so it is part of the run's identity: a resume or merge never mixes the two.
        let evalSet = "\(target.task.name) dev: \(examples.count) of \(target.task.dev.count) examples (seed \(o.seed)) in batches of \(o.batchSize); task data \(target.task.hash)"
            + (Int8Path.enabled ? "; ternary × 8-bit layers as int8 GEMMs" : "")
        let config = LandscapeConfig(modes: o.modes.map(\.name), quantities: ["loss", "task_loss", "metric"], grid: grid, seed: seed,
                                     directionsHash: space.hash, checkpointHash: target.checkpointHash, evalSet: evalSet,
                                     normalization: normalization + "; objective \(o.objective.rawValue)")
        let run = try LandscapeRun(config: config, space: space, outDir: outDir, shard: o.shard)
        let evaluator = ModelLandscapeEvaluator(target: target, modes: o.modes, objective: o.objective, examples: examples, batchSize: o.batchSize)
        let started = Date()
        try comm.onRoot { try plane?.writePath(to: outDir) }
        let result = try run.run(evaluator) { p in
            events.progress(ProgressUpdate(label: "landscape", done: p.done, total: p.total, started: started, summary: { p.summary }))
        }
        guard comm.isDistributed else {
            if o.shard.isWhole { try writeRoughness(config: config, points: run.readPoints(), to: outDir) }
            return (result, config)
        }
        comm.barrier()  // every shard complete
        guard comm.isRoot else { return (result, config) }
        let merged = try LandscapeMerge.merge(rankShardsOf: comm.size, in: outDir)
        try writeRoughness(config: config, points: LandscapeRun.finishedPoints(config: config, in: outDir), to: outDir)
        return (LandscapeProgress(done: merged.pointsDone, total: merged.pointsTotal, resumed: 0, secondsPerPoint: result.secondsPerPoint), config)
    }
}
