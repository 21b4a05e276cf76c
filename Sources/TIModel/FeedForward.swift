// Position-wise FFN: LayerNorm(FFN2(GELU(FFN1(x))) + x), quantized Linear inputs.
import TILinalg
import TIQuant

public struct FeedForwardTrace<T: BLASScalar> {
    var input: Buffer<T>                      // [N, H] attention block output
    var inputQ: Buffer<T>, inputMask: STEMask<T>?
    var hidden: Buffer<T>                     // [N, F] GELU input: FFN1 output, after its quantizer if any
    var hiddenMask: STEMask<T>?
    var projectedMask: STEMask<T>?, sumMask: STEMask<T>?  // PTQ's FFN-output (h) and residual-sum (y) quantizers
    package var activated: Buffer<T>                  // [N, F] GELU output
    var cdf: Buffer<T>?                       // [N, F] Φ(hidden), reused by backward (nil: not kept)
    var activatedQ: Buffer<T>, activatedMask: STEMask<T>?
    var dropMask: Buffer<T>?
    var norm: LayerNormCache<T>
    var normMask: STEMask<T>?                 // PTQ W8A8: the quantizer of the LayerNorm output
    public var output: Buffer<T>              // [N, H] layer output, quantized where the scheme says so
}

public enum FeedForward {
    public static func forward<T: BLASScalar>(
        input x: Buffer<T>, params θ: UnsafePointer<T>, offsets o: LayerOffsets, dims d: Dims, eps: T,
        quant: ActivationQuantization<T>, dropout: inout SeededRandom?, hiddenDropout: Double, keepsBackwardState: Bool = true
    ) -> FeedForwardTrace<T> {
        let n = d.rows, h = d.hidden, f = d.ffn
        let (xq, xMask, xCodes) = quant.applyToLinearInput(.intermediateInput, x)
        let hiddenRaw = Buffer<T>(uninitialized: n * f)
        Linear.forward(x: xq.p, codes: xCodes, rows: n, inFeatures: h, outFeatures: f, weight: θ + o.intermediate.weight,
                       bias: θ + o.intermediate.bias, y: hiddenRaw.p)
        let (hidden, hiddenMask) = quant.apply(.intermediateOutput, hiddenRaw)
        let activated = Buffer<T>(uninitialized: n * f)
        let cdf = keepsBackwardState ? Buffer<T>(uninitialized: n * f) : nil
        GELU.forward(hidden.p, count: n * f, y: activated.p, cdf: cdf?.p)
        let (aq, aMask, aCodes) = quant.applyToLinearInput(.outputInput, activated)
        let projectedRaw = Buffer<T>(uninitialized: n * h)
        Linear.forward(x: aq.p, codes: aCodes, rows: n, inFeatures: f, outFeatures: h, weight: θ + o.output.weight,
                       bias: θ + o.output.bias, y: projectedRaw.p)
        let (projected, projectedMask) = quant.apply(.ffnOutput, projectedRaw)
        let dropMask: Buffer<T>? = Dropout.mask(count: n * h, p: hiddenDropout, rng: &dropout, dims: d)
        if let dropMask { projected.multiply(by: dropMask) }
        projected.add(x)
        let (sum, sumMask) = quant.apply(.ffnResidual, projected)
        let normOutput = Buffer<T>(uninitialized: n * h)
        let norm = LayerNorm.forward(x: sum.p, rows: n, width: h, gain: θ + o.outputNorm.gain,
                                     bias: θ + o.outputNorm.bias, eps: eps, y: normOutput.p)
        let (out, normMask) = quant.applyIfQuantized(.outputNorm, normOutput)
        return FeedForwardTrace(input: x, inputQ: xq, inputMask: xMask, hidden: hidden, hiddenMask: hiddenMask,
                                projectedMask: projectedMask, sumMask: sumMask, activated: activated, cdf: cdf,
                                activatedQ: aq, activatedMask: aMask, dropMask: dropMask, norm: norm, normMask: normMask, output: out)
    }

    /// Adds the gradient with respect to the FFN input into dInput and parameter gradients into g.
    public static func backward<T: BLASScalar>(
        _ tr: FeedForwardTrace<T>, dOutput: Buffer<T>, params θ: UnsafePointer<T>, grads g: UnsafeMutablePointer<T>,
        offsets o: LayerOffsets, dims d: Dims, dInput: Buffer<T>
    ) {
        let n = d.rows, h = d.hidden, f = d.ffn
        let dSum = Buffer<T>(count: n * h)
        let dNorm = tr.normMask == nil ? dOutput : dOutput.copy()  // never mutate the caller's gradient
        tr.normMask?.backward(dNorm, grads: g)
        LayerNorm.backward(dy: dNorm.p, cache: tr.norm, rows: n, width: h, gain: θ + o.outputNorm.gain,
                           dx: dSum.p, dGain: g + o.outputNorm.gain, dBias: g + o.outputNorm.bias)
        tr.sumMask?.backward(dSum, grads: g)
        dInput.add(dSum)  // residual
        if let m = tr.dropMask { dSum.multiply(by: m) }
        tr.projectedMask?.backward(dSum, grads: g)
        let dAq = Buffer<T>(count: n * f)
        Linear.backward(dy: dSum.p, x: tr.activatedQ.p, rows: n, inFeatures: f, outFeatures: h, weight: θ + o.output.weight,
                        dx: dAq.p, dWeight: g + o.output.weight, dBias: g + o.output.bias)
        tr.activatedMask?.backward(dAq, grads: g)
        let dHidden = Buffer<T>(count: n * f)
        GELU.backward(dy: dAq.p, x: tr.hidden.p, count: n * f, dx: dHidden.p, cdf: tr.cdf?.p)
        tr.hiddenMask?.backward(dHidden, grads: g)
        let dXq = Buffer<T>(count: n * h)
        Linear.backward(dy: dHidden.p, x: tr.inputQ.p, rows: n, inFeatures: h, outFeatures: f, weight: θ + o.intermediate.weight,
                        dx: dXq.p, dWeight: g + o.intermediate.weight, dBias: g + o.intermediate.bias)
        tr.inputMask?.backward(dXq, grads: g)
        dInput.add(dXq)
    }
}
