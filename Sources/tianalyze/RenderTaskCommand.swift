import ArgumentParser
import Foundation
import TICore

struct RenderTaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-task",
        abstract: "Write an embedded task as GLUE-format TSV files (STS-B layout) + vocab.txt, to exercise the text loading path.")

    @Option(help: "Embedded task.") var task: EmbeddedTask = .default
    @Option(help: "Output folder (train.tsv, dev.tsv, vocab.txt).") var out: String
    @Option(help: "Training examples.") var trainSize = Workspace.defaultTrainSize
    @Option(help: "Dev examples.") var devSize = Workspace.defaultDevSize

    func validate() throws {
        try Domain.count(trainSize, "--train-size", Domain.generated, "examples")
        try Domain.count(devSize, "--dev-size", Domain.generated, "examples")
        try PathChecks.outputFolder(out, "--out")
    }

    func run() throws {
        let layout = try GLUETaskData.renderEmbedded(task: task, to: URL(fileURLWithPath: out), train: trainSize, dev: devSize)
        print("\(task.rawValue) → \(out) (\(layout.rawValue) layout); read it back with --task \(task.rawValue) --data-dir \(out)")
    }
}
