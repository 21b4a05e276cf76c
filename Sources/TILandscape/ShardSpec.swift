// A 41×41 grid of BERT evaluations in four modes is days of CPU time, so the grid is split over
// array jobs / MPI ranks: shard i of n evaluates the points whose index ≡ i (mod n). Interleaving
// (rather than contiguous blocks) keeps the shards equally expensive and lets partial results
// already cover the whole plane.
import Foundation

public struct ShardSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = ShardSpec(uncheckedIndex: 0, count: 1)

    private init(uncheckedIndex: Int, count: Int) {
        self.index = uncheckedIndex
        self.count = count
    }

    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw ShardError.invalid("shard count must be ≥ 1 (got \(count))") }
        guard index >= 0 && index < count else { throw ShardError.invalid("shard index \(index) outside 0..<\(count)") }
        self.init(uncheckedIndex: index, count: count)
    }

    /// Parses "i/n" (e.g. "3/8").
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let n = Int(parts[1].trimmingCharacters(in: .whitespaces)) else {
            throw ShardError.invalid("shard '\(text)' must be i/n, e.g. 0/4")
        }
        try self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }
    public var isWhole: Bool { count == 1 }

    /// Subdirectory a shard writes to inside the run directory.
    public var directoryName: String { "shard-\(index)-of-\(count)" }

    public func owns(point: Int) -> Bool { point % count == index }

    public func points(total: Int) -> [Int] {
        Array(stride(from: index, to: total, by: count))
    }

    /// Reads the shard from scheduler variables, first match wins:
    /// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (offset by SLURM_ARRAY_TASK_MIN when arrays start
    /// at 1, e.g. `--array=1-8`), OMPI_COMM_WORLD_RANK/SIZE, PMI_RANK/PMI_SIZE.
    /// Returns nil when none is set; throws when a pair is half-set or out of range.
    public static func fromEnvironment(_ env: [String: String]) throws -> ShardSpec? {
        let pairs = [("SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT"),
                     ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
                     ("PMI_RANK", "PMI_SIZE")]
        for (indexKey, countKey) in pairs {
            let i = env[indexKey], n = env[countKey]
            if i == nil && n == nil { continue }
            guard let i, let n else {
                throw ShardError.invalid("\(i == nil ? indexKey : countKey) is unset but \(i == nil ? countKey : indexKey) is set")
            }
            guard let index = Int(i.trimmingCharacters(in: .whitespaces)),
                  let count = Int(n.trimmingCharacters(in: .whitespaces)) else {
                throw ShardError.invalid("\(indexKey)='\(i)' / \(countKey)='\(n)' are not integers")
            }
            var offset = 0
            if indexKey.hasPrefix("SLURM"), let m = env["SLURM_ARRAY_TASK_MIN"] {
                guard let min = Int(m.trimmingCharacters(in: .whitespaces)) else {
                    throw ShardError.invalid("SLURM_ARRAY_TASK_MIN='\(m)' is not an integer")
                }
                offset = min
            }
            do { return try ShardSpec(index: index - offset, count: count) } catch {
                throw ShardError.invalid("\(indexKey)=\(i) (min \(offset)) with \(countKey)=\(n): \(error)")
            }
        }
        return nil
    }
}

public enum ShardError: Error, CustomStringConvertible, Equatable {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let s): return "invalid shard: \(s)" }
    }
}
