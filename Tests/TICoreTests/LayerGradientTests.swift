// Every layer's backward against central finite differences in Double.
import XCTest
import TICore
import TILinalg
import TITestSupport

final class LayerGradientTests: XCTestCase {
    /// Checks dx from `backward` against finite differences of ⟨r, f(x)⟩ along several random directions.
    func check(_ name: String, inputCount n: Int, outputCount m: Int, seed: UInt64 = 1, tol: Double = 1e-6,
               forward: ([Double]) -> [Double], backward: ([Double], [Double]) -> [Double]) {
        var rng = SeededRandom(seed: seed)
        let x: [Double] = rng.normalVector(n)
        let r: [Double] = rng.normalVector(m)
        let dx = backward(x, r)
        for k in 0..<4 {
            let v = Tiny.direction(n, seed: seed * 31 + UInt64(k))
            let fd = centralDifference(step: 1e-5) { h in BLAS.dot(r, forward(Vec.adding(x, v, scaledBy: h))) }
            let an = BLAS.dot(dx, v)
            XCTAssertLessThan(relativeError(fd, an), tol, "\(name): directional derivative \(an) vs finite difference \(fd)")
        }
    }

    func testLinear() {
        let rows = 3, k = 4, m = 5
        var rng = SeededRandom(seed: 3)
        let w: [Double] = rng.normalVector(m * k), b: [Double] = rng.normalVector(m)
        // Input vector packs x, W and b so one check covers dx, dW and db.
        let n = rows * k + m * k + m
        check("linear", inputCount: n, outputCount: rows * m, forward: { z in
            var y = [Double](repeating: 0, count: rows * m)
            z.withUnsafeBufferPointer { zp in
                Linear.forward(x: zp.baseAddress!, rows: rows, inFeatures: k, outFeatures: m,
                               weight: zp.baseAddress! + rows * k, bias: zp.baseAddress! + rows * k + m * k, y: &y)
            }
            return y
        }, backward: { z, dy in
            var g = [Double](repeating: 0, count: n)
            z.withUnsafeBufferPointer { zp in g.withUnsafeMutableBufferPointer { gp in
                Linear.backward(dy: dy, x: zp.baseAddress!, rows: rows, inFeatures: k, outFeatures: m,
                                weight: zp.baseAddress! + rows * k, dx: gp.baseAddress!, dWeight: gp.baseAddress! + rows * k,
                                dBias: gp.baseAddress! + rows * k + m * k)
            } }
            return g
        })
        _ = (w, b)
    }

    func testLayerNorm() {
        let rows = 3, h = 6, n = rows * h + 2 * h
        check("layernorm", inputCount: n, outputCount: rows * h, forward: { z in
            var y = [Double](repeating: 0, count: rows * h)
            z.withUnsafeBufferPointer { zp in
                _ = LayerNorm.forward(x: zp.baseAddress!, rows: rows, width: h, gain: zp.baseAddress! + rows * h,
                                      bias: zp.baseAddress! + rows * h + h, eps: 1e-12, y: &y)
            }
            return y
        }, backward: { z, dy in
            var g = [Double](repeating: 0, count: n)
            var y = [Double](repeating: 0, count: rows * h)
            z.withUnsafeBufferPointer { zp in g.withUnsafeMutableBufferPointer { gp in
                let cache = LayerNorm.forward(x: zp.baseAddress!, rows: rows, width: h, gain: zp.baseAddress! + rows * h,
                                              bias: zp.baseAddress! + rows * h + h, eps: 1e-12, y: &y)
                LayerNorm.backward(dy: dy, cache: cache, rows: rows, width: h, gain: zp.baseAddress! + rows * h,
                                   dx: gp.baseAddress!, dGain: gp.baseAddress! + rows * h, dBias: gp.baseAddress! + rows * h + h)
            } }
            return g
        })
    }

    func testPointwiseAndSoftmax() {
        let n = 12
        check("gelu", inputCount: n, outputCount: n, forward: { x in
            var y = [Double](repeating: 0, count: n); GELU.forward(x, count: n, y: &y); return y
        }, backward: { x, dy in
            var dx = [Double](repeating: 0, count: n); GELU.backward(dy: dy, x: x, count: n, dx: &dx); return dx
        })
        check("tanh", inputCount: n, outputCount: n, forward: { x in
            var y = [Double](repeating: 0, count: n); Tanh.forward(x, count: n, y: &y); return y
        }, backward: { x, dy in
            var y = [Double](repeating: 0, count: n); Tanh.forward(x, count: n, y: &y)
            var dx = [Double](repeating: 0, count: n); Tanh.backward(dy: dy, y: y, count: n, dx: &dx); return dx
        })
        check("softmax", inputCount: n, outputCount: n, forward: { x in
            var y = [Double](repeating: 0, count: n); Softmax.forward(x, rows: 3, width: 4, y: &y); return y
        }, backward: { x, dy in
            var y = [Double](repeating: 0, count: n); Softmax.forward(x, rows: 3, width: 4, y: &y)
            var dx = [Double](repeating: 0, count: n); Softmax.backward(dy: dy, y: y, rows: 3, width: 4, dx: &dx); return dx
        })
    }

    /// Attention block (masked, both heads) with respect to its input and all its parameters.
    func testSelfAttentionWithMask() {
        let model = BertModel(config: Tiny.config())
        let batch = Tiny.batch()
        let θ = Tiny.parameters(model, seed: 5)
        let d = Dims(model.config, batch)
        let o = model.offsets.layers[0]
        let nIn = d.rows * d.hidden
        let quant = ActivationQuantization<Double>(config: .fullPrecision)
        func run(_ z: [Double]) -> AttentionTrace<Double> {
            var rng: SeededRandom? = nil
            let params = Array(z[nIn...])
            return params.withUnsafeBufferPointer { p in
                SelfAttention.forward(input: Buffer(Array(z[..<nIn])), params: p.baseAddress!, offsets: o, dims: d,
                                      attentionMask: batch.attentionMask, eps: 1e-12, quant: quant, intervention: nil,
                                      substitutes: nil, dropout: &rng, hiddenDropout: 0, attentionDropout: 0)
            }
        }
        var rng = SeededRandom(seed: 8)
        let x: [Double] = rng.normalVector(nIn)
        let z = x + θ
        let r: [Double] = rng.normalVector(nIn)
        let rs: [Double] = rng.normalVector(d.batch * d.heads * d.seq * d.seq)
        // ⟨r, block⟩ + ⟨rs, scores⟩ exercises both the output path and the score seed path.
        func f(_ z: [Double]) -> Double {
            let t = run(z)
            return BLAS.dot(r, t.blockOutput.array) + BLAS.dot(rs, t.scores.array)
        }
        let tr = run(z)
        var g = [Double](repeating: 0, count: θ.count)
        let dIn = Buffer<Double>(count: nIn)
        θ.withUnsafeBufferPointer { p in g.withUnsafeMutableBufferPointer { gp in
            SelfAttention.backward(tr, dBlock: Buffer(r), dScoresSeed: Buffer(rs), params: p.baseAddress!, grads: gp.baseAddress!,
                                   offsets: o, dims: d, dInput: dIn)
        } }
        let full = dIn.array + g
        for k in 0..<4 {
            let v = Tiny.direction(z.count, seed: 100 + UInt64(k))
            let fd = centralDifference(step: 1e-5) { h in f(Vec.adding(z, v, scaledBy: h)) }
            XCTAssertLessThan(relativeError(fd, BLAS.dot(full, v)), 1e-6, "attention direction \(k)")
        }
    }

    /// Float LayerNorm (the C kernel) against the Double Swift loop on the same inputs.
    func testFloatLayerNormKernelMatchesDouble() {
        var rng = SeededRandom(seed: 12)
        let rows = 5, width = 37  // a width that is not a multiple of the kernel's 16 lanes
        let x: [Double] = (0..<(rows * width)).map { _ in 3 + 2 * rng.normal() }
        let gain: [Double] = rng.normalVector(width), bias: [Double] = rng.normalVector(width)
        var yd = [Double](repeating: 0, count: x.count), yf = [Float](repeating: 0, count: x.count)
        let cd = LayerNorm.forward(x: x, rows: rows, width: width, gain: gain, bias: bias, eps: 1e-12, y: &yd)
        let cf = LayerNorm.forward(x: x.map(Float.init), rows: rows, width: width, gain: gain.map(Float.init), bias: bias.map(Float.init),
                                   eps: Float(1e-12), y: &yf)
        for i in 0..<x.count {
            XCTAssertEqual(Double(yf[i]), yd[i], accuracy: 2e-5 * max(1, abs(yd[i])))
            XCTAssertEqual(Double(cf.normalized.p[i]), cd.normalized.p[i], accuracy: 2e-5)
        }
        for r in 0..<rows { XCTAssertEqual(Double(cf.rstd.p[r]), cd.rstd.p[r], accuracy: 1e-5 * cd.rstd.p[r]) }
    }
}
