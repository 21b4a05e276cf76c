import ArgumentParser
import Foundation
import TICore

struct FineTuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Train the full-precision teacher from scratch on an embedded task and save it (HF format).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Output directory (default <runs>/teacher-<task>).") var out: String?
    @OptionGroup var training: FineTuneArguments
    @Option(help: "Training examples generated (embedded tasks).") var trainSize: Int = Workspace.defaultTrainSize
    @Option(help: "Start from this pretrained HF checkpoint (config.json, model.safetensors, tokenizer) instead of a random small model.") var checkpoint: String?

    func validate() throws {
        try Domain.count(trainSize, "--train-size", Domain.generated, "examples")
        try PathChecks.inputFolder(checkpoint, "--checkpoint")
        if let out { try PathChecks.outputFolder(out, "--out") }
    }

    func run() throws {
        let comm = common.applyAcrossRanks()
        let task = try taskOptions.source()
        let cfg = training.config(task.defaultTeacherConfig(seed: common.seed))
        let ws = common.workspace
        let dir = out.map { URL(fileURLWithPath: $0) } ?? ws.teacherDir(task)
        try PathChecks.notOverwriting(dir.path, out == nil ? "--out (default)" : "--out",
                                      inputs: [("--checkpoint", checkpoint), ("--data-dir", taskOptions.dataDir)])
        let (_, _, result) = try ws.trainTeacher(task, config: cfg, trainSize: trainSize,
                                                 pretrained: checkpoint.map { URL(fileURLWithPath: $0) }, to: dir, communicator: comm)
        guard comm.isRoot else { return }
        print(String(format: "teacher %@: FP dev %@ %.4f | ternary W + 8-bit A, no QAT: %.4f | %d steps (best at %d), %.0f s → %@",
                     task.name, result.dev.metricName, result.dev.metric, result.devTernaryNoQAT.metric,
                     result.steps, result.bestStep, result.seconds, dir.path))
    }
}

/// The teacher's training schedule: the flags that become `FineTuneConfig`.
struct FineTuneArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "Peak learning rate, in (0, 1] (default 1e-3; 5e-4 for the embedded pair-distance).") var lr: Double?
    @Option(help: "Epoch budget (early stopping on dev may end sooner).") var epochs: Int = FineTuneConfig().epochs
    @Option(help: "Batch size.") var batchSize: Int = FineTuneConfig().batchSize
    @Option(help: "Early stopping: evaluations without dev improvement before stopping.") var patience: Int = FineTuneConfig().patience
    @Option(help: "Evaluate on dev every this many steps.") var evalEvery: Int = FineTuneConfig().evalEvery

    func validate() throws {
        if let lr { try Domain.learningRate(lr) }
        try Domain.count(epochs, "--epochs", Domain.epochs)
        try Domain.count(batchSize, "--batch-size", Domain.batch, "examples")
        try Domain.count(patience, "--patience", Domain.patience, "evaluations")
        try Domain.count(evalEvery, "--eval-every", Domain.steps, "steps")
    }

    /// `defaults` (the task's) with every option given on the command line.
    func config(_ defaults: FineTuneConfig) -> FineTuneConfig {
        var c = defaults
        c.learningRate = lr ?? defaults.learningRate; c.epochs = epochs; c.batchSize = batchSize; c.patience = patience; c.evalEvery = evalEvery
        return c
    }
}
