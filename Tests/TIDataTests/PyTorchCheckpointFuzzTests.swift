import Foundation
import TIData
import TILinalg
import XCTest

/// Hostile-input check: seeded random damage to torch.save's output must always end in success
/// or a DataError, never a crash, a hang or another error type. The zip fixture's pickle is
/// mutated and rewrapped with a fresh CRC (otherwise the CRC check would stop every mutation
/// before the unpickler); the legacy fixture has no checksum and is mutated in place.
final class PyTorchCheckpointFuzzTests: XCTestCase {
    /// Opcode bytes that steer the unpickler into its less common paths.
    private let opcodes: [UInt8] = [0x28, 0x2E, 0x4A, 0x4B, 0x4D, 0x4E, 0x51, 0x52, 0x58, 0x5D, 0x61, 0x62, 0x63, 0x65,
                                    0x68, 0x6A, 0x71, 0x72, 0x73, 0x74, 0x75, 0x7D, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
                                    0x8C, 0x93, 0x94, 0x95, 0xFF]

    private func mutate(_ bytes: inout [UInt8], _ rng: inout SeededRandom) {
        guard !bytes.isEmpty else { return }
        let at = rng.below(bytes.count)
        switch rng.below(6) {
        case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
        case 1: bytes[at] = opcodes[rng.below(opcodes.count)]
        case 2: bytes.removeSubrange(at..<min(bytes.count, at + 1 + rng.below(12)))
        case 3: bytes.insert(opcodes[rng.below(opcodes.count)], at: at)
        case 4:  // a small integer argument nudged (sizes, strides, offsets, memo indices)
            bytes[at] = bytes[at] &+ UInt8(rng.below(5)) &- 2
        default: bytes.removeSubrange(at...)
        }
    }

    /// Reads and fully decodes `data`; returns whether it was accepted.
    private func tryRead(_ data: Data) -> Bool? {
        do {
            let f = try PyTorchCheckpoint.read(data: data, name: "fuzz")
            for n in f.tensorNames {
                let info = try XCTUnwrap(f.info(n))
                XCTAssertEqual(try f.values(n, as: Double.self).count, info.elementCount)
            }
            return true
        } catch is DataError {
            return false
        } catch {
            XCTFail("non-DataError: \(error)")
            return nil
        }
    }

    func testMutatedZipPicklesNeverCrash() throws {
        let original = try StoredZip.entries(try Fixture.data("pytorch/tiny-bert-bin/pytorch_model.bin"))
        let pickleIndex = try XCTUnwrap(original.firstIndex { $0.name.hasSuffix("/data.pkl") })
        var rng = SeededRandom(seed: 20_260_517)
        var accepted = 0, rejected = 0
        for _ in 0..<500 {
            var entries = original
            for _ in 0..<(1 + rng.below(3)) { mutate(&entries[pickleIndex].data, &rng) }
            if rng.below(10) == 0 {  // sometimes also damage a storage's length
                let i = rng.below(entries.count)
                if !entries[i].data.isEmpty { entries[i].data.removeLast(1 + rng.below(entries[i].data.count)) }
            }
            switch tryRead(Data(StoredZip.make(entries))) {
            case true?: accepted += 1
            case false?: rejected += 1
            case nil: return
            }
        }
        print("mutated zip pickles: \(accepted) accepted, \(rejected) refused")
        // Both outcomes must occur, or the mutations are not exercising the reader.
        XCTAssertGreaterThan(accepted, 20)
        XCTAssertGreaterThan(rejected, 250)
    }

    func testMutatedArchivesAndLegacyStreamsNeverCrash() throws {
        var rng = SeededRandom(seed: 77)
        var accepted = 0, rejected = 0
        for fixture in ["pytorch/tiny-bert-legacy/pytorch_model.bin", "pytorch/views.bin", "pytorch/tiny-bert-f16.bin"] {
            let original = [UInt8](try Fixture.data(fixture))
            for _ in 0..<250 {
                var bytes = original
                for _ in 0..<(1 + rng.below(3)) { mutate(&bytes, &rng) }
                switch tryRead(Data(bytes)) {
                case true?: accepted += 1
                case false?: rejected += 1
                case nil: return
                }
            }
        }
        print("mutated archives and legacy streams: \(accepted) accepted, \(rejected) refused")
        XCTAssertGreaterThan(accepted, 20)
        XCTAssertGreaterThan(rejected, 400)
    }
}
