// `tianalyze sensitivity`: HAWQ-V2-style quantization sensitivity of every block of a student, a
// teacher or the freshly quantized teacher. Per block: the top eigenvalue of the Hessian restricted
// to it (power iteration on its sub-block) and its Hutchinson trace (every block from the same probes,
// BlockTrace.swift); per quantized tensor and candidate precision: the perturbation ‖Q(W) − W‖² and
// Ω = Tr(H_b)/n_b · ‖Q(W) − W‖²; then the exact Pareto frontier of (model bytes, Σ Ω) over all
// assignments of precisions and the cheapest assignment within the size budget.
import Foundation
import TILinalg
import TIData
import TICore
import TIAnalysis

public struct SensitivityOptions: Codable, Sendable {
    public var mode: QATMode = MethodRegistry.defaultMode
    public var objective: ObjectiveChoice = .task
    public var phase: InterventionPoint? = nil
    public var at: AnalysisPointChoice = .trained
    public var samples: Int? = 64            // nil: the whole dev set
    public var batchSize = 32
    public var precision: Precision = .f64
    public var seed: UInt64 = 1
    public var traceProbes = 30
    /// Power-iteration limit per block (0: no top eigenvalues).
    public var eigenIterations = 20
    public var tolerance = 1e-2
    public var budget: SizeBudget = .averageBits(4)
    public var hvpDifference: HVPDifference? = nil
    public var hvpStep: Double? = nil
    public init() {}

    public func validate() throws {
        try OptionChecks.sampling(samples: samples, batchSize: batchSize)
        try OptionChecks.require(traceProbes >= 3, .traceProbes, traceProbes, "at least 3 probes for a standard error")
        try OptionChecks.require(eigenIterations == 0 || eigenIterations >= 2, .maxIterations, eigenIterations, "0 (no eigenvalues) or at least 2 iterations")
        try OptionChecks.require(tolerance > 0 && tolerance < 1, .tolerance, tolerance, "a tolerance in (0, 1)")
        try budget.validate()
    }
}

public enum SensitivityStudy {
    public static let candidates = WeightPrecision.candidates

    public static func run(target: AnalysisTarget, options o: SensitivityOptions, outDir: URL, events: RunEvents = .silent) throws -> SensitivityResult {
        try o.validate()
        switch o.precision {
        case .f32: return try run(Float.self, target: target, options: o, outDir: outDir, events: events)
        case .f64: return try run(Double.self, target: target, options: o, outDir: outDir, events: events)
        }
    }

    static func run<T: BLASScalar>(_: T.Type, target: AnalysisTarget, options o: SensitivityOptions, outDir: URL,
                                   events: RunEvents) throws -> SensitivityResult {
        let start = Date()
        let layout = target.model.layout
        let blocks = SensitivityBlocks.blocks(target.model)
        let tensors = blocks.filter { $0.kind == .tensor }.map { $0.slots[0] }
        let sizes = AllocationSizes(layout: layout, tensors: tensors)
        let budgetBytes = try sizes.budgetBytes(o.budget)  // an impossible budget is refused before any H·v

        let spec = target.spec(mode: o.mode, objective: o.objective, phase: o.phase)
        let examples = Array(target.task.dev.prefix(o.samples ?? target.task.dev.count))
        let batches = Batching.batches(examples, batchSize: o.batchSize, seqLen: target.task.seqLen, regression: target.task.isRegression)
        let teacher: [T]? = spec.needsTeacher ? target.teacher.map { T($0) } : nil
        let objective = DatasetObjective<T>(objective: BertObjective(model: target.model, spec: spec), batches: batches,
                                            teacher: teacher, normPenalty: 0)
        objective.useHVP(difference: o.hvpDifference, relativeStep: o.hvpStep)
        let full = objective.hessianOperator(at: target.parameters.map { T($0) })

        let bar = ProgressReporter("sensitivity \(o.mode.rawValue)", total: o.traceProbes + blocks.count * o.eigenIterations, events: events)
        var done = 0
        let tick: ProgressHandler = { _, _, msg in done += 1; bar.update(done, msg) }
        var rng = SeededRandom(seed: o.seed).derived("sensitivity/trace")
        let traces = try BlockHutchinsonTrace(probes: o.traceProbes).estimate(full, blocks: blocks.map(\.coordinates), rng: &rng, progress: tick)
        let stream = try EigenStream(dir: outDir, options: o, checkpointHash: target.checkpointHash)
        let resumed = o.eigenIterations > 0 ? stream.finished() : [:]
        if o.eigenIterations > 0 { try stream.open(keeping: resumed) }
        var eigen: [EigenResult?] = []
        for (i, b) in blocks.enumerated() {
            guard o.eigenIterations > 0 else { eigen.append(nil); continue }
            if let r = resumed[b.name] { eigen.append(r); done += o.eigenIterations; continue }
            let before = done
            var r = SeededRandom(seed: o.seed).derived("sensitivity/eigen/\(b.name)")
            let e = try PowerIteration(count: 1, tolerance: o.tolerance, maxIterations: o.eigenIterations)
                .topEigenpairs(of: SubspaceOperator(base: full, slots: b.slots), rng: &r, progress: tick)
            try stream.append(block: b.name, result: e.result)
            done = before + o.eigenIterations  // a block that converges early gives back its unused iterations to the ETA
            bar.update(done, "block \(i + 1)/\(blocks.count) \(b.name): λmax \(e.result.values[0])")
            eigen.append(e.result)
        }

        var rows = zip(blocks, zip(traces.blocks, eigen)).map { b, te in
            SensitivityRow(block: b, trace: te.0, eigen: te.1)
        }
        for i in rows.indices where blocks[i].kind == .tensor {
            rows[i].addCandidates(candidates, parameters: target.parameters, slot: blocks[i].slots[0])
        }
        let tensorRows = rows.indices.filter { blocks[$0].kind == .tensor }
        let options = tensorRows.map { i in candidates.map { AllocationOption(size: rows[i].bytes![$0.description]!, cost: rows[i].omega![$0.description]!) } }
        let frontier = ParetoAllocation.frontier(options)
            .map { ParetoPoint(size: $0.size + sizes.rest, cost: $0.cost, choice: $0.choice) }
        guard let best = ParetoAllocation.best(on: frontier, budget: budgetBytes) else {
            throw OptionValueError(option: .sizeBudget, value: o.budget.description, reason: "no allocation fits")
        }
        for (k, i) in tensorRows.enumerated() { rows[i].allocated = candidates[best.choice[k]].description }
        let result = SensitivityResult(
            options: o, task: target.task.name, checkpoint: target.checkpointPath, checkpointHash: target.checkpointHash,
            samples: examples.count, hvpStep: objective.relativeStep, hvpDifference: objective.difference,
            fullTrace: traces.full, rows: rows, budgetBytes: budgetBytes, sizes: sizes, best: best, frontier: frontier,
            hvpCount: objective.hvpCount, wallSeconds: Date().timeIntervalSince(start))
        try result.write(to: outDir)
        return result
    }
}
