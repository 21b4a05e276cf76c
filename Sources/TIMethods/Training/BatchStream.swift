// The training data order: epoch-wise reshuffled batches from the run's seed.
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

/// Epoch-wise reshuffled batches, continuing across the two steps of a TI run.
public struct BatchStream {
    let examples: [Example]
    let batchSize: Int, seqLen: Int, regression: Bool
    var rng: SeededRandom
    var order: [Example] = []
    var position = 0

    public init(examples: [Example], batchSize: Int, seqLen: Int, regression: Bool, rng: SeededRandom) {
        self.examples = examples; self.batchSize = batchSize; self.seqLen = seqLen; self.regression = regression; self.rng = rng
    }

    public mutating func next() -> Batch {
        if position >= order.count {
            order = examples
            rng.shuffle(&order)
            position = 0
        }
        let end = min(position + batchSize, order.count)
        defer { position = end }
        return Batching.batch(order[position..<end], seqLen: seqLen, regression: regression)
    }
}
