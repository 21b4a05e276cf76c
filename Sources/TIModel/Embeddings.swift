// Word + position + token-type embeddings, LayerNorm, dropout. Backward scatters into the tables.
import TILinalg
import TIQuant

public struct EmbeddingTrace<T: BLASScalar> {
    var norm: LayerNormCache<T>
    var dropMask: Buffer<T>?
    public var output: Buffer<T>  // [N, H] hidden state 0
}

public enum Embeddings {
    public static func forward<T: BLASScalar>(
        batch: Batch, params θ: UnsafePointer<T>, offsets o: BertParameterOffsets, dims d: Dims, eps: T,
        dropout: inout SeededRandom?, hiddenDropout: Double
    ) -> EmbeddingTrace<T> {
        let h = d.hidden, n = d.rows
        let sum = Buffer<T>(uninitialized: n * h)
        for r in 0..<n {
            let w = θ + o.wordEmbeddings + batch.tokens[r] * h
            let p = θ + o.positionEmbeddings + (r % d.seq) * h
            let t = θ + o.tokenTypeEmbeddings + batch.tokenTypes[r] * h
            let out = sum.p + r * h
            for j in 0..<h { out[j] = w[j] + p[j] + t[j] }
        }
        let normed = Buffer<T>(uninitialized: n * h)
        let norm = LayerNorm.forward(x: sum.p, rows: n, width: h, gain: θ + o.embeddingNorm.gain,
                                     bias: θ + o.embeddingNorm.bias, eps: eps, y: normed.p)
        let dropMask: Buffer<T>? = Dropout.mask(count: n * h, p: hiddenDropout, rng: &dropout, dims: d)
        if let dropMask { normed.multiply(by: dropMask) }
        return EmbeddingTrace(norm: norm, dropMask: dropMask, output: normed)
    }

    public static func backward<T: BLASScalar>(
        _ tr: EmbeddingTrace<T>, dOutput: Buffer<T>, batch: Batch, params θ: UnsafePointer<T>,
        grads g: UnsafeMutablePointer<T>, offsets o: BertParameterOffsets, dims d: Dims
    ) {
        let h = d.hidden, n = d.rows
        let dy = dOutput.copy()
        if let m = tr.dropMask { dy.multiply(by: m) }
        let dSum = Buffer<T>(count: n * h)
        LayerNorm.backward(dy: dy.p, cache: tr.norm, rows: n, width: h, gain: θ + o.embeddingNorm.gain,
                           dx: dSum.p, dGain: g + o.embeddingNorm.gain, dBias: g + o.embeddingNorm.bias)
        for r in 0..<n {
            let src = dSum.p + r * h
            let w = g + o.wordEmbeddings + batch.tokens[r] * h
            let p = g + o.positionEmbeddings + (r % d.seq) * h
            let t = g + o.tokenTypeEmbeddings + batch.tokenTypes[r] * h
            for j in 0..<h { w[j] += src[j]; p[j] += src[j]; t[j] += src[j] }
        }
    }
}
