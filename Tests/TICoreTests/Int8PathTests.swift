// The int8 route of ternary × 8-bit Linear layers (Int8Lattice): the same quantized values and
// masks as the float route, products equal to the float GEMM up to float rounding, the float route
// kept for anything that is not ternary, and whole objectives that agree with it.
import XCTest
import TICore
import TILinalg
import TITestSupport

// They run on every host: the picked kernel (Int8GEMM.kernelName) is whichever this one has, the
// scalar kernel at worst, and the route is switched on for them explicitly.
final class Int8PathTests: XCTestCase {
    func withInt8Path<R>(_ on: Bool, _ body: () throws -> R) rethrows -> R {
        let saved = Int8Path.enabled
        Int8Path.enabled = on
        defer { Int8Path.enabled = saved }
        return try body()
    }

    func randomBuffer(_ n: Int, seed: UInt64, scale: Double = 1) -> Buffer<Float> {
        var rng = SeededRandom(seed: seed)
        let b = Buffer<Float>(count: n)
        for i in 0..<n { b.p[i] = Float(scale * rng.normal()) }
        return b
    }

    func testLinearInputCodesReproduceTheQuantizer() {
        for keepsMasks in [true, false] {
            var quant = ActivationQuantization<Float>(config: .ternaryW8A8)
            quant.keepsMasks = keepsMasks
            let x = randomBuffer(15 * 8, seed: 3, scale: 2)  // clip 2.5 cuts some entries
            let (plain, plainMask) = quant.apply(.attentionInput, x)
            let (out, mask, codes) = withInt8Path(true) { quant.applyToLinearInput(.attentionInput, x) }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: out.p, count: x.count)), Array(UnsafeBufferPointer(start: plain.p, count: x.count)))
            XCTAssertEqual(mask.map { Array(UnsafeBufferPointer(start: $0.mask.p, count: x.count)) },
                           plainMask.map { Array(UnsafeBufferPointer(start: $0.mask.p, count: x.count)) })
            let c = try! XCTUnwrap(codes)
            XCTAssertGreaterThan(c.step, 0)
            XCTAssertEqual(c.codes.map { Int($0) }.max(), 127, "the largest |x| below the clip maps to 127")
            for i in 0..<x.count { XCTAssertEqual(Float(c.codes[i]) * c.step, out.p[i], "x̂ = code·step exactly at \(i)") }
            let (_, _, none) = withInt8Path(false) { quant.applyToLinearInput(.attentionInput, x) }
            XCTAssertNil(none, "switched off: no codes")
            let (_, _, unquantized) = withInt8Path(true) { quant.applyToLinearInput(.classifierInput, x) }
            XCTAssertNil(unquantized, "TernaryBERT leaves the classifier input in float")

            // A NaN has no code: the float route must carry it on to the loss (and stop training).
            x.p[5] = .nan
            let (withNaN, _, nanCodes) = withInt8Path(true) { quant.applyToLinearInput(.attentionInput, x) }
            XCTAssertNil(nanCodes, "no codes for a tensor holding a NaN")
            XCTAssertTrue(withNaN.p[5].isNaN, "the NaN propagates as in apply")
            XCTAssertEqual(withNaN.p[0], out.p[0], "the other entries are quantized as before")
        }
    }

    /// Shapes around the tile sizes (16 rows, 64 columns of k) and the default model's.
    func testTernaryLinearMatchesTheFloatGEMM() {
        let quant = ActivationQuantization<Float>(config: .ternaryW8A8)
        for (n, k, m) in [(1, 8, 3), (15, 12, 8), (33, 64, 17), (40, 130, 33), (832, 128, 512)] {
            let x = randomBuffer(n * k, seed: UInt64(n + k))
            let (xq, _, codes) = withInt8Path(true) { quant.applyToLinearInput(.attentionInput, x) }
            var rng = SeededRandom(seed: UInt64(m))
            let alpha: Float = 0.0371
            let w = (0..<(m * k)).map { _ in Float(rng.below(3) - 1) * alpha }
            let b = (0..<m).map { _ in Float(rng.normal()) }
            var yInt = [Float](repeating: .nan, count: n * m), yFloat = yInt
            Linear.forward(x: xq.p, codes: codes, rows: n, inFeatures: k, outFeatures: m, weight: w, bias: b, y: &yInt)
            Linear.forward(x: xq.p, rows: n, inFeatures: k, outFeatures: m, weight: w, bias: b, y: &yFloat)
            let scale = yFloat.map { abs($0) }.max()!
            let worst = zip(yInt, yFloat).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 2e-6 * scale, "\(n)×\(k)×\(m): int8 route vs sgemm")
            XCTAssertFalse(yInt.contains { $0.isNaN }, "\(n)×\(k)×\(m): every output written")

            var latent = w
            latent[0] = 0.5 * alpha  // one magnitude off: not ternary, so the float route must be taken
            var yLatentCodes = [Float](repeating: .nan, count: n * m), yLatentFloat = yLatentCodes
            Linear.forward(x: xq.p, codes: codes, rows: n, inFeatures: k, outFeatures: m, weight: latent, bias: b, y: &yLatentCodes)
            Linear.forward(x: xq.p, rows: n, inFeatures: k, outFeatures: m, weight: latent, bias: b, y: &yLatentFloat)
            XCTAssertEqual(yLatentCodes, yLatentFloat, "\(n)×\(k)×\(m): a non-ternary matrix keeps the float GEMM")
        }
    }

    /// The packed weight codes are cached per matrix: a weight changed in place (an optimizer step,
    /// a landscape point) must give the product of the new weights, not of the cached codes.
    func testWeightChangedInPlaceIsRepacked() {
        let quant = ActivationQuantization<Float>(config: .ternaryW8A8)
        let n = 9, k = 70, m = 33
        let x = randomBuffer(n * k, seed: 4)
        let (xq, _, codes) = withInt8Path(true) { quant.applyToLinearInput(.attentionInput, x) }
        var rng = SeededRandom(seed: 8)
        var w = (0..<(m * k)).map { _ in Float(rng.below(3) - 1) * 0.02 }
        w.withUnsafeMutableBufferPointer { wp in
            for change in 0..<3 {
                var yInt = [Float](repeating: .nan, count: n * m), yFloat = yInt
                Linear.forward(x: xq.p, codes: codes, rows: n, inFeatures: k, outFeatures: m, weight: wp.baseAddress!,
                               bias: nil, y: &yInt)
                Linear.forward(x: xq.p, rows: n, inFeatures: k, outFeatures: m, weight: wp.baseAddress!, bias: nil, y: &yFloat)
                let worst = zip(yInt, yFloat).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(worst, 2e-6 * yFloat.map { abs($0) }.max()!, "after change \(change)")
                // In place, same pointer: flip the signs of one output row, then scale everything.
                if change == 0 { for j in 0..<k { wp[5 * k + j] = -wp[5 * k + j] } }
                if change == 1 { for i in 0..<(m * k) { wp[i] *= 3 } }
            }
        }
    }

    /// Ternary KD on the tiny model in Float: loss and gradient with the int8 route against the
    /// float route (float rounding apart, both are the same quantized network).
    func testTernaryObjectiveAgreesWithTheFloatRoute() {
        let model = BertModel(config: Tiny.config())
        let teacher = Tiny.parameters(model, seed: 2).map { Float($0) }
        var rng = SeededRandom(seed: 9)
        let θ = teacher.map { $0 + Float(0.05 * rng.normal()) }
        let batch = Tiny.batch()
        let obj = BertObjective<Float>(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation))
        let tt = obj.teacherTrace(teacher: teacher, batch: batch)
        let on = withInt8Path(true) { obj.evaluate(θ, batch: batch, teacher: tt, gradient: true) }
        let off = withInt8Path(false) { obj.evaluate(θ, batch: batch, teacher: tt, gradient: true) }
        XCTAssertEqual(on.terms.total, off.terms.total, accuracy: 1e-5 * abs(off.terms.total))
        XCTAssertLessThan(relativeVectorError(on.gradient!, off.gradient!), 1e-4)
    }
}
