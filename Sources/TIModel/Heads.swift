// Tanh pooler on [CLS] and the classifier / regression head.
import TILinalg
import TIQuant

public struct HeadTrace<T: BLASScalar> {
    package var cls: Buffer<T>                       // [B, H] hidden state of [CLS]
    var clsQ: Buffer<T>, clsMask: STEMask<T>?
    package var pooled: Buffer<T>                    // [B, H] tanh output
    var pooledOutMask: STEMask<T>?                   // PTQ W8A8: the quantizer of the tanh output (the seed's P)
    var preMask: STEMask<T>?, logitsMask: STEMask<T>?  // PTQ's pooler-output (P) and classifier-output (C) quantizers
    var dropMask: Buffer<T>?
    var pooledDropped: Buffer<T>
    var pooledQ: Buffer<T>, pooledMask: STEMask<T>?  // classifier input after its (optional) quantizer
    public var logits: Buffer<T>             // [B, C]
}

public enum Heads {
    public static func forward<T: BLASScalar>(
        sequence x: Buffer<T>, params θ: UnsafePointer<T>, offsets o: BertParameterOffsets, dims d: Dims,
        numLabels c: Int, quant: ActivationQuantization<T>, dropout: inout SeededRandom?, hiddenDropout: Double
    ) -> HeadTrace<T> {
        let h = d.hidden, b = d.batch
        let cls = Buffer<T>(count: b * h)
        for i in 0..<b { (cls.p + i * h).update(from: x.p + i * d.seq * h, count: h) }
        let (clsQ, clsMask, clsCodes) = quant.applyToLinearInput(.poolerInput, cls)
        let pre = Buffer<T>(count: b * h)
        Linear.forward(x: clsQ.p, codes: clsCodes, rows: b, inFeatures: h, outFeatures: h, weight: θ + o.pooler.weight, bias: θ + o.pooler.bias, y: pre.p)
        let (preQ, preMask) = quant.apply(.poolerOutput, pre)
        let pooled = Buffer<T>(count: b * h)
        Tanh.forward(preQ.p, count: b * h, y: pooled.p)
        let (pooledOut, pooledOutMask) = quant.applyIfQuantized(.pooled, pooled)
        let dropMask: Buffer<T>? = Dropout.mask(count: b * h, p: hiddenDropout, rng: &dropout, dims: d)
        let dropped = dropMask == nil ? pooledOut : Buffer<T>(count: b * h)
        if dropMask != nil { Dropout.apply(pooledOut.p, mask: dropMask, count: b * h, y: dropped.p) }
        let (pooledQ, pooledMask, pooledCodes) = quant.applyToLinearInput(.classifierInput, dropped)
        let logitsRaw = Buffer<T>(count: b * c)
        Linear.forward(x: pooledQ.p, codes: pooledCodes, rows: b, inFeatures: h, outFeatures: c, weight: θ + o.classifier.weight,
                       bias: θ + o.classifier.bias, y: logitsRaw.p)
        let (logits, logitsMask) = quant.apply(.logits, logitsRaw)
        return HeadTrace(cls: cls, clsQ: clsQ, clsMask: clsMask, pooled: pooled, pooledOutMask: pooledOutMask, preMask: preMask, logitsMask: logitsMask,
                         dropMask: dropMask,
                         pooledDropped: dropped, pooledQ: pooledQ, pooledMask: pooledMask, logits: logits)
    }

    /// Adds the gradient at the [CLS] rows of the last hidden state into dSequence.
    public static func backward<T: BLASScalar>(
        _ tr: HeadTrace<T>, dLogits: Buffer<T>, params θ: UnsafePointer<T>, grads g: UnsafeMutablePointer<T>,
        offsets o: BertParameterOffsets, dims d: Dims, numLabels c: Int, dSequence: Buffer<T>
    ) {
        let h = d.hidden, b = d.batch
        let dDropped = Buffer<T>(count: b * h)
        var dLogits = dLogits
        if let m = tr.logitsMask { dLogits = dLogits.copy(); m.backward(dLogits, grads: g) }  // never mutate the caller's seed
        Linear.backward(dy: dLogits.p, x: tr.pooledQ.p, rows: b, inFeatures: h, outFeatures: c,
                        weight: θ + o.classifier.weight, dx: dDropped.p, dWeight: g + o.classifier.weight, dBias: g + o.classifier.bias)
        tr.pooledMask?.backward(dDropped, grads: g)
        if let m = tr.dropMask { dDropped.multiply(by: m) }
        tr.pooledOutMask?.backward(dDropped, grads: g)
        let dPre = Buffer<T>(count: b * h)
        Tanh.backward(dy: dDropped.p, y: tr.pooled.p, count: b * h, dx: dPre.p)
        tr.preMask?.backward(dPre, grads: g)
        let dClsQ = Buffer<T>(count: b * h)
        Linear.backward(dy: dPre.p, x: tr.clsQ.p, rows: b, inFeatures: h, outFeatures: h, weight: θ + o.pooler.weight,
                        dx: dClsQ.p, dWeight: g + o.pooler.weight, dBias: g + o.pooler.bias)
        tr.clsMask?.backward(dClsQ, grads: g)
        for i in 0..<b {
            let dst = dSequence.p + i * d.seq * h, src = dClsQ.p + i * h
            for j in 0..<h { dst[j] += src[j] }
        }
    }
}
