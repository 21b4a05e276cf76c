// Weighted KD terms: a term switched off adds nothing to the loss or the gradient, and weights scale
// both. The reference is the unweighted objective's own terms, combined by hand, differentiated by
// central differences (full precision, so the loss is smooth and the gradient is its true derivative).
import XCTest
import TICore
import TIData
import TILinalg
import TITestSupport

final class DistillationTermsTests: XCTestCase {
    /// The weighted objective against the hand-weighted sum of the default objective's terms: loss
    /// exactly, gradient along random directions by central differences.
    func check(_ w: DistillationTerms, quantization: QuantConfig = .fullPrecision, labels: Int = 3, includeTaskLoss: Bool = false,
               file: StaticString = #filePath, line: UInt = #line) {
        let model = BertModel(config: Tiny.config(labels: labels))
        let batch = Tiny.batch(labels: labels)
        let plain = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: quantization, loss: .distillation,
                                                                             includeTaskLoss: includeTaskLoss))
        var spec = plain.spec
        spec.distillationTerms = w
        let weighted = BertObjective<Double>(model: model, spec: spec)
        let teacherθ = Tiny.parameters(model, seed: 11)
        let θ = Vec.adding(teacherθ, Tiny.direction(teacherθ.count, seed: 12), scaledBy: 2.0)
        let teacher = plain.teacherTrace(teacher: teacherθ, batch: batch)
        func reference(_ t: LossTerms) -> Double {
            t.task + w.logits * t.logits + w.hidden * t.hidden + w.scores * t.scores + w.attentionOutput * t.attentionBlocks
        }
        let base = plain.evaluate(θ, batch: batch, teacher: teacher, gradient: false).terms
        let r = weighted.evaluate(θ, batch: batch, teacher: teacher, gradient: true)
        XCTAssertEqual(r.terms.total, reference(base), accuracy: 1e-12 * max(1, reference(base)), file: file, line: line)
        for (value, weight) in [(r.terms.logits, w.logits), (r.terms.hidden, w.hidden), (r.terms.scores, w.scores),
                                (r.terms.attentionBlocks, w.attentionOutput)] where weight == 0 {
            XCTAssertEqual(value, 0, "a switched-off term is reported as 0", file: file, line: line)
        }
        guard quantization.isFullPrecision else { return }
        let g = r.gradient!
        for k in 0..<3 {
            let v = Tiny.direction(θ.count, seed: 60 + UInt64(k))
            let fd = centralDifference(step: 1e-5) { h in
                reference(plain.evaluate(Vec.adding(θ, v, scaledBy: h), batch: batch, teacher: teacher, gradient: false).terms)
            }
            XCTAssertLessThan(relativeError(fd, BLAS.dot(g, v)), 1e-6, "\(w.label) dir \(k): \(BLAS.dot(g, v)) vs \(fd)", file: file, line: line)
        }
    }

    func testEachTermSwitchedOffContributesNothing() {
        check(DistillationTerms(logits: 0, hidden: 1, scores: 1, attentionOutput: 1))
        check(DistillationTerms(logits: 1, hidden: 0, scores: 1, attentionOutput: 1))
        check(DistillationTerms(logits: 1, hidden: 1, scores: 0, attentionOutput: 1))
        check(DistillationTerms(logits: 1, hidden: 1, scores: 1, attentionOutput: 0))
        check(DistillationTerms(logits: 0, hidden: 0, scores: 0, attentionOutput: 0), includeTaskLoss: true)
    }

    func testWeightsScaleLossAndGradient() {
        check(DistillationTerms(logits: 2, hidden: 0.5, scores: 0.25, attentionOutput: 3))
        check(DistillationTerms(logits: 0.5, hidden: 2, scores: 0, attentionOutput: 1), labels: 1)  // regression: logits MSE
        check(DistillationTerms(logits: 1, hidden: 0.5, scores: 0, attentionOutput: 1), quantization: .ternaryW8A8)
    }

    /// The gradient of a switched-off term is not merely small: removing the scores term changes the
    /// gradient by exactly what a scores-only objective contributes (the terms are additive).
    func testSwitchedOffGradientIsTheDifferenceOfTheTerms() {
        let model = BertModel(config: Tiny.config())
        let batch = Tiny.batch()
        let θ = Tiny.parameters(model, seed: 4), teacherθ = Tiny.parameters(model, seed: 5)
        func gradient(_ w: DistillationTerms?) -> [Double] {
            let obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation,
                                                                              distillationTerms: w))
            return obj.evaluate(θ, batch: batch, teacher: obj.teacherTrace(teacher: teacherθ, batch: batch), gradient: true).gradient!
        }
        let all = gradient(nil), noScores = gradient(DistillationTerms(logits: 1, hidden: 1, scores: 0, attentionOutput: 1))
        let scoresOnly = gradient(DistillationTerms(logits: 0, hidden: 0, scores: 1, attentionOutput: 0))
        XCTAssertLessThan(relativeVectorError(Vec.adding(noScores, scoresOnly, scaledBy: 1), all), 1e-12)
        XCTAssertGreaterThan(relativeVectorError(noScores, all), 1e-3, "the scores term matters at this point")
        XCTAssertEqual(gradient(.all), all, "explicit weights 1 are the default, bitwise")
    }

    func testParser() throws {
        XCTAssertEqual(try DistillationTerms.parse("logits,hidden,scores,attn-out"), .all)
        XCTAssertEqual(try DistillationTerms.parse("logits=1, hidden=0.5"), DistillationTerms(logits: 1, hidden: 0.5, scores: 0, attentionOutput: 0))
        XCTAssertEqual(try DistillationTerms.parse("attn-out=2").label, "logits=0.0,hidden=0.0,scores=0.0,attn-out=2.0")
        for (text, value) in [("logits,attn", "attn"), ("logits=x", "logits=x"), ("hidden=-1", "hidden=-1"), ("", ""),
                              ("logits,logits", "logits,logits"), ("scores=inf", "scores=inf")] {
            XCTAssertThrowsError(try DistillationTerms.parse(text), text) { e in
                XCTAssertEqual((e as? OptionValueError)?.option, .distillationTerms, "\(e)")
                XCTAssertEqual((e as? OptionValueError)?.value, value, "\(e)")
            }
        }
    }
}
