// pytorch_model.bin files written by torch.save (notebooks-cli/fixtures-pytorch-bin.py) against
// the same tensors written by the safetensors library: names, dtypes, shapes and bytes must agree.
import Foundation
import TIData
import XCTest

final class PyTorchCheckpointTests: XCTestCase {
    /// Every tensor of `bin` equals the same-named tensor of `reference`, byte for byte.
    private func assertSameTensors(_ bin: SafeTensorsFile, _ reference: SafeTensorsFile,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(Set(bin.tensorNames), Set(reference.tensorNames), file: file, line: line)
        XCTAssertGreaterThan(bin.tensorNames.count, 0, file: file, line: line)
        for name in reference.tensorNames {
            let got = try XCTUnwrap(bin.info(name), name, file: file, line: line)
            let want = try XCTUnwrap(reference.info(name), file: file, line: line)
            XCTAssertEqual(got.dtype, want.dtype, name, file: file, line: line)
            XCTAssertEqual(got.shape, want.shape, name, file: file, line: line)
            XCTAssertEqual(try bin.rawBytes(name), try reference.rawBytes(name), name, file: file, line: line)
        }
    }

    private func bin(_ path: String) throws -> SafeTensorsFile { try PyTorchCheckpoint.read(url: Fixture.url("pytorch/" + path)) }
    private func st(_ path: String) throws -> SafeTensorsFile { try SafeTensorsFile.read(url: Fixture.url("pytorch/" + path)) }

    func testTinyBertZipMatchesSafetensors() throws {
        let b = try bin("tiny-bert-bin/pytorch_model.bin")
        try assertSameTensors(b, try st("tiny-bert-safetensors/model.safetensors"))
        // State-dict order is kept; the extras of older and TinyBERT checkpoints are present.
        XCTAssertEqual(b.tensorNames.first, "bert.embeddings.word_embeddings.weight")
        XCTAssertEqual(try b.intValues("bert.embeddings.position_ids"), Array(0..<16))
        XCTAssertEqual(b.info("bert.embeddings.position_ids")?.shape, [1, 16])
        XCTAssertEqual(b.info("fit_dense.weight")?.shape, [12, 8])
        XCTAssertEqual(b.info("bert.encoder.layer.1.intermediate.dense.weight")?.shape, [16, 8])
    }

    func testLegacyAndProtocol4FilesMatchSafetensors() throws {
        let reference = try st("tiny-bert-safetensors/model.safetensors")
        try assertSameTensors(try bin("tiny-bert-proto4.bin"), reference)
        // The legacy fixture names LayerNorm parameters gamma/beta, as 2019 exports do.
        let legacy = try bin("tiny-bert-legacy/pytorch_model.bin")
        XCTAssertNotNil(legacy.info("bert.encoder.layer.0.output.LayerNorm.gamma"))
        XCTAssertNil(legacy.info("bert.encoder.layer.0.output.LayerNorm.weight"))
        let read = try CheckpointWeights.read(in: Fixture.url("pytorch/tiny-bert-legacy"))
        try assertSameTensors(read.file, reference)
        XCTAssertEqual(read.notes.first, "read 10 LayerNorm gamma/beta tensors of pytorch_model.bin as weight/bias")
    }

    func testHalfPrecisionFilesMatchSafetensors() throws {
        for tag in ["f16", "bf16"] {
            let b = try bin("tiny-bert-\(tag).bin"), s = try st("tiny-bert-\(tag).safetensors")
            try assertSameTensors(b, s)
            XCTAssertEqual(b.info("classifier.weight")?.dtype, tag == "f16" ? .f16 : .bf16)
            let name = "bert.encoder.layer.0.attention.self.query.weight"
            XCTAssertEqual(try b.values(name, as: Float.self), try s.values(name, as: Float.self))
        }
    }

    /// Transposes, slices with storage offsets, a permuted 3-D view, an empty slice and a scalar,
    /// all views of one storage, materialise to what `.contiguous()` gives in torch.
    func testNonContiguousViewsOfOneStorage() throws {
        let b = try bin("views.bin"), s = try st("views.safetensors")
        try assertSameTensors(b, s)
        XCTAssertEqual(b.info("permuted")?.shape, [5, 3, 4])
        XCTAssertEqual(b.info("scalar")?.shape, [])
        // Hand check of one transposed element: base is arange(60)/8 - 3 as 6×10, so
        // transposed[7][2] = base[2][7] = 27/8 - 3.
        let t = try b.values("transposed", as: Double.self)
        XCTAssertEqual(t[7 * 6 + 2], 27.0 / 8 - 3)
        XCTAssertEqual(try b.values("stepped", as: Double.self), [1, 4, 7, 21, 24, 27, 41, 44, 47].map { Double($0) / 8 - 3 })
    }

    func testParametersUnwrap() throws {
        try assertSameTensors(try bin("parameters.bin"), try st("parameters.safetensors"))
    }

    /// torch.save of objects whose __reduce__ names os.system or eval (pickled as posix.system and
    /// __builtin__.eval): refused at the GLOBAL, with the name, before anything could be built.
    func testPicklesNamingDangerousGlobalsAreRefused() {
        assertDataError(["global 'posix.system' is not allowed"]) { try bin("evil-os-system.bin") }
        assertDataError(["global '__builtin__.eval' is not allowed"]) { try bin("evil-eval.bin") }
    }

    func testCheckpointDirectoryPrefersSafetensorsAndFallsBackToBin() throws {
        let fromBin = try CheckpointWeights.read(in: Fixture.url("pytorch/tiny-bert-bin"))
        XCTAssertEqual(fromBin.url.lastPathComponent, "pytorch_model.bin")
        XCTAssertEqual(fromBin.notes, ["ignored TinyBERT's distillation projection fit_dense.bias, fit_dense.weight in pytorch_model.bin"])
        let dir = try Fixture.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        assertDataError(["holds neither model.safetensors nor pytorch_model.bin"]) { try CheckpointWeights.read(in: dir) }
        for name in ["model.safetensors", "pytorch_model.bin"] {
            let source = name == "model.safetensors" ? "tiny-bert-safetensors/" : "tiny-bert-bin/"
            try FileManager.default.copyItem(at: Fixture.url("pytorch/" + source + name), to: dir.appendingPathComponent(name))
        }
        XCTAssertEqual(try CheckpointWeights.read(in: dir).url.lastPathComponent, "model.safetensors")
    }

    /// The hand-built archive the hostile-input tests start from is itself valid.
    func testHandBuiltStateDictLoads() throws {
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        let pickle = TorchFileBuilder.stateDictPickle([TensorSpec(name: "w"), TensorSpec(name: "wt", size: [3, 2], stride: [1, 3])])
        let f = try PyTorchCheckpoint.read(data: TorchFileBuilder.archive(pickle: pickle, storages: ["0": TorchFileBuilder.floats(values)]), name: "built")
        XCTAssertEqual(f.tensorNames, ["w", "wt"])
        XCTAssertEqual(try f.values("w", as: Float.self), values)
        XCTAssertEqual(try f.values("wt", as: Float.self), [1, 4, 2, 5, 3, 6])
    }

    /// The fixture rewritten with ZIP64 records (as archives past 4 GiB have) reads the same.
    func testZip64ArchiveReadsTheSame() throws {
        let original = try Fixture.data("pytorch/views.bin")
        let zip64 = Data(StoredZip.make(try StoredZip.entries(original), zip64: true))
        XCTAssertEqual(Array(zip64.suffix(22).prefix(12).suffix(2)), [0xFF, 0xFF], "entry count saturated")
        try assertSameTensors(try PyTorchCheckpoint.read(data: zip64, name: "zip64.bin"), try bin("views.bin"))
        let damaged = Data(zip64.prefix(zip64.count - 42) + Data(count: 20) + zip64.suffix(22))
        assertDataError(["saturated fields but no ZIP64 locator"]) { try PyTorchCheckpoint.read(data: damaged, name: "zip64.bin") }
    }

    func testCRC32KnownValues() {
        // Standard check value of CRC-32/ISO-HDLC.
        XCTAssertEqual(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) }, 0xCBF4_3926)
        XCTAssertEqual(CRC32.checksum(Data("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
        XCTAssertEqual(CRC32.checksum(Data()), 0)
    }
}
