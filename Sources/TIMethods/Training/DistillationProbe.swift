// The no-intervention KD loss and per-layer MSE against the teacher on a fixed dev subset: the
// quantity every method is compared on, whatever it trains with.
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

/// A fixed dev subset with cached teacher traces: KD loss without intervention and per-layer MSE
/// of the attention-block and layer outputs against the teacher (the paper's per-layer figures).
public struct DistillationProbe {
    let model: BertModel
    let batches: [Batch]
    /// The teacher's traces of this rank's batches (`mine`); ranks deal the batches out and gather the results.
    let teacherTraces: [ForwardTrace<Float>]
    let communicator: Communicator
    let mine: [Int]

    public init(model: BertModel, task: TaskData, teacher: [Float], size: Int, communicator: Communicator = SingleProcess.shared) {
        self.model = model; self.communicator = communicator
        let examples = Array(task.dev.prefix(size))
        batches = Batching.batches(examples, batchSize: 64, seqLen: task.seqLen, regression: task.isRegression)
        let bs = batches, mine = communicator.dealt(batches.count)
        self.mine = mine
        teacherTraces = Parallel.map(mine.count) { model.forward(effective: teacher, batch: bs[mine[$0]], options: ForwardOptions()) }
    }

    /// With `intervention`, the KD loss and errors of the intervened forward (in the given layers; nil: every layer).
    public func measure(_ θ: [Float], quantization: QuantConfig, intervention: (point: InterventionPoint, layers: [Int]?)? = nil)
        -> (kd: Double, attention: [Double], output: [Double]) {
        var spec = ObjectiveSpec(quantization: quantization, loss: .distillation, intervention: intervention?.point)
        spec.interventionLayers = intervention?.layers
        let obj = BertObjective<Float>(model: model, spec: spec)
        let L = model.config.numLayers
        var kd = 0.0, attn = [Double](repeating: 0, count: L), out = attn
        var count = 0
        let computed = Parallel.map(mine.count) { k -> [Double] in
            let t = teacherTraces[k]
            let r = obj.evaluate(θ, batch: batches[mine[k]], teacher: t, gradient: false)
            let a = (0..<L).map { Double(Losses.meanSquaredError(r.trace.layers[$0].attention.blockOutput, t.layers[$0].attention.blockOutput).0) }
            let o = (0..<L).map { Double(Losses.meanSquaredError(r.trace.layers[$0].feedForward.output, t.layers[$0].feedForward.output).0) }
            return [r.terms.total] + a + o
        }
        // Summed in batch order on every rank, as one process sums them.
        let perBatch = communicator.gatherDealt(computed, count: batches.count).map { v in
            (v[0], Array(v[1...L]), Array(v[(L + 1)...]))
        }
        for (b, r) in zip(batches, perBatch) {
            let w = Double(b.size)
            kd += w * r.0
            for l in 0..<L { attn[l] += w * r.1[l]; out[l] += w * r.2[l] }
            count += b.size
        }
        let inv = 1 / Double(max(count, 1))
        return (kd * inv, attn.map { $0 * inv }, out.map { $0 * inv })
    }
}
