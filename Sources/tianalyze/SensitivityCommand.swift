// tianalyze sensitivity: per-block Hessian sensitivity and a HAWQ-V2 bit allocation under a size
// budget. The logic is SensitivityStudy's; this parses, resolves the point analysed and prints.
import ArgumentParser
import Foundation
import TICore
import TILinalg
import TIStudies

struct SensitivityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sensitivity",
        abstract: "Per-block Hessian sensitivity (top eigenvalue, trace), quantization perturbation and Ω, and the exact bit allocation under a size budget.",
        discussion: """
        Blocks: every quantized weight tensor (Q, K, V, O, FFN1, FFN2, pooler, word embeddings), each layer's attention and FFN
        sub-block, the embeddings and the head. Ω_b = Tr(H_b)/n_b · ‖Q_b(W) − W‖² for ternary, 2, 3, 4 and 8 bits; the allocation
        minimises Σ Ω over the quantized tensors under the budget, exactly (Pareto frontier of model bytes against Σ Ω).
        Writes sensitivity.csv, pareto.csv, uniform.csv, sensitivity.json and allocation.json (for --quant-config).
        """)

    @OptionGroup var common: CommonOptions
    @Option(help: "QAT method whose student is analysed (FP: the teacher).") var mode: QATMode = MethodRegistry.defaultMode
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Analyse this checkpoint directory instead of the method's student.") var checkpoint: String?
    @Option(help: "trained (the method's student) or init (freshly quantized teacher).") var at: AnalysisPointChoice = .trained
    @Option(help: "task (task loss, no intervention) or train (the method's loss with its intervention).") var objective: ObjectiveChoice = .task
    @Option(help: "Dev examples averaged over.") var samples: Int = 64
    @Option(help: "Batch size of the averaged HVP.") var batchSize = 32
    @Option(help: "Floating-point precision of the Hessian products.") var precision: Precision = .f64
    @Option(help: "Hutchinson probes (every block's trace from the same probes).") var traceProbes = 30
    @Option(help: "Power-iteration limit per block for its top eigenvalue (0: skip).") var eigenIter = 20
    @Option(parsing: .unconditional, help: "Relative tolerance of the power iteration, in (0, 1).") var tol = 1e-2
    @Option(parsing: .unconditional, help: "Size budget of the whole stored model in MB (10⁶ bytes).") var budgetMb: Double?
    @Option(parsing: .unconditional, help: "Size budget as bits per quantized weight (default 4 without --budget-mb).") var avgBits: Double?
    @OptionGroup var hvpOptions: HVPOptions
    @Option(help: "Output directory (default <runs>/sensitivity-<task>-<mode>-<at>).") var out: String?

    func validate() throws {
        try PathChecks.inputFolder(checkpoint, "--checkpoint")
        if let out {
            try PathChecks.outputFolder(out, "--out")
            try PathChecks.notOverwriting(out, "--out", inputs: [("--checkpoint", checkpoint)])
        }
        if budgetMb != nil && avgBits != nil { throw ValidationError("give one of --budget-mb and --avg-bits") }
        try Domain.count(samples, "--samples", Domain.examples, "examples")
        try Domain.count(batchSize, "--batch-size", Domain.batch, "examples")
        try Domain.count(traceProbes, "--trace-probes", 3...Domain.probes.upperBound, "probes")
        try Domain.zeroOr(eigenIter, "--eigen-iter", 2...Domain.iterations.upperBound, "iterations")
        try Domain.tolerance(tol)
        if let budgetMb { try Domain.real(budgetMb, "--budget-mb", 1e-6...1e9, "a positive size in MB") }
        if let avgBits { try Domain.real(avgBits, "--avg-bits", 2...32, "an average of 2 to 32 bits per weight") }
    }

    func run() throws {
        common.apply()
        var o = SensitivityOptions()
        o.mode = mode; o.at = at; o.objective = objective; o.samples = samples; o.batchSize = batchSize; o.precision = precision
        o.seed = common.seed; o.traceProbes = traceProbes; o.eigenIterations = eigenIter; o.tolerance = tol
        o.budget = budgetMb.map(SizeBudget.megabytes) ?? .averageBits(avgBits ?? 4)
        o.hvpDifference = hvpOptions.hvpDifference; o.hvpStep = hvpOptions.hvpStep
        try o.validate()
        let task = try taskOptions.source()
        let ws = common.workspace
        let target = try AnalysisTarget.resolve(workspace: ws, task: task, mode: mode, at: at, checkpoint: checkpoint, seed: common.seed)
        let dir = out.map { URL(fileURLWithPath: $0) } ?? ws.root.appendingPathComponent("sensitivity-\(task.name)-\(mode.rawValue)-\(at.rawValue)")
        let r = try SensitivityStudy.run(target: target, options: o, outDir: dir, events: common.events)
        print(String(format: "sensitivity %@ [%@, %@] on %d examples: full trace %.5g ± %.2g (%d probes), %d HVPs, %.0f s",
                     mode.rawValue, objective.rawValue, at.rawValue, r.samples, r.fullTrace.mean, r.fullTrace.stderr, r.fullTrace.probes,
                     r.hvpCount, r.wallSeconds))
        for row in r.rows {
            print(String(format: "  %-52@ %9d  λmax %@  trace %.4g ± %.2g%@", row.name, row.parameters,
                         row.lambdaMax.map { String(format: "%.4g", $0) } ?? "-", row.trace.mean, row.trace.stderr,
                         row.allocated.map { "  → \($0)" } ?? ""))
        }
        print(String(format: "  allocation under %@ (%d bytes): %d bytes (%.4f MB), %.3f bits per weight, Σ Ω %.4g; %d frontier points",
                     o.budget.description, r.budgetBytes, r.bytes, Double(r.bytes) / 1e6, r.averageBits, r.totalOmega, r.frontierPoints))
        print("  → \(dir.appendingPathComponent("allocation.json").path)")
    }
}
