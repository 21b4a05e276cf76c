import ArgumentParser
import Foundation
import TICore
import TILinalg

struct FineTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Train the full-precision teacher from scratch on an embedded task and save it.")

    @OptionGroup var common: CommonOptions
    @Option(help: "Embedded task: \(EmbeddedTask.allCases.map(\.rawValue).joined(separator: ", ")).")
    var task: EmbeddedTask = .default
    @Option(help: "Output directory (default runs/teacher-<task>).") var out: String?
    @Option(help: "Peak learning rate.") var lr: Double = 1e-3
    @Option(help: "Epoch budget.") var epochs: Int = 4
    @Option(help: "Batch size.") var batchSize: Int = 32
    @Option(help: "Training examples generated.") var trainSize: Int = 12_000

    func run() throws {
        common.apply()
        let data = SyntheticTaskGenerator(task: task).make(train: trainSize)
        let model = BertModel(config: .small(vocabSize: data.vocabSize, maxPositions: 64, numLabels: data.numLabels))
        var cfg = FineTuneConfig()
        cfg.seed = common.seed; cfg.learningRate = lr; cfg.epochs = epochs; cfg.batchSize = batchSize
        let (_, result) = try FineTune.run(model: model, task: data, config: cfg, progress: !common.quiet)
        print(String(format: "task %@: FP dev %@ %.4f, ternary+8-bit (no QAT) %.4f, steps %d (best %d), %.1f s",
                     task.rawValue, data.metricName, result.dev.metric, result.devTernaryNoQAT.metric, result.steps,
                     result.bestStep, result.seconds))
        _ = out
    }
}

extension EmbeddedTask: ExpressibleByArgument {}
