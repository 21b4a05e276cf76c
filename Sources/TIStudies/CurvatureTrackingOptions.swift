// What curvature tracking along a QAT run measures and how often (CurvatureTracker.swift): every K
// steps and at both ends of every phase, on a fixed probe set, the top Hessian eigenvalue, the Lanczos
// extremes and a Hutchinson trace; and, for chosen steps, the top eigenvalue on the step's minibatch.
import Foundation
import TIData

public struct CurvatureTrackingOptions: Codable, Equatable, Sendable {
    /// Measure on the probe set every this many steps (and at the start and end of every phase);
    /// nil: no curvature.csv.
    public var every: Int? = nil
    /// The probe set: the first N dev examples, the set `hessian --samples N` analyses. Fixed for the
    /// whole run and drawn from nothing, so it cannot touch the run's random streams.
    public var probeExamples = 32
    /// Batches of the probe set (per-batch activation ranges make the Hessian depend on it; the
    /// `hessian` command's default).
    public var batchSize = 32
    /// Steps whose training minibatch gets its own top eigenvalue (minibatch-eigs.csv); empty: none.
    public var minibatchSteps: [Int] = []
    /// Power iteration's stop rule and cap (see PowerIteration).
    public var tolerance = 1e-3
    public var maxIterations = 50
    /// Lanczos steps for the extremes: few, since only the two ends are read.
    public var lanczosSteps = 10
    /// Hutchinson probes per trace (a fixed count; the standard error says how good it is).
    public var traceProbes = 10

    /// The K of `--track-curvature auto`: on the embedded default the tracking then costs at most a
    /// quarter of the run's time (docs/curvature.md).
    public static let defaultEvery = 1000

    public init() {}

    public var isActive: Bool { every != nil || !minibatchSteps.isEmpty }

    public func validate() throws {
        if let every { try OptionChecks.require(every >= 1, .trackCurvature, every, "a step count of at least 1") }
        try OptionChecks.require(probeExamples >= 1, .probeExamples, probeExamples, "at least 1 dev example")
        try OptionChecks.require(batchSize >= 1, .batchSize, batchSize, "at least 1")
        try OptionChecks.powerIteration(count: 1, tolerance: tolerance, maxIterations: maxIterations)
        try OptionChecks.require(lanczosSteps >= 1, .lanczosSteps, lanczosSteps, "at least 1 step")
        try OptionChecks.require(traceProbes >= 3, .traceProbes, traceProbes, "at least 3 probes for a standard error")
        if let bad = minibatchSteps.first(where: { $0 < 1 }) {
            throw OptionValueError(option: .trackMinibatchEigs, value: String(bad), reason: "expected steps from 1 on")
        }
    }

    /// Checks the options against the run they watch: the probe set must exist, the chosen steps must be trained.
    public func check(devExamples: Int, totalSteps: Int) throws {
        if every != nil {
            try OptionChecks.require(probeExamples <= devExamples, .probeExamples, probeExamples,
                                     "at most the \(devExamples) dev examples of the task")
        }
        if let past = minibatchSteps.first(where: { $0 > totalSteps }) {
            throw OptionValueError(option: .trackMinibatchEigs, value: String(past),
                                   reason: "expected steps within the run's \(totalSteps)")
        }
    }
}

/// A set of steps written as a comma list of steps and inclusive ranges, "1-50,100".
public enum StepList {
    /// Largest step a list may name: far beyond any run, far from overflow in a range's count.
    public static let maxStep = 1_000_000_000
    /// Largest number of steps a list may select (one top eigenvalue each).
    public static let maxCount = 1_000_000

    /// The ascending distinct steps of `text`.
    public static func parse(_ text: String) throws -> [Int] {
        func refuse(_ reason: String) -> OptionValueError { OptionValueError(option: .trackMinibatchEigs, value: text, reason: reason) }
        var steps = Set<Int>()
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        for item in items {
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard (1...2).contains(bounds.count), let lo = Int(bounds[0]), let hi = Int(bounds[bounds.count - 1]) else {
                throw refuse("expected a comma list of steps and ranges such as 1-50,100, not '\(item)'")
            }
            guard lo >= 1, hi <= maxStep else { throw refuse("expected steps in 1...\(maxStep), not '\(item)'") }
            guard lo <= hi else { throw refuse("expected a range from low to high, not '\(item)'") }
            guard steps.count + (hi - lo + 1) <= maxCount else { throw refuse("expected at most \(maxCount) steps") }
            steps.formUnion(lo...hi)
        }
        return steps.sorted()
    }
}
