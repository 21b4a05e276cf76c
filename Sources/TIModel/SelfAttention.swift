// Multi-head self-attention with the attention-output projection, residual and LayerNorm.
// Forward keeps what backward needs and exposes the internals teacher intervention and the
// distillation losses read: pre-softmax scores, probabilities, context, O output, block output.
import TILinalg
import TIQuant

/// Where the teacher's intact signal replaces the student's (the paper's MI, CI, OI).
public enum InterventionPoint: String, Codable, CaseIterable, Sendable {
    case map = "MI"       // attention probabilities
    case context = "CI"   // probs·V, before the O projection
    case output = "OI"    // O projection output, before dropout/residual/LayerNorm

    /// MI detaches the Q and K inputs; CI and OI also detach V's input.
    public var detachesValueInput: Bool { self != .map }
}

/// Teacher tensors of one layer that an intervention substitutes.
public struct AttentionSubstitutes<T: BLASScalar> {
    public let probs: Buffer<T>    // [B, nh, T, T]
    public let context: Buffer<T>  // [N, H]
    public let output: Buffer<T>   // [N, H]
}

/// In loss-only passes (`ForwardOptions.keepsBackwardState` false) the tensors an intervention
/// discards are not computed and are empty: `probs` under MI, CI and OI, `v`/`context` under CI and OI,
/// `projected` under OI.
public struct AttentionTrace<T: BLASScalar> {
    public var input: Buffer<T>            // [N, H] layer input (residual branch)
    var inputQ: Buffer<T>, inputMask: STEMask<T>?   // quantized input of Q/K/V
    var inputQK: Buffer<T>, inputV: Buffer<T>       // possibly detached copies
    var q: Buffer<T>, k: Buffer<T>, v: Buffer<T>    // [N, H]
    var qh: Buffer<T>, qMask: STEMask<T>?, kh: Buffer<T>, kMask: STEMask<T>?
    public var scores: Buffer<T>           // [B, nh, T, T] pre-softmax, additive mask included
    var scoresMask: STEMask<T>?              // PTQ W8A8: the quantizer of QKᵀ (before scale and mask)
    public var probs: Buffer<T>            // [B, nh, T, T] the student's own softmax
    public var probsUsed: Buffer<T>          // probabilities entering probs·V (the teacher's under MI)
    var probsDropMask: Buffer<T>?, probsDropped: Buffer<T>
    var pq: Buffer<T>, pMask: STEMask<T>?, vq: Buffer<T>, vMask: STEMask<T>?
    public var context: Buffer<T>          // [N, H] student's probs·V (heads merged)
    public var contextUsed: Buffer<T>        // context entering O (the teacher's under CI)
    var cq: Buffer<T>, cMask: STEMask<T>?
    public var projected: Buffer<T>        // [N, H] student's O output
    public var projectedUsed: Buffer<T>      // O output entering the residual (the teacher's under OI)
    var projectedDropMask: Buffer<T>?
    var projectedMask: STEMask<T>?, sumMask: STEMask<T>?   // PTQ's O-output and residual-sum quantizers
    var norm: LayerNormCache<T>
    var normMask: STEMask<T>?              // PTQ W8A8: the quantizer of the LayerNorm output
    public var blockOutput: Buffer<T>      // [N, H] LayerNorm(O + input), quantized where the scheme says so
    public let intervention: InterventionPoint?
}

public enum SelfAttention {
    /// Additive key mask as in BERT: 0 for real tokens, −10000 for padding.
    static let maskedScore = -10000.0

    public static func forward<T: BLASScalar>(
        input x: Buffer<T>, params θ: UnsafePointer<T>, offsets o: LayerOffsets, dims d: Dims,
        attentionMask: [Int], eps: T, quant: ActivationQuantization<T>,
        intervention: InterventionPoint?, substitutes: AttentionSubstitutes<T>?,
        dropout: inout SeededRandom?, hiddenDropout: Double, attentionDropout: Double
    ) -> AttentionTrace<T> {
        let n = d.rows, h = d.hidden, tt = d.seq, nh = d.heads, hd = d.headDim
        // Loss-only passes leave out what the intervention discards: the student's own softmax under
        // MI, CI and OI, its V path under CI and OI, its O projection under OI. Those trace tensors are empty.
        let skipping = quant.maySkipUnusedSites
        // Under CI and OI the student's probabilities only feed its context, which is discarded too.
        let skipSoftmax = skipping && intervention != nil
        let skipValue = skipping && (intervention == .context || intervention == .output)
        let skipOutput = skipping && intervention == .output
        let (xq, xMask, xCodes) = quant.applyToLinearInput(.attentionInput, x)
        let inputQK = intervention != nil ? quant.detach(xq) : xq
        let inputV = (intervention?.detachesValueInput ?? false) ? quant.detach(xq) : xq
        // A replayed detached input is the recorded tensor, not xq: its codes would not describe it.
        let qkCodes = inputQK === xq ? xCodes : nil, vCodes = inputV === xq ? xCodes : nil

        let q = Buffer<T>(uninitialized: n * h), k = Buffer<T>(uninitialized: n * h)
        let v = Buffer<T>(uninitialized: skipValue ? 0 : n * h)
        Linear.forward(x: inputQK.p, codes: qkCodes, rows: n, inFeatures: h, outFeatures: h, weight: θ + o.query.weight, bias: θ + o.query.bias, y: q.p)
        Linear.forward(x: inputQK.p, codes: qkCodes, rows: n, inFeatures: h, outFeatures: h, weight: θ + o.key.weight, bias: θ + o.key.bias, y: k.p)
        if !skipValue {
            Linear.forward(x: inputV.p, codes: vCodes, rows: n, inFeatures: h, outFeatures: h, weight: θ + o.value.weight, bias: θ + o.value.bias, y: v.p)
        }
        let (qh, qMask) = quant.apply(.query, q)
        let (kh, kMask) = quant.apply(.key, k)

        // scores[b, head] = Q_bh·K_bhᵀ/√d + mask; heads are strided views (lda = H), no reshapes.
        let scores = Buffer<T>(uninitialized: d.batch * nh * tt * tt)
        let scale = 1 / T(hd).squareRoot()
        // The seed's W8A8 quantizes QKᵀ itself: then the raw products come first, scale and mask after.
        let quantizesScores = quant.quantizes(.scores)
        // One (sequence, head) pair per item: its GEMMs are too small to split, the pairs are many.
        forEachHead(d) { b, head in
            let src = b * tt * h + head * hd, dst = (b * nh + head) * tt * tt
            T.gemm(transA: false, transB: true, m: tt, n: tt, k: hd, alpha: quantizesScores ? 1 : scale, a: qh.p + src, lda: h,
                   b: kh.p + src, ldb: h, beta: 0, c: scores.p + dst, ldc: tt)
            guard !quantizesScores else { return }
            for j in 0..<tt where attentionMask[b * tt + j] == 0 {
                for i in 0..<tt { scores.p[dst + i * tt + j] += T(maskedScore) }
            }
        }
        let scoresMask = quantizesScores ? quantizedScores(scores, scale: scale, attentionMask: attentionMask, dims: d, quant: quant) : nil
        let probs = Buffer<T>(uninitialized: skipSoftmax ? 0 : scores.count)
        if !skipSoftmax { Softmax.forward(scores.p, rows: d.batch * nh * tt, width: tt, y: probs.p) }

        let probsUsed = intervention == .map ? substitutes!.probs : probs
        let probsDropMask: Buffer<T>? = Dropout.mask(count: scores.count, p: attentionDropout, rng: &dropout, dims: d)
        let probsDropped = probsDropMask == nil ? probsUsed : Buffer<T>(count: scores.count)
        if probsDropMask != nil { Dropout.apply(probsUsed.p, mask: probsDropMask, count: scores.count, y: probsDropped.p) }
        let (pq, pMask) = skipValue ? (Buffer<T>(count: 0), nil) : quant.apply(.probs, probsDropped)
        let (vq, vMask) = skipValue ? (v, nil) : quant.apply(.value, v)

        // Both factors on 8-bit lattices: the product in integers (docs/exact-lattice-products.md).
        let lattice = skipValue ? nil : LatticeProduct(probs: (probsDropped, pq), values: (v, vq), quant: quant,
                                                       batch: d.batch, heads: nh, seq: tt, hidden: h)
        let context = lattice?.context ?? Buffer<T>(uninitialized: skipValue ? 0 : n * h)
        if !skipValue {
            forEachHead(d) { b, head in
                if let lattice { lattice.multiply(batch: b, head: head); return }
                let pOff = (b * nh + head) * tt * tt, vOff = b * tt * h + head * hd
                T.gemm(transA: false, transB: false, m: tt, n: hd, k: tt, alpha: 1, a: pq.p + pOff, lda: tt,
                       b: vq.p + vOff, ldb: h, beta: 0, c: context.p + vOff, ldc: h)
            }
        }
        let contextUsed = intervention == .context ? substitutes!.context : context
        let (cq, cMask, cCodes) = skipOutput ? (contextUsed, nil, nil)
            : quant.applyToLinearInput(.contextInput, contextUsed, lattice: intervention == .context ? nil : lattice)
        let projected = Buffer<T>(uninitialized: skipOutput ? 0 : n * h)
        if !skipOutput {
            Linear.forward(x: cq.p, codes: cCodes, rows: n, inFeatures: h, outFeatures: h, weight: θ + o.attentionOutput.weight,
                           bias: θ + o.attentionOutput.bias, y: projected.p)
        }
        let (projectedQ, projectedMask) = skipOutput ? (projected, nil) : quant.apply(.attentionOutputProjection, projected)
        let projectedUsed = intervention == .output ? substitutes!.output : projectedQ
        let dropMask: Buffer<T>? = Dropout.mask(count: n * h, p: hiddenDropout, rng: &dropout, dims: d)
        let sum = Buffer<T>(uninitialized: n * h)
        if let dropMask {
            Dropout.apply(projectedUsed.p, mask: dropMask, count: n * h, y: sum.p)
            sum.add(x)
        } else {  // evaluation: one pass instead of a copy and an add
            for i in 0..<(n * h) { sum.p[i] = projectedUsed.p[i] + x.p[i] }
        }
        let (sumQ, sumMask) = quant.apply(.attentionResidual, sum)
        let normOutput = Buffer<T>(uninitialized: n * h)
        let norm = LayerNorm.forward(x: sumQ.p, rows: n, width: h, gain: θ + o.attentionNorm.gain,
                                     bias: θ + o.attentionNorm.bias, eps: eps, y: normOutput.p)
        let (blockOutput, normMask) = quant.applyIfQuantized(.attentionNorm, normOutput)
        return AttentionTrace(
            input: x, inputQ: xq, inputMask: xMask, inputQK: inputQK, inputV: inputV, q: q, k: k, v: v,
            qh: qh, qMask: qMask, kh: kh, kMask: kMask, scores: scores, scoresMask: scoresMask, probs: probs, probsUsed: probsUsed,
            probsDropMask: probsDropMask, probsDropped: probsDropped, pq: pq, pMask: pMask, vq: vq, vMask: vMask,
            context: context, contextUsed: contextUsed, cq: cq, cMask: cMask, projected: projected,
            projectedUsed: projectedUsed, projectedDropMask: dropMask, projectedMask: projectedMask, sumMask: sumMask, norm: norm, normMask: normMask, blockOutput: blockOutput,
            intervention: intervention)
    }

    /// Backward from dBlock (gradient at the block output) plus an optional seed on the scores
    /// (the distillation score term). Adds into dInput and the parameter gradient dθ.
    /// Substituted tensors stop the gradient; detached inputs receive none.
    public static func backward<T: BLASScalar>(
        _ tr: AttentionTrace<T>, dBlock: Buffer<T>, dScoresSeed: Buffer<T>?, params θ: UnsafePointer<T>,
        grads g: UnsafeMutablePointer<T>, offsets o: LayerOffsets, dims d: Dims, dInput: Buffer<T>
    ) {
        let n = d.rows, h = d.hidden, tt = d.seq, nh = d.heads, hd = d.headDim
        let dSum = Buffer<T>(count: n * h)
        let dNorm = tr.normMask == nil ? dBlock : dBlock.copy()  // never mutate the caller's gradient
        tr.normMask?.backward(dNorm, grads: g)
        LayerNorm.backward(dy: dNorm.p, cache: tr.norm, rows: n, width: h, gain: θ + o.attentionNorm.gain,
                           dx: dSum.p, dGain: g + o.attentionNorm.gain, dBias: g + o.attentionNorm.bias)
        tr.sumMask?.backward(dSum, grads: g)
        dInput.add(dSum)  // residual

        var dScores: Buffer<T>? = dScoresSeed
        var dV: Buffer<T>? = nil
        if tr.intervention != .output {
            let dProjected = Buffer<T>(count: n * h)
            Dropout.apply(dSum.p, mask: tr.projectedDropMask, count: n * h, y: dProjected.p)
            tr.projectedMask?.backward(dProjected, grads: g)
            let dcq = Buffer<T>(count: n * h)
            Linear.backward(dy: dProjected.p, x: tr.cq.p, rows: n, inFeatures: h, outFeatures: h,
                            weight: θ + o.attentionOutput.weight, dx: dcq.p, dWeight: g + o.attentionOutput.weight,
                            dBias: g + o.attentionOutput.bias)
            if tr.intervention != .context {
                tr.cMask?.backward(dcq, grads: g)
                let dpq = Buffer<T>(count: tr.probs.count), dvq = Buffer<T>(count: n * h)
                forEachHead(d) { b, head in
                    let pOff = (b * nh + head) * tt * tt, vOff = b * tt * h + head * hd
                    T.gemm(transA: false, transB: true, m: tt, n: tt, k: hd, alpha: 1, a: dcq.p + vOff, lda: h,
                           b: tr.vq.p + vOff, ldb: h, beta: 0, c: dpq.p + pOff, ldc: tt)
                    T.gemm(transA: true, transB: false, m: tt, n: hd, k: tt, alpha: 1, a: tr.pq.p + pOff, lda: tt,
                           b: dcq.p + vOff, ldb: h, beta: 0, c: dvq.p + vOff, ldc: h)
                }
                tr.vMask?.backward(dvq, grads: g)
                dV = dvq
                if tr.intervention != .map {
                    tr.pMask?.backward(dpq, grads: g)
                    let dProbs = Buffer<T>(count: dpq.count)
                    Dropout.apply(dpq.p, mask: tr.probsDropMask, count: dpq.count, y: dProbs.p)
                    let ds = dScoresSeed?.copy() ?? Buffer<T>(count: dpq.count)  // never mutate the caller's seed
                    Softmax.backward(dy: dProbs.p, y: tr.probs.p, rows: d.batch * nh * tt, width: tt, dx: ds.p)
                    dScores = ds
                }
            }
        }

        let dInputQK = Buffer<T>(count: n * h), dInputV = Buffer<T>(count: n * h)
        if let m = tr.scoresMask, let ds = dScores {  // the STE of QKᵀ's quantizer; the scale commutes with it
            let masked = ds.copy()
            m.backward(masked, grads: g)
            dScores = masked
        }
        if let dScores {
            let dqh = Buffer<T>(count: n * h), dkh = Buffer<T>(count: n * h)
            let scale = 1 / T(hd).squareRoot()
            forEachHead(d) { b, head in
                let sOff = (b * nh + head) * tt * tt, off = b * tt * h + head * hd
                T.gemm(transA: false, transB: false, m: tt, n: hd, k: tt, alpha: scale, a: dScores.p + sOff, lda: tt,
                       b: tr.kh.p + off, ldb: h, beta: 0, c: dqh.p + off, ldc: h)
                T.gemm(transA: true, transB: false, m: tt, n: hd, k: tt, alpha: scale, a: dScores.p + sOff, lda: tt,
                       b: tr.qh.p + off, ldb: h, beta: 0, c: dkh.p + off, ldc: h)
            }
            tr.qMask?.backward(dqh, grads: g)
            tr.kMask?.backward(dkh, grads: g)
            Linear.backward(dy: dqh.p, x: tr.inputQK.p, rows: n, inFeatures: h, outFeatures: h, weight: θ + o.query.weight,
                            dx: dInputQK.p, dWeight: g + o.query.weight, dBias: g + o.query.bias)
            Linear.backward(dy: dkh.p, x: tr.inputQK.p, rows: n, inFeatures: h, outFeatures: h, weight: θ + o.key.weight,
                            dx: dInputQK.p, dWeight: g + o.key.weight, dBias: g + o.key.bias)
        }
        if let dV {
            Linear.backward(dy: dV.p, x: tr.inputV.p, rows: n, inFeatures: h, outFeatures: h, weight: θ + o.value.weight,
                            dx: dInputV.p, dWeight: g + o.value.weight, dBias: g + o.value.bias)
        }
        let dxq = Buffer<T>(count: n * h)
        if tr.intervention == nil { dxq.add(dInputQK) }
        if !(tr.intervention?.detachesValueInput ?? false) { dxq.add(dInputV) }
        tr.inputMask?.backward(dxq, grads: g)
        dInput.add(dxq)
    }

    /// Quantizes the raw QKᵀ in `scores` as one tensor, then writes scale·Q(QKᵀ) + mask back into it.
    static func quantizedScores<T: BLASScalar>(_ scores: Buffer<T>, scale: T, attentionMask: [Int], dims d: Dims,
                                               quant: ActivationQuantization<T>) -> STEMask<T>? {
        let (q, mask) = quant.apply(.scores, scores)
        let tt = d.seq, block = tt * tt
        for bh in 0..<(d.batch * d.heads) {
            let b = bh / d.heads, off = bh * block
            for i in 0..<tt {
                for j in 0..<tt {
                    let e = off + i * tt + j
                    scores.p[e] = q.p[e] * scale + (attentionMask[b * tt + j] == 0 ? T(maskedScore) : 0)
                }
            }
        }
        return mask
    }

    /// body(b, head) for every sequence and head of the batch, across the thread budget; each pair
    /// writes only its own slices. Serial below about 2^17 multiply-adds, where threads cost more.
    static func forEachHead(_ d: Dims, _ body: (Int, Int) -> Void) {
        let perHead = Double(d.seq * d.seq * d.headDim)
        Parallel.forEach(d.batch * d.heads, costPerItem: perHead, minimumWork: Double(1 << 17)) { i in
            body(i / d.heads, i % d.heads)
        }
    }
}
