// Telemetry that rides along a QAT run (curvature along training, the parameter trajectory, weight
// oscillation) without the loop knowing what it measures. An observer must not change the run: it
// draws no number from the run's random streams and never touches the student, so a run trained
// with or without observers is the same run (same configuration hash, same steps.csv).
// Under several ranks every rank calls its observers the same way; an observer writes on rank 0 only
// (`context.communicator.onRoot`) and takes part in any collective its measurement needs on every rank.
import Foundation
import TILinalg
import TIQuant
import TIModel

/// What an observer knows about the run it watches, given once when the run opens.
public struct QATObserverContext {
    public let dir: URL
    /// The step a resumed run continues from (nil: a fresh run). Files must drop rows past it.
    public let resumedAt: Int?
    public let config: QATConfig
    public let task: TaskData
    /// The teacher's parameters in the teacher's (BERT) layout.
    public let teacher: [Float]
    /// The teacher in the student's layout: the student's parameters at step 0 before `prepare`.
    public let teacherInStudentLayout: [Float]
    public let phases: [TrainingPhase]
    public let communicator: Communicator
}

/// The loop right after one optimizer step.
public struct QATStepView {
    /// Steps done so far, counting this one (1 after the first step), over all phases.
    public let step: Int
    /// The step's index inside its phase (0-based).
    public let local: Int
    public let phase: TrainingPhase
    public let intervention: InterventionPoint?
    /// The minibatch this step trained on (the global batch, not a rank's share).
    public let batch: Batch
    /// Parameters before the step (the point the step's gradient was taken at); empty when no observer watches.
    public let parametersBefore: [Float]
    public let student: StudentState
    public let quantization: QuantConfig
}

public protocol QATObserver: AnyObject {
    /// Before the first step this process runs: a fresh run's student at step 0 (after `prepare`),
    /// or a resumed run's student at its saved step.
    func open(_ context: QATObserverContext, student: StudentState, quantization: QuantConfig) throws
    /// After every optimizer step this process runs (replayed steps of a resumed run are not shown).
    func observe(_ step: QATStepView) throws
    /// Where the run saves its resumable state (after `step`): persist what a resume needs.
    func checkpoint(step: Int) throws
    /// After the last step, with the final student.
    func finish(student: StudentState, quantization: QuantConfig, step: Int) throws
}

extension QATObserver {
    public func checkpoint(step: Int) throws {}
    public func finish(student: StudentState, quantization: QuantConfig, step: Int) throws {}
}
