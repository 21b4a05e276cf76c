// BertAdam as used by BERT/TernaryBERT fine-tuning: Adam without bias correction, decoupled
// weight decay 0.01 except biases and LayerNorm, gradient-norm clipping (global by default;
// per tensor as pytorch-pretrained-bert's BertAdam, see GradientClipping), and a linear warmup
// (10 %) then linear decay to zero.
import TILinalg
import TIQuant
import TIModel

public struct LinearWarmupSchedule: Codable, Equatable, Sendable {
    public var peak: Double
    public var totalSteps: Int
    public var warmupFraction: Double

    public init(peak: Double, totalSteps: Int, warmupFraction: Double = 0.1) {
        self.peak = peak; self.totalSteps = totalSteps; self.warmupFraction = warmupFraction
    }

    /// Learning rate at step (0-based), as pytorch-pretrained-bert's warmup_linear.
    public func rate(at step: Int) -> Double {
        let progress = Double(step) / Double(max(totalSteps, 1))
        if progress < warmupFraction { return peak * progress / warmupFraction }
        return peak * max((progress - 1) / (warmupFraction - 1), 0)
    }
}

public struct AdamWConfig: Codable, Equatable, Sendable {
    public var beta1 = 0.9, beta2 = 0.999, epsilon = 1e-6
    public var weightDecay = 0.01
    public var maxGradNorm = 1.0
    public var clipping = GradientClipping.global
    public init() {}
}

extension AdamWConfig {
    enum CodingKeys: String, CodingKey { case beta1, beta2, epsilon, weightDecay, maxGradNorm, clipping }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        beta1 = try c.decode(Double.self, forKey: .beta1)
        beta2 = try c.decode(Double.self, forKey: .beta2)
        epsilon = try c.decode(Double.self, forKey: .epsilon)
        weightDecay = try c.decode(Double.self, forKey: .weightDecay)
        maxGradNorm = try c.decode(Double.self, forKey: .maxGradNorm)
        clipping = try c.decodeIfPresent(GradientClipping.self, forKey: .clipping) ?? .global
    }

    /// Global clipping is written as no key at all, so that configurations (and the run hashes made
    /// from them) from before the choice existed stay the same; any other choice is written out.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(beta1, forKey: .beta1)
        try c.encode(beta2, forKey: .beta2)
        try c.encode(epsilon, forKey: .epsilon)
        try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(maxGradNorm, forKey: .maxGradNorm)
        if clipping != .global { try c.encode(clipping, forKey: .clipping) }
    }
}

public struct AdamW<T: BLASScalar> {
    public let config: AdamWConfig
    public private(set) var m: [T]
    public private(set) var v: [T]
    /// 1 where weight decay applies (matrices and embeddings), 0 for biases and LayerNorm.
    let decayMask: [T]
    /// The parameter tensors (slot ranges) that per-tensor clipping bounds one by one.
    let tensors: [Range<Int>]

    public init(layout: ParameterLayout, config: AdamWConfig = AdamWConfig()) {
        self.config = config
        m = [T](repeating: 0, count: layout.count)
        v = m
        decayMask = layout.mask(for: layout.slots.filter { !$0.role.isOneDimensional })
        tensors = layout.slots.map(\.range)
    }

    /// Restores the moments of an interrupted run.
    public init(layout: ParameterLayout, config: AdamWConfig = AdamWConfig(), m: [T], v: [T]) {
        precondition(m.count == layout.count && v.count == layout.count, "AdamW: moments do not match the layout")
        self.init(layout: layout, config: config)
        self.m = m
        self.v = v
    }

    /// One update in place; returns the (global) gradient norm before clipping.
    @discardableResult
    public mutating func step(_ θ: inout [T], gradient g: [T], learningRate lr: Double) -> Double {
        let norm = Double(BLAS.norm(g))
        let b1 = T(config.beta1), b2 = T(config.beta2), eps = T(config.epsilon)
        let wd = T(config.weightDecay), rate = T(lr)
        let factors = config.clipping.factors(g, tensors: tensors, globalNorm: norm, maxNorm: config.maxGradNorm)
        θ.withUnsafeMutableBufferPointer { θp in
            m.withUnsafeMutableBufferPointer { mp in
                v.withUnsafeMutableBufferPointer { vp in
                    g.withUnsafeBufferPointer { gp in
                        decayMask.withUnsafeBufferPointer { dp in
                            // Elementwise: any split across threads gives the same bits.
                            for (range, clip) in factors {
                                Parallel.rows(range.count, width: 1, minimumRows: 1 << 16) { r in
                                    for i in (range.lowerBound + r.lowerBound)..<(range.lowerBound + r.upperBound) {
                                        let gi = gp[i] * clip
                                        mp[i] = b1 * mp[i] + (1 - b1) * gi
                                        vp[i] = b2 * vp[i] + (1 - b2) * gi * gi
                                        let update = mp[i] / (vp[i].squareRoot() + eps) + wd * dp[i] * θp[i]
                                        θp[i] -= rate * update
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return norm
    }
}
