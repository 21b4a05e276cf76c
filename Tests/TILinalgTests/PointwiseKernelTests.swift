import Foundation
import XCTest
import TILinalg
import TITestSupport

final class PointwiseKernelTests: XCTestCase {
    /// Φ(x) in Double from libm's erfc, the reference for the Float approximation.
    func reference(_ x: Double) -> Double { 0.5 * erfc(-x / 2.0.squareRoot()) }

    func testFloatPhiMatchesErfcToAFewUlps() {
        // Every Float on a fine grid over the range GELU sees (and past the clamp): the absolute
        // error stays below 2e-7 (under 2 ulps of 1), and the lower tail keeps relative accuracy, where the old
        // ½(1 + erff) form had none (Φ(−6) ≈ 1e-9 lies below its resolution).
        var worstAbs = 0.0, worstRel = 0.0, worstFarRel = 0.0
        var x = -14.0
        while x <= 14.0 {
            let xf = Float(x)
            let got = Double(Float.normalCDF(xf)), want = reference(Double(xf))
            worstAbs = max(worstAbs, abs(got - want))
            // Down to x = −5 the tail is as good as Float allows; beyond, rounding x²/2 in Float
            // costs up to x²·3e-8 relative (documented in GaussianCDF).
            if xf < 0 && xf >= -5 { worstRel = max(worstRel, abs(got - want) / want) }
            if xf < -5 && want > 1e-36 { worstFarRel = max(worstFarRel, abs(got - want) / want) }
            x += 0.000_37
        }
        XCTAssertLessThan(worstAbs, 2e-7, "absolute error of Φ in Float")
        XCTAssertLessThan(worstRel, 1e-6, "relative error of the lower tail")
        XCTAssertLessThan(worstFarRel, 1e-5, "relative error of the far tail")
    }

    func testFloatPhiSpecialValues() {
        XCTAssertEqual(Float.normalCDF(0), 0.5, accuracy: 1e-7)
        XCTAssertEqual(Float.normalCDF(1), Float(reference(1)), accuracy: 1.2e-7)
        XCTAssertEqual(Float.normalCDF(-1), Float(reference(-1)), accuracy: 3e-8)
        XCTAssertEqual(Float.normalCDF(.infinity), 1)
        XCTAssertEqual(Float.normalCDF(-.infinity), 0, accuracy: 1e-36)
        XCTAssertTrue(Float.normalCDF(.nan).isNaN, "NaN must propagate so training's NaN check sees it")
        // Symmetry Φ(−x) = 1 − Φ(x), to Float resolution.
        for x: Float in [0.1, 0.7, 1.3, 2.9, 4.4] {
            XCTAssertEqual(Float.normalCDF(-x) + Float.normalCDF(x), 1, accuracy: 1.2e-7)
        }
    }

    func testDoubleNormalCDFIsExactErfcForm() {
        for x in [-9.0, -3.0, -0.5, 0, 0.5, 3, 9] {
            XCTAssertEqual(Double.normalCDF(x), reference(x), accuracy: 1e-16 + 1e-15 * reference(x))
        }
    }

    func testGeluKernelMatchesDoubleAndIgnoresTheCachePointer() {
        var rng = SeededRandom(seed: 3)
        let n = 1003  // not a multiple of any vector width: the scalar tail runs too
        let x: [Float] = (0..<n).map { _ in Float(rng.normal() * 3) }
        var y1 = [Float](repeating: 0, count: n), y2 = y1, cdf = y1
        Float.gelu(x, count: n, y: &y1, cdf: &cdf)
        Float.gelu(x, count: n, y: &y2, cdf: nil)
        XCTAssertEqual(y1, y2, "the cdf-writing loop and the plain loop must agree bit for bit")
        let xd = x.map(Double.init)
        var yd = [Double](repeating: 0, count: n)
        Double.gelu(xd, count: n, y: &yd, cdf: nil)
        for i in 0..<n {
            XCTAssertEqual(Double(y1[i]), yd[i], accuracy: 2e-7 * max(1, abs(xd[i])), "gelu(\(x[i]))")
            XCTAssertEqual(Double(cdf[i]), reference(xd[i]), accuracy: 2e-7)
        }
    }

    /// The Float GELU backward kernel (polynomial φ) against the Double derivative, with and without
    /// the forward's cached Φ, accumulating into a non-zero dx; huge |x| must not give NaN.
    func testGeluBackwardKernelMatchesDoubleDerivative() {
        var rng = SeededRandom(seed: 4)
        let n = 1003
        var x: [Float] = (0..<n).map { _ in Float(rng.normal() * 3) }
        x[7] = 40; x[8] = -40; x[9] = 0
        let dy: [Float] = (0..<n).map { _ in Float(rng.normal()) }
        var y = [Float](repeating: 0, count: n), cdf = y
        Float.gelu(x, count: n, y: &y, cdf: &cdf)
        var withCache = [Float](repeating: 0.5, count: n), without = withCache
        Float.geluBackward(dy: dy, x: x, cdf: cdf, count: n, dx: &withCache)
        Float.geluBackward(dy: dy, x: x, cdf: nil, count: n, dx: &without)
        XCTAssertEqual(withCache, without, "cached and recomputed Φ are the same kernel values")
        for i in 0..<n {
            let v = Double(x[i])
            let derivative = reference(v) + v * exp(-0.5 * v * v) / (2 * Double.pi).squareRoot()
            let want = 0.5 + Double(dy[i]) * derivative
            XCTAssertEqual(Double(withCache[i]), want, accuracy: 3e-7 * (1 + abs(Double(dy[i])) * max(1, abs(v))), "x = \(v)")
        }
        var dd = [Double](repeating: 0.5, count: n)
        Double.geluBackward(dy: dy.map(Double.init), x: x.map(Double.init), cdf: nil, count: n, dx: &dd)
        XCTAssertEqual(dd[9], 0.5 + Double(dy[9]) * 0.5, accuracy: 1e-15)
    }

    func testSymmetricQuantizeKernelRoundsHalfToEvenAndClips() {
        // Step 0.5 (s = 2): inputs on exact ties x·s = k + ½ must go to the even k, as torch.round.
        let x: [Float] = [0.25, 0.75, 1.25, -0.25, -0.75, 2.9, -3.1, 0.3, 2.4999]
        var out = [Float](repeating: 9, count: x.count), mask = out, outNoMask = out
        Float.quantizeSymmetric(x, count: x.count, clip: 2.5, scale: 2, step: 0.5, out: &out, mask: &mask)
        Float.quantizeSymmetric(x, count: x.count, clip: 2.5, scale: 2, step: 0.5, out: &outNoMask, mask: nil)
        XCTAssertEqual(out, [0, 1, 1, -0, -1, 2.5, -2.5, 0.5, 2.5])
        XCTAssertEqual(mask, [1, 1, 1, 1, 1, 0, 0, 1, 1])
        XCTAssertEqual(outNoMask, out)
        var outD = [Double](repeating: 9, count: x.count), maskD = outD
        Double.quantizeSymmetric(x.map(Double.init), count: x.count, clip: 2.5, scale: 2, step: 0.5, out: &outD, mask: &maskD)
        XCTAssertEqual(outD, out.map(Double.init))
        XCTAssertEqual(maskD, mask.map(Double.init))
    }

    func testAbsMaxKernelMatchesANaiveScan() {
        var rng = SeededRandom(seed: 9)
        var x: [Float] = (0..<1003).map { _ in Float(rng.normal()) }
        x[517] = -7.25  // the largest magnitude is negative and not in the first vector
        XCTAssertEqual(Float.absMax(x.count, x), 7.25)
        XCTAssertEqual(Float.absMax(5, x), x.prefix(5).map(abs).max()!)
        XCTAssertEqual(Float.absMax(0, x), 0)
        XCTAssertEqual(Double.absMax(x.count, x.map(Double.init)), 7.25)
    }

    /// The Float softmax kernel (own exp polynomial, lane reductions) against a Double softmax:
    /// rows of odd widths (vector body and tail), a masked row as attention builds it, large
    /// magnitudes, and a NaN that must reach the output.
    func testSoftmaxKernelMatchesDoubleSoftmax() {
        var rng = SeededRandom(seed: 12)
        for width in [1, 7, 16, 33, 128] {
            let rows = 5
            var x: [Float] = (0..<(rows * width)).map { _ in Float(rng.normal() * 6) }
            if width > 3 {  // row 1: padded keys carry −10000 as in SelfAttention
                for j in (width - 3)..<width { x[width + j] += -10000 }
            }
            var y = [Float](repeating: -1, count: x.count)
            FloatKernels.softmaxRows(x, rows: rows, width: width, y: &y)
            for r in 0..<rows {
                // The reference starts from the same float differences x − max (their rounding is the
                // caller's, not the kernel's), then works in Double.
                let row = x[(r * width)..<((r + 1) * width)], m = row.max()!
                let e = row.map { exp(Double($0 - m)) }, s = e.reduce(0, +)
                for j in 0..<width {
                    let got = Double(y[r * width + j]), want = e[j] / s
                    XCTAssertEqual(got, want, accuracy: 4e-7 * want + 1e-30, "width \(width) row \(r) column \(j)")
                    if want == 0 { XCTAssertEqual(got, 0, "masked keys give exactly 0") }
                }
                XCTAssertEqual(y[(r * width)..<((r + 1) * width)].reduce(0, +), 1, accuracy: 2e-6)
            }
        }
        var z: [Float] = [0, 1, .nan, 2], w = [Float](repeating: 0, count: 4)
        FloatKernels.softmaxRows(z, rows: 1, width: 4, y: &w)
        XCTAssertTrue(w.contains { $0.isNaN }, "a NaN score must show in the probabilities")
        z = [-88, -87.5, -86.9, 0]
        FloatKernels.softmaxRows(z, rows: 1, width: 4, y: &w)
        XCTAssertEqual(w[0], 0)
        XCTAssertEqual(w[1], 0)
        let e869 = exp(Double(Float(-86.9)))  // just above the cut-off: still the normal-range value
        XCTAssertEqual(Double(w[2]), e869, accuracy: 4e-7 * e869)
        XCTAssertEqual(w[3], 1)
    }

    /// x ⊙ m and mask·x + offset against the same expressions written in Swift, bit for bit (no
    /// contraction on either side), over lengths that leave every vector tail.
    func testElementwiseKernelsMatchSwiftLoops() {
        func check<T: BLASScalar>(_: T.Type) {
            var rng = SeededRandom(seed: 31)
            for n in [0, 1, 7, 8, 15, 16, 17, 33, 100] {
                let x: [T] = rng.normalVector(n), off: [T] = rng.normalVector(n)
                let m: [T] = (0..<n).map { _ in T(Double(rng.below(3)) * 0.5) }
                var product = x
                T.multiply(&product, by: m, count: n)
                XCTAssertEqual(product, (0..<n).map { x[$0] * m[$0] }, "\(T.self) multiply, n = \(n)")
                var affine = [T](repeating: .nan, count: n)
                T.maskedAffine(mask: m, x: x, offset: off, count: n, out: &affine)
                XCTAssertEqual(affine, (0..<n).map { m[$0] * x[$0] + off[$0] }, "\(T.self) masked affine, n = \(n)")
            }
        }
        check(Float.self)
        check(Double.self)
    }
}
