// Everything that determines the numbers in landscape.csv. Its hash is the identity of a run
// directory: a rerun with the same hash resumes, anything else is refused, and shards are only
// merged when they agree on it.
import Foundation
import TILinalg

public struct LandscapeConfig: Codable, Sendable, Equatable {
    public var modes: [String]
    public var quantities: [String]
    public var grid: LandscapeGrid
    /// Seed the directions were drawn from (0 when they were given).
    public var seed: UInt64
    /// `LandscapeSpace.hash` (directions, or the interpolation target).
    public var directionsHash: String
    /// Hash of the checkpoint (centre / interpolation start); supplied by the caller.
    public var checkpointHash: String
    /// Human-readable description of the evaluation data, e.g. "RTE dev, 277 examples, seed 42".
    public var evalSet: String
    /// Direction normalization label, e.g. "filter/biasbn".
    public var normalization: String

    public init(modes: [String], quantities: [String], grid: LandscapeGrid, seed: UInt64,
                directionsHash: String, checkpointHash: String, evalSet: String, normalization: String) {
        self.modes = modes
        self.quantities = quantities
        self.grid = grid
        self.seed = seed
        self.directionsHash = directionsHash
        self.checkpointHash = checkpointHash
        self.evalSet = evalSet
        self.normalization = normalization
    }

    /// Fixed-order "key=value" lines; independent of JSON key order and float formatting choices.
    public var canonicalEncoding: String {
        [
            "version=1",
            "modes=\(modes.joined(separator: ","))",
            "quantities=\(quantities.joined(separator: ","))",
            "grid=\(grid.canonical)",
            "seed=\(seed)",
            "directions=\(directionsHash)",
            "checkpoint=\(checkpointHash)",
            "eval=\(evalSet)",
            "normalization=\(normalization)",
        ].joined(separator: "\n")
    }

    public var configHash: String {
        var h = StableHash()
        h.add(canonicalEncoding)
        return h.hex
    }

    /// Checks names can be written as CSV fields and gnuplot file names without quoting.
    public func validate() throws {
        guard !modes.isEmpty, !quantities.isEmpty else {
            throw LandscapeError.invalidConfig("need at least one mode and one quantity")
        }
        for name in modes + quantities {
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "_-.+".contains($0) }) else {
                throw LandscapeError.invalidConfig("mode/quantity name '\(name)' may only use letters, digits and _-.+")
            }
        }
        guard Set(modes).count == modes.count else { throw LandscapeError.invalidConfig("duplicate mode names \(modes)") }
        guard Set(quantities).count == quantities.count else {
            throw LandscapeError.invalidConfig("duplicate quantity names \(quantities)")
        }
        if quantities.contains(where: { ["x", "y", "mode"].contains($0) }) {
            throw LandscapeError.invalidConfig("quantity names x, y, mode clash with CSV columns")
        }
    }

    /// Convenience: the hash of a parameter vector, for `checkpointHash`.
    public static func parameterHash(_ parameters: [Float]) -> String {
        var h = StableHash()
        h.add("parameters")
        h.add(parameters)
        return h.hex
    }
}

/// Contents of landscape.json: the config, its hash, and where the run stands.
public struct LandscapeMetadata: Codable, Sendable, Equatable {
    public var format: String = "tianalyze-landscape-v1"
    public var config: LandscapeConfig
    public var configHash: String
    public var shard: ShardSpec
    /// Points this shard owns / has finished (landscape.csv is the source of truth for which).
    public var pointsTotal: Int
    public var pointsDone: Int
    /// All points done and, for a whole grid, its grid files written: set only in the last write.
    public var complete: Bool
    /// Hash of the first `pointsDone` points of landscape.csv (LandscapeRecordHash); a resume or
    /// merge refuses a record that no longer matches it. Absent in records written before it existed.
    public var recordChecksum: String?
    /// Mean wall-clock seconds per evaluated point in the latest session (nil before the first).
    public var secondsPerPoint: Double?
    public var updated: String
    /// Shard directories this one was merged from (merged runs only).
    public var mergedFrom: [String]?

    public init(config: LandscapeConfig, shard: ShardSpec, pointsTotal: Int, pointsDone: Int,
                secondsPerPoint: Double?, mergedFrom: [String]? = nil, complete: Bool? = nil, recordChecksum: String? = nil) {
        self.config = config
        self.configHash = config.configHash
        self.shard = shard
        self.pointsTotal = pointsTotal
        self.pointsDone = pointsDone
        self.complete = complete ?? (pointsDone == pointsTotal)
        self.recordChecksum = recordChecksum
        self.secondsPerPoint = secondsPerPoint
        self.updated = ISO8601DateFormatter().string(from: Date())
        self.mergedFrom = mergedFrom
    }
}

public enum LandscapeError: Error, CustomStringConvertible, Equatable {
    case invalidConfig(String)
    case configMismatch(directory: String, found: String, expected: String)
    case evaluator(String)
    case merge(String)

    public var description: String {
        switch self {
        case .invalidConfig(let s): return "landscape config: \(s)"
        case .configMismatch(let d, let found, let expected):
            return "\(d) holds a landscape with configHash \(found), this run has \(expected); use another output directory or delete it"
        case .evaluator(let s): return "landscape evaluator: \(s)"
        case .merge(let s): return "landscape merge: \(s)"
        }
    }
}
