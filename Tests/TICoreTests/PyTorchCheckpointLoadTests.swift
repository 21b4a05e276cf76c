// End to end: the same tiny BertForSequenceClassification saved by torch.save (pytorch_model.bin)
// and by safetensors loads through Checkpoint.load to identical parameters and logits, and both
// match transformers' own logits (notebooks-cli/fixtures-pytorch-bin.py).
import Foundation
import TICore
import TIData
import TILinalg
import XCTest

final class PyTorchCheckpointLoadTests: XCTestCase {
    struct Reference: Decodable {
        let input_ids: [[Int]]
        let token_type_ids: [[Int]]
        let attention_mask: [[Int]]
        let logits: [[Double]]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TIDataTests/Fixtures/pytorch")

    private func logits(_ ck: LoadedCheckpoint, _ ref: Reference) throws -> [Float] {
        let b = ref.input_ids.count, t = ref.input_ids[0].count
        let batch = Batch(size: b, seqLen: t, tokens: ref.input_ids.flatMap { $0 }, tokenTypes: ref.token_type_ids.flatMap { $0 },
                          attentionMask: ref.attention_mask.flatMap { $0 }, labels: [Int](repeating: 0, count: b))
        try batch.validate(for: ck.config)
        let trace: ForwardTrace<Float> = BertModel(config: ck.config).forward(effective: ck.parameters, batch: batch, options: ForwardOptions())
        return trace.head.logits.array
    }

    func testBinAndSafetensorsGiveIdenticalLogits() throws {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("tiny-bert-logits.json")))
        let bin = try Checkpoint.load(Self.fixtures.appendingPathComponent("tiny-bert-bin"))
        let st = try Checkpoint.load(Self.fixtures.appendingPathComponent("tiny-bert-safetensors"))
        XCTAssertEqual(bin.config, st.config)
        XCTAssertEqual(bin.parameters, st.parameters)
        XCTAssertEqual(bin.hash, st.hash)
        // Both files carry TinyBERT's fit_dense; the loader says once that it ignored it.
        XCTAssertEqual(bin.notes, ["ignored TinyBERT's distillation projection fit_dense.bias, fit_dense.weight in pytorch_model.bin"])
        XCTAssertEqual(st.notes, ["ignored TinyBERT's distillation projection fit_dense.bias, fit_dense.weight in model.safetensors"])

        // The 2019-style export (legacy container, LayerNorm gamma/beta) loads to the same model.
        let legacy = try Checkpoint.load(Self.fixtures.appendingPathComponent("tiny-bert-legacy"))
        XCTAssertEqual(legacy.parameters, st.parameters)
        XCTAssertEqual(legacy.notes.count, 2, "\(legacy.notes)")

        let fromBin = try logits(bin, ref), fromST = try logits(st, ref)
        XCTAssertEqual(fromBin, fromST)
        let want = ref.logits.flatMap { $0 }
        XCTAssertEqual(fromBin.count, want.count)
        var worst = 0.0
        for (g, w) in zip(fromBin, want) { worst = max(worst, abs(Double(g) - w)) }
        print("tiny BERT from pytorch_model.bin: max |logit - transformers logit| = \(worst)")
        XCTAssertLessThan(worst, 1e-5, "largest |logit - transformers logit|")
        // Discriminates: the two inputs' logits differ far more than the tolerance.
        XCTAssertGreaterThan(abs(want[0] - want[3]) + abs(want[1] - want[4]), 1e-3)
    }

    /// The F16 .bin decodes to the same Float parameters as the F16 safetensors file of that model.
    func testHalfPrecisionBinLoadsThroughCheckpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-ptbin-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("tiny-bert-bin/config.json"),
                                         to: dir.appendingPathComponent("config.json"))
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("tiny-bert-f16.bin"),
                                         to: dir.appendingPathComponent("pytorch_model.bin"))
        let half = try Checkpoint.load(dir)
        let full = try Checkpoint.load(Self.fixtures.appendingPathComponent("tiny-bert-bin"))
        let reference = try SafeTensorsFile.read(url: Self.fixtures.appendingPathComponent("tiny-bert-f16.safetensors"))
        let slot = half.config.parameterLayout.slot("bert.encoder.layer.1.output.dense.weight")
        XCTAssertEqual(Array(half.parameters[slot.range]), try reference.values(slot.name, as: Float.self))
        // Rounded, not merely copied: close to the F32 weights but not equal to them.
        let d = zip(half.parameters, full.parameters).map { abs($0 - $1) }
        XCTAssertLessThan(d.max()!, 1e-2)
        XCTAssertGreaterThan(d.max()!, 0)
    }
}
