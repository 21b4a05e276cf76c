// Runs (or resumes) one shard of a landscape grid. Layout of a run directory:
//
//   <out>/landscape.json          config + configHash + progress (atomic rewrite)
//   <out>/landscape.csv           x,y,mode,<quantities…>; one line per point and mode (append-only)
//   <out>/grid-<mode>-<q>.dat     gnuplot grids, written when the whole grid is done
//   <out>/shard-i-of-n/…          the same files for shard i of n (grids only after merge)
import Foundation
import TIData

public struct LandscapeProgress: Sendable, Equatable {
    /// Points of this shard finished so far (including ones resumed from disk).
    public let done: Int
    public let total: Int
    /// Points found finished on disk when the run started.
    public let resumed: Int
    /// Mean seconds per point evaluated in this session (nil before the first).
    public let secondsPerPoint: Double?
    public var remaining: Int { total - done }

    public init(done: Int, total: Int, resumed: Int, secondsPerPoint: Double?) {
        self.done = done; self.total = total; self.resumed = resumed; self.secondsPerPoint = secondsPerPoint
    }
    public var etaSeconds: Double? { secondsPerPoint.map { $0 * Double(remaining) } }

    /// e.g. "412/1681 points, 3.20 s/point, ETA 1h07m40s"
    public var summary: String {
        var s = "\(done)/\(total) points"
        if let spp = secondsPerPoint, let eta = etaSeconds {
            s += String(format: ", %.2f s/point, ETA ", spp) + Self.duration(eta)
        }
        return s
    }

    static func duration(_ t: Double) -> String {
        let s = Int(t.rounded())
        if s >= 3600 { return String(format: "%dh%02dm%02ds", s / 3600, (s / 60) % 60, s % 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}

public struct LandscapeRun {
    public let config: LandscapeConfig
    public let space: LandscapeSpace
    public let shard: ShardSpec
    /// The run directory given by the user; shards work in a subdirectory of it.
    public let outDir: URL
    /// fsync after each point (off only for tests and throwaway runs).
    public var durable: Bool = true
    /// Minimum seconds between rewrites of landscape.json while running.
    public var metadataInterval: Double = 10

    public init(config: LandscapeConfig, space: LandscapeSpace, outDir: URL, shard: ShardSpec = .whole) throws {
        try config.validate()
        guard config.grid.kind == space.kind else {
            throw LandscapeError.invalidConfig("grid kind \(config.grid.kind.rawValue) does not match the parameter space (\(space.kind.rawValue))")
        }
        guard config.directionsHash == space.hash else {
            throw LandscapeError.invalidConfig("config directionsHash \(config.directionsHash) differs from the directions in use (\(space.hash))")
        }
        if config.grid.isTwoDimensional && space.axes < 2 {
            throw LandscapeError.invalidConfig("a 2-D grid needs two directions")
        }
        self.config = config
        self.space = space
        self.shard = shard
        self.outDir = outDir
    }

    public var directory: URL { shard.isWhole ? outDir : outDir.appendingPathComponent(shard.directoryName) }
    public var metadataURL: URL { directory.appendingPathComponent("landscape.json") }
    public var csvURL: URL { directory.appendingPathComponent("landscape.csv") }

    /// Evaluates every point of this shard not yet in landscape.csv. Throws whatever the evaluator
    /// throws, after recording progress; rerunning resumes from the last finished point.
    @discardableResult
    public func run(_ evaluator: LandscapeEvaluator,
                    progress: ((LandscapeProgress) -> Void)? = nil) throws -> LandscapeProgress {
        guard evaluator.modes == config.modes, evaluator.quantities == config.quantities else {
            throw LandscapeError.invalidConfig("evaluator reports modes \(evaluator.modes) / quantities \(evaluator.quantities), config has \(config.modes) / \(config.quantities)")
        }
        let format = LandscapeCSVFormat(config: config)
        let mine = shard.points(total: config.grid.pointCount)
        let lock = try RunDirectoryLock(directory, file: RunDirectoryLock.landscapeFile, what: "landscape (shard)")
        defer { withExtendedLifetime(lock) {} }
        AtomicFile.removeStaleTemporaries(in: directory)
        let prepared = try prepareDirectory(format: format)
        let done = prepared.0
        var record = prepared.1
        let writer = try AppendOnlyFile(csvURL, durable: durable)
        let existingBytes = (try FileManager.default.attributesOfItem(atPath: csvURL.path)[.size] as? Int) ?? 0
        if existingBytes == 0 { try writer.append(format.header) }

        var finished = done.count
        var evaluated = 0
        let sessionStart = Date()
        var lastMetadata = Date()
        func report() -> LandscapeProgress {
            let spp = evaluated > 0 ? Date().timeIntervalSince(sessionStart) / Double(evaluated) : nil
            return LandscapeProgress(done: finished, total: mine.count, resumed: done.count, secondsPerPoint: spp)
        }
        // `complete` is true only in the last write, after a whole grid's files exist.
        func writeMetadata(complete: Bool = false) throws {
            let p = report()
            try AtomicFile.writeJSON(
                LandscapeMetadata(config: config, shard: shard, pointsTotal: p.total, pointsDone: p.done, secondsPerPoint: p.secondsPerPoint,
                                  complete: complete, recordChecksum: record.hex),
                to: metadataURL)
        }
        progress?(report())
        var completed = false
        // Progress is recorded even when the evaluator throws, so landscape.json never lags far behind.
        defer { if !completed { try? writeMetadata() } }

        for p in mine where !done.contains(p) {
            let c = config.grid.coordinates(of: p)
            let values = try evaluator.evaluate(parameters: space.parameters(x: c.x, y: c.y))
            guard values.count == config.modes.count, values.allSatisfy({ $0.count == config.quantities.count }) else {
                throw LandscapeError.evaluator("returned \(values.map(\.count)) values at point \(p), expected \(config.modes.count) modes × \(config.quantities.count) quantities")
            }
            let point = LandscapePoint(index: p, values: values)
            try writer.append(format.lines(for: point))
            record.add(point)
            finished += 1
            evaluated += 1
            progress?(report())
            if Date().timeIntervalSince(lastMetadata) >= metadataInterval {
                try writeMetadata()
                lastMetadata = Date()
            }
        }
        try writeMetadata()
        if shard.isWhole {
            try LandscapeGridFiles.write(config: config, points: try readPoints(), to: directory)
        }
        try writeMetadata(complete: true)
        completed = true
        return report()
    }

    /// Finished points of a whole (or merged) grid in `dir`, in file order.
    public static func finishedPoints(config: LandscapeConfig, in dir: URL) throws -> [LandscapePoint] {
        try LandscapeCSVReader.scan(dir.appendingPathComponent("landscape.csv"), format: LandscapeCSVFormat(config: config), allowedPoint: { _ in true }).points
    }

    /// Finished points in this shard's landscape.csv, in file order.
    public func readPoints() throws -> [LandscapePoint] {
        let format = LandscapeCSVFormat(config: config)
        return try LandscapeCSVReader.scan(csvURL, format: format, allowedPoint: shard.owns(point:)).points
    }

    /// Checks the directory belongs to this config and its record is intact, drops a torn CSV tail,
    /// and returns the finished points with the hash of the record so far.
    private func prepareDirectory(format: LandscapeCSVFormat) throws -> (Set<Int>, LandscapeRecordHash) {
        let fm = FileManager.default
        var recorded: LandscapeMetadata? = nil
        if fm.fileExists(atPath: metadataURL.path) {
            let meta = try InputFile.decodeJSON(LandscapeMetadata.self, from: metadataURL)
            recorded = meta
            guard meta.configHash == config.configHash else {
                throw LandscapeError.configMismatch(directory: directory.path, found: meta.configHash, expected: config.configHash)
            }
            guard meta.shard == shard else {
                throw LandscapeError.invalidConfig("\(directory.path) belongs to shard \(meta.shard), this run is shard \(shard)")
            }
        } else if fm.fileExists(atPath: csvURL.path) {
            throw DataError.mismatch(file: csvURL.path, reason: "landscape.csv without landscape.json; refusing to append to a file of unknown origin")
        }
        var points: [LandscapePoint] = []
        if fm.fileExists(atPath: csvURL.path) {
            let scan = try LandscapeCSVReader.scan(csvURL, format: format, allowedPoint: shard.owns(point:))
            if let meta = recorded, let checksum = meta.recordChecksum {
                try LandscapeRecordHash.verify(scan.points, recorded: meta.pointsDone, checksum: checksum, format: format, file: csvURL.path)
            }
            if !scan.headerPresent {
                try AppendOnlyFile.truncate(csvURL, to: 0)
            } else if scan.validLength < scan.fileLength {
                try AppendOnlyFile.truncate(csvURL, to: scan.validLength)
            }
            points = scan.points
        } else if let meta = recorded, meta.pointsDone > 0 {
            throw DataError.mismatch(file: csvURL.path, reason: "missing, but landscape.json records \(meta.pointsDone) finished points; restore it or delete the run folder")
        }
        let record = LandscapeRecordHash(format: format, points: points)
        // Claim the directory (or refresh its progress) before the first new point is written.
        try AtomicFile.writeJSON(
            LandscapeMetadata(config: config, shard: shard, pointsTotal: shard.points(total: config.grid.pointCount).count,
                              pointsDone: points.count, secondsPerPoint: nil, complete: false, recordChecksum: record.hex),
            to: metadataURL)
        return (Set(points.map(\.index)), record)
    }
}
