import ArgumentParser
import Foundation
import TICore
import TIData
import TILandscape
import TIStudies

struct DynamicsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dynamics",
        abstract: "Curvature and roughness over training, over seeds: per mode, steps to half the probe loss, final probe loss, top eigenvalue at start / end of step 1 / end, roughness metrics, each with a 95 % interval.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var taskOptions: TaskOptions
    @OptionGroup var runSet: RunSetOptions
    @Option(help: "Measure curvature every K steps (and at every phase boundary).") var trackCurvature: Int = CurvatureTrackingOptions.defaultEvery
    @Option(help: "Dev examples curvature is measured on.") var probeExamples: Int = CurvatureTrackingOptions().probeExamples
    @Option(help: "Save the trajectory every K steps (for landscape --directions trajectory).") var saveTrajectory: Int = 20
    @Option(help: "Comma-separated direction seeds of the roughness surfaces.") var directionSeeds: String = "1,2,3,4,5"
    @Option(help: "Points per axis of each roughness surface.") var grid: Int = 11
    @Option(help: "Dev examples each surface point averages over.") var evalSize: Int = 128

    func validate() throws {
        try Domain.count(trackCurvature, "--track-curvature", Domain.steps, "steps")
        try Domain.count(probeExamples, "--probe-examples", Domain.examples, "examples")
        try Domain.count(saveTrajectory, "--save-trajectory", Domain.steps, "steps")
        try Domain.count(grid, "--grid", 3...201, "points per axis")
        try Domain.count(evalSize, "--eval-size", Domain.examples, "examples")
        _ = try options()
    }

    func options() throws -> DynamicsOptions {
        var o = DynamicsOptions()
        o.modes = try runSet.modeList()
        o.seeds = try runSet.seedList(default: "1,2,3")
        o.directionSeeds = try parseList(directionSeeds, UInt64.init)
        guard !o.modes.isEmpty, !o.seeds.isEmpty, !o.directionSeeds.isEmpty else {
            throw ValidationError("--modes, --seeds and --direction-seeds each need at least one value")
        }
        o.epochs = runSet.epochs; o.learningRate = runSet.lr
        o.curvature.every = trackCurvature; o.curvature.probeExamples = probeExamples
        o.trajectoryEvery = saveTrajectory
        o.landscape.grid = String(grid); o.landscape.evalSize = evalSize; o.landscape.seed = common.seed
        return o
    }

    func run() throws {
        common.apply()
        let task = try taskOptions.source()
        let ws = common.workspace
        let records = try DynamicsStudy.run(workspace: ws, task: task, options: try options(), events: common.events)
        let summary = DynamicsTable.summarize(records)
        let table = DynamicsTable.markdown(summary)
        print(table, terminator: "")
        let csv = ws.root.appendingPathComponent("dynamics-\(task.name).csv")
        try DynamicsTable.writeCSV(summary, to: csv)
        try AtomicFile.write(table, to: ws.root.appendingPathComponent("dynamics-\(task.name).md"))
        print("→ \(csv.path)")
    }
}
