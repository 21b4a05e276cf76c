// The QAT runs a comparison over modes and seeds trains (or reuses): `compare` and `dynamics`.
import ArgumentParser
import TICore

struct RunSetOptions: ParsableArguments {
    @Option(help: "Comma-separated modes.") var modes: String = "KD,TI-G"
    @Option(help: "Comma-separated training seeds (default: compare 1, dynamics 1,2,3).") var seeds: String?
    @Option(help: "Budget N in epochs for runs trained now (the same for every mode).") var epochs: Int = QATConfig.defaults.epochs
    @Option(parsing: .unconditional, help: "Peak learning rate for runs trained now (the same for every mode), in (0, 1].")
    var lr: Double = QATConfig.defaults.learningRate

    func validate() throws {
        try Domain.count(epochs, "--epochs", Domain.epochs)
        try Domain.learningRate(lr)
    }

    func modeList() throws -> [QATMode] { try parseList(modes, QATMode.init(rawValue:)) }
    func seedList(default fallback: String) throws -> [UInt64] { try parseList(seeds ?? fallback, UInt64.init) }
}
