// BertAdam's gradient clipping: per tensor (pytorch-pretrained-bert's BertAdam clips each parameter's
// gradient inside its loop, torch's clip_grad_norm_ on one tensor) against global and none, checked
// against hand computations of the first moments, second moments and weights.
import XCTest
import Foundation
import TICore
import TILinalg

final class GradientClippingTests: XCTestCase {
    /// A matrix w (weight decay) and a bias b (none): ‖g_w‖ = 5 > 1, ‖g_b‖ = 0.5 < 1, ‖g‖ = √25.25.
    let layout = ParameterLayout([("w", [1, 2], .matrix), ("b", [2], .bias)])
    let θ0: [Double] = [0.5, -0.5, 0.2, 0.1]
    let g1: [Double] = [3, 4, 0.3, 0.4]
    let g2: [Double] = [0.1, -0.2, 0.5, -0.1]

    func adam(_ clipping: GradientClipping) -> AdamW<Double> {
        var c = AdamWConfig()
        c.clipping = clipping
        return AdamW(layout: layout, config: c)
    }

    /// One BertAdam step by hand from clipped gradient `c`: m = 0.1·c, v = 0.001·c², θ −= lr·(m/(√v + 1e-6) + 0.01·decay·θ).
    func handStep(_ θ: [Double], clipped c: [Double], m0: [Double], v0: [Double], lr: Double) -> (θ: [Double], m: [Double], v: [Double]) {
        let decay: [Double] = [1, 1, 0, 0]
        var θ1 = θ, m = m0, v = v0
        for i in 0..<4 {
            m[i] = 0.9 * m0[i] + 0.1 * c[i]
            v[i] = 0.999 * v0[i] + 0.001 * c[i] * c[i]
            θ1[i] -= lr * (m[i] / (v[i].squareRoot() + 1e-6) + 0.01 * decay[i] * θ[i])
        }
        return (θ1, m, v)
    }

    func assertClose(_ a: [Double], _ b: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-14 * max(1, abs(y)), what, file: file, line: line) }
    }

    func testPerTensorClipsOnlyTheTensorAboveTheNorm() {
        var a = adam(.perTensor)
        var θ = θ0
        XCTAssertEqual(a.step(&θ, gradient: g1, learningRate: 0.1), 25.25.squareRoot(), accuracy: 1e-12, "the logged norm is the global one")
        // w scaled by 1/(5 + 1e-6) (torch's clip_grad_norm_ on that tensor), b untouched.
        let clipped = [3 / (5 + 1e-6), 4 / (5 + 1e-6), 0.3, 0.4]
        let zero = [Double](repeating: 0, count: 4)
        let hand = handStep(θ0, clipped: clipped, m0: zero, v0: zero, lr: 0.1)
        assertClose(a.m, hand.m, "m")
        assertClose(a.v, hand.v, "v")
        assertClose(θ, hand.θ, "θ")
        XCTAssertEqual(a.m[2], 0.03, accuracy: 1e-15, "the bias gradient enters unclipped")
    }

    func testGlobalAndNoneAgainstHandComputation() {
        let zero = [Double](repeating: 0, count: 4)
        var global = adam(.global), θg = θ0
        global.step(&θg, gradient: g1, learningRate: 0.1)
        let s = 1 / 25.25.squareRoot()
        let hg = handStep(θ0, clipped: g1.map { $0 * s }, m0: zero, v0: zero, lr: 0.1)
        assertClose(global.m, hg.m, "global m")
        assertClose(θg, hg.θ, "global θ")
        var none = adam(.none), θn = θ0
        none.step(&θn, gradient: g1, learningRate: 0.1)
        let hn = handStep(θ0, clipped: g1, m0: zero, v0: zero, lr: 0.1)
        assertClose(none.m, hn.m, "none m")
        assertClose(θn, hn.θ, "none θ")
    }

    /// Two steps: the first moments differ after a step where only w exceeds the norm, so the second
    /// update differs by far more than rounding (Adam's first update alone hides a common scale).
    func testPerTensorAndGlobalGiveDifferentUpdates() {
        var per = adam(.perTensor), glob = adam(.global)
        var θp = θ0, θg = θ0
        for g in [g1, g2] {
            per.step(&θp, gradient: g, learningRate: 0.1)
            glob.step(&θg, gradient: g, learningRate: 0.1)
        }
        // By hand: step 1 as above, step 2 unclipped (‖g2‖ < 1 and every tensor's norm < 1).
        let zero = [Double](repeating: 0, count: 4)
        let p1 = handStep(θ0, clipped: [3 / (5 + 1e-6), 4 / (5 + 1e-6), 0.3, 0.4], m0: zero, v0: zero, lr: 0.1)
        let p2 = handStep(p1.θ, clipped: g2, m0: p1.m, v0: p1.v, lr: 0.1)
        let s = 1 / 25.25.squareRoot()
        let q1 = handStep(θ0, clipped: g1.map { $0 * s }, m0: zero, v0: zero, lr: 0.1)
        let q2 = handStep(q1.θ, clipped: g2, m0: q1.m, v0: q1.v, lr: 0.1)
        assertClose(θp, p2.θ, "per-tensor after two steps")
        assertClose(θg, q2.θ, "global after two steps")
        XCTAssertGreaterThan(abs(θp[2] - θg[2]), 0.05, "the bias moves differently: \(θp[2]) vs \(θg[2])")
    }

    func testGlobalIsLeftOutOfTheEncodingSoOldHashesHold() throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let plain = String(decoding: try enc.encode(AdamWConfig()), as: UTF8.self)
        XCTAssertEqual(plain, #"{"beta1":0.9,"beta2":0.999,"epsilon":1e-06,"maxGradNorm":1,"weightDecay":0.01}"#)
        var c = AdamWConfig()
        c.clipping = .perTensor
        let per = try enc.encode(c)
        XCTAssertTrue(String(decoding: per, as: UTF8.self).contains(#""clipping":"per-tensor""#))
        XCTAssertEqual(try JSONDecoder().decode(AdamWConfig.self, from: per), c)
        XCTAssertEqual(try JSONDecoder().decode(AdamWConfig.self, from: Data(plain.utf8)).clipping, .global)
        // A QAT configuration carries the choice into metadata.json and its hash.
        var q = QATConfig(mode: .kd)
        let before = try enc.encode(q)
        q.adam.clipping = .perTensor
        XCTAssertNotEqual(try enc.encode(q), before)
        XCTAssertEqual(try JSONDecoder().decode(QATConfig.self, from: try enc.encode(q)).adam.clipping, .perTensor)
    }
}
