import ArgumentParser
import TILinalg

/// Options every subcommand shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Seed of every random draw (written into the run metadata).") var seed: UInt64 = 1
    @Option(help: "BLAS threads.") var threads: Int = 2
    @Flag(help: "No progress lines on stderr.") var quiet = false

    func apply() { BLAS.setThreads(threads) }
}
