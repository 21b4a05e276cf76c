import Foundation
import TIData
import TILinalg
import XCTest

/// Hostile-input check: seeded random damage to a valid file's length prefix and header must
/// always end in success or a DataError, never a crash or another error type.
final class SafeTensorsFuzzTests: XCTestCase {
    func testMutatedHeadersNeverCrash() throws {
        let original = [UInt8](try Fixture.data("safetensors/st_f32.safetensors"))
        let headerLength = Int(original[0]) | Int(original[1]) << 8
        let jsonBytes = Array("{}[]\",:0123456789-.eE \\u".utf8)
        var rng = SeededRandom(seed: 20_261_126)
        var accepted = 0, rejected = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<(1 + rng.below(3)) {
                let headerEnd = max(8, min(8 + headerLength, bytes.count))
                switch rng.below(7) {
                case 0 where headerEnd > 8:  // random byte
                    bytes[8 + rng.below(headerEnd - 8)] = UInt8(truncatingIfNeeded: rng.next())
                case 1 where headerEnd > 8:  // JSON-significant byte
                    bytes[8 + rng.below(headerEnd - 8)] = jsonBytes[rng.below(jsonBytes.count)]
                case 2 where headerEnd > 9:  // delete a run inside the header
                    let at = 8 + rng.below(headerEnd - 8)
                    bytes.removeSubrange(at..<min(headerEnd, at + 1 + rng.below(8)))
                case 3:  // length prefix off by a little
                    let delta = rng.below(33) - 16
                    writeLength(&bytes, UInt64(max(0, headerLength + delta)))
                case 4:  // arbitrary 64-bit length prefix
                    writeLength(&bytes, rng.next() >> UInt64(rng.below(64)))
                case 5:  // truncate the file
                    bytes.removeSubrange(rng.below(bytes.count + 1)...)
                default:  // swap a digit in offsets/shapes
                    if let i = (8..<headerEnd).filter({ bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }).randomElement(using: &rng) {
                        bytes[i] = UInt8(0x30 + rng.below(10))
                    }
                }
            }
            do {
                let f = try SafeTensorsFile(data: Data(bytes), name: "fuzz")
                for n in f.tensorNames {
                    let info = try XCTUnwrap(f.info(n))
                    let v = try f.values(n, as: Double.self)
                    XCTAssertEqual(v.count, info.elementCount)
                }
                accepted += 1
            } catch is DataError {
                rejected += 1
            } catch {
                XCTFail("non-DataError: \(error)")
            }
        }
        // Both outcomes must occur, or the mutations are not exercising the parser.
        XCTAssertGreaterThan(accepted, 20)
        XCTAssertGreaterThan(rejected, 1000)
    }

    private func writeLength(_ bytes: inout [UInt8], _ n: UInt64) {
        guard bytes.count >= 8 else { return }
        for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: n >> UInt64(8 * i)) }
    }
}
