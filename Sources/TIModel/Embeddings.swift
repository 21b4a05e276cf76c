// Word + position + token-type embeddings, LayerNorm, dropout. Backward scatters into the tables.
// PTQ W8A8 quantizes the two partial sums the seed forms ((word + token type), then + position) and
// the LayerNorm output; every other scheme sums the three tables in one pass, as it always did.
import TILinalg
import TIQuant

public struct EmbeddingTrace<T: BLASScalar> {
    var norm: LayerNormCache<T>
    var tokenTypeSumMask: STEMask<T>?, sumMask: STEMask<T>?, normMask: STEMask<T>?  // seed-W8A8 sites
    var dropMask: Buffer<T>?
    public var output: Buffer<T>  // [N, H] hidden state 0
}

public enum Embeddings {
    public static func forward<T: BLASScalar>(
        batch: Batch, params θ: UnsafePointer<T>, offsets o: BertParameterOffsets, dims d: Dims, eps: T,
        quant: ActivationQuantization<T>, dropout: inout SeededRandom?, hiddenDropout: Double
    ) -> EmbeddingTrace<T> {
        let h = d.hidden, n = d.rows
        var sum = Buffer<T>(uninitialized: n * h)
        var tokenTypeSumMask: STEMask<T>? = nil, sumMask: STEMask<T>? = nil
        if quant.visits(.embeddingTokenTypeSum) || quant.visits(.embeddingSum) {
            for r in 0..<n {
                let w = θ + o.wordEmbeddings + batch.tokens[r] * h, t = θ + o.tokenTypeEmbeddings + batch.tokenTypes[r] * h
                let out = sum.p + r * h
                for j in 0..<h { out[j] = w[j] + t[j] }
            }
            (sum, tokenTypeSumMask) = quant.applyIfQuantized(.embeddingTokenTypeSum, sum)
            let withPosition = Buffer<T>(uninitialized: n * h)
            for r in 0..<n {
                let s = sum.p + r * h, p = θ + o.positionEmbeddings + (r % d.seq) * h, out = withPosition.p + r * h
                for j in 0..<h { out[j] = s[j] + p[j] }
            }
            (sum, sumMask) = quant.applyIfQuantized(.embeddingSum, withPosition)
        } else {
            for r in 0..<n {
                let w = θ + o.wordEmbeddings + batch.tokens[r] * h
                let p = θ + o.positionEmbeddings + (r % d.seq) * h
                let t = θ + o.tokenTypeEmbeddings + batch.tokenTypes[r] * h
                let out = sum.p + r * h
                for j in 0..<h { out[j] = w[j] + p[j] + t[j] }
            }
        }
        let normedRaw = Buffer<T>(uninitialized: n * h)
        let norm = LayerNorm.forward(x: sum.p, rows: n, width: h, gain: θ + o.embeddingNorm.gain,
                                     bias: θ + o.embeddingNorm.bias, eps: eps, y: normedRaw.p)
        let (normed, normMask) = quant.applyIfQuantized(.embeddingNorm, normedRaw)  // a fresh buffer when quantized
        let dropMask: Buffer<T>? = Dropout.mask(count: n * h, p: hiddenDropout, rng: &dropout, dims: d)
        if let dropMask { normed.multiply(by: dropMask) }
        return EmbeddingTrace(norm: norm, tokenTypeSumMask: tokenTypeSumMask, sumMask: sumMask, normMask: normMask,
                              dropMask: dropMask, output: normed)
    }

    public static func backward<T: BLASScalar>(
        _ tr: EmbeddingTrace<T>, dOutput: Buffer<T>, batch: Batch, params θ: UnsafePointer<T>,
        grads g: UnsafeMutablePointer<T>, offsets o: BertParameterOffsets, dims d: Dims
    ) {
        let h = d.hidden, n = d.rows
        let dy = dOutput.copy()
        if let m = tr.dropMask { dy.multiply(by: m) }
        tr.normMask?.backward(dy, grads: g)
        let dSum = Buffer<T>(count: n * h)
        LayerNorm.backward(dy: dy.p, cache: tr.norm, rows: n, width: h, gain: θ + o.embeddingNorm.gain,
                           dx: dSum.p, dGain: g + o.embeddingNorm.gain, dBias: g + o.embeddingNorm.bias)
        tr.sumMask?.backward(dSum, grads: g)
        let dTokenTypeSum = tr.tokenTypeSumMask == nil ? dSum : dSum.copy()
        tr.tokenTypeSumMask?.backward(dTokenTypeSum, grads: g)
        for r in 0..<n {
            let src = dSum.p + r * h, srcWT = dTokenTypeSum.p + r * h
            let w = g + o.wordEmbeddings + batch.tokens[r] * h
            let p = g + o.positionEmbeddings + (r % d.seq) * h
            let t = g + o.tokenTypeEmbeddings + batch.tokenTypes[r] * h
            for j in 0..<h { w[j] += srcWT[j]; p[j] += src[j]; t[j] += srcWT[j] }
        }
    }
}
