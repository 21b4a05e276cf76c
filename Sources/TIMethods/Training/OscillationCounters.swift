// Weight oscillation as Nagel et al. (ICML 2022, "Overcoming oscillations in quantization-aware
// training") define it: a weight oscillates at step t when its integer state changes and the change
// goes the opposite way of its previous change; its oscillation frequency is the EMA
// f_t = m·o_t + (1 − m)·f_{t−1} (f_0 = 0) of that indicator. A weight's first change is no
// oscillation (there is no previous direction). Kept in Float, so that a state written to disk and
// read back continues bit for bit.
import Foundation

/// The oscillation state of one tensor's weights.
public struct OscillationCounters: Equatable, Sendable {
    /// Nagel et al.'s default EMA momentum.
    public static let defaultMomentum = 0.01

    /// Integer state of each weight after the last step.
    public private(set) var codes: [Int32]
    /// Sign of each weight's last state change (0 before its first).
    public private(set) var lastDirection: [Int8]
    /// Each weight's EMA of oscillations.
    public private(set) var frequency: [Float]
    public let momentum: Float

    public init(codes: [Int32], momentum: Double = defaultMomentum) {
        self.codes = codes
        lastDirection = Array(repeating: 0, count: codes.count)
        frequency = Array(repeating: 0, count: codes.count)
        self.momentum = Float(momentum)
    }

    /// A state read back from disk (`checkpoint`).
    public init(codes: [Int32], lastDirection: [Int8], frequency: [Float], momentum: Double) {
        precondition(codes.count == lastDirection.count && codes.count == frequency.count)
        self.codes = codes; self.lastDirection = lastDirection; self.frequency = frequency; self.momentum = Float(momentum)
    }

    /// Moves to one step's states; returns the fraction of weights whose state changed and the mean
    /// oscillation frequency over the tensor after this step.
    public mutating func advance(to new: [Int32]) -> (changedFraction: Double, frequency: Double) {
        precondition(new.count == codes.count, "oscillation: \(new.count) states for a tensor of \(codes.count)")
        var changed = 0, sum = 0.0
        let m = momentum, keep = 1 - momentum
        for i in codes.indices {
            let step = new[i] &- codes[i]
            var oscillated: Float = 0
            if step != 0 {
                changed += 1
                let direction: Int8 = step > 0 ? 1 : -1
                if lastDirection[i] == -direction { oscillated = 1 }
                lastDirection[i] = direction
            }
            frequency[i] = m * oscillated + keep * frequency[i]
            sum += Double(frequency[i])
        }
        codes = new
        let n = Double(max(codes.count, 1))
        return (Double(changed) / n, sum / n)
    }
}
