// Options of `qat` that add telemetry riding along the run (QATObserver): they never change what the
// run trains, its configuration hash or steps.csv.
import ArgumentParser
import Foundation
import TICore
import TIData

struct QATTelemetryOptions: ParsableArguments {
    @Flag(help: "Record weight oscillation per quantized tensor at every step (oscillation.csv; docs/oscillation.md).")
    var trackOscillation = false
    @Option(help: "EMA momentum of the oscillation frequency, in (0, 1] (Nagel et al.'s default 0.01).")
    var oscillationMomentum: Double = OscillationCounters.defaultMomentum
    @Option(help: "Near-threshold band ε in [0, 0.5]: ternary ||W| − Δ| ≤ εΔ, n-bit within ε steps of a rounding midpoint.")
    var oscillationEpsilon: Double = OscillationTracker.defaultEpsilon

    func validate() throws {
        guard oscillationMomentum.isFinite, oscillationMomentum > 0, oscillationMomentum <= 1 else {
            throw Domain.refusal("--oscillation-momentum", "\(oscillationMomentum)", "a momentum in (0, 1]")
        }
        guard oscillationEpsilon.isFinite, oscillationEpsilon >= 0, oscillationEpsilon <= 0.5 else {
            throw Domain.refusal("--oscillation-epsilon", "\(oscillationEpsilon)", "a band in [0, 0.5]")
        }
    }

    var observers: [QATObserver] {
        trackOscillation ? [OscillationTracker(momentum: oscillationMomentum, epsilon: oscillationEpsilon)] : []
    }
}

/// `--intervene-layers`: step 1's intervention in chosen layers only (InterventionLayers.swift).
struct InterventionLayerOptions: ParsableArguments {
    @Option(help: "Layers step 1's intervention applies in (MI, CI, OI, TI schedules): a list such as 0,3 or ranges 0-2,5 (default: every layer).")
    var interveneLayers: String?

    func validate() throws {
        guard let interveneLayers else { return }
        do { _ = try InterventionLayers.parse(interveneLayers, layerCount: Int.max) }  // the syntax; the range needs the model
        catch let e as OptionValueError { throw ValidationError(e.describe(option: e.option.flag)) }
    }

    /// The layers against the teacher's layer count and the mode (nil: every layer, today's TI).
    func resolve(mode: QATMode, workspace: Workspace, task: TaskSource) throws -> [Int]? {
        guard let interveneLayers else { return nil }
        let count = try workspace.teacherLayerCount(task)
        var cfg = QATConfig(mode: mode)
        cfg.interventionLayers = try InterventionLayers.parse(interveneLayers, layerCount: count)
        try InterventionLayers.check(cfg, layerCount: count)
        return cfg.interventionLayers == Array(0..<count) ? nil : cfg.interventionLayers
    }
}
