import ArgumentParser
import Foundation
import TICore
import TILinalg
import TIStudies

struct HessianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hessian",
        abstract: "Hessian spectrum of a QAT objective: top-k and extreme eigenvalues, trace, density, per-layer and per-example spectra.",
        discussion: """
        The Hessian is taken with respect to the latent full-precision parameters of the stand-in loss in which
        every quantizer is its straight-through estimator (mask·x + constant at the base point) and every
        detached input a constant: the matrix autograd double-backprop computes on the reference PyTorch code.
        """)

    @OptionGroup var common: CommonOptions
    @Option(help: "QAT method whose student is analysed: \(QATMode.allCases.map(\.rawValue).joined(separator: ", ")).") var mode: QATMode = MethodRegistry.defaultMode
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Analyse this checkpoint directory instead of the method's student.") var checkpoint: String?
    @Option(name: .customLong("load-quantized"), help: "Analyse Q8BERT's int8 export (<run>/\(QATRun.int8ExportFile)): the deployed weights with their frozen activation ranges (implies --mode Q8BERT).")
    var loadQuantized: String?
    @Option(help: "trained (the method's student) or init (freshly quantized teacher).") var at: AnalysisPointChoice = .trained
    @OptionGroup var analysis: HessianArguments
    @OptionGroup var quantConfig: QuantConfigOption
    @Option(help: "Output directory (default <runs>/hessian-<task>-<mode>).") var out: String?

    func validate() throws {
        try PathChecks.inputFolder(checkpoint, "--checkpoint")
        try PathChecks.inputFile(loadQuantized, "--load-quantized")
        if let out {
            try PathChecks.outputFolder(out, "--out")
            try PathChecks.notOverwriting(out, "--out", inputs: [("--checkpoint", checkpoint), ("--load-quantized", loadQuantized)])
        }
    }

    func run() throws {
        let comm = common.applyAcrossRanks()
        let task = try taskOptions.source()
        if loadQuantized != nil && checkpoint != nil { throw ValidationError("--load-quantized and --checkpoint name two different points; give one") }
        let mode = loadQuantized == nil ? mode : MethodRegistry.int8Exporter
        let o = try analysis.options(mode: mode, at: at, seed: common.seed)
        let ws = common.workspace
        // Rank 0 first: it trains what is missing; the others then load it.
        var target = try World.rootFirst(comm) {
            try loadQuantized.map { try AnalysisTarget.loadQuantized(URL(fileURLWithPath: $0), workspace: ws, task: task) }
                ?? AnalysisTarget.resolve(workspace: ws, task: task, mode: mode, at: at, checkpoint: checkpoint, seed: common.seed)
        }
        try target.apply(quantConfig.file(), modes: [mode])
        let dir = out.map { URL(fileURLWithPath: $0) } ?? ws.root.appendingPathComponent("hessian-\(task.name)-\(mode.rawValue)")
        let r = try HessianStudy.run(target: target, options: o, outDir: dir, events: common.events, communicator: comm)
        guard comm.isRoot else { return }
        if comm.isDistributed { print("hessian over \(comm.size) ranks × \(common.threads) threads") }
        let eig = r.eigenvalues.indices.map { i in
            String(format: "%.7g%@%@", r.eigenvalues[i], r.eigenvalueErrors.map { String(format: " (± %.1e)", $0[i]) } ?? "",
                   r.converged[i] ? "" : " (not converged)")
        }.joined(separator: ", ")
        print("hessian \(mode.rawValue) [\(o.objective.rawValue)] on \(r.samples) examples: top eigenvalues \(eig)")
        if let s = r.report.smallestEigenvalues, let l = r.report.largestEigenvalues {
            print(String(format: "  Lanczos: largest %.5g, smallest %.5g", l.values[0], s.values[0]))
        }
        if let t = r.report.trace { print(String(format: "  trace %.5g ± %.2g (%d probes)", t.mean, t.stderr, t.probes)) }
        for row in r.perLayer {
            print(String(format: "  %-10@ %8d params  λmax %.5g  trace %.5g ± %.2g", row.group, row.parameters, row.topEigenvalue, row.trace, row.traceStderr))
        }
        print(String(format: "  %d HVPs, top-%d in %.1f s, %.1f s in all → %@", r.hvpCount, o.topK, r.topEigenvaluesSeconds, r.wallSeconds,
                     dir.appendingPathComponent("hessian.json").path))
        print("  computed: " + analysis.computedSummary)
    }
}

/// What is computed about the Hessian, and how: the flags that become `HessianOptions`.
struct HessianArguments: ParsableArguments {
    @Option(help: "task (task loss, no intervention) or train (the method's loss with its intervention).") var objective: ObjectiveChoice = .task
    @Option(help: "Intervention for --objective train of a schedule: OI, CI or MI.") var phase: InterventionPoint?
    @Option(help: "Dev examples averaged over (default: the first \(Self.quick.samples); the whole dev set with --full).") var samples: Int?
    @Option(help: "Batch size of the averaged HVP.") var batchSize = 32
    @Option(help: "Floating-point precision of the Hessian products.") var precision: Precision = .f64
    @Flag(help: "The full analysis: top-\(Self.full.topK) eigenvalues, Lanczos extremes (\(Self.full.lanczos) steps) and a trace of ≥ \(Self.full.probes) probes, instead of the quick look (top eigenvalue and a \(Self.quick.probes)-probe trace).")
    var full = false
    @Option(help: "Top eigenvalues by power iteration (default \(Self.quick.topK); \(Self.full.topK) with --full).") var topK: Int?
    @Option(parsing: .unconditional, help: "Relative tolerance (eigenvalue change and residual), in (0, 1).") var tol = 1e-3
    @Option(help: "Power-iteration limit per eigenvalue.") var maxIter = 100
    @Option(help: "Lanczos steps for the extreme algebraic eigenvalues (0: skip; default \(Self.quick.lanczos), \(Self.full.lanczos) with --full).") var lanczosSteps: Int?
    @Option(help: "Minimum Hutchinson probes (0: skip the trace; default \(Self.quick.probes), \(Self.full.probes) with --full).") var traceProbes: Int?

    /// The quick look answers the headline question (is one student's surface sharper than another's?)
    /// with about 40 HVPs; --full is the complete spectrum summary (about 400).
    static let quick = (topK: 1, lanczos: 0, probes: 10, samples: 256)
    static let full = (topK: 3, lanczos: 40, probes: 30, samples: Int.max)
    /// What this run computes, in words, and what --full would add.
    var computedSummary: String {
        let r = resolved
        var parts = ["top-\(r.topK) eigenvalue\(r.topK > 1 ? "s" : "") by power iteration"]
        parts.append(r.lanczos > 0 ? "Lanczos extremes (\(r.lanczos) steps)" : "no Lanczos extremes")
        parts.append(r.probes > 0 ? "Hutchinson trace (≥ \(r.probes) probes)" : "no trace")
        let more = full ? "" : " (--full: top-\(Self.full.topK), Lanczos \(Self.full.lanczos) steps, trace ≥ \(Self.full.probes) probes, whole dev set)"
        return parts.joined(separator: ", ") + more
    }

    var resolved: (topK: Int, lanczos: Int, probes: Int) {
        let d = full ? Self.full : Self.quick
        return (topK ?? d.topK, lanczosSteps ?? d.lanczos, traceProbes ?? d.probes)
    }
    @Flag(help: "Also estimate the spectral density (SLQ).") var density = false
    @Flag(help: "Top eigenvalue and trace per layer group.") var perLayer = false
    @Option(help: "Restrict to parameters matching this name pattern (* wildcards).") var params: String?
    @Option(help: "Per-example spectra (batch size 1) for the first N dev examples (Figure 5).") var perExample = 0
    @Option(parsing: .unconditional, help: "λ of the paper's Figure 5 loss: task loss + λ·Σ‖θ‖₂.") var normPenalty = 0.0
    @OptionGroup var hvpOptions: HVPOptions

    func validate() throws {
        try Domain.count(samples, "--samples", Domain.examples, "examples")
        try Domain.count(batchSize, "--batch-size", Domain.batch, "examples")
        let r = resolved
        try Domain.count(r.topK, "--top-k", Domain.eigenvalues, "eigenvalues")
        try Domain.tolerance(tol)
        try Domain.count(maxIter, "--max-iter", Domain.iterations, "iterations")
        try Domain.count(r.lanczos, "--lanczos-steps", Domain.lanczos, "steps (0: skip)")
        try Domain.zeroOr(r.probes, "--trace-probes", 3...Domain.probes.upperBound, "probes")
        try Domain.count(perExample, "--per-example", 0...100_000, "examples (0: none)")
        try Domain.real(normPenalty, "--norm-penalty", 0...1e6, "a finite λ")
    }

    /// The study options, checked before anything is loaded or trained.
    func options(mode: QATMode, at: AnalysisPointChoice, seed: UInt64) throws -> HessianOptions {
        var o = HessianOptions()
        o.mode = mode; o.at = at; o.seed = seed
        o.objective = objective; o.phase = phase; o.samples = samples ?? (full ? nil : Self.quick.samples); o.batchSize = batchSize; o.precision = precision
        let r = resolved
        o.topK = r.topK; o.tolerance = tol; o.maxIterations = maxIter
        o.lanczosSteps = r.lanczos; o.traceMinProbes = r.probes; o.traceMaxProbes = 2 * r.probes
        o.density = density; o.perLayer = perLayer; o.parameters = params; o.perExample = perExample; o.normPenalty = normPenalty
        o.hvpDifference = hvpOptions.hvpDifference; o.hvpStep = hvpOptions.hvpStep
        try o.validate()
        return o
    }
}

extension InterventionPoint: ExpressibleByArgument {}
extension AnalysisPointChoice: ExpressibleByArgument {}
extension ObjectiveChoice: ExpressibleByArgument {}
