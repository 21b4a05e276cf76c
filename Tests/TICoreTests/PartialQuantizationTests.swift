// Partial quantization (the paper's Figure 3 cases): which sites a restricted scheme keeps, an
// unquantized weight reaching the forward unchanged with its true (not straight-through) gradient,
// the parser's errors, and a few QAT steps of each case with the student loading back the same sites.
import XCTest
import Foundation
import TICore
import TIData
import TILinalg
import TITestSupport

final class PartialQuantizationTests: XCTestCase {
    func sites(_ parts: String?, fp: String? = nil) throws -> QuantizedSites {
        try QuantizedSites.parse(parts: parts, fullPrecisionActivations: fp)
    }

    func testRestrictedSchemeKeepsExactlyTheNamedSites() throws {
        let full = QuantConfig.ternaryW8A8
        XCTAssertEqual(full.restricted(to: nil), full)
        XCTAssertEqual(full.restricted(to: try sites(nil)), full, "the default set is TernaryBERT's: nothing changes, name included")
        XCTAssertEqual(full.restricted(to: try sites("qkv,o,ffn1,ffn2,emb,pooler")), full)
        let sa = full.restricted(to: try sites("qkv,o"))
        XCTAssertEqual(Set(sa.weights.keys), [.query, .key, .value, .attentionOutput])
        XCTAssertEqual(Set(sa.activations.keys), [.attentionInput, .query, .key, .probs, .value, .contextInput])
        XCTAssertEqual(sa.name, "ternary-w8a8[qkv+o]")
        let ffn = full.restricted(to: try sites("ffn2,ffn1"))
        XCTAssertEqual(Set(ffn.weights.keys), [.intermediate, .output])
        XCTAssertEqual(Set(ffn.activations.keys), [.query, .key, .probs, .value, .intermediateInput, .outputInput])
        let fpQK = full.restricted(to: try sites(nil, fp: "qk"))
        XCTAssertEqual(fpQK.weights, full.weights)
        XCTAssertEqual(Set(fpQK.activations.keys), Set(full.activations.keys).subtracting([.query, .key]))
        XCTAssertEqual(fpQK.name, "ternary-w8a8[qkv+o+ffn1+ffn2+emb+pooler/fp-qk]")
        let fpQKV = full.restricted(to: try sites(nil, fp: "qkv"))
        XCTAssertEqual(Set(fpQKV.activations.keys), Set(full.activations.keys).subtracting([.query, .key, .value]))
        // The classifier, not in TernaryBERT's set, gets the pooler's quantizers.
        let withClassifier = full.restricted(to: try sites("qkv,o,ffn1,ffn2,emb,pooler,classifier"))
        XCTAssertEqual(withClassifier.weights[.classifier], .ternary(clip: 2.5, perRow: false))
        XCTAssertEqual(withClassifier.activations[.classifierInput], .symmetric(bits: 8, clip: 2.5))
        XCTAssertEqual(withClassifier.weights.count, full.weights.count + 1)
        // Full precision has nothing to restrict or to borrow.
        XCTAssertEqual(QuantConfig.fullPrecision.restricted(to: try sites("classifier", fp: "qk")), .fullPrecision)
    }

    func testParserNamesTheBadValue() throws {
        XCTAssertEqual(try sites(" qkv , o ,qkv").parts, [.qkv, .o])
        XCTAssertEqual(try sites(nil), .ternaryBERT)
        for (text, value) in [("qkv,attn", "attn"), ("", ""), ("qkv,,o", "qkv,,o")] {
            XCTAssertThrowsError(try sites(text)) { e in
                XCTAssertEqual((e as? OptionValueError)?.option, .quantizedSites, "\(e)")
                XCTAssertEqual((e as? OptionValueError)?.value, value, "\(e)")
            }
        }
        XCTAssertThrowsError(try sites(nil, fp: "q")) { e in
            XCTAssertEqual(e as? OptionValueError,
                           OptionValueError(option: .fullPrecisionActivations, value: "q", reason: "expected one of qk, qkv"))
        }
    }

    /// FFN2 and the pooler left out: the last layer's FFN2 weights enter the forward as they are and
    /// nothing downstream of them is quantized, so the loss is smooth in them and central differences
    /// of the unfrozen loss are their true gradient. The quantized FFN1 next to them is the contrast:
    /// there the straight-through gradient is not the derivative.
    func testUnquantizedSiteReachesTheForwardUnchangedWithItsTrueGradient() throws {
        let model = BertModel(config: Tiny.config())
        let batch = Tiny.batch()
        let q = QuantConfig.ternaryW8A8.restricted(to: try sites("qkv,o,ffn1,emb"))
        let ffn2 = model.layout.slot("bert.encoder.layer.1.output.dense.weight")
        let ffn1 = model.layout.slot("bert.encoder.layer.1.intermediate.dense.weight")
        let teacherθ = Tiny.parameters(model, seed: 11)
        let θ = Vec.adding(teacherθ, Tiny.direction(teacherθ.count, seed: 12), scaledBy: 2.0)
        let p = QuantizedParameters<Double>(latent: θ, layout: model.layout, config: q)
        XCTAssertEqual(Array(p.effective[ffn2.range]), Array(θ[ffn2.range]), "FFN2 weights reach the forward unchanged")
        XCTAssertEqual(Array(p.mask![ffn2.range]), [Double](repeating: 1, count: ffn2.count))
        XCTAssertNotEqual(Array(p.effective[ffn1.range]), Array(θ[ffn1.range]), "FFN1 is still ternary")
        let obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: q, loss: .distillation))
        let teacher = obj.teacherTrace(teacher: teacherθ, batch: batch)
        let g = obj.evaluate(θ, batch: batch, teacher: teacher, gradient: true).gradient!
        func derivative(along slot: ParameterSlot, seed: UInt64) -> (analytic: Double, numeric: Double) {
            var v = [Double](repeating: 0, count: θ.count)
            let u = Tiny.direction(slot.count, seed: seed)
            for (i, x) in zip(slot.range, u) { v[i] = x }
            let fd = centralDifference(step: 1e-5) { h in
                obj.evaluate(Vec.adding(θ, v, scaledBy: h), batch: batch, teacher: teacher, gradient: false).terms.total
            }
            return (BLAS.dot(g, v), fd)
        }
        for seed in [21, 22] as [UInt64] {
            let d = derivative(along: ffn2, seed: seed)
            XCTAssertLessThan(relativeError(d.analytic, d.numeric), 1e-6, "FFN2: \(d.analytic) vs \(d.numeric)")
        }
        let c = derivative(along: ffn1, seed: 23)
        XCTAssertGreaterThan(relativeError(c.analytic, c.numeric), 1e-3, "FFN1 (ternary): STE \(c.analytic) vs \(c.numeric)")
        // The same FFN2 gradient as with every weight in full precision at the same effective point.
        var noWeights = q
        noWeights.weights = [:]
        let fp = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: noWeights, loss: .distillation))
            .evaluate(p.effective, batch: batch, teacher: teacher, gradient: true).gradient!
        XCTAssertEqual(Array(g[ffn2.range]), Array(fp[ffn2.range]))
    }
}
