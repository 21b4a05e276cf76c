// Malformed and malicious pytorch_model.bin files: each is a valid hand-built archive with one
// thing changed, and each must end in one DataError line naming what was wrong.
import Foundation
import TIData
import XCTest

final class PyTorchHostileInputTests: XCTestCase {
    private let sixFloats = TorchFileBuilder.floats([1, 2, 3, 4, 5, 6])

    private func load(_ pickle: [UInt8], storages: [String: [UInt8]]? = nil, byteorder: String? = "little") throws -> SafeTensorsFile {
        let data = TorchFileBuilder.archive(pickle: pickle, storages: storages ?? ["0": sixFloats], byteorder: byteorder)
        return try PyTorchCheckpoint.read(data: data, name: "hostile.bin")
    }

    private func load(_ spec: TensorSpec) throws -> SafeTensorsFile { try load(TorchFileBuilder.stateDictPickle([spec])) }

    /// A state_dict whose only value is built by `value`, between the key and SETITEM.
    private func dictPickle(_ value: (inout PickleBytes) -> Void) -> [UInt8] {
        var p = PickleBytes()
        p.op(0x7D)  // EMPTY_DICT
        p.string("x")
        value(&p)
        p.op(0x73)  // SETITEM
        p.stop()
        return p.bytes
    }

    func testDangerousGlobalsAreRefusedByName() {
        for (module, name) in [("os", "system"), ("builtins", "eval"), ("subprocess", "Popen"), ("torch", "load")] {
            let pickle = dictPickle { p in
                p.global(module, name)
                p.string("echo pwned")
                p.op(0x85)  // TUPLE1
                p.op(0x52)  // REDUCE
            }
            assertDataError(["hostile.bin", "global '\(module).\(name)' is not allowed"]) { try self.load(pickle) }
        }
    }

    func testReduceOfAnythingButAnAllowedCallableIsRefused() {
        let ofString = dictPickle { p in
            p.string("os.system"); p.op(0x29); p.op(0x52)
        }
        assertDataError(["REDUCE applies a str, expected an allowed global"]) { try self.load(ofString) }
        let ofStorageType = dictPickle { p in
            p.global("torch", "FloatStorage"); p.op(0x29); p.op(0x52)
        }
        assertDataError(["REDUCE of 'torch.FloatStorage' is not allowed"]) { try self.load(ofStorageType) }
        let orderedDictWithItems = dictPickle { p in
            p.global("collections", "OrderedDict"); p.string("a"); p.op(0x85); p.op(0x52)
        }
        assertDataError(["collections.OrderedDict' built from 1 arguments"]) { try self.load(orderedDictWithItems) }
        let notATensor = dictPickle { p in p.int(7) }
        assertDataError(["tensor 'x': value is a int, expected a tensor"]) { try self.load(notATensor) }
    }

    func testUnsupportedOpcodesAreRefused() {
        for (code, hex) in [(UInt8(0x69), "0x69"), (0x47, "0x47"), (0x6F, "0x6f"), (0x30, "0x30")] {  // INST, BINFLOAT, OBJ, POP
            let pickle = dictPickle { p in p.op(code) }
            assertDataError(["opcode \(hex) is not one a PyTorch state_dict uses"]) { try self.load(pickle) }
        }
    }

    func testTruncatedFilesAreRefused() throws {
        let whole = TorchFileBuilder.archive(pickle: TorchFileBuilder.stateDictPickle([TensorSpec(name: "w")]), storages: ["0": sixFloats])
        for cut in stride(from: 0, to: whole.count, by: 7) {
            assertDataError(["truncated.bin"]) { try PyTorchCheckpoint.read(data: whole.prefix(cut), name: "truncated.bin") }
        }
        let pickle = TorchFileBuilder.stateDictPickle([TensorSpec(name: "w")])
        for cut in [3, 40, pickle.count / 2, pickle.count - 1] {
            assertDataError(["data.pkl", "truncated"]) { try self.load(Array(pickle.prefix(cut))) }
        }
        // Cuts inside each of the five pickles and inside the storages.
        let legacy = try Fixture.data("pytorch/tiny-bert-legacy/pytorch_model.bin")
        for cut in [0, 1, 14, 20, 100, 4000, legacy.count / 2, legacy.count * 3 / 4, legacy.count - 1] {
            assertDataError(["legacy.bin"]) { try PyTorchCheckpoint.read(data: legacy.prefix(cut), name: "legacy.bin") }
        }
        assertDataError(["13 bytes follow the last storage"]) {
            try PyTorchCheckpoint.read(data: legacy + Data(count: 13), name: "legacy.bin")
        }
    }

    func testViewsOutsideTheirStorageAreRefused() {
        assertDataError(["tensor 'w'", "reaches element 10 of storage '0', which has 6"]) { try self.load(TensorSpec(name: "w", offset: 5)) }
        assertDataError(["reaches element 6"]) { try self.load(TensorSpec(name: "w", size: [2, 3], stride: [4, 1])) }
        assertDataError(["must be non-negative"]) { try self.load(TensorSpec(name: "w", offset: -1)) }
        assertDataError(["must be non-negative"]) { try self.load(TensorSpec(name: "w", size: [2, -3])) }
        assertDataError(["size has 2 dimensions but stride has 1"]) { try self.load(TensorSpec(name: "w", stride: [1])) }
        assertDataError(["storage '0' declares 7 F32 elements but holds 24 bytes"]) {
            try self.load(TensorSpec(name: "w", storageElements: 7))
        }
        assertDataError(["zip has no entry 'archive/data/9'"]) { try self.load(TensorSpec(name: "w", storageKey: "9")) }
    }

    func testHugeDeclaredSizesAreRefusedBeforeAllocating() {
        assertDataError(["overflows a 64-bit count"]) { try self.load(TensorSpec(name: "w", size: [1 << 40, 1 << 40], stride: [1, 1])) }
        assertDataError(["overflows a 64-bit count"]) { try self.load(TensorSpec(name: "w", size: [Int64.max], stride: [2])) }
        assertDataError(["declares 4611686018427387904 F32 elements but holds 24 bytes"]) {
            try self.load(TensorSpec(name: "w", storageElements: 1 << 62, size: [1 << 40], stride: [1]))
        }
        // A stride-0 expansion addresses only element 0 but would materialise a million copies.
        assertDataError(["view has 1000000 elements but storage '0' only 6"]) {
            try self.load(TensorSpec(name: "w", size: [1_000_000], stride: [0]))
        }
        // Many names for one storage: bounded by the file size, not by what the pickle claims.
        let big = [UInt8](repeating: 0, count: 4000)
        let specs = (0..<600).map { TensorSpec(name: "w\($0)", storageElements: 1000, size: [1000], stride: [1]) }
        assertDataError(["would take", "more than 4× the"]) { try self.load(TorchFileBuilder.stateDictPickle(specs), storages: ["0": big]) }
        var longString = PickleBytes()
        longString.op(0x58); longString.uint32(0xFFFF_FFFF)
        assertDataError(["needs 4294967295 more bytes", "truncated"]) { try self.load(longString.bytes) }
        assertDataError(["200-byte integer exceeds the 32-byte limit"]) {
            try self.load(self.dictPickle { p in p.bytes += [0x8A, 200] + [UInt8](repeating: 1, count: 200) })
        }
    }

    func testMemoIndexOutOfRangeIsRefused() {
        assertDataError(["memo index 99 was never stored"]) { try self.load(self.dictPickle { p in p.get(99) }) }
        assertDataError(["memo index 305419896 was never stored"]) {
            try self.load(self.dictPickle { p in p.bytes += [0x6A, 0x78, 0x56, 0x34, 0x12] })
        }
        // BINPUT with nothing above the mark has nothing to store.
        assertDataError(["no object on the stack"]) { try self.load(self.dictPickle { p in p.mark(); p.put(1) }) }
    }

    func testDeepNestingAndCyclesAreRefusedWithoutRecursion() {
        assertDataError(["MARKs nest deeper than 100"]) {
            try self.load(self.dictPickle { p in p.bytes += [UInt8](repeating: 0x28, count: 500) })
        }
        // A 200 000-deep tuple costs one byte per level; it is not a tensor, and nothing recurses into it.
        assertDataError(["value is a tuple, expected a tensor"]) {
            try self.load(self.dictPickle { p in p.op(0x4E); p.bytes += [UInt8](repeating: 0x85, count: 200_000) })
        }
        // A list containing itself.
        assertDataError(["value is a list, expected a tensor"]) {
            try self.load(self.dictPickle { p in p.op(0x5D); p.put(1); p.get(1); p.op(0x61) })
        }
        assertDataError(["stack grows past \(PickleReader.maxStackHeight) objects"]) {
            try self.load(self.dictPickle { p in p.bytes += [UInt8](repeating: 0x4E, count: PickleReader.maxStackHeight) })
        }
        assertDataError(["STOP with 2 objects"]) { try self.load([0x80, 2, 0x4E, 0x4E, 0x2E]) }
    }

    func testInconsistentStateDictsAreRefused() {
        let twice = TorchFileBuilder.stateDictPickle([TensorSpec(name: "w"), TensorSpec(name: "w")])
        assertDataError(["state_dict key 'w' appears twice"]) { try self.load(twice) }
        let retyped = TorchFileBuilder.stateDictPickle([TensorSpec(name: "a"), TensorSpec(name: "b", storageType: "HalfStorage", storageElements: 12)])
        assertDataError(["tensor 'b': storage '0' is declared as 12 F16 here but 6 F32 earlier"]) { try self.load(retyped) }
        let unknownType = TorchFileBuilder.stateDictPickle([TensorSpec(name: "w", storageType: "ComplexFloatStorage")])
        assertDataError(["global 'torch.ComplexFloatStorage' is not allowed"]) { try self.load(unknownType) }
        assertDataError(["the pickled object is a list, expected a state_dict"]) { try self.load([0x80, 2, 0x5D, 0x2E]) }
        assertDataError(["data.pkl has 3 bytes after the pickle's STOP"]) {
            try self.load(TorchFileBuilder.stateDictPickle([TensorSpec(name: "w")]) + [0, 0, 0])
        }
    }

    func testContainerProblemsAreRefused() throws {
        let pickle = TorchFileBuilder.stateDictPickle([TensorSpec(name: "w")])
        assertDataError(["only little-endian checkpoints"]) { try self.load(pickle, byteorder: "big") }
        var damaged = [UInt8](TorchFileBuilder.archive(pickle: pickle, storages: ["0": sixFloats]))
        let at = try XCTUnwrap(ZipArchive(data: Data(damaged), name: "z").entry("archive/data/0")).range.lowerBound
        damaged[at + 5] ^= 0x40
        assertDataError(["zip entry 'archive/data/0': CRC-32", "file damaged"]) {
            try PyTorchCheckpoint.read(data: Data(damaged), name: "damaged.bin")
        }
        let deflated = StoredZip.make([("archive/data.pkl", pickle)], method: 8)
        assertDataError(["entry 'archive/data.pkl': uses compression method 8"]) {
            try PyTorchCheckpoint.read(data: Data(deflated), name: "deflated.bin")
        }
        let twoFolders = StoredZip.make([("a/data.pkl", pickle), ("b/data/0", sixFloats)])
        assertDataError(["expected one top-level folder holding data.pkl"]) {
            try PyTorchCheckpoint.read(data: Data(twoFolders), name: "two.bin")
        }
        assertDataError(["neither a torch zip archive"]) { try PyTorchCheckpoint.read(data: Data("hello".utf8), name: "text.bin") }
        assertDataError(["appears twice"]) {
            try PyTorchCheckpoint.read(data: Data(StoredZip.make([("a/data.pkl", pickle), ("a/data.pkl", pickle)])), name: "dup.bin")
        }
    }
}
