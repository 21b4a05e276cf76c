import Foundation
import TIData
import TILinalg
import XCTest

final class SafeTensorsTests: XCTestCase {
    func testReadsReferenceF32File() throws {
        let f = try SafeTensorsFile.read(url: Fixture.url("safetensors/st_f32.safetensors"))
        XCTAssertEqual(f.metadata, ["format": "pt"])
        XCTAssertEqual(f.tensorNames, ["bias", "empty", "scalar", "weight"])
        XCTAssertEqual(f.info("weight")?.shape, [2, 3])
        XCTAssertEqual(f.info("weight")?.dtype, .f32)
        XCTAssertEqual(f.info("scalar")?.shape, [])
        XCTAssertEqual(try f.values("weight", as: Float.self), [-0.5, -0.25, 0, 0.25, 0.5, 0.75])
        XCTAssertEqual(try f.values("bias", as: Double.self), [0.5, -1.25, 3])
        XCTAssertEqual(try f.values("scalar", as: Float.self), [7.5])
        XCTAssertEqual(try f.values("empty", as: Float.self), [])
        XCTAssertNil(f.info("missing"))
        assertDataError(["st_f32.safetensors", "no tensor named 'missing'"]) { try f.values("missing", as: Float.self) }
        assertDataError(["'bias'", "not an integer type"]) { try f.intValues("bias") }
    }

    func testHalfAndBFloatMatchReferenceDecoding() throws {
        for (file, tensor) in [("st_f16", "h"), ("st_bf16", "b")] {
            let f = try SafeTensorsFile.read(url: Fixture.url("safetensors/\(file).safetensors"))
            let got = try f.values(tensor, as: Float.self)
            let want = try f.values("\(tensor)_expected", as: Float.self)
            XCTAssertEqual(got.count, 14)
            XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), file)
            XCTAssertTrue(got.contains(.infinity) && got.contains(-.infinity) && got.contains { $0.isNaN })
            // Half subnormals decode exactly (5.96e-8 is the smallest one).
            if tensor == "h" { XCTAssertTrue(got.contains(0x1p-24)) }
        }
    }

    func testReadsReferenceIntegerFile() throws {
        let f = try SafeTensorsFile.read(url: Fixture.url("safetensors/st_int.safetensors"))
        XCTAssertEqual(f.metadata, ["quant": "int8", "bits": "8"])
        XCTAssertEqual(try f.intValues("ids"), [0, 1, -5, 1 << 40])
        XCTAssertEqual(try f.values("ids", as: Double.self), [0, 1, -5, 1_099_511_627_776])
        XCTAssertEqual(try f.intValues("codes"), [-128, -1, 0, 1, 127])
        XCTAssertEqual(f.info("codes")?.dtype, .i8)
    }

    /// Same tensors in the same order as the reference wrote them → byte-identical file.
    func testWriterMatchesReferenceBytes() throws {
        let tensors: [(name: String, shape: [Int], values: [Float])] = [
            ("bias", [3], [0.5, -1.25, 3]), ("empty", [0, 4], []), ("scalar", [], [7.5]),
            ("weight", [2, 3], [-0.5, -0.25, 0, 0.25, 0.5, 0.75]),
        ]
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.safetensors")
        try SafeTensorsWriter.write(tensors: tensors, metadata: ["format": "pt"], to: url)
        XCTAssertEqual(try Data(contentsOf: url), try Fixture.data("safetensors/st_f32.safetensors"))
    }

    func testMixedRoundTripKeepsAlignment() throws {
        let codes: [Int8] = [-128, -3, 0, 5, 127, 1, 2]
        let data = try SafeTensorsWriter.encode([
            .int8("layer.codes", shape: [7], values: codes),
            .float32("layer.scale", shape: [1], values: [0.0125]),
            .float16("h", shape: [2], values: [1.5, -0.1]),
            .bfloat16("b", shape: [1], values: [3.0e38]),
            .float32("name with \"quotes\" and \u{1}", shape: [2, 1], values: [1, 2]),
        ], metadata: ["bits": "8", "note": "ünï\ncode"])
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "data section must start 8-byte aligned")
        let f = try SafeTensorsFile(data: data, name: "mem")
        XCTAssertEqual(f.metadata, ["bits": "8", "note": "ünï\ncode"])
        XCTAssertEqual(try f.intValues("layer.codes"), codes.map(Int.init))
        XCTAssertEqual(try f.values("layer.scale", as: Float.self), [0.0125])
        XCTAssertEqual(try f.values("h", as: Float.self), [1.5, HalfPrecision.float(fromHalf: HalfPrecision.half(from: -0.1))])
        XCTAssertEqual(try f.values("b", as: Float.self), [HalfPrecision.float(fromBFloat: HalfPrecision.bfloat(from: 3.0e38))])
        XCTAssertEqual(try f.values("name with \"quotes\" and \u{1}", as: Double.self), [1, 2])
        // Every tensor starts at a multiple of its element size.
        for n in f.tensorNames {
            let info = try XCTUnwrap(f.info(n))
            XCTAssertEqual(info.dataOffsets.lowerBound % info.dtype.byteSize, 0, n)
        }
    }

    func testWriterRejectsBadTensors() throws {
        assertDataError(["'w'", "needs 6 values, got 5"]) {
            try SafeTensorsWriter.encode([.float32("w", shape: [2, 3], values: [1, 2, 3, 4, 5])])
        }
        assertDataError(["'w'", "duplicate"]) {
            try SafeTensorsWriter.encode([.float32("w", shape: [1], values: [1]), .float32("w", shape: [1], values: [1])])
        }
        assertDataError(["reserved"]) { try SafeTensorsWriter.encode([.int8("__metadata__", shape: [1], values: [1])]) }
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("q.safetensors")
        try SafeTensorsWriter.write(int8Tensors: [("q", [2, 2], [1, -2, 3, -4])], to: url)
        XCTAssertEqual(try SafeTensorsFile.read(url: url).intValues("q"), [1, -2, 3, -4])
        assertDataError(["nope.safetensors", "cannot read"]) { try SafeTensorsFile.read(url: dir.appendingPathComponent("nope.safetensors")) }
    }
}

final class SafeTensorsMalformedTests: XCTestCase {
    /// A file with the given header text (unpadded) followed by `dataBytes` zero bytes.
    private func file(_ header: String, dataBytes: Int, declaredLength: UInt64? = nil) -> Data {
        let h = Array(header.utf8)
        var d = Data()
        withUnsafeBytes(of: (declaredLength ?? UInt64(h.count)).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: h)
        d.append(Data(count: dataBytes))
        return d
    }

    private func expect(_ header: String, dataBytes: Int, _ fragments: [String], line: UInt = #line) {
        assertDataError(["bad.safetensors"] + fragments, line: line) {
            try SafeTensorsFile(data: file(header, dataBytes: dataBytes), name: "bad.safetensors")
        }
    }

    func testHeaderLengthProblems() {
        assertDataError(["t.st", "too short"]) { try SafeTensorsFile(data: Data([1, 0, 0]), name: "t.st") }
        assertDataError(["t.st", "runs past the end"]) {
            try SafeTensorsFile(data: file("{}", dataBytes: 0, declaredLength: 1000), name: "t.st")
        }
        assertDataError(["t.st", "exceeds"]) {
            try SafeTensorsFile(data: file("{}", dataBytes: 0, declaredLength: UInt64.max), name: "t.st")
        }
        XCTAssertEqual(try SafeTensorsFile(data: file("{}", dataBytes: 0), name: "ok").tensorNames, [])
    }

    func testBadJSON() {
        expect(#"{"w":{"dtype":"F32","#, dataBytes: 0, ["not valid JSON"])
        expect(#"[1,2]"#, dataBytes: 0, ["must be a JSON object"])
        expect(#"{"w":1} x"#, dataBytes: 0, ["not valid JSON", "after the JSON value"])
        expect(String(repeating: "[", count: 200), dataBytes: 0, ["nesting"])
        assertDataError(["u.st", "UTF-8"]) {
            var d = file("{\"a\":\"xx\"}", dataBytes: 0)
            d[14] = 0xFF
            return try SafeTensorsFile(data: d, name: "u.st")
        }
    }

    func testTensorEntryProblemsNameTheTensor() {
        expect(#"{"w":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}"#, dataBytes: 1, ["'w'", "unknown dtype 'F8'"])
        expect(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "needs 8 bytes", "span 4"])
        expect(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, dataBytes: 4, ["'w'", "exceed the 4-byte data section"])
        expect(#"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "shape[0] must be a non-negative integer"])
        expect(#"{"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "shape[0]"])
        expect(#"{"w":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "shape[0]"])
        expect(#"{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "shape[0]"])
        expect(#"{"w":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "shape[0]"])
        expect(#"{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "too many elements"])
        expect(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, dataBytes: 4, ["'w'", "begin after end"])
        expect(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, dataBytes: 4, ["'w'", "data_offsets"])
        expect(#"{"w":{"dtype":"F32","shape":[1]}}"#, dataBytes: 4, ["'w'", "data_offsets"])
        expect(#"{"w":{"shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4, ["'w'", "dtype"])
        expect(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}"#, dataBytes: 4, ["'w'", "unknown field 'extra'"])
        expect(#"{"w":[1]}"#, dataBytes: 0, ["'w'", "must be an object"])
        expect(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
               dataBytes: 8, ["'w'", "duplicate"])
        expect(#"{"__metadata__":{"a":1}}"#, dataBytes: 0, ["__metadata__", "'a'", "must be a string"])
        expect(#"{"__metadata__":[]}"#, dataBytes: 0, ["__metadata__"])
    }

    func testHeaderStringEscapes() throws {
        let header = #"{"__metadata__":{"k\"ey":"tab\there\u00e9\ud83d\ude00\/"},"n\u00e9\\x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}"#
        let f = try SafeTensorsFile(data: file(header, dataBytes: 2), name: "ok")
        XCTAssertEqual(f.metadata, ["k\"ey": "tab\there\u{e9}\u{1F600}/"])
        XCTAssertEqual(f.tensorNames, ["n\u{e9}\\x"])
        XCTAssertEqual(try f.intValues("n\u{e9}\\x"), [0, 0])
        expect(#"{"a\ud83d":1}"#, dataBytes: 0, ["not valid JSON", "surrogate"])
        expect(#"{"a\q":1}"#, dataBytes: 0, ["not valid JSON", "invalid escape"])
        expect("{\"a\u{1}\":1}", dataBytes: 0, ["not valid JSON", "control character"])
        expect(#"{"w":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#, dataBytes: 4, ["not valid JSON"])
    }

    func testLayoutProblems() {
        expect(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
               dataBytes: 12, ["'b'", "overlap tensor 'a'"])
        expect(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
               dataBytes: 12, ["'b'", "gaps are not allowed"])
        expect(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 8, ["cover 4 bytes", "data section has 8"])
        // Out-of-order entries in the header are fine as long as the data is tiled.
        let ok = #"{"b":{"dtype":"I8","shape":[2],"data_offsets":[4,6]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        XCTAssertEqual(try SafeTensorsFile(data: file(ok, dataBytes: 6), name: "ok").tensorNames, ["a", "b"])
    }
}

final class SafeTensorsLayoutTests: XCTestCase {
    func testFlatRoundTripThroughLayout() throws {
        let layout = ParameterLayout([("w", [2, 3], .matrix), ("b", [3], .bias)])
        let flat: [Double] = [1, 2, 3, 4, 5, 6, -1, -2, -3]
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("flat.safetensors")
        try SafeTensorsWriter.write(flat: flat, layout: layout, metadata: ["fingerprint": layout.fingerprint], to: url,
                                    tensorName: { "bert." + $0 })
        let f = try SafeTensorsFile.read(url: url)
        XCTAssertEqual(f.metadata["fingerprint"], layout.fingerprint)
        XCTAssertEqual(f.info("bert.w")?.shape, [2, 3])
        XCTAssertEqual(try f.flatValues(layout: layout, as: Double.self, tensorName: { "bert." + $0 }), flat)
        assertDataError(["no tensor named 'w'", "parameter 'w'"]) { try f.flatValues(layout: layout, as: Float.self) }
        let wrong = ParameterLayout([("bert.w", [3, 2], .matrix)])
        assertDataError(["'bert.w'", "expected shape [3, 2], found [2, 3]"]) { try f.flatValues(layout: wrong, as: Float.self) }
        assertDataError(["9 values", "layout needs 6"]) {
            try SafeTensorsWriter.write(flat: flat, layout: ParameterLayout([("w", [2, 3], .matrix)]), to: url)
        }
    }
}
