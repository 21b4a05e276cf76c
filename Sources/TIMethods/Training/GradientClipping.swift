// How the optimizer bounds a gradient before its moments see it. pytorch-pretrained-bert's BertAdam
// (the optimizer of the TernaryBERT and TI seeds) clips inside its per-parameter loop, so every
// parameter tensor's gradient is bounded on its own; the usual `clip_grad_norm_(model.parameters())`
// bounds the whole gradient at once. The two give different trajectories, so the choice is recorded.
import TILinalg

public enum GradientClipping: String, Codable, CaseIterable, Sendable {
    /// Each tensor (layout slot) to norm ≤ max, as BertAdam: factor max/(‖g_t‖ + 1e-6) when below 1.
    case perTensor = "per-tensor"
    /// The whole gradient to norm ≤ max: factor max/‖g‖ when ‖g‖ > max.
    case global
    /// No clipping.
    case none

    /// The stretches of the flat gradient and the factor each is multiplied by. `tensors` are the
    /// layout's slot ranges (back to back over the whole buffer); `globalNorm` is ‖g‖.
    public func factors<T: BLASScalar>(_ g: [T], tensors: [Range<Int>], globalNorm: Double, maxNorm: Double) -> [(Range<Int>, T)] {
        let all = 0..<g.count
        switch self {
        case .none:
            return [(all, 1)]
        case .global:
            return [(all, globalNorm > maxNorm ? T(maxNorm / globalNorm) : 1)]
        case .perTensor:
            return g.withUnsafeBufferPointer { p in
                tensors.map { r in
                    let norm = Double(T.nrm2(r.count, p.baseAddress! + r.lowerBound))
                    // torch's clip_grad_norm_ on one tensor: the 1e-6 keeps a zero gradient finite.
                    let f = maxNorm / (norm + 1e-6)
                    return (r, f < 1 ? T(f) : 1)
                }
            }
        }
    }
}
