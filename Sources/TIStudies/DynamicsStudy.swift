// `tianalyze dynamics`: the study behind "TI smooths the surface and converges faster" with seeds
// and intervals. For every seed and mode it trains (or resumes, or reuses) a QAT run with curvature
// tracking and a saved trajectory, measures the roughness of the KD-loss surface around its student
// over several direction pairs, and summarizes per mode (DynamicsTable). Every surface uses the
// same objective (the KD loss without intervention, the loss both modes' step 2 trains) so the
// roughness columns compare across modes.
import Foundation
import TIData
import TICore
import TILandscape

public struct DynamicsOptions: Sendable {
    public var modes: [QATMode] = [.kd, .tiG]
    public var seeds: [UInt64] = [1, 2, 3]
    public var epochs = QATConfig.defaults.epochs
    public var learningRate = QATConfig.defaults.learningRate
    public var curvature = CurvatureTrackingOptions()
    /// Steps between saved trajectory points (nil: no trajectory).
    public var trajectoryEvery: Int? = 20
    public var directionSeeds: [UInt64] = [1, 2, 3, 4, 5]
    /// The roughness surfaces: grid, range and evaluation set (LandscapeOptions; modes are set here).
    public var landscape = LandscapeOptions()
    public init() {
        curvature.every = CurvatureTrackingOptions.defaultEvery
        landscape.grid = "11"
        landscape.evalSize = 128
    }
}

public enum DynamicsStudy {
    /// The run directory of one seed and mode: the workspace's student folder.
    public static func runDir(_ ws: Workspace, _ task: TaskSource, _ mode: QATMode, seed: UInt64) -> URL {
        ws.studentDir(task, mode, seed: seed)
    }

    /// Trains what is missing, measures the roughness around each student, and returns the records
    /// (one per seed and mode, in seed-major order).
    public static func run(workspace ws: Workspace, task: TaskSource, options o: DynamicsOptions,
                           events: RunEvents = .silent) throws -> [DynamicsRecord] {
        let teacher = try ws.teacher(task)
        let info = try InputFile.decodeJSON(FineTuneResult.self, from: teacher.dir.appendingPathComponent("teacher.json"))
        let data = try ws.taskData(task)
        var stepOne: Int? = nil
        var runs: [(mode: QATMode, seed: UInt64, dir: URL, roughness: URL)] = []
        for seed in o.seeds {
            for mode in o.modes {
                var cfg = QATConfig(mode: mode)
                cfg.epochs = o.epochs; cfg.learningRate = o.learningRate
                _ = try ws.student(task, mode: mode, seed: seed, config: cfg, observers: observers(o, data: data, config: cfg))
                let dir = runDir(ws, task, mode, seed: seed)
                let meta = try InputFile.decodeJSON(QATRunMetadata.self, from: dir.appendingPathComponent("metadata.json"))
                if stepOne == nil { stepOne = meta.summary?.stepOneLength }
                let target = try AnalysisTarget.resolve(workspace: ws, task: task, mode: mode, at: .trained, checkpoint: nil, seed: seed)
                var lo = o.landscape
                lo.modes = [try LandscapeMode(parsing: QATMode.kd.rawValue)]
                lo.objective = .train
                let surfaces = dir.appendingPathComponent("roughness")
                events.note("roughness of \(mode.rawValue) seed \(seed) over \(o.directionSeeds.count) direction pairs → \(surfaces.path)")
                _ = try LandscapeStudy.runSeeds(o.directionSeeds, target: target, options: lo, outDir: surfaces, events: events)
                runs.append((mode, seed, dir, surfaces.appendingPathComponent("roughness.csv")))
            }
        }
        return try runs.map {
            try DynamicsTable.record(runDir: $0.dir, teacherMetric: info.dev.metric, stepOneEnd: stepOne, roughness: $0.roughness)
        }
    }

    /// The telemetry every study run carries: curvature tracking and the trajectory.
    static func observers(_ o: DynamicsOptions, data: TaskData, config: QATConfig) throws -> [QATObserver] {
        try o.curvature.check(devExamples: data.dev.count, totalSteps: config.totalSteps(trainExamples: data.train.count))
        var out: [QATObserver] = [CurvatureTracker(options: o.curvature)]
        if let k = o.trajectoryEvery { out.append(TrajectoryObserver(every: k)) }
        return out
    }
}
