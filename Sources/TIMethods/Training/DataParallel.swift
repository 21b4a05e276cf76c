// Data-parallel training over the ranks of a `Communicator`. Every rank builds the same global batch
// (so padding and sequence length are the global batch's), takes its contiguous share of the rows,
// and runs forward and backward on it; the quantizers' ranges are reduced to the global batch's
// inside the forward (GlobalBatchStatistics), dropout is keyed by global example index (Batch.firstExample).
// Every loss term is a mean over entries whose count is proportional to the number of examples, so
// the global mean is Σ_r (B_r/B)·mean_r, summed in rank order: the same bits on every rank, and the
// optimizer, fed the same gradient, keeps the same state everywhere. One rank is one process:
// nothing here is taken when the communicator has a single rank, so one process is unchanged bit for bit.
import TILinalg
import TIQuant
import TIModel

public enum DataParallel {
    /// This rank's rows of the global batch (the batch itself for one rank).
    public static func share(of batch: Batch, _ comm: Communicator) -> Batch {
        comm.isDistributed ? batch.slice(comm.share(of: batch.size)) : batch
    }

    /// The weight of a share's mean in the global mean.
    static func weight(_ share: Batch, of batch: Batch) -> Double { Double(share.size) / Double(batch.size) }

    /// The global means of the loss terms and of `extra` scalars (e.g. the logged task loss) from each
    /// rank's means over its share.
    public static func mean(_ terms: LossTerms, extra: [Double] = [], share: Batch, of batch: Batch, _ comm: Communicator)
        -> (LossTerms, [Double]) {
        guard comm.isDistributed else { return (terms, extra) }
        let w = weight(share, of: batch)
        var v = [terms.total, terms.task, terms.logits, terms.hidden, terms.scores, terms.attentionBlocks] + extra
        for i in v.indices { v[i] *= w }
        comm.sumInRankOrder(&v)
        var t = LossTerms()
        (t.total, t.task, t.logits, t.hidden, t.scores, t.attentionBlocks) = (v[0], v[1], v[2], v[3], v[4], v[5])
        return (t, Array(v[6...]))
    }

    /// The global mean gradient from each rank's gradient of its share's mean.
    public static func mean<T: BLASScalar>(_ g: inout [T], share: Batch, of batch: Batch, _ comm: Communicator) {
        guard comm.isDistributed else { return }
        let w = T(weight(share, of: batch))
        if !g.isEmpty { g.withUnsafeMutableBufferPointer { T.scal($0.count, w, $0.baseAddress!) } }
        // T is Float or Double (BLASScalar): the reinterpretations below are of the same type, no copies.
        if T.self == Float.self {
            var f = unsafeBitCast(g, to: [Float].self)
            g = []
            comm.sumInRankOrder(&f)
            g = unsafeBitCast(f, to: [T].self)
        } else {
            var d = unsafeBitCast(g, to: [Double].self)
            g = []
            comm.sumInRankOrder(&d)
            g = unsafeBitCast(d, to: [T].self)
        }
    }
}

/// One rank's result of a data-parallel evaluation: the global loss and gradient, and the trace of its share.
public struct DataParallelResult<T: BLASScalar> {
    public var loss: T { T(terms.total) }
    public var terms: LossTerms
    public var gradient: [T]?
    /// This rank's forward (its share's rows).
    public var share: ObjectiveResult<T>
}

extension BertObjective {
    /// Loss (and gradient) over the global `batch`, this rank computing its share: the global batch's
    /// ranges in every quantizer, dropout by global example index, means reduced over the ranks.
    /// `teacher` is the teacher's θ (its forward runs on the share, in full precision).
    public func evaluate(_ θ: [T], globalBatch batch: Batch, teacher: [T]?, gradient wantGradient: Bool, dropoutSeed: UInt64? = nil,
                         communicator comm: Communicator) -> DataParallelResult<T> {
        let share = DataParallel.share(of: batch, comm)
        var obj = self
        obj.batchStatistics = batchStatistics ?? GlobalBatchStatistics.over(comm)
        let t = teacher.map { obj.teacherTrace(teacher: $0, batch: share) }
        var r = obj.evaluate(θ, batch: share, teacher: t, gradient: wantGradient, dropoutSeed: dropoutSeed)
        let (terms, _) = DataParallel.mean(r.terms, share: share, of: batch, comm)
        if var g = r.gradient {
            DataParallel.mean(&g, share: share, of: batch, comm)
            r.gradient = g
        }
        return DataParallelResult(terms: terms, gradient: r.gradient, share: r)
    }
}
