// Qualcomm-style post-training quantization W8A8: symmetric weights (min-max or MSE range), asymmetric
// activations at the seed's W8A8 sites (PTQ.seedW8A8Sites), ranges calibrated on seeded training
// batches, no training steps. Options (estimator, quant-dict, PEG) come from `QATConfig.ptq`.
import TIQuant
import TIData
import TIModel

public struct PTQW8A8: QATMethod {
    public var mode: QATMode { .ptqW8A8 }
    public var loss: LossKind { .task }
    public var takesCalibrationOptions: Bool { true }
    public var takesSeedPTQOptions: Bool { true }
    public var takesPEGOptions: Bool { true }

    public func phases(total: Int, stepOne: Int) -> [TrainingPhase] { [] }

    public func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig {
        QuantConfig.ptq(config.ptq ?? PTQOptions()).with(ranges: ranges)
    }

    public func prepare(_ student: inout StudentState, task: TaskData, config: QATConfig, events: RunEvents) throws {
        let batches = CalibrationBatches.draw(task: task, config: config)
        student.ranges = PTQ.calibrate(model: student.model, latent: student.parameters, config: runQuantization(config: config, ranges: nil),
                                       batches: batches, tracker: (config.ptq ?? PTQOptions()).rangeTracker(),
                                       pegSharedH: config.ptq?.peg?.permuteSharedH ?? false,
                                       progress: ProgressReporter("calibrate \(mode.rawValue)", total: batches.count, events: events)).ranges
    }
}

extension QATMode {
    public static let ptqW8A8 = QATMode(registered: "PTQ-W8A8")
}

extension QATConfig {
    /// This configuration with the seed's PTQ options spelled out for a method that takes them (so that
    /// metadata.json records every choice, and a run started by `compare` or on demand hashes as one
    /// started by `qat` with the same defaults); unchanged for every other method.
    public var recordingSeedPTQOptions: QATConfig {
        guard mode.method.takesSeedPTQOptions else { return self }
        var c = self
        var o = c.ptq ?? PTQOptions()
        if o.seed == nil { o.seed = PTQSeedOptions() }
        c.ptq = o
        return c
    }
}
