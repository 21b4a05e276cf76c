// The landscape runs of LandscapeSourceOptions: a surface on each run's trajectory plane with the
// path written beside it, and the line between two runs' endpoints. Both go through the same
// LandscapeStudy engine as random directions (resumable, shardable, roughness.csv beside the grid).
import ArgumentParser
import Foundation
import TICore
import TILandscape
import TILinalg
import TIStudies

extension LandscapeCommand {
    /// The modes named by --mode/--compare, else `fallback`.
    func requestedModes(fallback: [String]) throws -> [LandscapeMode] {
        let names = mode.map { [$0] + (compare?.split(separator: ",").map(String.init) ?? []) }
            ?? compare?.split(separator: ",").map(String.init) ?? fallback
        return try names.map { try LandscapeMode(parsing: $0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Combinations a direction source cannot honour, refused before any teacher or student is loaded.
    func checkSourceConflicts() throws {
        if sources.directions == .trajectory { try refuseIgnoredOptions(by: "--directions trajectory") }
        if sources.interpolateRuns != nil { try refuseIgnoredOptions(by: "--interpolate-runs") }
        if sources.directionSeeds != nil,
           let (flag, _) = [("--dir-file", surface.dirFile != nil), ("--eigen-dirs", surface.eigenDirs != nil), ("--interpolate", surface.interpolate)].first(where: \.1) {
            throw ValidationError("--direction-seeds draws a random direction pair per seed; drop \(flag)")
        }
    }

    /// Options the direction sources would otherwise ignore.
    func refuseIgnoredOptions(by source: String) throws {
        let ignored = [("--checkpoint", checkpoint != nil), ("--load-quantized", loadQuantized != nil), ("--at", at != nil),
                       ("--interpolate", surface.interpolate), ("--dir-file", surface.dirFile != nil), ("--eigen-dirs", surface.eigenDirs != nil)]
        if let (flag, _) = ignored.first(where: \.1) {
            throw ValidationError("\(source) takes its points from the named runs; drop \(flag)")
        }
    }

    /// --directions trajectory --run A[,B…]: one surface per run around its student, on the PCA plane
    /// of its saved path; runs that share θ₀ are listed together for one side-by-side figure.
    func runTrajectories(_ comm: Communicator, task: TaskSource) throws {
        let ws = common.workspace
        let runs = sources.runDirs
        let base = out.map { URL(fileURLWithPath: $0) } ?? ws.root.appendingPathComponent("landscape-\(task.name)-trajectory")
        var panels: [(dir: URL, origin: String)] = []
        // Every path is read and its plane computed before any surface is evaluated: a bad file fails at once.
        let planes = try runs.map { try TrajectoryGridPlane.load(run: $0) }
        for (runDir, plane) in zip(runs, planes) {
            let target = try World.rootFirst(comm) { try AnalysisTarget.fromRun(runDir, workspace: ws, task: task) }
            var o = try surface.options(modes: try requestedModes(fallback: [target.mode?.rawValue ?? "KD"]), objective: objective,
                                        seed: common.seed, shardFromEnvironment: !comm.isDistributed)
            o.trajectory = (runDir.lastPathComponent, plane)
            let dir = runs.count == 1 && out != nil ? base : URL(fileURLWithPath: base.path + "-" + runDir.lastPathComponent)
            let (p, config) = try LandscapeStudy.run(target: target, options: o, outDir: dir, events: common.events, communicator: comm)
            guard comm.isRoot else { continue }
            let shares = plane.plane.explainedVariance.map { String(format: "%.1f %%", 100 * $0) }.joined(separator: ", ")
            print("landscape \(config.modes.joined(separator: ", ")) on the trajectory plane of \(runDir.path): explained variance \(shares) (\(plane.plane.coordinates.count) points): \(p.summary) → \(dir.path)")
            panels.append((dir, plane.origin))
        }
        guard comm.isRoot, panels.count > 1 else { return }
        let shared = Set(panels.map(\.origin)).count == 1
        if shared {
            let panelDir = URL(fileURLWithPath: base.path + "-panels")
            try TrajectoryPanels.write(panels.map(\.dir), to: panelDir)
            print("  the runs share θ₀: side-by-side figure data → \(panelDir.path)")
        } else {
            print("  the runs start from different θ₀: drawn one figure each, not side by side")
        }
    }

    /// --interpolate-runs A,B: the loss along (1 − t)·A + t·B.
    func runInterpolation(_ comm: Communicator, task: TaskSource) throws {
        let ws = common.workspace
        let (a, b) = (sources.endpoints[0], sources.endpoints[1])
        let start = try AnalysisTarget.endpoint(a)
        let end = try AnalysisTarget.endpoint(b)
        let target = try World.rootFirst(comm) {
            try end.mode != nil ? AnalysisTarget.fromRun(b, workspace: ws, task: task)
                : AnalysisTarget.resolve(workspace: ws, task: task, mode: start.mode ?? MethodRegistry.defaultMode, at: .trained,
                                         checkpoint: b.path, seed: common.seed)
        }
        var fallback: [String] = []
        for m in [end.mode, start.mode].compactMap({ $0?.rawValue }) where !fallback.contains(m) { fallback.append(m) }
        var o = try surface.options(modes: try requestedModes(fallback: fallback.isEmpty ? ["KD"] : fallback), objective: objective,
                                    seed: common.seed, shardFromEnvironment: !comm.isDistributed)
        o.interpolate = true
        o.interpolationStart = (start.label, start.parameters)
        let dir = out.map { URL(fileURLWithPath: $0) } ?? ws.root.appendingPathComponent("landscape-\(task.name)-interpolate-\(a.lastPathComponent)-\(b.lastPathComponent)")
        let (p, config) = try LandscapeStudy.run(target: target, options: o, outDir: dir, events: common.events, communicator: comm)
        guard comm.isRoot else { return }
        print("landscape \(config.modes.joined(separator: ", ")) from \(a.path) (t = 0) to \(b.path) (t = 1): \(p.summary) → \(dir.path)")
    }

    /// --direction-seeds: the surface over each seed's direction pair, then the roughness intervals.
    func runDirectionSeeds(_ seeds: [UInt64], target: AnalysisTarget, options: LandscapeOptions, dir: URL, comm: Communicator) throws {
        let summary = try LandscapeStudy.runSeeds(seeds, target: target, options: options, outDir: dir, events: common.events, communicator: comm)
        guard let summary else { return }
        print("roughness of \(summary.modes.joined(separator: ", ")) over \(seeds.count) direction pairs (mean [95 % interval]) → \(dir.appendingPathComponent("roughness.csv").path)")
        summary.lines.forEach { print($0) }
    }
}
