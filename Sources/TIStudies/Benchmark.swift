// Throughput measurements reported as ratios measured in one run: achieved model GFLOP/s as a
// share of the sgemm rate at the same shapes (the machine is shared, so absolute times drift).
import Foundation
import TILinalg
import TICore

public struct BenchmarkRow: Codable, Sendable {
    public var name: String
    public var seconds: Double        // median per iteration
    public var gflops: Double
    public var shareOfSgemm: Double   // achieved GFLOP/s ÷ sgemm GFLOP/s at the model's shapes
}

public enum ModelBenchmark {
    /// Matmul FLOPs of one forward pass (the backward costs about twice that).
    public static func forwardFlops(_ c: BertConfig, batch b: Int, seq t: Int) -> Double {
        let n = Double(b * t), h = Double(c.hiddenSize), f = Double(c.intermediateSize)
        let perLayer = 2 * n * (4 * h * h + 2 * h * f) + 4 * Double(b) * Double(t * t) * h
        return Double(c.numLayers) * perLayer
    }

    /// Median seconds of `body` over `repeats` runs after one warm-up.
    public static func time(repeats: Int, _ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0..<repeats {
            let s = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - s) / 1e9)
        }
        return samples.sorted()[samples.count / 2]
    }

    /// sgemm GFLOP/s on the Linear shapes of a model ([N, in]·[out, in]ᵀ), FLOP-weighted.
    public static func sgemmRate(_ c: BertConfig, rows n: Int, repeats: Int = 5) -> Double {
        let shapes = [(c.hiddenSize, c.hiddenSize), (c.hiddenSize, c.intermediateSize), (c.intermediateSize, c.hiddenSize)]
        var flops = 0.0, seconds = 0.0
        var rng = SeededRandom(seed: 9)
        for (k, m) in shapes {
            let a: [Float] = rng.normalVector(n * k), w: [Float] = rng.normalVector(m * k)
            var y = [Float](repeating: 0, count: n * m)
            let t = time(repeats: repeats) {
                Linear.forward(x: a, rows: n, inFeatures: k, outFeatures: m, weight: w, bias: nil, y: &y)
            }
            flops += 2 * Double(n * k * m); seconds += t
        }
        return flops / seconds / 1e9
    }

    /// sgemm time ÷ int8 GEMM time on a model's Linear shapes ([N, in]·[out, in]ᵀ, ternary weights,
    /// 8-bit codes), interleaved pairs, median of the per-pair ratios; the int8 side includes packing
    /// the weights, as `Linear.forward` does when its cache misses. nil where the int8 route is off.
    public static func int8Speedup(_ c: BertConfig, rows n: Int, repeats: Int = 11) -> [(shape: String, ratio: Double)]? {
        guard Int8GEMM.isAvailable else { return nil }
        var rng = SeededRandom(seed: 77)
        let shapes = [(c.hiddenSize, c.hiddenSize), (c.hiddenSize, c.intermediateSize), (c.intermediateSize, c.hiddenSize)]
        return shapes.map { k, m in
            let a = (0..<(n * k)).map { _ in Int8(rng.below(255) - 127) }, w = (0..<(m * k)).map { _ in Int8(rng.below(3) - 1) }
            let af = a.map(Float.init), wf = w.map(Float.init)
            var y = [Float](repeating: 0, count: n * m)
            var ratios: [Double] = []
            for rep in 0..<(repeats + 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let packed = Int8GEMM.PackedWeight(w, n: m, k: k)
                Int8GEMM.gemm(m: n, a: a, lda: k, weight: packed, scale: 1, bias: nil, c: &y, ldc: m)
                let t1 = DispatchTime.now().uptimeNanoseconds
                Linear.forward(x: af, rows: n, inFeatures: k, outFeatures: m, weight: wf, bias: nil, y: &y)
                let t2 = DispatchTime.now().uptimeNanoseconds
                if rep > 0 { ratios.append(Double(t2 - t1) / Double(t1 - t0)) }  // the first pair warms up
            }
            return ("\(n)×\(m)×\(k)", ratios.sorted()[ratios.count / 2])
        }
    }

    /// Forward+backward of the task loss on a random batch.
    public static func trainStep(_ c: BertConfig, batch b: Int, seq t: Int, repeats: Int, quantization: QuantConfig = .fullPrecision) -> (seconds: Double, gflops: Double) {
        let model = BertModel(config: c)
        let θ: [Float] = model.initialParameters(seed: 1)
        var rng = SeededRandom(seed: 2)
        let batch = Batch(size: b, seqLen: t, tokens: (0..<(b * t)).map { _ in rng.below(c.vocabSize) },
                          tokenTypes: [Int](repeating: 0, count: b * t), attentionMask: [Int](repeating: 1, count: b * t),
                          labels: c.isRegression ? [] : (0..<b).map { _ in rng.below(c.numLabels) },
                          targets: c.isRegression ? (0..<b).map { _ in rng.normal() } : [])
        let obj = BertObjective<Float>(model: model, spec: ObjectiveSpec(quantization: quantization, loss: .task))
        let s = time(repeats: repeats) { _ = obj.evaluate(θ, batch: batch, teacher: nil, gradient: true) }
        return (s, 3 * forwardFlops(c, batch: b, seq: t) / s / 1e9)
    }

    /// Seconds of one Hessian-vector product and of one gradient on the same batch and objective
    /// (ternary KD, the noise recording at θ₀ amortized as in power iteration).
    public static func hvpCost<T: BLASScalar>(_: T.Type, _ c: BertConfig, batch b: Int, seq t: Int, repeats: Int) -> (hvp: Double, gradient: Double) {
        let model = BertModel(config: c)
        let teacher: [T] = model.initialParameters(seed: 1)
        var rng = SeededRandom(seed: 3)
        let θ = teacher.map { $0 + T(0.01 * rng.normal()) }
        let batch = Batch(size: b, seqLen: t, tokens: (0..<(b * t)).map { _ in rng.below(c.vocabSize) },
                          tokenTypes: [Int](repeating: 0, count: b * t), attentionMask: [Int](repeating: 1, count: b * t),
                          labels: (0..<b).map { _ in rng.below(c.numLabels) })
        let obj = DatasetObjective<T>(objective: BertObjective(model: model, spec: ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation)),
                                      batches: [batch], teacher: teacher)
        let v: [T] = rng.normalVector(θ.count)
        // Interleaved so that load changes on a shared machine hit both alike.
        _ = obj.hessianVectorProduct(at: θ, along: v)
        var gs: [Double] = [], hs: [Double] = []
        for _ in 0..<max(repeats, 3) {
            gs.append(time(repeats: 1) { _ = obj.evaluate(θ, gradient: true) })
            hs.append(time(repeats: 1) { _ = obj.hessianVectorProduct(at: θ, along: v) })
        }
        return (hs.sorted()[hs.count / 2], gs.sorted()[gs.count / 2])
    }

    public static func row(_ name: String, _ c: BertConfig, batch b: Int, seq t: Int, repeats: Int) -> BenchmarkRow {
        let rate = sgemmRate(c, rows: b * t)
        let (s, g) = trainStep(c, batch: b, seq: t, repeats: repeats)
        return BenchmarkRow(name: name, seconds: s, gflops: g, shareOfSgemm: g / rate)
    }
}
