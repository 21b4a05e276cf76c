// Entry point: one subcommand per file; the CLI parses and calls library code.
import ArgumentParser
import TIData

@main
struct Tianalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tianalyze",
        abstract: "Loss landscape, Hessian and convergence analysis of quantization-aware training of BERT.",
        subcommands: [FineTuneCommand.self, QATCommand.self, CompareCommand.self, HessianCommand.self, SensitivityCommand.self, LandscapeCommand.self, MergeCommand.self, FiguresCommand.self, RenderTaskCommand.self, QuantReportCommand.self, EvalCommand.self, BenchCommand.self, ProbeCommand.self, TokenizeCommand.self, InterventionMapCommand.self, DynamicsCommand.self])

    static func main() {
        BlasKernelSelection.reexecWithAVX512KernelsIfNeeded()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            ErrorMessages.exit(with: error)
        }
    }
}
