// AdaRound: the rectified sigmoid, lower layer reconstruction error than round-to-nearest on the same
// grid, results on the grid, and the mode end to end (idempotent re-quantization of the student).
import XCTest
import Foundation
import TICore
import TILinalg

final class AdaRoundTests: XCTestCase {
    func testRectifiedSigmoidByHand() {
        XCTAssertEqual(AdaRound.rectifiedSigmoid(0), 0.5, accuracy: 1e-15)          // σ(0)·1.2 − 0.1
        XCTAssertEqual(AdaRound.rectifiedSigmoid(20), 1)                             // clipped at 1
        XCTAssertEqual(AdaRound.rectifiedSigmoid(-20), 0)
        XCTAssertEqual(AdaRound.rectifiedSigmoid(1), 1 / (1 + exp(-1.0)) * 1.2 - 0.1, accuracy: 1e-15)
    }

    /// An [8, 16] layer whose inputs are strongly correlated (so rounding errors can cancel).
    func smallLayer() -> (w: [Double], gram: [Double], rows: Int) {
        var rng = SeededRandom(seed: 17)
        let rows = 128, cols = 16
        let base: [Double] = rng.normalVector(rows * 4)
        var x = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows { for j in 0..<cols { x[r * cols + j] = base[r * 4 + j % 4] + 0.3 * rng.normal() } }
        let w: [Double] = rng.normalVector(8 * cols).map { $0 * 0.5 }
        var g = [Double](repeating: 0, count: cols * cols)
        for r in 0..<rows { for i in 0..<cols { for j in 0..<cols { g[i * cols + j] += x[r * cols + i] * x[r * cols + j] } } }
        return (w, g, rows)
    }

    func testAdaRoundLowersTheReconstructionErrorVersusNearest() {
        let (w, g, rows) = smallLayer()
        var o = AdaRoundOptions()
        o.iterations = 400
        let (q, s) = AdaRound.roundLayer(w, cols: 16, gram: g, rows: rows, options: o)
        let nearest = AdaRound.nearest(w, step: s, bits: 4)
        let eAda = AdaRound.reconstructionError(q, w, cols: 16, gram: g, rows: rows)
        let eNearest = AdaRound.reconstructionError(nearest, w, cols: 16, gram: g, rows: rows)
        XCTAssertLessThan(eAda, 0.8 * eNearest, "AdaRound \(eAda) vs nearest \(eNearest)")
        // Every entry is on the grid, within one step of W (floor or ceil), within ±7 steps.
        for (a, b) in zip(q, w) {
            let k = a / s
            XCTAssertEqual(k, k.rounded(), accuracy: 1e-9)
            XCTAssertTrue(abs(k) <= 7 + 1e-9)
            XCTAssertTrue(abs(abs(k) - 7) < 1e-9 || abs(a - b) < s + 1e-12, "\(a) \(b) \(s)")
        }
        XCTAssertNotEqual(q, nearest, "some weights are rounded the other way")
        // Re-quantizing with the mode's quantizer is the identity (the STE for Hessians).
        var out = q, mask = q
        WeightQuantizer.uniform(bits: 4, symmetric: true, perRow: false).quantize(q, rows: 8, cols: 16, out: &out, mask: &mask)
        for (a, b) in zip(out, q) { XCTAssertEqual(a, b, accuracy: 1e-12) }
    }

    func testAdaRoundModeEndToEnd() throws {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .adaRoundW4)
        cfg.devProbeSize = 16
        var o = PTQOptions(); o.calibrationBatches = 2; o.calibrationBatchSize = 16
        cfg.ptq = o
        var a = AdaRoundOptions(); a.iterations = 50
        cfg.adaRound = a
        let teacher: [Float] = model.initialParameters(seed: 5, std: 0.3)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-ada-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let (θ, summary, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg)
            .run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(summary.totalSteps, 0)
        let ffn = model.layout.slot("bert.encoder.layer.0.intermediate.dense.weight")
        XCTAssertNotEqual(Array(θ[ffn.range]), Array(teacher[ffn.range]))
        XCTAssertLessThanOrEqual(Set(θ[ffn.range]).count, 15, "4-bit symmetric grid: at most 15 levels")
        let emb = model.layout.slot("bert.embeddings.word_embeddings.weight")
        XCTAssertEqual(Array(θ[emb.range]), Array(teacher[emb.range]))
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: QATMode.adaRoundW4.method.defaultQuantization).effective
        for i in ffn.range { XCTAssertEqual(q[i], θ[i], accuracy: 1e-6 * max(1, abs(θ[i]))) }
    }
}
