// The real all-MiniLM-L6-v2 encoder through tianalyze's loader, tokenizer and forward pass, against
// transformers' hidden states (notebooks-cli/reference-minilm-hidden.py): all 7 hidden states,
// Float against the float32 reference and Double against the float64 one. Skipped unless
// notebooks-cli/fetch-minilm.sh has put the model into third_party/minilm/model.
import XCTest
import Foundation
import TICore
import TIData
import TILinalg

final class MiniLMHiddenStateTests: XCTestCase {
    struct Reference: Decodable {
        struct Input: Decodable { let a: String; let b: String?; let ids: [Int]; let type_ids: [Int]; let mask: [Int] }
        struct State: Decodable { let mean: Double; let std: Double; let max_abs: Double; let cls: [[Double]]; let mid: [[Double]] }
        let max_length: Int
        let inputs: [Input]
        let float32: [State]
        let float64: [State]
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private func modelDir() throws -> URL {
        let env = ProcessInfo.processInfo.environment["TIANALYZE_MINILM_DIR"] ?? ""
        let dir = env.isEmpty ? Self.repoRoot.appendingPathComponent("third_party/minilm/model") : URL(fileURLWithPath: env)
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("model.safetensors").path) else {
            throw XCTSkip("MiniLM files not found in \(dir.path); run notebooks-cli/fetch-minilm.sh")
        }
        return dir
    }

    private func reference() throws -> Reference {
        let url = Self.repoRoot.appendingPathComponent("Tests/TIDataTests/Fixtures/minilm/hidden-states.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    /// The statistics the reference script computes, over real-token rows only.
    static func summarize<T: BLASScalar>(_ trace: ForwardTrace<T>, mask: [Int], batch: Int, seq: Int) -> [Reference.State] {
        let states = [trace.embeddings.output] + trace.layers.map(\.feedForward.output)
        let lengths = (0..<batch).map { i in mask[(i * seq)..<((i + 1) * seq)].reduce(0, +) }
        return states.map { buffer in
            let x = buffer.array.map { Double($0) }
            let h = x.count / (batch * seq)
            func row(_ i: Int, _ t: Int) -> ArraySlice<Double> { x[((i * seq + t) * h)..<((i * seq + t) * h + h)] }
            let real = (0..<batch).flatMap { i in (0..<lengths[i]).flatMap { row(i, $0) } }
            let mean = real.reduce(0, +) / Double(real.count)
            let std = (real.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(real.count)).squareRoot()
            return Reference.State(mean: mean, std: std, max_abs: real.map(abs).max()!,
                                   cls: (0..<batch).map { Array(row($0, 0).prefix(8)) },
                                   mid: (0..<batch).map { Array(row($0, lengths[$0] / 2).prefix(8)) })
        }
    }

    /// Largest error over every statistic of every hidden state, relative to the reference value
    /// but never to less than `floor` × that state's std: a single activation near zero carries
    /// float32 rounding of the state's scale, so its plain relative error says nothing (one of
    /// 7.7e-4 next to a std of 0.4 already shows 8e-5 in Float). Returns the maximum and where.
    static func maxRelativeError(_ got: [Reference.State], _ want: [Reference.State], floor: Double = 0.1) -> (error: Double, at: String) {
        var worst = (error: 0.0, at: "")
        for (l, (g, w)) in zip(got, want).enumerated() {
            let scale = floor * w.std
            func check(_ a: Double, _ b: Double, _ name: String) {
                let e = abs(a - b) / max(abs(b), scale)
                if e > worst.error || e.isNaN { worst = (e, "hidden state \(l) \(name): got \(a), want \(b)") }
            }
            check(g.mean, w.mean, "mean"); check(g.std, w.std, "std"); check(g.max_abs, w.max_abs, "max|x|")
            for i in w.cls.indices {
                for j in w.cls[i].indices {
                    check(g.cls[i][j], w.cls[i][j], "input \(i) [CLS][\(j)]")
                    check(g.mid[i][j], w.mid[i][j], "input \(i) middle row[\(j)]")
                }
            }
        }
        return worst
    }

    func testHiddenStatesMatchTransformers() throws {
        let dir = try modelDir()
        let ref = try reference()

        // The sentence-transformers checkpoint is encoder + pooler only: the loader must accept it
        // and say that the classifier is freshly initialized.
        let ckpt = try Checkpoint.load(dir)
        XCTAssertEqual([ckpt.config.numLayers, ckpt.config.hiddenSize, ckpt.config.numHeads, ckpt.config.vocabSize], [6, 384, 12, 30522])
        XCTAssertTrue(ckpt.notes.contains { $0.contains("classifier.weight") }, "\(ckpt.notes)")
        XCTAssertFalse(ckpt.notes.contains { $0.contains("pooler") }, "pooler is in the file: \(ckpt.notes)")

        let tok = try WordPieceTokenizer.load(tokenizerJSON: dir.appendingPathComponent("tokenizer.json"))
        let t = ref.max_length, b = ref.inputs.count
        var ids: [Int] = [], types: [Int] = [], mask: [Int] = []
        for input in ref.inputs {
            let e = tok.encode(input.a, input.b, maxLength: t)
            XCTAssertEqual(e.inputIds, input.ids, input.a)
            XCTAssertEqual(e.tokenTypeIds, input.type_ids, input.a)
            XCTAssertEqual(e.attentionMask, input.mask, input.a)
            ids += e.inputIds; types += e.tokenTypeIds; mask += e.attentionMask
        }
        // Not a degenerate batch: a pair, padding, and a truncated input are all present.
        XCTAssertTrue(types.contains(1))
        XCTAssertTrue(mask.contains(0))
        XCTAssertTrue(ref.inputs.contains { $0.mask.allSatisfy { $0 == 1 } })
        let batch = Batch(size: b, seqLen: t, tokens: ids, tokenTypes: types, attentionMask: mask, labels: [Int](repeating: 0, count: b))
        try batch.validate(for: ckpt.config)

        let model = BertModel(config: ckpt.config)
        let floatTrace: ForwardTrace<Float> = model.forward(effective: ckpt.parameters, batch: batch, options: ForwardOptions())
        let doubleTrace: ForwardTrace<Double> = model.forward(effective: ckpt.parameters.map(Double.init), batch: batch, options: ForwardOptions())
        let floatStats = Self.summarize(floatTrace, mask: mask, batch: b, seq: t)
        let doubleStats = Self.summarize(doubleTrace, mask: mask, batch: b, seq: t)
        XCTAssertEqual(floatStats.count, 7)
        XCTAssertEqual(ref.float32.count, 7)

        let float = Self.maxRelativeError(floatStats, ref.float32)
        let double = Self.maxRelativeError(doubleStats, ref.float64)
        print("MiniLM hidden states: max relative error Float vs float32 \(float.error) (\(float.at)); Double vs float64 \(double.error) (\(double.at))")
        print("  with a 1e-3·std floor: Float \(Self.maxRelativeError(floatStats, ref.float32, floor: 1e-3).error), Double \(Self.maxRelativeError(doubleStats, ref.float64, floor: 1e-3).error)")
        XCTAssertLessThanOrEqual(float.error, 1e-4, float.at)
        XCTAssertLessThanOrEqual(double.error, 1e-5, double.at)

        // The comparison discriminates: each hidden state is far from its neighbour's reference.
        for l in 0..<6 {
            XCTAssertGreaterThan(Self.maxRelativeError([doubleStats[l]], [ref.float64[l + 1]]).error, 1e-2, "state \(l) vs \(l + 1)")
        }
    }
}
