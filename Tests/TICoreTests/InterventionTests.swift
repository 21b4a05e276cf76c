// Teacher intervention: substituted tensors, detached paths, schedules, and KD sanity.
import XCTest
import TICore
import TILinalg

final class InterventionTests: XCTestCase {
    let model = BertModel(config: Tiny.config())
    let batch = Tiny.batch()

    func setup(_ point: InterventionPoint?) -> (BertObjective<Double>, [Double], ForwardTrace<Double>) {
        let teacherθ = Tiny.parameters(model, seed: 21)
        let obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, intervention: point))
        return (obj, Vec.adding(teacherθ, Tiny.direction(teacherθ.count, seed: 2), scaledBy: 1), obj.teacherTrace(teacher: teacherθ, batch: batch))
    }

    func testSubstitutedTensorsAreTheTeachersExactly() {
        for point in InterventionPoint.allCases {
            let (obj, θ, teacher) = setup(point)
            let r = obj.evaluate(θ, batch: batch, teacher: teacher, gradient: false)
            for l in 0..<model.config.numLayers {
                let s = r.trace.layers[l].attention, t = teacher.layers[l].attention
                let (used, own, teachers): ([Double], [Double], [Double]) = {
                    switch point {
                    case .map: return (s.probsUsed.array, s.probs.array, t.probs.array)
                    case .context: return (s.contextUsed.array, s.context.array, t.context.array)
                    case .output: return (s.projectedUsed.array, s.projected.array, t.projected.array)
                    }
                }()
                XCTAssertEqual(used, teachers, "\(point) layer \(l): substituted tensor must be the teacher's")
                XCTAssertNotEqual(own, teachers, "\(point) layer \(l): the student's own tensor differs")
            }
            // Without intervention the student uses its own tensors.
            let plain = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation))
                .evaluate(θ, batch: batch, teacher: teacher, gradient: false)
            XCTAssertEqual(plain.trace.layers[0].attention.probsUsed.array, plain.trace.layers[0].attention.probs.array)
        }
    }

    /// The landscape's loss-only forward (no STE masks, no cached Φ) must give the loss a training
    /// forward gives, in both precisions (Float runs the C kernels' mask-free and cache-free loops).
    func testLossOnlyForwardGivesTheTrainingLoss() {
        func check<T: BLASScalar>(_: T.Type) {
            let teacherθ = Tiny.parameters(model, seed: 21).map { T($0) }
            let θ = Vec.adding(Tiny.parameters(model, seed: 21), Tiny.direction(teacherθ.count, seed: 2), scaledBy: 1).map { T($0) }
            for point in [nil] + InterventionPoint.allCases.map(Optional.some) {
                let obj = BertObjective<T>(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation, intervention: point))
                let teacher = obj.teacherTrace(teacher: teacherθ, batch: batch)
                let full = obj.evaluate(θ, batch: batch, teacher: teacher, gradient: true)
                var options = ForwardOptions<T>(quantization: .ternaryW8A8, intervention: point, teacher: teacher)
                options.keepsBackwardState = false
                let effective = obj.effectiveParameters(θ, frozen: nil).effective
                let trace = model.forward(effective: effective, batch: batch, options: options)
                let lossOnly = obj.loss(of: trace, batch: batch, teacher: teacher)
                XCTAssertEqual(lossOnly, full.terms, "\(T.typeName) \(point?.rawValue ?? "KD"): every loss term")
                // The discarded tensors really were skipped (so this checks the skipping path).
                let att = trace.layers[0].attention
                XCTAssertEqual(att.probs.count == 0, point != nil)
                XCTAssertEqual(att.context.count == 0, point == .context || point == .output)
                XCTAssertEqual(att.projected.count == 0, point == .output)
                XCTAssertGreaterThan(full.terms.scores, 0)
            }
        }
        check(Float.self)
        check(Double.self)
    }

    /// The masked score term equals the plain MSE after zeroing padded keys in both tensors.
    func testMaskedScoreErrorMatchesExplicitZeroing() {
        let heads = 2, t = 5, keyMask = Tiny.batch().attentionMask, n = 3 * heads * t * t
        var rng = SeededRandom(seed: 5)
        let s: [Double] = rng.normalVector(n), u: [Double] = rng.normalVector(n)
        var sz = s, uz = u
        for i in 0..<n where keyMask[(i / (heads * t * t)) * t + i % t] == 0 { sz[i] = 0; uz[i] = 0 }
        let (want, wantGrad) = Losses.meanSquaredError(Buffer(sz), Buffer(uz))
        let (got, grad) = Losses.maskedScoreError(Buffer(s), Buffer(u), keyMask: keyMask, heads: heads, seq: t)
        XCTAssertEqual(got, want, accuracy: 1e-15)
        XCTAssertEqual(grad!.array, wantGrad!.array)
        XCTAssertNotEqual(got, Losses.meanSquaredError(Buffer(s), Buffer(u)).0, accuracy: 1e-6, "padding must matter here")
        XCTAssertNil(Losses.maskedScoreError(Buffer(s), Buffer(u), keyMask: keyMask, heads: heads, seq: t, gradient: false).1)
    }

    /// With OI the block output equals LayerNorm(teacher's O output + the student's own input).
    func testOutputInterventionUsesTeacherOutputAndStudentResidual() {
        let (obj, θ, teacher) = setup(.output)
        let r = obj.evaluate(θ, batch: batch, teacher: teacher, gradient: false)
        let q = obj.effectiveParameters(θ, frozen: nil).effective
        let a = r.trace.layers[1].attention
        let sum = zip(teacher.layers[1].attention.projected.array, a.input.array).map { $0 + $1 }
        let ln = model.layout.slot("bert.encoder.layer.1.attention.output.LayerNorm.weight").offset
        let lb = model.layout.slot("bert.encoder.layer.1.attention.output.LayerNorm.bias").offset
        var y = [Double](repeating: 0, count: sum.count)
        q.withUnsafeBufferPointer { p in
            _ = LayerNorm.forward(x: sum, rows: batch.size * batch.seqLen, width: 8, gain: p.baseAddress! + ln, bias: p.baseAddress! + lb, eps: 1e-12, y: &y)
        }
        XCTAssertEqual(y, a.blockOutput.array)
    }

    func gradient(_ point: InterventionPoint?, terms: (inout ObjectiveSpec) -> Void = { _ in }) -> [Double] {
        let (obj, θ, teacher) = setup(point)
        return obj.evaluate(θ, batch: batch, teacher: teacher, gradient: true).gradient!
    }

    func slotGradient(_ g: [Double], _ name: String) -> [Double] { Array(g[model.layout.slot(name).range]) }

    func testDetachedPathsGetExactlyZeroGradient() {
        let layer = "bert.encoder.layer.1"
        // OI: V and O get no gradient at all.
        let gOI = gradient(.output)
        for n in ["attention.self.value.weight", "attention.self.value.bias", "attention.output.dense.weight", "attention.output.dense.bias"] {
            XCTAssertTrue(slotGradient(gOI, "\(layer).\(n)").allSatisfy { $0 == 0 }, "OI: \(n)")
        }
        // CI: V gets none, O does.
        let gCI = gradient(.context)
        XCTAssertTrue(slotGradient(gCI, "\(layer).attention.self.value.weight").allSatisfy { $0 == 0 })
        XCTAssertTrue(slotGradient(gCI, "\(layer).attention.output.dense.weight").contains { $0 != 0 })
        // MI: V and O learn; Q and K learn only from the score term.
        let gMI = gradient(.map)
        XCTAssertTrue(slotGradient(gMI, "\(layer).attention.self.value.weight").contains { $0 != 0 })
        XCTAssertTrue(slotGradient(gMI, "\(layer).attention.self.query.weight").contains { $0 != 0 })
    }

    /// In MI the Q/K gradient equals the gradient of the score-MSE term alone.
    func testMapInterventionQueryGradientComesOnlyFromScoreTerm() {
        let (obj, θ, teacher) = setup(.map)
        let full = obj.evaluate(θ, batch: batch, teacher: teacher, gradient: true).gradient!
        // Score term alone, computed as the difference of two objectives with the same intervention:
        // removing the score term by perturbing only... instead, compare against finite differences
        // of the score loss with detached inputs frozen.
        let frozen = FrozenPoint<Double>()
        _ = obj.evaluate(θ, batch: batch, teacher: teacher, gradient: false, frozen: frozen)
        let q = model.layout.slot("bert.encoder.layer.0.attention.self.query.weight")
        var v = [Double](repeating: 0, count: θ.count)
        for i in q.range { v[i] = Double((i * 7919) % 13) - 6 }
        let h = 1e-6
        func scores(_ x: [Double]) -> Double {
            frozen.beginReplay()
            return obj.evaluate(x, batch: batch, teacher: teacher, gradient: false, frozen: frozen).terms.scores
        }
        let fd = (scores(Vec.adding(θ, v, scaledBy: h)) - scores(Vec.adding(θ, v, scaledBy: -h))) / (2 * h)
        XCTAssertEqual(BLAS.dot(full, v), fd, accuracy: 1e-6 * max(1, abs(fd)))
    }

    func testScheduleBoundaries() {
        var rng = SeededRandom(seed: 1)
        let s = 60
        let g = (0..<s).map { TeacherIntervention.gradual.point(atStep: $0, stepOneLength: s, rng: &rng) }
        XCTAssertEqual(g[0], .output); XCTAssertEqual(g[9], .output); XCTAssertEqual(g[10], .context)
        XCTAssertEqual(g[19], .context); XCTAssertEqual(g[20], .map); XCTAssertEqual(g[59], .map)
        let i = (0..<s).map { TeacherIntervention.inverted.point(atStep: $0, stepOneLength: s, rng: &rng) }
        XCTAssertEqual(i[19], .map); XCTAssertEqual(i[20], .context); XCTAssertEqual(i[39], .context); XCTAssertEqual(i[40], .output)
        var a = SeededRandom(seed: 5), b = SeededRandom(seed: 5)
        let sa = (0..<30).map { TeacherIntervention.stochastic.point(atStep: $0, stepOneLength: s, rng: &a) }
        let sb = (0..<30).map { TeacherIntervention.stochastic.point(atStep: $0, stepOneLength: s, rng: &b) }
        XCTAssertEqual(sa, sb)
        XCTAssertEqual(Set(sa).count, 3)
        XCTAssertNil(QATMode.kd.method.intervention(phase: TrainingPhase(number: 1, steps: s), step: 0, rng: &rng))
    }

    func testStudentEqualsTeacherGivesZeroMSEAndEntropy() {
        let θ = Tiny.parameters(model, seed: 4)
        let obj = BertObjective<Double>(model: model, spec: ObjectiveSpec(quantization: .fullPrecision, loss: .distillation))
        let t = obj.teacherTrace(teacher: θ, batch: batch)
        let r = obj.evaluate(θ, batch: batch, teacher: t, gradient: false)
        XCTAssertEqual(r.terms.hidden, 0); XCTAssertEqual(r.terms.scores, 0); XCTAssertEqual(r.terms.attentionBlocks, 0)
        var entropy = 0.0
        let c = model.config.numLabels
        for i in 0..<batch.size {
            let row = Array(t.logits.array[(i * c)..<((i + 1) * c)])
            let m = row.max()!, z = row.map { exp($0 - m) }.reduce(0, +)
            for x in row { let p = exp(x - m) / z; entropy -= p * log(p) }
        }
        XCTAssertEqual(r.terms.logits, entropy / Double(batch.size), accuracy: 1e-12)
    }
}
