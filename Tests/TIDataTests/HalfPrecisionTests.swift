import Foundation
import TIData
import XCTest

final class HalfPrecisionTests: XCTestCase {
    func testDecodeKnownPatterns() {
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0x3C00), 1)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0xC000), -2)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0x7BFF), 65504)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0x0001), 0x1p-24)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0x03FF), 1023 * 0x1p-24)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0x0400), 0x1p-14)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0x8000).bitPattern, (-Float(0)).bitPattern)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0x7C00), .infinity)
        XCTAssertEqual(HalfPrecision.float(fromHalf: 0xFC00), -.infinity)
        XCTAssertTrue(HalfPrecision.float(fromHalf: 0x7E00).isNaN)
        XCTAssertEqual(HalfPrecision.float(fromBFloat: 0x3F80), 1)
        XCTAssertEqual(HalfPrecision.float(fromBFloat: 0xFF80), -.infinity)
        XCTAssertTrue(HalfPrecision.float(fromBFloat: 0x7FC0).isNaN)
    }

    /// Every non-NaN half survives decode → encode, and NaNs stay NaN.
    func testAllHalfPatternsRoundTrip() {
        for bits in 0...UInt16.max {
            let f = HalfPrecision.float(fromHalf: bits)
            let back = HalfPrecision.half(from: f)
            if f.isNaN {
                XCTAssertTrue(HalfPrecision.float(fromHalf: back).isNaN, "NaN lost for \(bits)")
            } else if back != bits {
                XCTFail("half 0x\(String(bits, radix: 16)) → \(f) → 0x\(String(back, radix: 16))")
                return
            }
            let bf = HalfPrecision.float(fromBFloat: bits)
            if !bf.isNaN && HalfPrecision.bfloat(from: bf) != bits {
                XCTFail("bfloat 0x\(String(bits, radix: 16)) does not round-trip")
                return
            }
        }
    }

    /// Rounding matches numpy's float16 and ml_dtypes' bfloat16 on edge and random cases.
    func testRoundingMatchesReference() throws {
        struct Cases: Decodable { let f32: [UInt32]; let f16: [UInt16]; let bf16: [UInt16] }
        let cases = try JSONDecoder().decode(Cases.self, from: Fixture.data("safetensors/half_rounding.json"))
        XCTAssertGreaterThan(cases.f32.count, 4000)
        var halfMismatches = 0, bfloatMismatches = 0
        for i in cases.f32.indices {
            let f = Float(bitPattern: cases.f32[i])
            if HalfPrecision.half(from: f) != cases.f16[i] {
                halfMismatches += 1
                if halfMismatches < 5 { XCTFail("f16 of \(f) (0x\(String(cases.f32[i], radix: 16))): got 0x\(String(HalfPrecision.half(from: f), radix: 16)) want 0x\(String(cases.f16[i], radix: 16))") }
            }
            if HalfPrecision.bfloat(from: f) != cases.bf16[i] {
                bfloatMismatches += 1
                if bfloatMismatches < 5 { XCTFail("bf16 of \(f): got 0x\(String(HalfPrecision.bfloat(from: f), radix: 16)) want 0x\(String(cases.bf16[i], radix: 16))") }
            }
        }
        XCTAssertEqual(halfMismatches, 0)
        XCTAssertEqual(bfloatMismatches, 0)
    }
}
