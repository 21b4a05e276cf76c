import ArgumentParser
import Foundation
import TICore
import TIStudies

struct QATCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qat",
        abstract: "Quantization-aware training of the student (\(QATMode.allCases.map(\.rawValue).joined(separator: ", "))).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var quant: QuantizationOptions
    @OptionGroup var lsq: LSQArguments
    @Option(help: "Method: \(QATMode.allCases.map(\.rawValue).joined(separator: ", ")).") var mode: QATMode = MethodRegistry.defaultMode
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Run directory (default <runs>/qat-<task>-<mode>-seed<seed>[-step1|-step2]).") var out: String?
    @Option(help: "Hyper-parameter preset: embedded (tianalyze's defaults for the embedded tasks) or ti (the public TI scripts: lr 2e-5, s = 60 or 120, per-task length and batch). Flags override it.")
    var recipe: Recipe = .embedded
    @Option(parsing: .unconditional, help: "Peak learning rate (the same for every mode; default from the recipe).") var lr: Double?
    @Option(help: "Budget N in epochs (default from the recipe).") var epochs: Int?
    @Option(help: "Batch size (default from the recipe).") var batchSize: Int?
    @Option(help: "Step-1 length s (default from the recipe; embedded: round(N·60/1600), at least 6).") var stepOne: Int?
    @Option(help: "Evaluate every this many steps.") var evalEvery: Int?
    @Option(help: "Which phases to run: all, step1, or step2 (with --from, continuing a step1 run).") var phase: QATPhaseSelection = .all
    @Option(help: "The finished step1 run directory a --phase step2 run continues.") var from: String?
    @Option(help: "Which step-1 model step 2 starts from: last or best (by the intervened dev metric).") var step1Option: StepOneSelection = .last
    @Flag(help: "Add the ground-truth loss to the distillation terms.") var withTaskLoss = false
    @OptionGroup var recipeOptions: QATRecipeOptions
    @OptionGroup var q8bert: Q8BERTArguments
    @OptionGroup var curvature: CurvatureTrackingArguments
    @OptionGroup var trajectory: TrajectoryOptions
    @OptionGroup var quantConfig: QuantConfigOption
    @OptionGroup var telemetry: QATTelemetryOptions
    @OptionGroup var layerOptions: InterventionLayerOptions

    func run() throws {
        let comm = common.applyAcrossRanks()
        let task = try taskOptions.source(defaultMaxSeqLength: recipe.values(task: taskOptions.task, layers: 0).maxSeqLength ?? 128)
        let ws = common.workspace
        let layers = try layerOptions.resolve(mode: mode, workspace: ws, task: task)  // before a teacher is trained
        let teacher = try World.rootFirst(comm) { try ws.teacher(task) }  // an embedded teacher is trained once, by rank 0
        var request = QATSettingsRequest()
        request.recipe = recipe; request.learningRate = lr; request.epochs = epochs; request.batchSize = batchSize
        request.stepOneLength = stepOne; request.evalEvery = evalEvery; request.clipping = recipeOptions.clip
        var (cfg, settings) = request.resolve(mode: mode, task: task.taskName, layers: teacher.model.config.numLayers)
        cfg.seed = common.seed; cfg.includeTaskLoss = withTaskLoss
        cfg.phase = phase == .all ? nil : phase
        cfg.stepOneSelection = step1Option == .last ? nil : step1Option
        try quant.apply(to: &cfg)
        try recipeOptions.apply(to: &cfg)
        try q8bert.apply(to: &cfg)
        try lsq.apply(to: &cfg)
        cfg.weightPrecisions = try quantConfig.file()?.precisions(for: teacher.model.layout)
        cfg.interventionLayers = layers
        try cfg.validate()
        let suffix = phase == .all ? "" : "-\(phase.rawValue)"
        let dir = out.map { URL(fileURLWithPath: $0) }
            ?? ws.studentDir(task, mode, seed: common.seed).deletingLastPathComponent()
                .appendingPathComponent(ws.studentDir(task, mode, seed: common.seed).lastPathComponent + suffix)
        var run = QATRun(model: teacher.model, task: try ws.taskData(task), teacher: teacher.parameters, config: cfg)
        run.continuing = from.map { URL(fileURLWithPath: $0) }
        run.settings = settings
        run.communicator = comm
        run.observers += try curvature.observers(data: run.task, config: cfg)
        run.observers += trajectory.observers
        run.observers += telemetry.observers
        let (_, s, _) = try run.run(outDir: dir, teacherPath: teacher.dir.path, teacherDevMetric: teacher.devMetric, events: common.events)
        guard comm.isRoot else { return }
        print(String(format: "%@ on %@: dev %.4f (best %.4f), probe KD loss %.4f → %.4f, %d steps%@, %.0f s → %@",
                     mode.rawValue, task.name, s.finalDevMetric, s.bestDevMetric, s.initialProbeDistillationLoss,
                     s.finalProbeDistillationLoss, s.totalSteps, s.stepOneLength.map { " (step 1: \($0))" } ?? "",
                     s.seconds, dir.path))
    }
}

extension Recipe: ExpressibleByArgument {}
extension QATPhaseSelection: ExpressibleByArgument {}
extension StepOneSelection: ExpressibleByArgument {}
