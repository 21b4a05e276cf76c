// Results computed in pieces by the ranks of a job (per-example spectra, one rank's share of the
// examples each), joined in rank order so that every rank holds the list one process would have made.
import Foundation
import TILinalg

public enum RankGather {
    /// Every rank's `items`, concatenated in rank order, on every rank. Binary property lists keep
    /// every Double's bits (NaN and infinities included), which JSON would not.
    public static func concatenate<Item: Codable>(_ items: [Item], over comm: Communicator) throws -> [Item] {
        guard comm.isDistributed else { return items }
        let encoder = PropertyListEncoder()
        encoder.outputFormat = .binary
        let parts = comm.allGather(Array(try encoder.encode(items)))
        return try parts.flatMap { try PropertyListDecoder().decode([Item].self, from: Data($0)) }
    }
}
