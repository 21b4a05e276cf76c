// LSQ's learned asymmetric range (the seed's asymmetric_uniform with learned ranges): the zero point's
// STE gradient by hand, its derivative against the quantizer with a continuous zero point, the whole
// objective's gradient over the flat vector (zero points included) against finite differences of the
// frozen stand-in, and the symmetric_uniform alternative (step only, signed grid when lo < 0).
import XCTest
import Foundation
import TICore
import TILinalg
import TIData
import TITestSupport

final class LSQZeroPointTests: XCTestCase {
    /// One LSQ site ("logits.0") with its step and zero point in a three-entry parameter vector.
    func quantizer(_ q: ActivationQuantizer, step: Double, zeroPoint: Double?, ranges: ActivationRangeState? = nil)
        -> ActivationQuantization<Double> {
        var layout = ParameterLayout()
        layout.append("pad", shape: [1], role: .bias)
        layout.append("s", shape: [1], role: .scale, scales: .activation("logits.0"))
        if zeroPoint != nil { layout.append("z", shape: [1], role: .scale, scales: .activationZeroPoint("logits.0")) }
        var c = QuantConfig(name: "t", activations: [.logits: q])
        c.ranges = ranges
        let θ = [0, step] + (zeroPoint.map { [$0] } ?? [])
        return ActivationQuantization(config: c, steps: LSQActivationSteps(layout: layout, parameters: θ, quantization: c))
    }

    /// 2 bits (codes 0…3), s = 0.5, z_f = 0.7 → z = round(0.7) = 1. x/s = [0.6, −0.8, 2.4, −1.8, 4] →
    /// round [1, −1, 2, −2, 4], + z = [2, 0, 3, −1 (clamped to 0), 5 (clamped to 3)].
    /// ∂x̂/∂s = [1 − 0.6, −1 + 0.8, 2 − 2.4, −z, 3 − z] = [0.4, −0.2, −0.4, −1, 2];
    /// ∂x̂/∂z_f = [0, 0, 0, −s, −s]. With g = [1, 2, 3, 4, 5] at the output:
    /// ∂L/∂s = 0.4 − 0.4 − 1.2 − 4 + 10 = 4.8, ∂L/∂z_f = −0.5·(4 + 5) = −4.5, ∂L/∂x = [1, 2, 3, 0, 0].
    func testZeroPointSTEGradientByHand() {
        let x: [Double] = [0.3, -0.4, 1.2, -0.9, 2.0]
        let (out, ste) = quantizer(.lsq(bits: 2), step: 0.5, zeroPoint: 0.7).apply(.logits, Buffer(x))
        XCTAssertEqual(out.array, [0.5, -0.5, 1.0, -0.5, 1.0])
        let g = Buffer([1.0, 2, 3, 4, 5])
        var grads = [Double](repeating: 0, count: 3)
        grads.withUnsafeMutableBufferPointer { ste!.backward(g, grads: $0.baseAddress!) }
        XCTAssertEqual(grads[1], 4.8, accuracy: 1e-12)
        XCTAssertEqual(grads[2], -4.5, accuracy: 1e-12)
        XCTAssertEqual(g.array, [1, 2, 3, 0, 0])
        // z_f = 4.2 rounds to 4, clamped to the top code 3: the forward uses 3 and the clamp stops z_f's gradient.
        let (top, topSTE) = quantizer(.lsq(bits: 2), step: 0.5, zeroPoint: 4.2).apply(.logits, Buffer(x))
        XCTAssertEqual(top.array, [0, -0.5, 0, -1.0, 0], "codes [1, −1, 2, −2, 4] + 3 clamped to 0…3, minus 3, times s")
        var clamped = [Double](repeating: 0, count: 3)
        clamped.withUnsafeMutableBufferPointer { topSTE!.backward(Buffer([1.0, 2, 3, 4, 5]), grads: $0.baseAddress!) }
        XCTAssertEqual(clamped[2], 0)
        // Ties round to even, as torch.round: z_f = 0.5 → 0, so −0.4 (code −1) clamps to 0.
        XCTAssertEqual(quantizer(.lsq(bits: 2), step: 0.5, zeroPoint: 0.5).apply(.logits, Buffer([-0.4])).0.array, [0])
    }

    /// ∂x̂/∂z against central differences of the quantizer taken with a continuous zero point (the
    /// rounding of z_f passed straight through): inside x̂ = s·round(x/s) does not depend on z, clamped
    /// x̂ = s·(bound − z) moves by −s.
    func testZeroPointDerivativeMatchesTheQuantizer() {
        var rng = SeededRandom(seed: 4)
        let n = 400, bits = 4, s = 0.21, z = 5.3, h = 1e-6
        let x = (0..<n).map { _ in 3 * rng.normal() }
        var out = x, mask = x, d = x, dz = x, up = x, down = x, scratch = x, scratch2 = x
        LSQ.quantizeActivation(x, count: n, bits: bits, step: s, zero: z, out: &out, mask: &mask, d: &d, dZero: &dz)
        LSQ.quantizeActivation(x, count: n, bits: bits, step: s, zero: z + h, out: &up, mask: &scratch, d: &scratch2)
        LSQ.quantizeActivation(x, count: n, bits: bits, step: s, zero: z - h, out: &down, mask: &scratch, d: &scratch2)
        var checked = (inside: 0, clamped: 0)
        for i in 0..<n {
            XCTAssertEqual((up[i] - down[i]) / (2 * h), dz[i], accuracy: 1e-8, "x = \(x[i])")
            if mask[i] == 1 { checked.inside += 1 } else { checked.clamped += 1 }
        }
        XCTAssertGreaterThan(checked.inside, 50)
        XCTAssertGreaterThan(checked.clamped, 20)
    }

    /// A calibrated LSQ model with every step and zero point at its start.
    func calibrated(_ o: LSQOptions, seed: UInt64) -> (BertModel, [Double], QuantConfig) {
        let config = Tiny.config(), q = QuantConfig.lsq(o)
        let model = LSQ.model(config: config, quantization: q), base = BertModel(config: config)
        let bert = Vec.adding(Tiny.parameters(base, seed: seed), Tiny.direction(base.layout.count, seed: seed + 1), scaledBy: 2.0)
        var θ = LSQ.initialParameters(bert: bert, model: model, quantization: q)
        let c = PTQ.calibrate(model: model, latent: θ, config: q, batches: [Tiny.batch()], estimator: .currentMinMax)
        LSQ.initializeActivationSteps(&θ, model: model, quantization: c, ranges: c.ranges!)
        return (model, θ, c)
    }

    /// Every zero point's gradient, and the gradient of the whole flat vector along random directions,
    /// against central differences of the frozen stand-in x̂ = mask·x + offset + d·s + d_z·z_f (smooth in θ).
    func testZeroPointGradientAgainstFiniteDifferences() {
        var (model, θ, c) = calibrated(LSQOptions(), seed: 41)
        let zeroPoints = model.layout.slots.filter { if case .activationZeroPoint? = $0.scales { return true }; return false }
        XCTAssertEqual(zeroPoints.count, 12 * 2 + 4)
        // Shrunk steps and shifted zero points (away from .5 ties): many entries clamp at both ends.
        for slot in model.layout.slots where slot.name.hasPrefix("lsq.act.") && slot.name.hasSuffix(".step") { θ[slot.offset] *= 0.6 }
        for (k, slot) in zeroPoints.enumerated() { θ[slot.offset] += k % 2 == 0 ? 3.2 : -0.3 }
        let standIn = FrozenStandIn(model: model, quantization: c, at: θ), g = standIn.gradient
        func fd(_ v: [Double], step: Double) -> Double { standIn.difference(along: v, step: step) }
        var nonzero = 0
        for slot in zeroPoints {
            var e = [Double](repeating: 0, count: θ.count)
            e[slot.offset] = 1
            // z_f moves x̂ by d_z·h = −s·h on clamped entries only: a step of 1e-4 moves them by ~1e-6.
            let numeric = fd(e, step: 1e-4)
            XCTAssertLessThan(relativeError(numeric, g[slot.offset], floor: 1e-9), 1e-6, "\(slot.name): \(g[slot.offset]) vs \(numeric)")
            if abs(g[slot.offset]) > 1e-8 { nonzero += 1 }
        }
        XCTAssertGreaterThan(nonzero, zeroPoints.count / 2, "most zero points get a gradient")
        for k in 0..<2 {
            let v = Tiny.direction(θ.count, seed: 90 + UInt64(k))
            XCTAssertLessThan(relativeError(fd(v, step: 1e-6), BLAS.dot(g, v)), 1e-6)
        }
    }

    /// symmetric_uniform, 3 bits, s = 0.25. Calibrated lo = −1 < 0: signed codes −4…3;
    /// x/s = [1.2, −4.8, 3.6, −0.2] → [1, −4 (clamped), 3 (clamped), 0], ∂x̂/∂s = [−0.2, −4, 3, 0.2].
    /// Calibrated lo = 0.5 ≥ 0: unsigned codes 0…7; x/s = [1.2, −4.8, 3.6, 8] → [1, 0 (clamped), 4, 7 (clamped)].
    func testSymmetricActivationQuantizerByHand() {
        func ranges(_ lo: Double) -> ActivationRangeState { ActivationRangeState(ranges: ["logits.0": TrackedRange(steps: 1, lo: lo, hi: 1)]) }
        let signed = quantizer(.lsqSymmetric(bits: 3), step: 0.25, zeroPoint: nil, ranges: ranges(-1))
        let (a, steA) = signed.apply(.logits, Buffer([0.3, -1.2, 0.9, -0.05]))
        XCTAssertEqual(a.array, [0.25, -1.0, 0.75, 0])
        var grads = [Double](repeating: 0, count: 2)
        grads.withUnsafeMutableBufferPointer { steA!.backward(Buffer([1.0, 1, 1, 1]), grads: $0.baseAddress!) }
        XCTAssertEqual(grads[1], -0.2 - 4 + 3 + 0.2, accuracy: 1e-12)
        XCTAssertEqual(steA!.mask.array, [1, 0, 0, 1])
        let unsigned = quantizer(.lsqSymmetric(bits: 3), step: 0.25, zeroPoint: nil, ranges: ranges(0.5))
        XCTAssertEqual(unsigned.apply(.logits, Buffer([0.3, -1.2, 0.9, 2.0])).0.array, [0.25, 0, 1.0, 1.75])
        // Start steps: max(|lo|, hi)/Q_P with Q_P = 3 signed, 7 unsigned.
        XCTAssertEqual(LSQ.symmetricActivationStep(lo: -1.5, hi: 0.9, bits: 3), 0.5, accuracy: 1e-15)
        XCTAssertEqual(LSQ.symmetricActivationStep(lo: 0.5, hi: 1.4, bits: 3), 0.2, accuracy: 1e-15)
    }

    /// symmetric_uniform has no zero-point slots, starts at max(|lo|, hi)/Q_P, and its step gradient
    /// matches finite differences of the frozen stand-in.
    func testSymmetricLayoutStartAndGradient() {
        let o = LSQOptions(activationMethod: .symmetricUniform)
        var (model, θ, c) = calibrated(o, seed: 51)
        XCTAssertFalse(model.layout.slots.contains { if case .activationZeroPoint? = $0.scales { return true }; return false })
        XCTAssertEqual(c.name, "lsq-w4a8-sym")
        let r = c.ranges!.ranges["ffnResidual.1"]!
        let slot = model.layout.slot(LSQ.activationStepName("ffnResidual.1"))
        XCTAssertEqual(θ[slot.offset], max(-min(r.lo, 0), r.hi) / (r.lo < 0 ? 127 : 255), accuracy: 1e-15)
        for s in model.layout.slots where s.name.hasPrefix("lsq.act.") { θ[s.offset] *= 0.5 }
        let standIn = FrozenStandIn(model: model, quantization: c, at: θ)
        let v = Tiny.direction(θ.count, seed: 5)
        XCTAssertLessThan(relativeError(standIn.difference(along: v, step: 1e-6), BLAS.dot(standIn.gradient, v)), 1e-6)
    }

    /// A short LSQ run trains the zero points, records the activation method in metadata.json, and a
    /// symmetric_uniform run keeps a layout without zero points through save and load.
    func testRunsTrainZeroPointsAndRecordTheMethod() throws {
        for method in LSQActivationMethod.allCases {
            var (model, data, cfg, teacher) = LSQRunFixture.make(learningRate: 1e-2)
            cfg.lsq = LSQOptions(activationMethod: method)
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-lsqz-\(UUID().uuidString)")
            addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
            let (θ, _, _) = try QATRun(model: model, task: data, teacher: teacher, config: cfg).run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
            let meta = try String(contentsOf: dir.appendingPathComponent("metadata.json"), encoding: .utf8)
            XCTAssertTrue(meta.contains(method.rawValue), "metadata.json records \(method.rawValue)")
            let loaded = try QATRun.loadStudent(dir)
            XCTAssertEqual(loaded.parameters, θ)
            let zeroPoints = loaded.model.layout.slots.filter { if case .activationZeroPoint? = $0.scales { return true }; return false }
            guard method == .asymmetricUniform else { XCTAssertTrue(zeroPoints.isEmpty); continue }
            let initial = LSQ.initialParameters(bert: teacher, model: loaded.model, quantization: loaded.quantization)
            XCTAssertGreaterThan(zeroPoints.filter { θ[$0.offset] != initial[$0.offset] }.count, zeroPoints.count / 2, "zero points are trained")
        }
    }
}
