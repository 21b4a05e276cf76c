// Whole-model gradients against finite differences along random directions (Double).
import XCTest
import TICore
import TILinalg
import TITestSupport

final class ModelGradientTests: XCTestCase {
    /// Directional derivative of the objective vs central differences; with `frozen`, the
    /// quantization noise, clip masks and detached inputs are replayed from θ₀ (the STE's derivative).
    func checkObjective(_ spec: ObjectiveSpec, labels: Int = 3, dropoutSeed: UInt64? = nil, frozen useFrozen: Bool = false,
                        file: StaticString = #filePath, line: UInt = #line) {
        let model = BertModel(config: Tiny.config(labels: labels))
        let batch = Tiny.batch(labels: labels)
        let obj = BertObjective<Double>(model: model, spec: spec)
        let teacherθ = Tiny.parameters(model, seed: 11)
        let θ = Vec.adding(teacherθ, Tiny.direction(teacherθ.count, seed: 12), scaledBy: 2.0)
        let teacher = spec.needsTeacher ? obj.teacherTrace(teacher: teacherθ, batch: batch) : nil
        let frozen: FrozenPoint<Double>? = useFrozen ? FrozenPoint() : nil
        let base = obj.evaluate(θ, batch: batch, teacher: teacher, gradient: true, frozen: frozen, dropoutSeed: dropoutSeed)
        frozen?.beginReplay()
        let g = base.gradient!
        XCTAssertTrue(g.contains { $0 != 0 }, file: file, line: line)
        for k in 0..<3 {
            let v = Tiny.direction(θ.count, seed: 40 + UInt64(k))
            let fd = centralDifference(step: 1e-5) { h in
                frozen?.beginReplay()
                return obj.evaluate(Vec.adding(θ, v, scaledBy: h), batch: batch, teacher: teacher, gradient: false,
                                    frozen: frozen, dropoutSeed: dropoutSeed).terms.total
            }
            XCTAssertLessThan(relativeError(fd, BLAS.dot(g, v)), 1e-6,
                              "\(spec.loss) \(spec.intervention?.rawValue ?? "-") dir \(k): \(BLAS.dot(g, v)) vs \(fd)", file: file, line: line)
        }
    }

    func testFullPrecisionClassification() {
        checkObjective(ObjectiveSpec(quantization: .fullPrecision, loss: .task))
    }

    func testFullPrecisionRegression() {
        checkObjective(ObjectiveSpec(quantization: .fullPrecision, loss: .task), labels: 1)
    }

    func testDropoutPathWithFixedSeed() {
        checkObjective(ObjectiveSpec(quantization: .fullPrecision, loss: .task), dropoutSeed: 99)
    }

    func testFullPrecisionDistillationAllTerms() {
        checkObjective(ObjectiveSpec(quantization: .fullPrecision, loss: .distillation, includeTaskLoss: true))
        checkObjective(ObjectiveSpec(quantization: .fullPrecision, loss: .distillation), labels: 1)
    }

    func testTernaryDistillationWithFrozenNoise() {
        checkObjective(ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation), frozen: true)
        checkObjective(ObjectiveSpec(quantization: .uniform(weightBits: 4, activationBits: 8), loss: .task), frozen: true)
    }

    func testInterventionsWithFrozenNoiseAndDetachedInputs() {
        for point in InterventionPoint.allCases {
            checkObjective(ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, intervention: point), frozen: true)
        }
    }

    /// Without freezing, finite differences of the quantized loss do NOT match the STE gradient:
    /// this guards against the frozen check passing vacuously.
    func testUnfrozenQuantizedLossDiffersFromSTE() {
        let model = BertModel(config: Tiny.config())
        let batch = Tiny.batch()
        let obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .task))
        let θ = Tiny.parameters(model, seed: 3)
        let g = obj.evaluate(θ, batch: batch, teacher: nil, gradient: true).gradient!
        let v = Tiny.direction(θ.count, seed: 77)
        let fd = centralDifference(step: 1e-3) { h in
            obj.evaluate(Vec.adding(θ, v, scaledBy: h), batch: batch, teacher: nil, gradient: false).terms.total
        }
        XCTAssertGreaterThan(relativeError(fd, BLAS.dot(g, v)), 1e-3)
    }
}
