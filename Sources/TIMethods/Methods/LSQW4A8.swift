// LSQ (learned step size quantization; Qualcomm's "QAT with learned ranges"): 4-bit weights and 8-bit
// activations whose steps, and for asymmetric activations (the seed's `--qmethod-act asymmetric_uniform`,
// the default) zero points, are parameters in θ (LSQLayout.swift appends them to BERT's layout). They
// start from ranges calibrated before step 0; the gradient scale 1/√(N·Q_P) preconditions each step's
// update; task loss. `QATConfig.lsq` records the activation method of every run.
import Foundation
import TIData
import TIQuant
import TIModel

public struct LSQW4A8: QATMethod {
    public var mode: QATMode { .lsqW4A8 }
    public var loss: LossKind { .task }
    public var takesCalibrationOptions: Bool { true }
    public var takesLSQOptions: Bool { true }

    public func quantization(config: QATConfig, ranges: ActivationRangeState?) -> QuantConfig {
        QuantConfig.lsq(config.lsq ?? LSQOptions()).with(ranges: ranges)
    }

    /// BERT's layout extended with the steps; the teacher's vector extended with their initial values
    /// (a full-precision forward never reads them).
    public func initialStudent(teacher: BertModel, parameters: [Float], config: QATConfig) -> StudentState {
        let q = quantization(config: config, ranges: nil)
        let model = LSQ.model(config: teacher.config, quantization: q)
        return StudentState(model: model, parameters: LSQ.initialParameters(bert: parameters, model: model, quantization: q))
    }

    public func prepare(_ student: inout StudentState, task: TaskData, config: QATConfig, events: RunEvents) throws {
        let q = quantization(config: config, ranges: nil)
        let ranges = PTQ.calibrate(model: student.model, latent: student.parameters, config: q,
                                   batches: CalibrationBatches.draw(task: task, config: config),
                                   estimator: (config.ptq ?? PTQOptions()).estimator).ranges!
        LSQ.initializeActivationSteps(&student.parameters, model: student.model, quantization: q, ranges: ranges)
        student.ranges = ranges
    }

    public func preconditionGradient(_ g: inout [Float], student: StudentState, quantization: QuantConfig) {
        LSQ.scaleGradients(&g, model: student.model, quantization: quantization)
    }

    public func afterOptimizerStep(_ student: inout StudentState) {
        LSQ.clampSteps(&student.parameters, model: student.model)
    }

    /// The HF checkpoint keeps BERT's layout; the learned steps and zero points sit next to it, in layout order.
    public func saveArtifacts(_ student: StudentState, quantization: QuantConfig, bertCount: Int, to dir: URL) throws {
        let steps = Array(student.parameters[bertCount...])
        let names = student.model.layout.slots.filter { $0.offset >= bertCount }.map(\.name)
        try SafeTensorsWriter.write(tensors: [("steps", [steps.count], steps)], metadata: ["names": names.joined(separator: ",")],
                                    to: dir.appendingPathComponent(StudentFiles.learnedSteps))
    }

    public func teacherParameters(_ θ: [Float], in student: StudentState, quantization: QuantConfig) -> [Float] {
        LSQ.initialParameters(bert: θ, model: student.model, quantization: quantization)
    }

    public func loadStudent(_ dir: URL, config: QATConfig) throws -> StudentState {
        let ck = try Checkpoint.load(dir.appendingPathComponent(StudentFiles.checkpoint))
        let ranges = try StudentFiles.readRanges(dir)
        let model = LSQ.model(config: ck.config, quantization: quantization(config: config, ranges: ranges))
        let url = dir.appendingPathComponent(StudentFiles.learnedSteps)
        let steps = try SafeTensorsFile.read(url: url).values("steps", as: Float.self)
        // The config hash does not cover the layout: a run from before learned activation steps has
        // the same hash but fewer steps.
        guard ck.parameters.count + steps.count == model.layout.count else {
            throw DataError.mismatch(file: url.path, reason: "\(steps.count) steps, this build's \(mode.rawValue) layout needs \(model.layout.count - ck.parameters.count) (a run from an older layout); use another output directory or remove it")
        }
        return StudentState(model: model, parameters: ck.parameters + steps, ranges: ranges)
    }
}

extension QATMode {
    public static let lsqW4A8 = QATMode(registered: "LSQ-W4A8")
}
