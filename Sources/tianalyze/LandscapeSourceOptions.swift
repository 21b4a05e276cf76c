// `landscape`'s direction sources beyond random pairs: the PCA plane of a run's saved trajectory,
// the line between two runs' endpoints, and repeated random pairs for roughness intervals (kept
// apart from LandscapeCommand.swift; the runs themselves are in LandscapeSourceRuns.swift).
import ArgumentParser
import Foundation
import TICore
import TIData

enum DirectionSource: String, CaseIterable, ExpressibleByArgument {
    case random, trajectory
}

struct LandscapeSourceOptions: ParsableArguments {
    @Option(help: "random (seeded filter-normalized pairs; --dir-file, --eigen-dirs) or trajectory (the PCA plane of --run's saved path, drawn over the contours).")
    var directions: DirectionSource = .random
    @Option(help: "QAT run directories (trained with --save-trajectory K), comma-separated, for --directions trajectory: one landscape each, side by side when they share θ₀.")
    var run: String?
    @Option(help: "A,B: the loss along the line from A (t = 0) to B (t = 1); each a QAT run directory or a checkpoint folder (e.g. the FP teacher's).")
    var interpolateRuns: String?
    @Option(help: "Repeat the surface over these direction seeds (e.g. 1,2,3,4,5): each roughness metric's mean and 95 % interval per mode, and the paired differences between modes.")
    var directionSeeds: String?

    var runDirs: [URL] { (run ?? "").split(separator: ",").map { URL(fileURLWithPath: $0.trimmingCharacters(in: .whitespaces)) } }
    var endpoints: [URL] { (interpolateRuns ?? "").split(separator: ",", omittingEmptySubsequences: false).map { URL(fileURLWithPath: String($0)) } }

    /// The seeds of --direction-seeds: distinct, non-negative, at most 100.
    func seeds() throws -> [UInt64]? {
        guard let directionSeeds else { return nil }
        let parts = directionSeeds.split(separator: ",", omittingEmptySubsequences: false).map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !parts.isEmpty, parts.count <= 100, parts.allSatisfy({ $0 != nil }), Set(parts).count == parts.count else {
            throw Domain.refusal("--direction-seeds", directionSeeds, "1 to 100 distinct non-negative integers separated by commas, e.g. 1,2,3,4,5")
        }
        return parts.map { $0! }
    }

    func validate() throws {
        _ = try seeds()
        if directions == .trajectory {
            guard run != nil else { throw ValidationError("--directions trajectory: name the QAT run(s) with --run RUN[,RUN]") }
            guard interpolateRuns == nil, directionSeeds == nil else {
                throw ValidationError("--directions trajectory draws one plane per run; drop --interpolate-runs and --direction-seeds")
            }
            for dir in runDirs {
                try PathChecks.inputFolder(dir.path, "--run")
                try PathChecks.inputFile(dir.appendingPathComponent(TrajectoryFile.name).path, "--run \(dir.path): \(TrajectoryFile.name) (train it with qat --save-trajectory K)")
            }
            guard !runDirs.isEmpty, Set(runDirs).count == runDirs.count else { throw Domain.refusal("--run", run ?? "", "distinct run directories separated by commas") }
        } else if run != nil {
            throw ValidationError("--run names the runs whose trajectory --directions trajectory draws; add --directions trajectory")
        }
        if let interpolateRuns {
            guard endpoints.count == 2, endpoints[0] != endpoints[1] else { throw Domain.refusal("--interpolate-runs", interpolateRuns, "two different folders A,B") }
            guard directionSeeds == nil else { throw ValidationError("--interpolate-runs draws one line; drop --direction-seeds") }
            for dir in endpoints { try PathChecks.inputFolder(dir.path, "--interpolate-runs") }
        }
    }
}
