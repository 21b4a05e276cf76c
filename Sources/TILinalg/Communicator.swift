// The ranks of one job: a single process, R threads standing in for R processes (tests), or R MPI
// processes (the CLI's MPI back-end). Library code talks to this protocol only, so data-parallel
// training and analysis are written once and tested without mpirun.
//
// Every collective is reproducible: for a given size the result has the same bits on every rank and
// in every run (sums are taken in rank order, never in arrival order), so the only thing that can
// change with R is the grouping of partial sums.
import Foundation

public protocol Communicator: AnyObject, Sendable {
    /// This rank, 0..<size.
    var rank: Int { get }
    /// How many ranks take part.
    var size: Int { get }
    /// x ← Σ_r x_r element-wise, summed in rank order r = 0, 1, … (same bits on every rank).
    func sumInRankOrder(_ x: inout [Double])
    func sumInRankOrder(_ x: inout [Float])
    /// x ← max_r x_r element-wise (exact: the order does not matter).
    func maximum(_ x: inout [Double])
    /// x ← root's x, on every rank (every rank passes an array; only root's contents are read).
    func broadcast(_ x: inout [Double], from root: Int)
    func broadcast(_ x: inout [Float], from root: Int)
    func broadcast(_ bytes: inout [UInt8], from root: Int)
    /// Every rank's bytes, in rank order, on every rank.
    func allGather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Returns once every rank has called it.
    func barrier()
    /// Ends every rank of the job with `message` (one line, written by the failing rank) and a non-zero exit.
    func abort(_ message: String) -> Never
}

extension Communicator {
    public var isRoot: Bool { rank == 0 }
    public var isDistributed: Bool { size > 1 }

    /// The slice of `count` items (examples of a batch, points of a grid) that this rank owns:
    /// contiguous, sizes differing by at most one, the first `count % size` ranks one larger.
    public func share(of count: Int) -> Range<Int> { Self.share(of: count, rank: rank, size: size) }

    public static func share(of count: Int, rank: Int, size: Int) -> Range<Int> {
        let base = count / size, extra = count % size
        let start = rank * base + min(rank, extra)
        return start..<(start + base + (rank < extra ? 1 : 0))
    }

    /// Σ over ranks of one scalar.
    public func sum(_ value: Double) -> Double {
        var x = [value]
        sumInRankOrder(&x)
        return x[0]
    }

    /// max over ranks of one scalar.
    public func maximum(_ value: Double) -> Double {
        var x = [value]
        maximum(&x)
        return x[0]
    }
}

/// One process, no peers: every collective is the identity.
public final class SingleProcess: Communicator, @unchecked Sendable {
    public static let shared = SingleProcess()
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sumInRankOrder(_ x: inout [Double]) {}
    public func sumInRankOrder(_ x: inout [Float]) {}
    public func maximum(_ x: inout [Double]) {}
    public func broadcast(_ x: inout [Double], from root: Int) {}
    public func broadcast(_ x: inout [Float], from root: Int) {}
    public func broadcast(_ bytes: inout [UInt8], from root: Int) {}
    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    public func barrier() {}
    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(1)
    }
}
