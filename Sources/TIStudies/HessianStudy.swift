// `tianalyze hessian`: top-k eigenvalues (power iteration with deflation), extreme algebraic
// eigenvalues (Lanczos), Hutchinson trace, SLQ density, per-layer and per-example spectra of the
// Hessian of a QAT objective, written to hessian.json and CSV files for the gnuplot scripts.
import Foundation
import TILinalg
import TIData
import TICore
import TIAnalysis
import TILandscape

public struct HessianOptions: Codable, Sendable {
    public var mode: QATMode = MethodRegistry.defaultMode
    public var objective: ObjectiveChoice = .task
    public var phase: InterventionPoint? = nil
    public var at: AnalysisPointChoice = .trained
    public var samples: Int? = nil          // nil: the whole dev set
    public var batchSize = 32
    public var precision: Precision = .f64
    public var seed: UInt64 = 1
    public var topK = 3
    public var tolerance = 1e-3
    public var maxIterations = 100
    public var lanczosSteps = 40
    public var traceMinProbes = 30
    public var traceMaxProbes = 60
    public var density = false
    public var densityRuns = 1
    public var densitySteps = 60
    public var perLayer = false
    public var parameters: String? = nil    // name pattern restricting H
    public var perExample = 0               // examples for the Figure 5 histograms (batch size 1)
    public var normPenalty = 0.0
    /// nil: forward in f64, central in f32 (see DatasetObjective).
    public var hvpDifference: HVPDifference? = nil
    /// nil: the scheme's default relative step.
    public var hvpStep: Double? = nil
    public init() {}
}

public struct PerLayerRow: Codable, Sendable {
    public var group: String
    public var parameters: Int
    public var topEigenvalue: Double
    public var residual: Double
    public var converged: Bool
    public var trace: Double
    public var traceStderr: Double
}

public struct HessianRunResult: Codable, Sendable {
    public var tool = "tianalyze hessian"
    public var options: HessianOptions
    public var task: String
    public var checkpoint: String
    public var checkpointHash: String
    public var samples: Int
    public var parameterCount: Int
    public var restrictedTo: Int
    public var hvpStep: Double
    public var hvpDifference: HVPDifference
    public var hessianDefinition = "Hessian w.r.t. latent FP parameters of the stand-in loss: quantizers as mask·x + c (STE), detached inputs constant at θ₀; H·v by finite differences (hvpDifference, relative step hvpStep) of its analytic gradients; in f64 the reported eigenvalues come from central differences at relative steps 1e-5, 5e-6 and 2.5e-6 extrapolated twice (Romberg), eigenvalueErrors being their estimated truncation error"
    public var eigenvalues: [Double]
    /// Estimated truncation error of each reported eigenvalue (nil in f32, where none is estimated).
    public var eigenvalueErrors: [Double]?
    public var residuals: [Double]
    public var iterations: [Int]
    public var converged: [Bool]
    public var report: HessianReport
    public var perLayer: [PerLayerRow]
    public var hvpCount: Int
    /// Seconds spent up to the end of the power iteration (noise recording included).
    public var topEigenvaluesSeconds: Double
    public var wallSeconds: Double
    public var gitRevision: String
}

public enum HessianStudy {
    /// Over several ranks (`communicator`) every rank evaluates its share of the batches and of the
    /// per-example spectra and gets the whole result; rank 0 alone reports progress and writes files.
    public static func run(target: AnalysisTarget, options o: HessianOptions, outDir: URL, events: RunEvents = .silent,
                           communicator comm: Communicator = SingleProcess.shared) throws -> HessianRunResult {
        try o.validate()
        let events = comm.isRoot ? events : .silent
        // Concrete types, not `o.precision.scalarType`: an opened existential runs the generic code
        // unspecialized (value-witness calls per element), several times slower.
        switch o.precision {
        case .f32: return try run(Float.self, target: target, options: o, outDir: outDir, events: events, comm: comm)
        case .f64: return try run(Double.self, target: target, options: o, outDir: outDir, events: events, comm: comm)
        }
    }

    static func run<T: BLASScalar>(_: T.Type, target: AnalysisTarget, options o: HessianOptions, outDir: URL, events: RunEvents,
                                   comm: Communicator) throws -> HessianRunResult {
        let start = Date()
        let spec = target.spec(mode: o.mode, objective: o.objective, phase: o.phase)
        let examples = Array(target.task.dev.prefix(o.samples ?? target.task.dev.count))
        let batches = Batching.batches(examples, batchSize: o.batchSize, seqLen: target.task.seqLen, regression: target.task.isRegression)
        let θ = target.parameters.map { T($0) }
        let teacher: [T]? = spec.needsTeacher ? target.teacher.map { T($0) } : nil
        let objective = DatasetObjective<T>(objective: BertObjective(model: target.model, spec: spec), batches: batches,
                                            teacher: teacher, normPenalty: o.normPenalty, communicator: comm)
        objective.useHVP(difference: o.hvpDifference, relativeStep: o.hvpStep)
        let layout = target.model.layout
        let full = objective.hessianOperator(at: θ)
        let selected = o.parameters.map { layout.slots(matching: $0) } ?? layout.slots
        guard !selected.isEmpty else { throw OptionValueError(option: .parameters, value: o.parameters, reason: "the pattern matches no parameter") }
        let op = SubspaceOperator(base: full, slots: selected)
        try StudyMemory.checkHessian(o, target: target, dimension: op.dimension)
        var rng = SeededRandom(seed: o.seed).derived("hessian")
        let bar = ProgressReporter("hessian \(o.mode.rawValue)", total: o.topK * o.maxIterations + o.lanczosSteps + o.traceMaxProbes, events: events)
        var done = 0
        let tick: ProgressHandler = { _, _, msg in done += 1; bar.update(done, msg) }

        let top = try PowerIteration(count: o.topK, tolerance: o.tolerance, maxIterations: o.maxIterations)
            .topEigenpairs(of: op, rng: &rng, progress: tick)
        // The top two eigenvectors, as landscape directions (`tianalyze landscape --eigen-dirs`).
        let vectors = top.vectors.prefix(2).map { op.expand($0) }
        if comm.isRoot {
            try DirectionFile.write(LandscapeDirections.fromVectors(vectors, weights: target.parameters, layout: layout),
                                    to: outDir.appendingPathComponent("eigenvectors-\(o.mode.rawValue).dir"))
        }
        let topSeconds = Date().timeIntervalSince(start)
        // Zero Lanczos steps or trace probes skip those estimates.
        let ext = o.lanczosSteps > 0
            ? try lanczosExtremes(op, k: 1, steps: min(o.lanczosSteps, op.dimension), tol: o.tolerance, rng: &rng, progress: tick) : nil
        let trace = o.traceMinProbes > 0
            ? try HutchinsonTrace(minProbes: o.traceMinProbes, maxProbes: o.traceMaxProbes, tolerance: o.tolerance).estimate(op, rng: &rng, progress: tick)
            : nil
        var report = HessianReport(topEigenvalues: top.result, largestEigenvalues: ext?.largest, smallestEigenvalues: ext?.smallest, trace: trace)
        if o.density {
            let d = try SpectralDensityEstimator(runs: o.densityRuns, steps: min(o.densitySteps, op.dimension)).estimate(op, rng: &rng, progress: tick)
            report.density = d
            if comm.isRoot {
                try d.writeDensityCSV(to: outDir.appendingPathComponent("density-\(o.mode.rawValue).csv"))
                try d.writeQuadratureCSV(to: outDir.appendingPathComponent("quadrature-\(o.mode.rawValue).csv"))
            }
        }
        var perLayer: [PerLayerRow] = []
        if o.perLayer {
            for (name, slots) in layerGroups(target.model) {
                let sub = SubspaceOperator(base: full, slots: slots)
                var r = SeededRandom(seed: o.seed).derived("per-layer/\(name)")
                let e = try PowerIteration(count: 1, tolerance: o.tolerance, maxIterations: o.maxIterations).topEigenpairs(of: sub, rng: &r)
                let t = try HutchinsonTrace(minProbes: o.traceMinProbes, maxProbes: o.traceMinProbes, tolerance: o.tolerance).estimate(sub, rng: &r)
                perLayer.append(PerLayerRow(group: name, parameters: sub.dimension, topEigenvalue: e.result.values[0],
                                            residual: e.result.residuals[0], converged: e.result.converged[0],
                                            trace: t.mean, traceStderr: t.stderr))
                events.note(String(format: "per-layer %@: λmax %.4g, trace %.4g ± %.2g", name, e.result.values[0], t.mean, t.stderr))
            }
        }
        if o.perExample > 0 {
            try perExampleSpectra(T.self, target: target, spec: spec, options: o, outDir: outDir, events: events, comm: comm)
        }
        let result = HessianRunResult(
            options: o, task: target.task.name, checkpoint: target.checkpointPath, checkpointHash: target.checkpointHash,
            samples: examples.count, parameterCount: layout.count, restrictedTo: op.dimension, hvpStep: objective.relativeStep, hvpDifference: objective.difference,
            eigenvalues: top.result.values, eigenvalueErrors: top.result.errors, residuals: top.result.residuals, iterations: top.result.iterations,
            converged: top.result.converged, report: report, perLayer: perLayer, hvpCount: objective.hvpCount,
            topEigenvaluesSeconds: topSeconds,
            wallSeconds: Date().timeIntervalSince(start), gitRevision: Provenance.gitRevision())
        if comm.isRoot { try AtomicFile.writeJSON(result, to: outDir.appendingPathComponent("hessian.json")) }
        return result
    }

    /// Embeddings, each encoder layer, and the pooler + classifier head.
    public static func layerGroups(_ model: BertModel) -> [(String, [ParameterSlot])] {
        let layout = model.layout
        var groups: [(String, [ParameterSlot])] = [("embeddings", layout.slots(matching: "bert.embeddings.*"))]
        for l in 0..<model.config.numLayers { groups.append(("layer.\(l)", layout.slots(matching: "bert.encoder.layer.\(l).*"))) }
        groups.append(("head", layout.slots.filter { $0.name.hasPrefix("bert.pooler") || $0.name.hasPrefix("classifier") }))
        return groups
    }

    /// Figure 5: per dev example (batch size 1), the largest and the most negative eigenvalue. Each
    /// rank takes its share of the examples whole (its own seed per example), so a row does not
    /// depend on the number of ranks; rank 0 gathers the rows and writes them.
    static func perExampleSpectra<T: BLASScalar>(_: T.Type, target: AnalysisTarget, spec: ObjectiveSpec, options o: HessianOptions,
                                                 outDir: URL, events: RunEvents, comm: Communicator) throws {
        let examples = Array(target.task.dev.prefix(o.perExample))
        let own = comm.share(of: examples.count)
        let θ = target.parameters.map { T($0) }
        let teacher: [T]? = spec.needsTeacher ? target.teacher.map { T($0) } : nil
        let bar = ProgressReporter("per-example spectra", total: own.count, events: events)
        var completed = 0
        let lock = NSLock()
        // Examples run in parallel; each one's single batch evaluates sequentially inside.
        let rows: [Result<PerExampleSpectrumRow, Error>] = Parallel.map(own.count) { k in
            let i = own.lowerBound + k
            return Result {
                let batch = Batching.batch(examples[i...i], seqLen: target.task.seqLen, regression: target.task.isRegression)
                let obj = DatasetObjective<T>(objective: BertObjective(model: target.model, spec: spec), batches: [batch],
                                              teacher: teacher, normPenalty: o.normPenalty)
                obj.useHVP(difference: o.hvpDifference, relativeStep: o.hvpStep)
                let op = obj.hessianOperator(at: θ)
                var rng = SeededRandom(seed: o.seed).derived("example/\(i)")
                let label = target.task.isRegression ? Fmt.g(examples[i].target) : String(examples[i].label)
                let row = try perExampleSpectrum(op, exampleIndex: i, label: label, steps: o.lanczosSteps, tol: o.tolerance, rng: &rng)
                lock.lock(); completed += 1; bar.update(completed); lock.unlock()
                return row
            }
        }
        let spectra = try RankGather.concatenate(try rows.map { try $0.get() }, over: comm)
        guard comm.isRoot else { return }
        try PerExampleSpectrumRow.writeCSV(spectra, to: outDir.appendingPathComponent("per-example-\(o.mode.rawValue).csv"))
        let histogram = "mode,example,lambda_pos,lambda_neg\n" + spectra.map {
            "\(o.mode.rawValue),\($0.exampleIndex),\(Fmt.g($0.largestEigenvalue)),\(Fmt.g($0.smallestEigenvalue))"
        }.joined(separator: "\n") + "\n"
        try AtomicFile.write(histogram, to: outDir.appendingPathComponent("eigs-\(o.mode.rawValue).csv"))
    }
}
