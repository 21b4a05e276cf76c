// Divergence beyond NaN: a learning rate too high for the model can drive the loss up by orders of
// magnitude while every number stays finite, and the run then "succeeds" with a useless student
// (a probe loss of 4e21 after --lr 1e3). The guard stops such a run with a message instead.
//
// Rule (docs/input-validation.md): per training phase, the starting loss is the mean of the
// phase's first `startSteps` step losses (at least `floor`); the run has diverged when the loss
// stays above `factor` × that start for `window` consecutive steps. A single spike does not count:
// the window asks for a loss that stays up. Factor 0 switches the guard off.
import Foundation

public struct DivergenceGuard: Sendable, Equatable {
    /// The factor every new guard uses (the CLI's --divergence-factor sets it; 0: off).
    nonisolated(unsafe) public static var defaultFactor = 100.0
    public static let defaultWindow = 20
    /// Steps averaged for the starting loss of a phase.
    public static let startSteps = 5
    /// Starting losses below this count as this, so a near-zero start (a student that begins at
    /// its teacher) does not turn ordinary noise into "divergence".
    public static let floor = 0.01

    public var factor: Double
    public var window: Int
    private var phase: Int? = nil
    private var firstLosses: [Double] = []
    private var above = 0

    public init(factor: Double = DivergenceGuard.defaultFactor, window: Int = DivergenceGuard.defaultWindow) {
        self.factor = factor; self.window = window
    }

    /// The loss of one finished step; throws `DivergenceError` once the loss has stayed above the
    /// threshold for `window` steps.
    public mutating func observe(loss: Double, step: Int, phase: Int) throws {
        guard factor > 0, factor.isFinite else { return }
        if phase != self.phase { self.phase = phase; firstLosses = []; above = 0 }
        guard firstLosses.count >= Self.startSteps else { firstLosses.append(loss); return }
        let threshold = factor * start
        above = loss > threshold ? above + 1 : 0
        if above >= window {
            throw DivergenceError(step: step, phase: phase, loss: loss, start: start, factor: factor, window: window)
        }
    }

    /// The starting loss of the current phase (after its first `startSteps` steps).
    public var start: Double { max(Self.floor, firstLosses.reduce(0, +) / Double(max(1, firstLosses.count))) }
}

public struct DivergenceError: Error, CustomStringConvertible, Equatable {
    public var step: Int
    public var phase: Int
    public var loss: Double
    public var start: Double
    public var factor: Double
    public var window: Int

    public var description: String {
        describe(learningRate: "the learning rate", factorName: "the divergence factor")
    }

    /// The message with the two settings spelled as a front end names them.
    public func describe(learningRate: String, factorName: String) -> String {
        String(format: "training diverged: the loss stayed above %g × its starting value %.4g for %d steps (%.4g at step %d, phase %d); lower %@, or raise %@ (0 switches the check off)",
               factor, start, window, loss, step, phase, learningRate, factorName)
    }
}
