import ArgumentParser
import Foundation
import TICore

struct QATCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qat",
        abstract: "Quantization-aware training of the ternary student (QAT, KD, MI, CI, OI, TI-G, TI-I, TI-S; FP for reference).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var quant: QuantizationOptions
    @Option(help: "Method: \(QATMode.allCases.map(\.rawValue).joined(separator: ", ")).") var mode: QATMode = MethodRegistry.defaultMode
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Run directory (default <runs>/qat-<task>-<mode>-seed<seed>).") var out: String?
    @Option(help: "Peak learning rate (the same for every mode).") var lr: Double = QATConfig.defaults.learningRate
    @Option(help: "Budget N in epochs.") var epochs: Int = QATConfig.defaults.epochs
    @Option(help: "Batch size.") var batchSize: Int = QATConfig.defaults.batchSize
    @Option(help: "Step-1 length s (default: the seed's 60/1600 share of the budget).") var stepOne: Int?
    @Option(help: "Evaluate every this many steps.") var evalEvery: Int = QATConfig.defaults.evalEvery
    @Flag(help: "Add the ground-truth loss to the distillation terms.") var withTaskLoss = false
    @OptionGroup var recipe: QATRecipeOptions

    func run() throws {
        common.apply()
        let task = try taskOptions.source()
        let ws = common.workspace
        let teacher = try ws.teacher(task)
        var cfg = QATConfig(mode: mode)
        cfg.seed = common.seed; cfg.learningRate = lr; cfg.epochs = epochs; cfg.batchSize = batchSize
        cfg.stepOneLength = stepOne; cfg.evalEvery = evalEvery; cfg.includeTaskLoss = withTaskLoss
        try quant.apply(to: &cfg)
        try recipe.apply(to: &cfg)
        let dir = out.map { URL(fileURLWithPath: $0) } ?? ws.studentDir(task, mode, seed: common.seed)
        let (_, s, _) = try QATRun(model: teacher.model, task: ws.taskData(task), teacher: teacher.parameters, config: cfg)
            .run(outDir: dir, teacherPath: teacher.dir.path, teacherDevMetric: teacher.devMetric, events: common.events)
        print(String(format: "%@ on %@: dev %.4f (best %.4f), probe KD loss %.4f → %.4f, %d steps%@, %.0f s → %@",
                     mode.rawValue, task.name, s.finalDevMetric, s.bestDevMetric, s.initialProbeDistillationLoss,
                     s.finalProbeDistillationLoss, s.totalSteps, s.stepOneLength.map { " (step 1: \($0))" } ?? "",
                     s.seconds, dir.path))
    }
}
