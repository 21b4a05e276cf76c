// Per-tensor statistics of a forward pass taken over the global batch when the batch is split
// across ranks. A dynamic quantizer's scale is max|x| of the whole tensor; if each rank took the max
// of its own rows, R ranks would train a different quantized model than one process. Every such
// statistic passes through this object (one small collective per site per forward), so the forward
// code asks for "the batch's max" and gets the same value whatever the number of ranks.
//
// Calibration (PTQ, PEG, LSQ's initial steps, AdaRound) is not split: every rank calibrates on the
// whole calibration batches and gets the same ranges, so the estimators' observations need no reduction.
//
// Every rank must visit the same sites in the same order (they do: the control flow of a forward
// depends on the configuration and on reduced values only), or the collectives would not pair up.
import TILinalg

public final class GlobalBatchStatistics: @unchecked Sendable {
    public let communicator: Communicator
    /// With `recording`, every reduced value in the order the forward asked for them (tests compare
    /// the ranges of R ranks with those of one process site by site).
    public private(set) var reduced: [Double] = []
    let recording: Bool

    public init(communicator: Communicator, recording: Bool = false) {
        self.communicator = communicator; self.recording = recording
    }

    private func note(_ v: [Double]) -> [Double] {
        if recording { reduced += v }
        return v
    }

    private func maximum(_ v: [Double]) -> [Double] {
        var x = v
        communicator.maximum(&x)
        return note(x)
    }

    /// The statistics a forward uses on `communicator`: nil (the rank's rows are the batch) for one rank.
    public static func over(_ communicator: Communicator) -> GlobalBatchStatistics? {
        communicator.isDistributed ? GlobalBatchStatistics(communicator: communicator) : nil
    }

    /// max over ranks of a rank's max|x| (exact: a T widened to Double and back is the same T).
    public func maxAbs<T: BLASScalar>(_ local: T) -> T { T(maximum([Double(local)])[0]) }

    /// The global [min, max] from each rank's own.
    public func range<T: BLASScalar>(lo: T, hi: T) -> (lo: T, hi: T) {
        let v = maximum([-Double(lo), Double(hi)])
        return (T(-v[0]), T(v[1]))
    }

    /// Element-wise global per-dimension [min, max] (PEG's uncalibrated ranges).
    public func ranges(lo: [Double], hi: [Double]) -> ([Double], [Double]) {
        let v = maximum(lo.map { -$0 } + hi)
        return (v[..<lo.count].map { -$0 }, Array(v[lo.count...]))
    }

    /// True on every rank when it is true on any.
    public func any(_ flag: Bool) -> Bool { maximum([flag ? 1 : 0])[0] > 0 }

    /// max over ranks of a non-negative integer (exact below 2^53).
    public func maximum(_ local: Int64) -> Int64 { Int64(maximum([Double(local)])[0]) }
}
