// Errors under several ranks: a rank that throws while the others wait in a collective would leave
// them waiting for good. Work that may fail on some ranks only (rank 0's file writes, a bad state
// file) runs inside `agreeing`, which exchanges every rank's outcome: if any failed, every rank
// throws the first failing rank's error, as the same one line. One process: the body, nothing else.
import TILinalg
import TIData

/// The error of another rank, as its one line.
public struct RankFailure: Error, CustomStringConvertible, Sendable {
    public let rank: Int
    public let message: String
    public var description: String { message }
}

extension Communicator {
    /// Runs `body` on this rank, then agrees on the outcome with every rank: the failing rank of
    /// lowest number throws its own error there and `RankFailure` with its message everywhere else.
    public func agreeing<R>(_ body: () throws -> R) throws -> R {
        guard isDistributed else { return try body() }
        let outcome = Result(catching: body)
        var line: [UInt8] = []
        if case .failure(let e) = outcome { line = Array(("\(e)".isEmpty ? "rank \(rank) failed" : "\(e)").utf8) }
        let all = allGather(line)
        if let first = all.firstIndex(where: { !$0.isEmpty }) {
            if first == rank, case .failure(let e) = outcome { throw e }
            throw RankFailure(rank: first, message: String(decoding: all[first], as: UTF8.self))
        }
        return try outcome.get()
    }

    /// Runs `body` on rank 0 only (writing files), the outcome agreed by every rank.
    public func onRoot(_ body: () throws -> Void) throws {
        try agreeing { if isRoot { try body() } }
    }

    /// The items of `count` (evaluation batches) this rank computes: every R-th from its rank, so that
    /// ranks share the work while each item is computed whole, exactly as one process computes it.
    public func dealt(_ count: Int) -> [Int] { Array(stride(from: rank, to: count, by: size)) }

    /// Every rank's values for its `dealt` items, back in item order on every rank.
    public func gatherDealt(_ mine: [[Double]], count: Int) -> [[Double]] {
        guard isDistributed else { return mine }
        var flat: [Double] = []
        for v in mine { flat.append(Double(v.count)); flat += v }
        let parts = allGather(flat.withUnsafeBytes { Array($0) }).map { bytes in
            bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
        }
        var items = [[Double]](repeating: [], count: count)
        for (r, part) in parts.enumerated() {
            var i = 0
            for item in Self.share(dealtTo: r, count: count, size: size) {
                let n = Int(part[i])
                items[item] = Array(part[(i + 1)..<(i + 1 + n)])
                i += 1 + n
            }
        }
        return items
    }

    static func share(dealtTo rank: Int, count: Int, size: Int) -> [Int] { Array(stride(from: rank, to: count, by: size)) }
}
