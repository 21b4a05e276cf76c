// The integer grid of an n-bit quantizer against hand-computed codes, steps and zero points, for the
// three conventions (symmetric, LSQ's signed, asymmetric unsigned) at 2, 4 and 8 bits, and the zero
// point at the edges of its range (lo = 0, hi = 0, lo = hi).
import XCTest
import TICore

final class IntegerGridTests: XCTestCase {
    func testCodeRangesByHand() {
        // (bits, kind, qmin, qmax): ±(2^(b−1) − 1); [−2^(b−1), 2^(b−1) − 1]; [0, 2^b − 1].
        let table: [(Int, IntegerGrid.Kind, Int, Int)] = [
            (2, .symmetric, -1, 1), (4, .symmetric, -7, 7), (8, .symmetric, -127, 127),
            (2, .signed, -2, 1), (4, .signed, -8, 7), (8, .signed, -128, 127),
            (2, .unsigned, 0, 3), (4, .unsigned, 0, 15), (8, .unsigned, 0, 255),
        ]
        for (bits, kind, lo, hi) in table {
            let g = IntegerGrid(bits: bits, kind: kind)
            XCTAssertEqual(g.qmin, lo, "\(kind) \(bits)")
            XCTAssertEqual(g.qmax, hi, "\(kind) \(bits)")
            XCTAssertEqual(g.span, hi - lo, "\(kind) \(bits)")
        }
        // LSQ's Q_N and Q_P: 4-bit weights 8 and 7; 8-bit activations 0 and 255 (the zero point shifts them).
        XCTAssertEqual(IntegerGrid.signed(bits: 4).qn, 8)
        XCTAssertEqual(IntegerGrid.signed(bits: 4).qp, 7)
        XCTAssertEqual(IntegerGrid.unsigned(bits: 8).qn, 0)
        XCTAssertEqual(IntegerGrid.unsigned(bits: 8).qp, 255)
        XCTAssertEqual(IntegerGrid.symmetric(bits: 8), IntegerGrid(bits: 8, kind: .symmetric))
        XCTAssertNotEqual(IntegerGrid.symmetric(bits: 8), IntegerGrid.signed(bits: 8))
    }

    func testSymmetricStepAndScaleByHand() {
        // r/Q and Q/r with ranges chosen so the quotients are exact in binary.
        XCTAssertEqual(IntegerGrid.symmetric(bits: 2).step(range: 0.5), 0.5)      // Q = 1
        XCTAssertEqual(IntegerGrid.symmetric(bits: 2).scale(range: 0.5), 2)
        XCTAssertEqual(IntegerGrid.symmetric(bits: 4).step(range: 3.5), 0.5)      // Q = 7
        XCTAssertEqual(IntegerGrid.symmetric(bits: 4).scale(range: 3.5), 2)
        XCTAssertEqual(IntegerGrid.symmetric(bits: 8).step(range: Float(31.75)), 0.25)  // Q = 127
        XCTAssertEqual(IntegerGrid.symmetric(bits: 8).scale(range: Float(31.75)), 4)
        // LSQ's initial step r/Q_P uses the same Q_P as the symmetric grid.
        XCTAssertEqual(IntegerGrid.signed(bits: 4).step(range: 3.5), 0.5)
        XCTAssertEqual(IntegerGrid.signed(bits: 8).step(range: 63.5), 0.5)
    }

    func testUnsignedStepAndZeroPointByHand() {
        // 2 bits over [−1.5, 1.5]: step 3/3 = 1, zero point round(1.5) = 2 (half to even).
        let g2 = IntegerGrid.unsigned(bits: 2)
        XCTAssertEqual(g2.step(lo: -1.5, hi: 1.5), 1)
        XCTAssertEqual(g2.zeroPoint(lo: -1.5, step: 1), 2)
        // 4 bits over [−2, 5.5]: step 7.5/15 = 0.5, zero point 4.
        let g4 = IntegerGrid.unsigned(bits: 4)
        XCTAssertEqual(g4.step(lo: -2.0, hi: 5.5), 0.5)
        XCTAssertEqual(g4.zeroPoint(lo: -2.0, step: 0.5), 4)
        // 8 bits over [−1, 254]: step 1, zero point 1; over [−0.5, 254.5]: round(0.5) = 0 (half to even).
        let g8 = IntegerGrid.unsigned(bits: 8)
        XCTAssertEqual(g8.step(lo: Float(-1), hi: 254), 1)
        XCTAssertEqual(g8.zeroPoint(lo: Float(-1), step: 1), 1)
        XCTAssertEqual(g8.zeroPoint(lo: -0.5, step: g8.step(lo: -0.5, hi: 254.5)), 0)
        XCTAssertEqual(g8.step(width: 510.0), 2)
    }

    func testClampAndContains() {
        let g = IntegerGrid.unsigned(bits: 4)
        XCTAssertEqual([-1.0, 0, 7, 15, 16].map { g.clamp($0) }, [0, 0, 7, 15, 15])
        XCTAssertEqual([-1.0, 0, 15, 15.5].map { g.contains($0) }, [false, true, true, false])
        let s = IntegerGrid.symmetric(bits: 8)
        XCTAssertEqual([-200.0, -127, 3, 300].map { s.clamp($0) }, [-127, -127, 3, 127])
        let (lo, hi) = IntegerGrid.signed(bits: 2).codeBounds(as: Float.self)
        XCTAssertEqual(lo, -2)
        XCTAssertEqual(hi, 1)
    }

    func testZeroPointAtEdgeRanges() {
        for bits in [2, 4, 8] {
            let top = Double((1 << bits) - 1)
            // lo = 0: the zero point is the lowest code.
            XCTAssertEqual(LSQ.zeroPoint(lo: 0, hi: 3, bits: bits), 0, "lo = 0, \(bits) bits")
            // hi = 0: −lo/s = 3/(3/(2^b − 1)) = 2^b − 1, the highest code.
            XCTAssertEqual(LSQ.zeroPoint(lo: -3, hi: 0, bits: bits), top, "hi = 0, \(bits) bits")
            // lo = hi = 0: no range, no step; the zero point is 0.
            XCTAssertEqual(LSQ.zeroPoint(lo: 0, hi: 0, bits: bits), 0, "lo = hi = 0, \(bits) bits")
            // lo = hi ≠ 0: widened to contain 0, so [0, 2] and [−2, 0].
            XCTAssertEqual(LSQ.zeroPoint(lo: 2, hi: 2, bits: bits), 0, "lo = hi = 2, \(bits) bits")
            XCTAssertEqual(LSQ.zeroPoint(lo: -2, hi: -2, bits: bits), top, "lo = hi = −2, \(bits) bits")
            // A step too fine for lo: −lo/s = 1000 is clamped to the highest code; lo > 0 counts as 0.
            XCTAssertEqual(LSQ.zeroPoint(lo: -10, step: 0.01, bits: bits), top, "fine step, \(bits) bits")
            XCTAssertEqual(LSQ.zeroPoint(lo: 4, step: 0.5, bits: bits), 0, "lo > 0, \(bits) bits")
            XCTAssertEqual(LSQ.zeroPoint(lo: -1, step: 0, bits: bits), 0, "no step, \(bits) bits")
        }
        // The unclamped grid form at lo = 0: 0 (as −0.0, which compares equal).
        XCTAssertEqual(IntegerGrid.unsigned(bits: 8).zeroPoint(lo: 0.0, step: 0.5), 0)
    }

    func testQuantizersUseTheGridsStep() {
        // The int8 export and the uniform weight quantizer put max|W| = 31.75 on code 127 with step 0.25.
        let w: [Float] = [31.75, -0.3, 0.13, -31.75]
        let (codes, scale) = QuantizedExport.int8Codes(w[...])
        XCTAssertEqual(codes, [127, -1, 1, -127])
        XCTAssertEqual(scale, 0.25)
        // AdaRound's nearest rounding clamps to ±Q = ±7 on the 4-bit symmetric grid.
        XCTAssertEqual(AdaRound.nearest([0.74, -0.26, 9, -9], step: 0.5, bits: 4), [0.5, -0.5, 3.5, -3.5])
    }
}
