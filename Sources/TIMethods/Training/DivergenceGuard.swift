// Divergence beyond NaN: a learning rate too high for the model can drive the loss up by orders of
// magnitude while every number stays finite, and the run then "succeeds" with a useless student
// (a probe loss of 4e21 after --lr 1e3). The guard stops such a run with a message instead.
//
// Rule (docs/input-validation.md): per training phase, the starting loss is the loss of the
// phase's first step (at least `floor`), the loss at the weights the phase starts from; the run has
// diverged when the loss stays above `factor` × that start for `window` consecutive steps. A single
// spike does not count: the window asks for a loss that stays up. Factor 0 switches the guard off.
// (Not an average over the first steps: at a learning rate that diverges, the loss has often
// grown tenfold by the third step.)
import Foundation

public struct DivergenceGuard: Sendable, Equatable {
    /// The factor every new guard uses (the CLI's --divergence-factor sets it; 0: off).
    nonisolated(unsafe) public static var defaultFactor = 100.0
    public static let defaultWindow = 20
    /// Starting losses below this count as this, so a near-zero start (a student that begins at
    /// its teacher) does not turn ordinary noise into "divergence".
    public static let floor = 0.01

    public var factor: Double
    public var window: Int
    private var phase: Int? = nil
    /// The starting loss of the current phase (nil before its first step).
    public private(set) var start: Double? = nil
    private var above = 0

    public init(factor: Double = DivergenceGuard.defaultFactor, window: Int = DivergenceGuard.defaultWindow) {
        self.factor = factor; self.window = window
    }

    /// The loss of one finished step; throws `DivergenceError` once the loss has stayed above the
    /// threshold for `window` steps.
    public mutating func observe(loss: Double, step: Int, phase: Int) throws {
        guard factor > 0, factor.isFinite else { return }
        guard phase == self.phase, let start else {
            self.phase = phase; start = max(Self.floor, loss); above = 0
            return
        }
        above = loss > factor * start ? above + 1 : 0
        if above >= window {
            throw DivergenceError(step: step, phase: phase, loss: loss, start: start, factor: factor, window: window)
        }
    }
}

public struct DivergenceError: Error, CustomStringConvertible, Equatable {
    public var step: Int
    public var phase: Int
    public var loss: Double
    public var start: Double
    public var factor: Double
    public var window: Int

    public init(step: Int, phase: Int, loss: Double, start: Double, factor: Double, window: Int) {
        self.step = step; self.phase = phase; self.loss = loss; self.start = start; self.factor = factor; self.window = window
    }

    public var description: String {
        describe(learningRate: "the learning rate", factorName: "the divergence factor")
    }

    /// The message with the two settings spelled as a front end names them.
    public func describe(learningRate: String, factorName: String) -> String {
        String(format: "training diverged: the loss stayed above %g × its starting value %.4g for %d steps (%.4g at step %d, phase %d); lower %@, or raise %@ (0 switches the check off)",
               factor, start, window, loss, step, phase, learningRate, factorName)
    }
}
