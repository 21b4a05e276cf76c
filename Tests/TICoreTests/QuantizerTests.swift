// Quantizers on hand-computed tensors, including the STE clip masks.
import XCTest
import TICore
import TILinalg

final class QuantizerTests: XCTestCase {
    func quantize(_ q: WeightQuantizer, _ w: [Double], rows: Int) -> (out: [Double], mask: [Double]) {
        var out = [Double](repeating: .nan, count: w.count), mask = out
        q.quantize(w, rows: rows, cols: w.count / rows, out: &out, mask: &mask)
        return (out, mask)
    }

    func testTernaryPerTensorByHand() {
        // |W| = [3(clamped to 2.5), 1, 0.2, 0.5, 0.1, 1.2]: mean 5.5/6, Δ = 0.7·0.91667 = 0.641667;
        // kept |W| > Δ: 2.5, 1, 1.2 → α = 4.7/3.
        let w = [3.0, -1.0, 0.2, 0.5, -0.1, 1.2]
        let (out, mask) = quantize(.ternary(clip: 2.5, perRow: false), w, rows: 2)
        let a = 4.7 / 3
        XCTAssertEqual(out, [a, -a, 0, 0, 0, a])
        XCTAssertEqual(mask, [0, 1, 1, 1, 1, 1])  // 3.0 was clipped: no gradient through it
    }

    func testTernaryPerRowForEmbeddings() {
        // Row 0: |·| = [1, 0.1, 0.4], mean .5, Δ .35, kept 1, .4 → α .7. Row 1: [2, 2, 0.2], mean 1.4, Δ .98 → α 2.
        let w = [1.0, -0.1, -0.4, 2.0, -2.0, 0.2]
        let (out, _) = quantize(.ternary(clip: 2.5, perRow: true), w, rows: 2)
        for (x, y) in zip(out, [0.7, 0, -0.7, 2, -2, 0]) { XCTAssertEqual(x, y, accuracy: 1e-12) }
    }

    /// Float goes through the C kernel (double-lane means): same result as the Double loop on random
    /// groups of odd sizes with clipped entries, per tensor and per row, including the hand case.
    func testTernaryFloatKernelMatchesTheDoubleLoop() {
        var rng = SeededRandom(seed: 31)
        for (rows, cols, perRow) in [(2, 3, false), (7, 129, false), (5, 37, true), (64, 128, false)] {
            var w: [Float] = (0..<(rows * cols)).map { _ in Float(rng.normal()) }
            w[0] = 3.5; w[w.count - 1] = -2.75  // clipped
            let q = WeightQuantizer.ternary(clip: 2.5, perRow: perRow)
            var of = [Float](repeating: .nan, count: w.count), mf = of
            q.quantize(w, rows: rows, cols: cols, out: &of, mask: &mf)
            let (od, md) = quantize(q, w.map(Double.init), rows: rows)
            XCTAssertEqual(mf.map(Double.init), md, "\(rows)×\(cols) masks")
            for i in w.indices {
                XCTAssertEqual(Double(of[i]), od[i], accuracy: 1e-6 * max(1, abs(od[i])), "\(rows)×\(cols) entry \(i)")
                XCTAssertEqual(of[i] == 0, od[i] == 0, "\(rows)×\(cols) entry \(i): same entries pruned")
            }
        }
        var o = [Float](repeating: .nan, count: 6), m = o
        WeightQuantizer.ternary(clip: 2.5, perRow: false).quantize([3.0, -1.0, 0.2, 0.5, -0.1, 1.2], rows: 2, cols: 3, out: &o, mask: &m)
        XCTAssertEqual(o, [Float(4.7 / 3), -Float(4.7 / 3), 0, 0, 0, Float(4.7 / 3)])
    }

    func testActivation8BitSymmetricWithClipAndTiesToEven() {
        // max|clamp(x)| = 2.5 → s = 127/2.5 = 50.8; 3.0 is clipped to 2.5 (mask 0).
        let x = [3.0, -1.0, 0.5, 0.0]
        var out = [Double](repeating: 0, count: 4), mask = out
        ActivationQuantizer.symmetric(bits: 8, clip: 2.5).quantize(x, count: 4, out: &out, mask: &mask)
        let s = 50.8
        XCTAssertEqual(out, [2.5, (-50.8).rounded(.toNearestOrEven) / s, (25.4).rounded(.toNearestOrEven) / s, 0])
        XCTAssertEqual(mask, [0, 1, 1, 1])
        // Ties: with max 2.54 (s = 50), 0.01·50 = 0.5 rounds to 0 (even) and 0.03·50 = 1.5 to 2.
        var o2 = [Double](repeating: 0, count: 3), m2 = o2
        ActivationQuantizer.symmetric(bits: 8, clip: nil).quantize([2.54, 0.01, 0.03], count: 3, out: &o2, mask: &m2)
        XCTAssertEqual(o2[1], 0)
        XCTAssertEqual(o2[2], 2.0 / 50, accuracy: 1e-15)
    }

    func testUniformSymmetricAndAsymmetric() {
        // 2-bit symmetric: levels {−1, 0, 1}·max|W|.
        let (s2, _) = quantize(.uniform(bits: 2, symmetric: true, perRow: false), [0.9, -0.3, 0.7, -1.2], rows: 1)
        XCTAssertEqual(s2, [1.2, 0, 1.2, -1.2])  // 0.3/1.2 = 0.25 → 0; 0.7/1.2 → 1
        // 2-bit asymmetric over [0, 3]: scale 1, zero point 0.
        let (a2, _) = quantize(.uniform(bits: 2, symmetric: false, perRow: false), [0.4, 1.6, 3.0, 2.5], rows: 1)
        XCTAssertEqual(a2, [0, 2, 3, 2])
    }

    func testTernaryConfigCoversTheRightTensors() {
        let model = BertModel(config: Tiny.config())
        let θ = Tiny.parameters(model, seed: 1)
        let q = QuantizedParameters(latent: θ, layout: model.layout, config: .ternaryW8A8)
        for s in model.layout.slots {
            let distinct = Set(q.effective[s.range].map { abs($0) }).count
            let quantized = s.name.contains("attention.self.") || s.name.contains("dense.weight") || s.name.contains("word_embeddings")
            if quantized && s.name.hasSuffix(".weight") {
                // ternary: {0, α} per tensor, or per row for the word embeddings
                XCTAssertLessThanOrEqual(distinct, s.name.contains("word_embeddings") ? 1 + s.rows : 2, s.name)
            } else {
                XCTAssertEqual(Array(q.effective[s.range]), Array(θ[s.range]), "\(s.name) must stay full precision")
            }
        }
    }
}
