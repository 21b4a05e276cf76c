// Intel's `requantize_output`: every Linear's output quantized again to 8 bits with its own EMA range,
// Q8BERT's default. Checked by the grid its outputs land on (an independent property: x̂·127/r is an
// integer), by the ranges it tracks, by integer-arithmetic inference, and by the record of old runs.
import XCTest
import Foundation
import TICore
import TILinalg

final class Q8BERTRequantizeOutputTests: XCTestCase {
    /// True when every value is k·r/127 for an integer k with |k| ≤ 127.
    func onGrid(_ xs: [Float], range r: Double) -> Bool {
        xs.allSatisfy { x in
            let k = Double(x) * 127 / r
            return abs(k - k.rounded()) < 1e-3 && abs(k) <= 127 + 1e-3
        }
    }

    func testDefaultTracksEveryLinearOutputAndPutsTheLogitsOnItsGrid() {
        XCTAssertTrue(Q8BERTOptions().requantizeOutput, "Intel's QuantizationConfig default")
        let model = BertModel(config: Tiny.config())
        let θ = Tiny.parameters(model, seed: 3).map(Float.init)
        let q = QATMode.q8bert.method.quantization(config: QATConfig(mode: .q8bert), ranges: nil)
        let tracker = ActivationRangeTracker(state: ActivationRangeState(decay: 0.9999, start: .firstValue, straightThrough: true))
        let effective = QuantizedParameters(latent: θ, layout: model.layout, config: q).effective
        let logits = model.forward(effective: effective, batch: Tiny.batch(),
                                   options: ForwardOptions(quantization: q, rangeTracker: tracker)).logits.array
        let s = tracker.state
        // Inputs: 4 Linears' inputs per layer (Q/K/V share one) + pooler + classifier; outputs: Q, K, V,
        // O, FFN1, FFN2 per layer + pooler + classifier.
        XCTAssertEqual(s.ranges.count, (4 + 6) * 2 + 4)
        for key in ["query.1", "key.0", "value.1", "attentionOutputProjection.0", "intermediateOutput.1", "ffnOutput.0",
                    "poolerOutput.0", "logits.0"] {
            XCTAssertNotNil(s.ranges[key], key)
        }
        // Intel's EMA starts at the first max|x|: the logits' range is the largest raw logit, which
        // the 8-bit grid then holds exactly (code ±127).
        let r = try! XCTUnwrap(s.threshold("logits.0"))
        XCTAssertEqual(Double(logits.map(abs).max()!), r, accuracy: 1e-6 * r)
        XCTAssertTrue(onGrid(logits, range: r), "\(logits.map { Double($0) * 127 / r })")
        // Without requantization the logits are off that grid.
        var inputsOnly = QATConfig(mode: .q8bert)
        inputsOnly.q8bert = Q8BERTOptions()
        inputsOnly.q8bert?.requantizeOutput = false
        let p = QATMode.q8bert.method.quantization(config: inputsOnly, ranges: nil)
        XCTAssertNil(p.activations[.logits])
        let raw = model.forward(effective: effective, batch: Tiny.batch(), options: ForwardOptions(quantization: p)).logits.array
        XCTAssertFalse(onGrid(raw, range: r))
    }

    /// Intel's inference: integer product, dequantization, then the output quantized again. Integer and
    /// fake-quantized logits both sit on the classifier output's grid and differ by at most one of its steps.
    func testIntegerArithmeticRequantizesTheOutputLikeTheFakeQuantizedModel() throws {
        let e = try TinyQ8BERTExport(self, start: ActivationRangeState(decay: 0.9999, start: .firstValue, straightThrough: true),
                                     requantizeOutput: true)
        let (θ, q) = try QuantizedExport.load(e.url, model: e.model)
        XCTAssertEqual(q.activations[.ffnOutput], .tracked(bits: 8))
        let linears = try QuantizedExport.integerLinears(e.url, model: e.model, quantization: q)
        XCTAssertEqual(linears.byWeightOffset.count, 2 * 6 + 2)
        let r = try XCTUnwrap(q.ranges?.threshold("logits.0"))
        func logits(_ table: IntegerLinears?) -> [Float] {
            var options = ForwardOptions<Float>(quantization: q)
            options.integerLinears = table
            return e.model.forward(effective: θ, batch: Tiny.batch(), options: options).logits.array
        }
        let fake = logits(nil), integer = logits(linears)
        XCTAssertTrue(onGrid(fake, range: r))
        XCTAssertTrue(onGrid(integer, range: r))
        let worst = zip(fake, integer).map { Double(abs($0 - $1)) }.max()!
        XCTAssertLessThanOrEqual(worst, r / 127 * 1.0001)
        XCTAssertGreaterThan(Double(fake.map(abs).max()!), 10 * r / 127, "the grid step is small against the logits")
    }

    /// Runs recorded before the option existed quantized Linear inputs only and keep doing so.
    func testOptionsRecordedWithoutTheFieldDecodeAsInputsOnly() throws {
        let old = #"{"emaDecay":0.9999,"emaStart":"first-value","straightThrough":true}"#
        let o = try JSONDecoder().decode(Q8BERTOptions.self, from: Data(old.utf8))
        XCTAssertFalse(o.requantizeOutput)
        var cfg = QATConfig(mode: .q8bert)
        cfg.q8bert = o
        XCTAssertNil(QATMode.q8bert.method.quantization(config: cfg, ranges: nil).activations[.query])
        let now = try JSONDecoder().decode(Q8BERTOptions.self, from: JSONEncoder().encode(Q8BERTOptions()))
        XCTAssertEqual(now, Q8BERTOptions())
        XCTAssertTrue(now.requantizeOutput)
    }
}
