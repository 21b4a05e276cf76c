// Entry point: one subcommand per file; the CLI parses and calls library code.
import ArgumentParser
import TIData

@main
struct Tianalyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tianalyze",
        abstract: "Loss landscape, Hessian and convergence analysis of quantization-aware training of BERT.",
        subcommands: [FineTuneCommand.self, QATCommand.self, CompareCommand.self, HessianCommand.self, LandscapeCommand.self, MergeCommand.self, FiguresCommand.self, RenderTaskCommand.self, QuantReportCommand.self, EvalCommand.self, BenchCommand.self, ProbeCommand.self, TokenizeCommand.self])

    static func main() {
        BlasKernelSelection.reexecWithAVX512KernelsIfNeeded()
        // Activation buffers of a few MB are allocated and freed every pass; keeping them on the
        // heap instead of fresh mmap()s avoids a page fault per touched page each time.
        _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 256 << 20)
        _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, 512 << 20)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            ErrorMessages.exit(with: error)
        }
    }
}

@_silgen_name("mallopt") private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
