import ArgumentParser
import Foundation
import TICore
import TILinalg

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Seed of every random draw (written into the run metadata).") var seed: UInt64 = 1
    @Option(help: "Worker threads for independent batches and points (each runs single-threaded BLAS).") var threads: Int = 2
    @Option(help: "Runs directory where teachers and students are kept.") var runs: String = "runs"
    @Flag(help: "No progress lines on stderr.") var quiet = false

    func apply() {
        BLAS.setThreads(1)
        Parallel.workers = max(1, threads)
    }

    var workspace: Workspace { Workspace(root: URL(fileURLWithPath: runs), progress: !quiet) }
}

extension EmbeddedTask: ExpressibleByArgument {}
extension QATMode: ExpressibleByArgument {}
