import ArgumentParser
import Foundation
import TICore
import TILandscape
import TIStudies

struct LandscapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "landscape",
        abstract: "Loss surface along filter-normalized random directions, with and without intervention (resumable, shardable).",
        discussion: """
        With no options: the embedded default's freshly quantized teacher (--at init), training objectives of
        KD (no intervention) and MI, CI, OI (intervention), on one 41×41 grid over [-1, 1]².
        Sharding: --shard i/n, or SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT; then `tianalyze merge <dir>`.
        Under mpirun/srun the ranks split the points and rank 0 merges when all are done (no `merge`).
        """)

    @OptionGroup var common: CommonOptions
    @Option(help: "Mode whose surface is drawn (e.g. TI-G, or TI-G:MI for a schedule's phase).") var mode: String?
    @Option(help: "Comma-separated modes evaluated on the same points (default with no --mode: \(LandscapeArguments.quickModes.joined(separator: ",")); \(LandscapeArguments.fullModes.joined(separator: ",")) with --full).") var compare: String?
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Checkpoint directory to analyse instead of the method's student.") var checkpoint: String?
    @Option(name: .customLong("load-quantized"), help: "Analyse Q8BERT's int8 export (<run>/\(QATRun.int8ExportFile)) around its deployed weights (implies --mode Q8BERT --objective task).")
    var loadQuantized: String?
    @Option(help: "trained (the method's student) or init (freshly quantized teacher).") var at: AnalysisPointChoice?
    @Option(help: "train (the method's loss with intervention) or task (task loss, no intervention).") var objective: ObjectiveChoice = .train
    @OptionGroup var surface: LandscapeArguments
    @OptionGroup var quantConfig: QuantConfigOption
    @OptionGroup var sources: LandscapeSourceOptions
    @Option(help: "Output directory.") var out: String?

    func validate() throws {
        try PathChecks.inputFolder(checkpoint, "--checkpoint")
        try PathChecks.inputFile(loadQuantized, "--load-quantized")
        if let out {
            try PathChecks.outputFolder(out, "--out")
            try PathChecks.notOverwriting(out, "--out", inputs: [("--checkpoint", checkpoint), ("--load-quantized", loadQuantized),
                                                                ("--eigen-dirs", surface.eigenDirs)])
        }
    }

    func run() throws {
        let comm = common.applyAcrossRanks()
        if comm.isDistributed && surface.shard != nil {
            throw ValidationError("--shard and the \(comm.size) MPI ranks would both split the grid; drop --shard under mpirun/srun")
        }
        let task = try taskOptions.source()
        try checkSourceConflicts()
        if sources.directions == .trajectory { return try runTrajectories(comm, task: task) }
        if sources.interpolateRuns != nil { return try runInterpolation(comm, task: task) }
        let names: [String]
        if loadQuantized != nil {
            // The export carries Q8BERT's activation quantizers only; other modes' schemes do not apply to it.
            if checkpoint != nil { throw ValidationError("--load-quantized and --checkpoint name two different points; give one") }
            let exporter = MethodRegistry.int8Exporter.rawValue
            if let mode, mode != exporter { throw ValidationError("--load-quantized analyses mode \(exporter), not \(mode)") }
            if compare != nil { throw ValidationError("--load-quantized analyses one model under its own quantization; drop --compare") }
            names = [exporter]
        } else if let mode {
            names = [mode] + (compare?.split(separator: ",").map(String.init) ?? [])
        } else {
            names = compare?.split(separator: ",").map(String.init) ?? (surface.full ? LandscapeArguments.fullModes : LandscapeArguments.quickModes)
        }
        let modes = try names.map { try LandscapeMode(parsing: $0.trimmingCharacters(in: .whitespaces)) }
        let point: AnalysisPointChoice = at ?? (mode == nil && checkpoint == nil && loadQuantized == nil ? .initial : .trained)
        // Q8BERT trains on the task loss: its train objective is the same.
        let o = try surface.options(modes: modes, objective: loadQuantized == nil ? objective : .task, seed: common.seed,
                                    shardFromEnvironment: !comm.isDistributed)
        let ws = common.workspace
        // Rank 0 first: it trains what is missing; the others then load it.
        var target = try World.rootFirst(comm) {
            try loadQuantized.map { try AnalysisTarget.loadQuantized(URL(fileURLWithPath: $0), workspace: ws, task: task) }
                ?? AnalysisTarget.resolve(workspace: ws, task: task, mode: o.modes[0].mode, at: point, checkpoint: checkpoint, seed: common.seed)
        }
        try target.apply(quantConfig.file(), modes: o.modes.map(\.mode))
        let dir = out.map { URL(fileURLWithPath: $0) }
            ?? ws.root.appendingPathComponent("landscape-\(task.name)-\(point.rawValue)-\(names.joined(separator: "_"))"
                                      + (target.weightPrecisions == nil ? "" : "-mixed"))
        if let seeds = try sources.seeds() { return try runDirectionSeeds(seeds, target: target, options: o, dir: dir, comm: comm) }
        let (p, config) = try LandscapeStudy.run(target: target, options: o, outDir: dir, events: common.events, communicator: comm)
        guard comm.isRoot else { return }
        print("landscape \(config.modes.joined(separator: ", ")) [\(o.objective.rawValue), \(point.rawValue)]: \(p.summary) → \(dir.path)")
        print("  computed: \(config.modes.joined(separator: ", ")) on \(o.evalSize) evaluation examples per point"
              + (surface.full ? "" : " (--full: \(LandscapeArguments.fullModes.joined(separator: ", ")) with no --mode, \(LandscapeArguments.fullEvalSize) examples)"))
    }
}

/// Where the surface is evaluated (grid, directions, evaluation set, shard): the flags that become `LandscapeOptions`.
struct LandscapeArguments: ParsableArguments {
    @Option(parsing: .unconditional, help: "Points per axis over the range, or min:max:num (use x,y for two axes).") var grid: String = "41"
    @Option(parsing: .unconditional, help: "x axis as min:max:num (overrides --grid).") var x: String?
    @Option(parsing: .unconditional, help: "y axis as min:max:num.") var y: String?
    @Option(parsing: .unconditional, help: "Range of both axes as min:max (negative values need no '=': --range -0.5:0.5).") var range: String = "-1:1"
    @Flag(help: "One direction only.") var oneD = false
    @Flag(help: "Linear interpolation from the FP teacher (t=0) to the analysed point (t=1).") var interpolate = false
    @Option(help: "Evaluation-set size, a seeded subset of dev (default \(Self.quickEvalSize); \(Self.fullEvalSize) with --full).") var evalSize: Int?
    @Flag(help: "The full surfaces: KD, MI, CI and OI (with no --mode) on \(Self.fullEvalSize) evaluation examples per point, instead of the quick look's KD and MI on \(Self.quickEvalSize).") var full = false
    /// The quick look answers the headline question (is the surface with intervention smoother than
    /// without?) on a 41×41 grid within about 3 minutes on 2 cores: KD against MI, the strongest
    /// intervention, on one batch of 32 examples (64 took 4.4 minutes); --full is the paper's
    /// Figure 2 set on 256.
    static let quickEvalSize = 32, fullEvalSize = 256
    static let quickModes = ["KD", "MI"], fullModes = ["KD", "MI", "CI", "OI"]
    var resolvedEvalSize: Int { evalSize ?? (full ? Self.fullEvalSize : Self.quickEvalSize) }
    @Option(help: "Evaluation batch size. Part of the configuration: dynamic activation ranges are per batch, as in training.")
    var batchSize = LandscapeOptions().batchSize
    @Option(help: "Save/reuse the directions in this file.") var dirFile: String?
    @Option(help: "Use the top Hessian eigenvectors saved by `tianalyze hessian` (eigenvectors-<mode>.dir) as directions.") var eigenDirs: String?
    @Option(help: "Directions normalization: filter, layer or none.") var normalization: DirectionNormalization = .filter
    @Option(help: "biasbn (zero 1-D tensors in the directions) or none.") var ignore: DirectionIgnore = .biasbn
    @Option(help: "Evaluate every n-th point: i/n.") var shard: String?

    /// The grid as LandscapeOptions spells it: --x/--y override --grid.
    var gridText: String { x.map { xs in y.map { "\(xs),\($0)" } ?? xs } ?? grid }

    /// min:max of --range: finite, ordered, and wide enough that grid coordinates stay distinct.
    func parsedRange() throws -> ClosedRange<Double> {
        let r = range.split(separator: ":", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard r.count == 2, let lo = r[0], let hi = r[1], lo.isFinite, hi.isFinite, lo < hi, hi - lo >= 1e-9, abs(lo) <= 1e6, abs(hi) <= 1e6 else {
            throw Domain.refusal("--range", range, "min:max with finite min < max, at least 1e-9 apart and within ±1e6")
        }
        return lo...hi
    }

    func validate() throws {
        let r = try parsedRange()
        do {
            _ = try LandscapeGrid.parse(gridText, kind: interpolate ? .interpolation : .directions, oneDimensional: oneD,
                                        range: interpolate ? 0...1 : r)
        } catch let e as GridError {
            throw ValidationError("\(x == nil && y == nil ? "--grid" : "--x/--y") '\(gridText)': \(e.reason)")
        }
        try Domain.count(resolvedEvalSize, "--eval-size", Domain.examples, "examples")
        try Domain.count(batchSize, "--batch-size", Domain.batch, "examples")
        if let shard {
            do { _ = try ShardSpec(parsing: shard) } catch { throw Domain.refusal("--shard", shard, "i/n with 0 ≤ i < n (\(error))") }
        }
        try PathChecks.inputFile(eigenDirs, "--eigen-dirs")
        if let dirFile, FileManager.default.fileExists(atPath: dirFile) { try PathChecks.inputFile(dirFile, "--dir-file") }
    }

    /// `shardFromEnvironment`: read a Slurm array's shard (off under MPI ranks, which shard by rank).
    func options(modes: [LandscapeMode], objective: ObjectiveChoice, seed: UInt64, shardFromEnvironment: Bool = true) throws -> LandscapeOptions {
        var o = LandscapeOptions()
        o.modes = modes; o.objective = objective; o.seed = seed
        o.grid = gridText
        o.range = try parsedRange()
        o.oneDimensional = oneD; o.interpolate = interpolate; o.evalSize = resolvedEvalSize; o.batchSize = batchSize
        o.directionOptions = DirectionOptions(normalization: normalization, ignore: ignore)
        o.directionFile = dirFile
        o.eigenDirections = eigenDirs
        if let shard {
            o.shard = try ShardSpec(parsing: shard)
        } else if shardFromEnvironment, let s = try ShardSpec.fromEnvironment(ProcessInfo.processInfo.environment) {
            o.shard = s
        }
        return o
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Join the shards of a landscape run (one config hash, all points).")
    @Argument(help: "The landscape output directory holding shard-i-of-n folders.") var dir: String
    func validate() throws { try PathChecks.inputFolder(dir, "merge") }
    func run() throws {
        let meta = try LandscapeMerge.merge(shardsIn: URL(fileURLWithPath: dir))
        print("merged \(meta.pointsDone)/\(meta.pointsTotal) points, config \(meta.configHash) → \(dir)")
    }
}

extension DirectionNormalization: ExpressibleByArgument {}
extension DirectionIgnore: ExpressibleByArgument {}
