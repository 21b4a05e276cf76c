// BertAdam as used by BERT/TernaryBERT fine-tuning: Adam without bias correction, decoupled
// weight decay 0.01 except biases and LayerNorm, global gradient-norm clipping, and a linear
// warmup (10 %) then linear decay to zero.
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
    public init() {}
}

public struct AdamW<T: BLASScalar> {
    public let config: AdamWConfig
    public private(set) var m: [T]
    public private(set) var v: [T]
    /// 1 where weight decay applies (matrices and embeddings), 0 for biases and LayerNorm.
    let decayMask: [T]

    public init(layout: ParameterLayout, config: AdamWConfig = AdamWConfig()) {
        self.config = config
        m = [T](repeating: 0, count: layout.count)
        v = m
        decayMask = layout.mask(for: layout.slots.filter { !$0.role.isOneDimensional })
    }

    /// Restores the moments of an interrupted run.
    public init(layout: ParameterLayout, config: AdamWConfig = AdamWConfig(), m: [T], v: [T]) {
        precondition(m.count == layout.count && v.count == layout.count, "AdamW: moments do not match the layout")
        self.init(layout: layout, config: config)
        self.m = m
        self.v = v
    }

    /// One update in place; returns the gradient norm before clipping.
    @discardableResult
    public mutating func step(_ θ: inout [T], gradient g: [T], learningRate lr: Double) -> Double {
        let norm = Double(BLAS.norm(g))
        let clip = norm > config.maxGradNorm ? T(config.maxGradNorm / norm) : 1
        let b1 = T(config.beta1), b2 = T(config.beta2), eps = T(config.epsilon)
        let wd = T(config.weightDecay), rate = T(lr)
        for i in θ.indices {
            let gi = g[i] * clip
            m[i] = b1 * m[i] + (1 - b1) * gi
            v[i] = b2 * v[i] + (1 - b2) * gi * gi
            let update = m[i] / (v[i].squareRoot() + eps) + wd * decayMask[i] * θ[i]
            θ[i] -= rate * update
        }
        return norm
    }
}
