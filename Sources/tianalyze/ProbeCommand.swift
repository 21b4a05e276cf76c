import ArgumentParser
import Foundation
import TICore
import TILinalg
import TIStudies

struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Write the numbers a PyTorch/PyHessian peer is compared against (notebooks-cli/compare-peers.sh).",
        discussion: """
        For one checkpoint, objective and set of dev batches: batches.json (the exact tokens), result.json (loss, terms,
        logits, parameter layout, top-k eigenvalues, trace, timings) and raw little-endian Float64 vectors gradient.f64,
        v.f64 and hv.f64 in layout order. With --bench SHAPE: one train-step timing at that shape (default, minilm, base)
        on random weights, printed as JSON.
        """)

    @OptionGroup var common: CommonOptions
    @Option(help: "QAT method whose objective is probed.") var mode: QATMode = .fp
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Checkpoint directory (default: the task's teacher).") var checkpoint: String?
    @Option(help: "trained (the method's student) or init (freshly quantized teacher).") var at: AnalysisPointChoice = .initial
    @OptionGroup var probe: ProbeArguments
    @Option(help: "Train-step timing at this shape instead (default, minilm, base).") var bench: String?
    @Flag(inversion: .prefixedNo, help: "With --bench: also measure the sgemm rate at the model's shapes.") var sgemm = true
    @Option(help: "Output directory.") var out: String = "runs/probe"

    func validate() throws {
        try PathChecks.inputFolder(checkpoint, "--checkpoint")
        try PathChecks.outputFolder(out, "--out")
        try PathChecks.notOverwriting(out, "--out", inputs: [("--checkpoint", checkpoint)])
    }

    func run() throws {
        common.apply()
        if let bench {
            let r = try PeerBench.trainStep(shape: bench, mode: mode, threads: common.threads, repeats: probe.repeats, measureSgemm: sgemm)
            let enc = JSONEncoder()
            enc.outputFormatting = [.sortedKeys]
            print(String(decoding: try enc.encode(r), as: UTF8.self))
            return
        }
        let task = try taskOptions.source()
        let o = try probe.options(mode: mode, seed: common.seed)
        let target = try AnalysisTarget.resolve(workspace: common.workspace, task: task, mode: mode, at: at, checkpoint: checkpoint,
                                                seed: common.seed)
        let dir = URL(fileURLWithPath: out)
        let r = try PeerProbe.run(target: target, options: o, outDir: dir, threads: common.threads)
        var line = String(format: "probe %@ [%@, %@] on %d examples: loss %.10g", mode.rawValue, o.objective.rawValue, o.precision.rawValue, r.samples, r.loss)
        if let e = r.eigenvalues { line += ", top eigenvalues " + e.map { String(format: "%.6g", $0) }.joined(separator: ", ") }
        if let t = r.trace { line += String(format: ", trace %.6g ± %.2g", t.mean, t.stderr) }
        print(line + " → " + dir.path)
    }
}

/// The objective, batches and measurements of a probe: the flags that become `PeerProbeOptions`.
struct ProbeArguments: ParsableArguments {
    @Option(help: "task or train.") var objective: ObjectiveChoice = .task
    @Option(help: "Intervention for --objective train of a schedule: OI, CI or MI.") var phase: InterventionPoint?
    @Option(help: "The first N dev examples.") var samples = 64
    @Option(help: "Batch size.") var batchSize = 64
    @Option(help: "Floating-point precision of the probe.") var precision: Precision = .f64
    @Flag(inversion: .prefixedNo, help: "One HVP along a seeded normal vector.") var hvp = true
    @Option(help: "Top eigenvalues by power iteration (0: skip).") var topK = 0
    @Option(parsing: .unconditional, help: "Power-iteration tolerance, in (0, 1).") var tol = 1e-3
    @Option(help: "Power-iteration limit per eigenvalue.") var maxIter = 100
    @Option(help: "Hutchinson probes (0: skip).") var traceProbes = 0
    @Option(help: "Timed repetitions of a gradient and an HVP.") var repeats = 3
    @Option(help: "Also export the landscape evaluation set of this size (0: no).") var landscapeEvalSize = 0
    @OptionGroup var hvpOptions: HVPOptions

    func validate() throws {
        try Domain.count(samples, "--samples", Domain.examples, "examples")
        try Domain.count(batchSize, "--batch-size", Domain.batch, "examples")
        try Domain.count(topK, "--top-k", 0...Domain.eigenvalues.upperBound, "eigenvalues (0: skip)")
        try Domain.tolerance(tol)
        try Domain.count(maxIter, "--max-iter", Domain.iterations, "iterations")
        try Domain.count(traceProbes, "--trace-probes", 0...Domain.probes.upperBound, "probes (0: skip)")
        try Domain.count(repeats, "--repeats", Domain.repeats, "repetitions")
        try Domain.count(landscapeEvalSize, "--landscape-eval-size", 0...Domain.examples.upperBound, "examples (0: none)")
    }

    /// The probe options, checked before anything is loaded or trained.
    func options(mode: QATMode, seed: UInt64) throws -> PeerProbeOptions {
        var o = PeerProbeOptions()
        o.mode = mode; o.seed = seed
        o.objective = objective; o.phase = phase; o.samples = samples; o.batchSize = batchSize; o.precision = precision
        o.hvp = hvp; o.topK = topK; o.tolerance = tol; o.maxIterations = maxIter
        o.traceProbes = traceProbes; o.repeats = repeats; o.landscapeEvalSize = landscapeEvalSize
        o.hvpDifference = hvpOptions.hvpDifference; o.hvpStep = hvpOptions.hvpStep
        try o.validate()
        return o
    }
}
