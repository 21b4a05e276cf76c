// AdaRound: post-training learned rounding of 4-bit weights (rectified sigmoid, annealed regularizer),
// each Linear reconstructing its output on calibration batches; no activation quantization, no steps.
import TIQuant
import TIData
import TIModel

public struct AdaRoundW4: QATMethod {
    public var mode: QATMode { .adaRoundW4 }
    public var loss: LossKind { .task }
    public var takesCalibrationOptions: Bool { true }
    public var takesAdaRoundOptions: Bool { true }

    public func phases(total: Int, stepOne: Int) -> [TrainingPhase] { [] }

    public func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig { .adaRound() }

    public func prepare(_ student: inout StudentState, task: TaskData, config: QATConfig, events: RunEvents) throws {
        student.parameters = AdaRound.apply(model: student.model, parameters: student.parameters,
                                            batches: CalibrationBatches.draw(task: task, config: config),
                                            options: config.adaRound ?? AdaRoundOptions(), events: events)
    }
}

extension QATMode {
    public static let adaRoundW4 = QATMode(registered: "ADAROUND-W4")
}
