import ArgumentParser
import Foundation
import TICore
import TILinalg
import TIData

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Seed of every random draw (written into the run metadata).") var seed: UInt64 = 1
    @Option(help: "Cores to use: split across independent batches and points, and within each step (GEMM blocks, attention heads, row-wise kernels). Results do not depend on it.") var threads: Int = 2
    @Option(help: "Runs directory where teachers and students are kept.") var runs: String = "runs"
    @Flag(help: "No progress lines on stderr.") var quiet = false
    @Option(help: "Stop training (teachers and students, also on demand) when the loss stays above this many times its starting value for \(DivergenceGuard.defaultWindow) steps (0: never).")
    var divergenceFactor = DivergenceGuard.defaultFactor

    func validate() throws {
        try Domain.count(threads, "--threads", Domain.threads)
        try PathChecks.outputFolder(runs, "--runs")
        guard divergenceFactor == 0 || (divergenceFactor.isFinite && divergenceFactor >= 2) else {
            throw Domain.refusal("--divergence-factor", "\(divergenceFactor)", "0 (off) or a finite factor of at least 2")
        }
    }

    /// Settings for a command that runs as one process: under mpirun/srun with several ranks it stops
    /// with one line instead of running the same work R times.
    func apply() {
        configure()
        if World.communicator.isDistributed {
            World.communicator.abort("Error: this command runs as one process; start it without mpirun/srun (finetune, qat, hessian and landscape split their work across ranks)")
        }
    }

    /// Settings for a command that splits its work across ranks; the ranks (one process without a launcher).
    /// --threads is per rank.
    func applyAcrossRanks() -> Communicator {
        configure()
        return World.communicator
    }

    private func configure() {
        BLAS.setThreads(1)  // Parallel splits GEMMs itself, in blocks fixed by the shape (see ParallelGEMM)
        Parallel.workers = max(1, threads)
        DivergenceGuard.defaultFactor = divergenceFactor
    }

    /// Progress lines and notes on stderr (rank 0's only), or nothing with --quiet.
    var events: RunEvents { quiet || World.rank != 0 ? .silent : ProgressLines.standardError.events }

    var workspace: Workspace { Workspace(root: URL(fileURLWithPath: runs), events: events) }
}

extension EmbeddedTask: ExpressibleByArgument {}
extension QATMode: ExpressibleByArgument {}
extension HVPDifference: ExpressibleByArgument {}
extension Precision: ExpressibleByArgument {}

/// How Hessian-vector products are differenced (see DatasetObjective).
struct HVPOptions: ParsableArguments {
    @Option(help: "forward (one gradient per H·v, the f64 default; 1e-7-level error, reported eigenvalues refined centrally) or central (two gradients, the f32 default; about 1e-9 in f64).")
    var hvpDifference: HVPDifference?
    @Option(parsing: .unconditional, help: "Relative finite-difference step ε in (0, 0.1] (default: the scheme's own for the precision).") var hvpStep: Double?

    func validate() throws {
        if let hvpStep, !(hvpStep.isFinite && hvpStep > 0 && hvpStep <= 0.1) {
            throw Domain.refusal("--hvp-step", "\(hvpStep)", "a finite relative step in (0, 0.1]")
        }
    }
}

/// Which task's data a command reads.
struct TaskOptions: ParsableArguments {
    @Option(help: "Task: embedded (\(EmbeddedTask.allCases.map(\.rawValue).joined(separator: ", "))) or GLUE (\(GLUETask.allCases.map(\.rawValue).joined(separator: ", "))) with --data-dir.")
    var task: String = EmbeddedTask.default.rawValue
    @Option(help: "Folder with the task's GLUE TSV files (train.tsv, dev.tsv); with an embedded task name, its rendering as text.")
    var dataDir: String?
    @Option(parsing: .unconditional, help: "Maximum sequence length for text tasks (see --truncation; default 128, or the recipe's).") var maxSeqLength: Int?
    @Flag(help: "Skip malformed TSV rows (reported with their count) instead of stopping.") var skipBadRows = false
    @Option(help: "How text pairs longer than --max-seq-length are cut: seeds (original BERT: pop from the longer segment, the second on a tie) or longest-first (the fast tokenizer: the first on a tie).")
    var truncation: PairTruncation = .seeds

    func validate() throws {
        if let maxSeqLength { try Domain.count(maxSeqLength, "--max-seq-length", Domain.sequence, "tokens") }
        try PathChecks.inputFolder(dataDir, "--data-dir")
    }

    /// The task; `defaultMaxSeqLength` applies where --max-seq-length is not given (a recipe's length).
    func source(defaultMaxSeqLength: Int = 128) throws -> TaskSource {
        try TaskSource(name: task, dataDir: dataDir, maxSeqLength: maxSeqLength ?? defaultMaxSeqLength, skipBadRows: skipBadRows,
                       truncation: truncation)
    }
}
