// Joining shard directories into one run, and the gnuplot grid files written at the end.
// A merged directory looks exactly like an unsharded run (same landscape.csv bytes, same grid
// files), so the plotting side never needs to know the grid was split.
import Foundation
import TIData

public enum LandscapeGridFiles {
    /// "grid-<mode>-<quantity>.dat"
    public static func fileName(mode: String, quantity: String) -> String { "grid-\(mode)-\(quantity).dat" }

    /// Writes one file per mode and quantity, atomically: "x y value" lines, rows of constant y
    /// separated by a blank line (gnuplot's grid format for splot/pm3d); "x value" on 1-D grids.
    public static func write(config: LandscapeConfig, points: [LandscapePoint], to dir: URL) throws {
        var byIndex = [LandscapePoint?](repeating: nil, count: config.grid.pointCount)
        for p in points { byIndex[p.index] = p }
        if let missing = byIndex.firstIndex(where: { $0 == nil }) {
            throw LandscapeError.merge("cannot write grid files for \(dir.path): point \(missing) is missing")
        }
        let grid = config.grid
        for (m, mode) in config.modes.enumerated() {
            for (q, quantity) in config.quantities.enumerated() {
                var text = "# \(mode) \(quantity) configHash \(config.configHash)\n"
                for iy in 0..<(grid.y?.num ?? 1) {
                    for ix in 0..<grid.x.num {
                        let p = iy * grid.x.num + ix
                        let v = LandscapeCSVFormat.number(byIndex[p]!.values[m][q])
                        let x = LandscapeCSVFormat.number(grid.x.coordinate(ix))
                        if let y = grid.y {
                            text += "\(x) \(LandscapeCSVFormat.number(y.coordinate(iy))) \(v)\n"
                        } else {
                            text += "\(x) \(v)\n"
                        }
                    }
                    if grid.y != nil { text += "\n" }
                }
                try AtomicFile.write(text, to: dir.appendingPathComponent(fileName(mode: mode, quantity: quantity)))
            }
        }
    }
}

public enum LandscapeMerge {
    /// The `shard-i-of-n` subdirectories of a run directory, sorted by shard index.
    public static func shardDirectories(in outDir: URL) throws -> [URL] {
        let names = try FileManager.default.contentsOfDirectory(atPath: outDir.path)
        let shards = names.compactMap { name -> (Int, URL)? in
            let parts = name.split(separator: "-")
            guard parts.count == 4, parts[0] == "shard", parts[2] == "of", let i = Int(parts[1]), Int(parts[3]) != nil else { return nil }
            return (i, outDir.appendingPathComponent(name))
        }
        return shards.sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// Merges the shard directories found in `outDir` into `outDir` itself.
    @discardableResult
    public static func merge(shardsIn outDir: URL) throws -> LandscapeMetadata {
        let dirs = try shardDirectories(in: outDir)
        guard !dirs.isEmpty else { throw LandscapeError.merge("no shard-i-of-n directories in \(outDir.path)") }
        return try merge(dirs: dirs, into: outDir)
    }

    /// Merges the R shards of a run over R MPI ranks (shard-r-of-R, r < R) into `outDir`; shard
    /// folders of other counts (an earlier array job) are left alone.
    @discardableResult
    public static func merge(rankShardsOf count: Int, in outDir: URL) throws -> LandscapeMetadata {
        let dirs = try (0..<count).map { outDir.appendingPathComponent(try ShardSpec(index: $0, count: count).directoryName) }
        return try merge(dirs: dirs, into: outDir)
    }

    /// Joins complete shards sharing one configHash into `into` (landscape.json, landscape.csv in
    /// point order, grid files). Refuses mixed configs, missing or duplicate shards, and incomplete shards.
    @discardableResult
    public static func merge(dirs: [URL], into: URL) throws -> LandscapeMetadata {
        guard !dirs.isEmpty else { throw LandscapeError.merge("no shard directories given") }
        var metas: [(URL, LandscapeMetadata)] = []
        for dir in dirs {
            metas.append((dir, try InputFile.decodeJSON(LandscapeMetadata.self, from: dir.appendingPathComponent("landscape.json"))))
        }
        let config = metas[0].1.config
        let hash = config.configHash
        for (dir, meta) in metas where meta.configHash != hash || meta.config.configHash != hash {
            throw LandscapeError.merge("\(dir.path) has configHash \(meta.configHash), \(metas[0].0.path) has \(hash)")
        }
        let n = metas[0].1.shard.count
        var seenShards = Set<Int>()
        for (dir, meta) in metas {
            guard meta.shard.count == n else {
                throw LandscapeError.merge("\(dir.path) is shard \(meta.shard), others are of \(n)")
            }
            guard seenShards.insert(meta.shard.index).inserted else {
                throw LandscapeError.merge("shard \(meta.shard) given twice (\(dir.path))")
            }
        }
        if let missing = (0..<n).first(where: { !seenShards.contains($0) }) {
            throw LandscapeError.merge("shard \(missing)/\(n) is missing")
        }

        let format = LandscapeCSVFormat(config: config)
        var byIndex = [LandscapePoint?](repeating: nil, count: config.grid.pointCount)
        for (dir, meta) in metas {
            let csv = dir.appendingPathComponent("landscape.csv")
            let points = try LandscapeCSVReader.scan(csv, format: format, allowedPoint: meta.shard.owns(point:)).points
            if let checksum = meta.recordChecksum {
                try LandscapeRecordHash.verify(points, recorded: meta.pointsDone, checksum: checksum, format: format, file: csv.path)
            }
            let expected = meta.shard.points(total: config.grid.pointCount).count
            guard points.count == expected else {
                throw LandscapeError.merge("shard \(meta.shard) in \(dir.path) is incomplete: \(points.count)/\(expected) points")
            }
            for p in points { byIndex[p.index] = p }
        }
        let points = byIndex.compactMap { $0 }
        guard points.count == config.grid.pointCount else {
            throw LandscapeError.merge("merged grid has \(points.count)/\(config.grid.pointCount) points")
        }

        let metaURL = into.appendingPathComponent("landscape.json")
        if let data = try? Data(contentsOf: metaURL) {
            let existing = try? JSONDecoder().decode(LandscapeMetadata.self, from: data)
            guard existing?.configHash == hash else {
                throw LandscapeError.configMismatch(directory: into.path, found: existing?.configHash ?? "(unreadable)", expected: hash)
            }
        }
        var csv = format.header
        for p in points { csv += format.lines(for: p) }
        try AtomicFile.write(csv, to: into.appendingPathComponent("landscape.csv"))
        try LandscapeGridFiles.write(config: config, points: points, to: into)
        let meta = LandscapeMetadata(config: config, shard: .whole, pointsTotal: points.count, pointsDone: points.count,
                                     secondsPerPoint: nil, mergedFrom: metas.map { $0.0.lastPathComponent },
                                     recordChecksum: LandscapeRecordHash(format: format, points: points).hex)
        try AtomicFile.writeJSON(meta, to: metaURL)
        return meta
    }
}

/// Where a (possibly sharded) landscape run stands, read from disk without running anything.
public struct LandscapeStatus: Sendable, Equatable {
    public struct Part: Sendable, Equatable {
        public let directory: String
        public let shard: ShardSpec
        public let configHash: String
        /// Finished points per landscape.csv (a torn tail is not counted).
        public let done: Int
        public let total: Int
        public var complete: Bool { done == total }
    }
    public let parts: [Part]
    public var done: Int { parts.reduce(0) { $0 + $1.done } }

    /// Reads `outDir` itself (unsharded or merged run) and its `shard-i-of-n` subdirectories.
    public static func read(outDir: URL) throws -> LandscapeStatus {
        var dirs: [URL] = []
        if FileManager.default.fileExists(atPath: outDir.appendingPathComponent("landscape.json").path) { dirs.append(outDir) }
        dirs += (try? LandscapeMerge.shardDirectories(in: outDir)) ?? []
        var parts: [Part] = []
        for dir in dirs {
            let url = dir.appendingPathComponent("landscape.json")
            let meta = try InputFile.decodeJSON(LandscapeMetadata.self, from: url)
            let csv = dir.appendingPathComponent("landscape.csv")
            let done = FileManager.default.fileExists(atPath: csv.path)
                ? try LandscapeCSVReader.scan(csv, format: LandscapeCSVFormat(config: meta.config), allowedPoint: meta.shard.owns(point:)).points.count
                : 0
            parts.append(Part(directory: dir.lastPathComponent, shard: meta.shard, configHash: meta.configHash, done: done,
                              total: meta.shard.points(total: meta.config.grid.pointCount).count))
        }
        return LandscapeStatus(parts: parts)
    }
}
