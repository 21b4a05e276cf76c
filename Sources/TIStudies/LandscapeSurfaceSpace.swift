// Where a landscape's points come from: random (filter-normalized) directions, a saved direction
// file, Hessian eigenvectors, the PCA plane of a QAT run's trajectory, or the straight line between
// two points (teacher → student, or one run's student → another's). One grid engine serves them all.
import Foundation
import TILinalg
import TIData
import TICore
import TILandscape

/// The trajectory plane scaled for the grid: the directions are the PCA directions times `scale`,
/// chosen so the path fills about 80 % of [-1, 1] on its wider axis (the plane is not stretched:
/// both axes share the scale).
public struct TrajectoryGridPlane: Sendable {
    public let plane: TrajectoryPlane
    public let scale: Double
    /// Hash of the path's θ₀: runs that share it are drawn side by side.
    public let origin: String
    public static let pathFile = "trajectory-path.dat"

    public init(plane: TrajectoryPlane, origin: String) {
        self.plane = plane
        self.origin = origin
        let reach = plane.coordinates.map { max(abs($0.x), abs($0.y)) }.max() ?? 0
        scale = reach > 0 ? reach / 0.8 : 1
    }

    public var directions: [[Float]] { plane.directions.map { $0.map { Float(Double($0) * scale) } } }

    /// "step x y" in grid units, the path from θ₀ to the final point (drawn over the contours).
    public func writePath(to dir: URL) throws {
        var text = "# step x y: the saved path on the PCA plane (grid units; explained variance \(plane.explainedVariance.map { String(format: "%.4f", $0) }.joined(separator: " ")))\n"
        for c in plane.coordinates { text += "\(c.step) \(c.x / scale) \(c.y / scale)\n" }
        try AtomicFile.write(text, to: dir.appendingPathComponent(Self.pathFile))
    }

    /// The path of the run in `dir` on its PCA plane.
    public static func load(run dir: URL) throws -> TrajectoryGridPlane {
        let url = dir.appendingPathComponent(TrajectoryFile.name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw DataError.io(file: url.path, reason: "missing: train the run with `tianalyze qat --save-trajectory K` to draw its path")
        }
        let saved = try TrajectoryFile.read(url)
        do { return TrajectoryGridPlane(plane: try TrajectoryPCA.plane(of: saved), origin: Checkpoint.hash(saved.origin)) } catch let e as LandscapeError {
            throw DataError.mismatch(file: url.path, reason: "\(e)")
        }
    }
}

extension LandscapeStudy {
    /// The space the grid maps into, its label for the configuration, the seed recorded, and the
    /// trajectory plane when the directions come from one.
    static func surfaceSpace(target: AnalysisTarget, options o: LandscapeOptions, communicator comm: Communicator) throws
        -> (LandscapeSpace, String, UInt64, TrajectoryGridPlane?) {
        let layout = target.model.layout
        if o.interpolate {
            guard let start = o.interpolationStart else { return (.between(target.teacher, target.parameters), "interpolation teacher→point", o.seed, nil) }
            guard start.parameters.count == target.parameters.count else {
                throw LandscapeError.invalidConfig("\(start.label) has \(start.parameters.count) parameters, the end point \(target.parameters.count); interpolate between runs of one layout")
            }
            return (.between(start.parameters, target.parameters),
                    "interpolation \(start.label) (\(Checkpoint.hash(start.parameters)))→point", o.seed, nil)
        }
        if let (label, plane) = o.trajectory {
            guard plane.plane.centre.count == target.parameters.count else {
                throw LandscapeError.invalidConfig("the trajectory of \(label) holds \(plane.plane.centre.count) parameters, the analysed point \(target.parameters.count)")
            }
            let d = LandscapeDirections.fromVectors(Array(plane.directions.prefix(o.oneDimensional ? 1 : 2)), weights: target.parameters, layout: layout)
            return (.around(target.parameters, directions: d), "trajectory PCA of \(label) (scale \(plane.scale))", o.seed, plane)
        }
        let seed = o.directionSeed ?? o.seed
        let directions: LandscapeDirections
        var recordedSeed = seed
        if let file = o.eigenDirections {
            let raw = try DirectionFile.read(URL(fileURLWithPath: file), layout: layout)
            let wanted = o.oneDimensional ? 1 : 2
            guard raw.count >= wanted else {
                throw DataError.mismatch(file: file, reason: "holds \(raw.count) eigenvector(s), the landscape needs \(wanted)")
            }
            directions = LandscapeDirections.fromVectors(Array(raw.vectors.prefix(wanted)), weights: target.parameters, layout: layout,
                                                         normalization: o.directionOptions.normalization == .none ? nil : o.directionOptions)
        } else if let file = o.directionFile {
            // Rank 0 creates a missing file before the others read it.
            if comm.isDistributed && !comm.isRoot { comm.barrier() }
            directions = try LandscapeDirections.loadOrCreate(at: URL(fileURLWithPath: file), weights: target.parameters, layout: layout,
                                                               seed: seed, count: o.oneDimensional ? 1 : 2, options: o.directionOptions)
            if comm.isDistributed && comm.isRoot { comm.barrier() }
            recordedSeed = directions.seed ?? seed
        } else {
            directions = LandscapeDirections.random(weights: target.parameters, layout: layout, seed: seed,
                                                    count: o.oneDimensional ? 1 : 2, options: o.directionOptions)
        }
        return (.around(target.parameters, directions: directions), o.directionOptions.label, recordedSeed, nil)
    }

    /// roughness.csv (one surface: n = 1) beside the grid files.
    static func writeRoughness(config: LandscapeConfig, points: [LandscapePoint], to dir: URL) throws {
        try RoughnessSummary(surfaces: [Roughness.measure(config: config, points: points)]).write(to: dir)
    }

    /// The same surface over several direction seeds (each in `<outDir>/seed-<s>/`, resumable like
    /// any landscape), then each metric's mean and 95 % interval per mode and the paired
    /// differences between modes in `<outDir>/roughness*.csv`.
    public static func runSeeds(_ seeds: [UInt64], target: AnalysisTarget, options: LandscapeOptions, outDir: URL,
                                events: RunEvents = .silent, communicator comm: Communicator = SingleProcess.shared) throws -> RoughnessSummary? {
        var surfaces: [[ModeRoughness]] = []
        for s in seeds {
            var o = options
            o.directionSeed = s
            let dir = outDir.appendingPathComponent("seed-\(s)")
            let (_, config) = try run(target: target, options: o, outDir: dir, events: events, communicator: comm)
            guard comm.isRoot else { continue }
            surfaces.append(Roughness.measure(config: config, points: try LandscapeRun.finishedPoints(config: config, in: dir)))
        }
        guard comm.isRoot, !surfaces.isEmpty else { return nil }
        let summary = RoughnessSummary(surfaces: surfaces)
        try summary.write(to: outDir)
        return summary
    }
}

/// Landscapes of several runs that share θ₀, drawn side by side: a folder holding the list of
/// their directories (`trajectory-panels.txt`, one per line) for the figure.
public enum TrajectoryPanels {
    public static let file = "trajectory-panels.txt"

    public static func write(_ dirs: [URL], to dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try AtomicFile.write(dirs.map { $0.standardizedFileURL.path }.joined(separator: "\n") + "\n", to: dir.appendingPathComponent(file))
    }
}
