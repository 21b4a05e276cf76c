// AdaRound: the rectified sigmoid, the seed's β schedule and regularizer at fixed iterations against
// the published formula, lower layer reconstruction error than round-to-nearest on the same grid
// (also from quantized inputs), results on the grid, and the mode end to end (idempotent
// re-quantization of the student).
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

    /// A layer wide enough that the per-weight updates split into row blocks: the same bits on 1 and 2 threads.
    func testRoundingIsTheSameOnEveryThreadCount() {
        var rng = SeededRandom(seed: 23)
        let out = 64, cols = 512, rows = 600
        let x: [Double] = rng.normalVector(rows * cols)
        let w: [Double] = rng.normalVector(out * cols).map { $0 * 0.05 }
        let gram = AdaRound.transposedProduct(x, x, rows: rows, cols: cols)
        var o = AdaRoundOptions()
        o.iterations = 40
        o.warmup = 0.25
        defer { Parallel.workers = 1 }
        let results = [1, 2].map { threads -> [Double] in
            Parallel.workers = threads
            return AdaRound.roundLayer(w, cols: cols, inputs: AdaRoundInputs(gram: gram, rows: rows), options: o).weight
        }
        XCTAssertEqual(results[0].map(\.bitPattern), results[1].map(\.bitPattern))
        XCTAssertNotEqual(results[0], AdaRound.nearest(w, step: AdaRound.step(w, bits: 4), bits: 4), "the iterations moved some weights")
    }

    func testAdaRoundLowersTheReconstructionErrorVersusNearest() {
        let (w, g, rows) = smallLayer()
        var o = AdaRoundOptions()
        o.iterations = 2000
        let (q, s) = AdaRound.roundLayer(w, cols: 16, inputs: AdaRoundInputs(gram: g, rows: rows), options: o)
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

    /// β(t) = βend + ½(βstart − βend)(1 + cos(π·(t − wT)/(T − wT))) after the warm-up wT, βstart
    /// before it (linear: βend + (βstart − βend)(1 − rel)); regularizer λΣ(1 − |2h − 1|^β), off in the warm-up.
    func testScheduleAndRegularizerAgainstThePublishedFormula() {
        var o = AdaRoundOptions()
        o.iterations = 1000
        XCTAssertEqual(o.decay, .cosine)
        XCTAssertEqual(o.beta(iteration: 1), 20)
        XCTAssertEqual(o.beta(iteration: 199), 20)
        XCTAssertEqual(o.beta(iteration: 200), 20, accuracy: 1e-12)
        XCTAssertEqual(o.beta(iteration: 400), 2 + 9 * (1 + 0.5.squareRoot()), accuracy: 1e-12)
        XCTAssertEqual(o.beta(iteration: 600), 11, accuracy: 1e-12)
        XCTAssertEqual(o.beta(iteration: 1000), 2, accuracy: 1e-12)
        let h = [0, 0.5, 1, 0.25]
        XCTAssertEqual(o.roundingRegularizer(h, iteration: 199), 0)
        XCTAssertEqual(o.roundingRegularizer(h, iteration: 600), 0.01 * (2 - pow(0.5, 11)), accuracy: 1e-15)
        o.decay = .linear
        XCTAssertEqual(o.beta(iteration: 400), 15.5, accuracy: 1e-12)
        XCTAssertEqual(o.beta(iteration: 600), 11, accuracy: 1e-12)
        XCTAssertEqual(o.beta(iteration: 1000), 2, accuracy: 1e-12)
    }

    /// Options saved before the seed's schedule read as they ran: linear decay, FP-input reconstruction.
    func testOptionsSavedEarlierDecodeAsTheyRan() throws {
        let old = #"{"bits":4,"iterations":500,"learningRate":0.01,"lambda":0.01,"betaStart":20,"betaEnd":2,"warmup":0.2}"#
        let o = try JSONDecoder().decode(AdaRoundOptions.self, from: Data(old.utf8))
        XCTAssertEqual(o.decay, .linear)
        XCTAssertFalse(o.asymmetric)
        XCTAssertEqual(o.iterations, 500)
        XCTAssertEqual(try JSONDecoder().decode(AdaRoundOptions.self, from: JSONEncoder().encode(AdaRoundOptions())), AdaRoundOptions())
    }

    /// ‖X_q W̃ᵀ − X Wᵀ‖²/rows computed from the raw rows.
    func rawAsymmetricError(_ q: [Double], _ w: [Double], xq: [Double], x: [Double], rows: Int, cols: Int) -> Double {
        let out = w.count / cols
        var e = 0.0
        for r in 0..<rows {
            for o in 0..<out {
                var d = 0.0
                for j in 0..<cols { d += xq[r * cols + j] * q[o * cols + j] - x[r * cols + j] * w[o * cols + j] }
                e += d * d
            }
        }
        return e / Double(rows)
    }

    /// From quantized inputs X_q ≠ X, the asymmetric reconstruction lowers ‖X_q W̃ᵀ − X Wᵀ‖² below both
    /// nearest rounding and AdaRound that assumes X_q = X; with X_q = X it is the symmetric one exactly.
    func testAsymmetricReconstructionFromQuantizedInputs() {
        var rng = SeededRandom(seed: 23)
        let rows = 128, cols = 16
        let base: [Double] = rng.normalVector(rows * 4)
        var x = [Double](repeating: 0, count: rows * cols)
        for r in 0..<rows { for j in 0..<cols { x[r * cols + j] = base[r * 4 + j % 4] + 0.3 * rng.normal() } }
        let xq = x.map { ($0 * 4).rounded() / 4 + 0.05 }  // a coarse grid with an offset: a systematic input error
        let w: [Double] = rng.normalVector(8 * cols).map { $0 * 0.5 }
        func gram(_ a: [Double], _ b: [Double]) -> [Double] {
            var g = [Double](repeating: 0, count: cols * cols)
            for r in 0..<rows { for i in 0..<cols { for j in 0..<cols { g[i * cols + j] += a[r * cols + i] * b[r * cols + j] } } }
            return g
        }
        var o = AdaRoundOptions(); o.iterations = 2000
        let asym = AdaRound.roundLayer(w, cols: cols, inputs: AdaRoundInputs(gram: gram(xq, xq), cross: gram(x, xq), rows: rows), options: o)
        let sym = AdaRound.roundLayer(w, cols: cols, inputs: AdaRoundInputs(gram: gram(x, x), rows: rows), options: o)
        let nearest = AdaRound.nearest(w, step: asym.step, bits: 4)
        let eAsym = rawAsymmetricError(asym.weight, w, xq: xq, x: x, rows: rows, cols: cols)
        let eSym = rawAsymmetricError(sym.weight, w, xq: xq, x: x, rows: rows, cols: cols)
        let eNearest = rawAsymmetricError(nearest, w, xq: xq, x: x, rows: rows, cols: cols)
        XCTAssertLessThan(eAsym, 0.9 * eNearest, "asymmetric \(eAsym) vs nearest \(eNearest)")
        XCTAssertLessThan(eAsym, eSym, "asymmetric \(eAsym) vs symmetric AdaRound \(eSym)")
        let same = AdaRound.roundLayer(w, cols: cols, inputs: AdaRoundInputs(gram: gram(x, x), cross: gram(x, x), rows: rows), options: o)
        XCTAssertEqual(same.weight, sym.weight)
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
