// `qat --save-trajectory K`: the parameter path of a run, every K steps and at the end, streamed to
// <run>/trajectory.bin (TrajectoryFile) for the PCA-plane landscape. It only reads the student, so
// the run is unchanged; on resume it cuts the entries past the resumed step (a killed run may have
// saved steps its last checkpoint does not cover), and the replayed steps write them again, bit
// for bit, so an interrupted and resumed run ends with the same file as an uninterrupted one.
import Foundation
import TIData
import TIQuant
import TIModel

public final class TrajectoryObserver: QATObserver {
    public let every: Int
    /// fsync after every entry (off only in tests).
    public var durable = true
    private var origin: [Float] = []
    private var writer: AppendOnlyFile? = nil
    private var lastSaved = 0

    public init(every: Int) {
        precondition(every > 0, "TrajectoryObserver: every must be positive")
        self.every = every
    }

    public func open(_ context: QATObserverContext, student: StudentState, quantization: QuantConfig) throws {
        guard context.communicator.isRoot else { return }
        let url = context.dir.appendingPathComponent(TrajectoryFile.name)
        if let step = context.resumedAt {
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw DataError.mismatch(file: url.path, reason: "missing while the run resumes at step \(step): a trajectory starts at step 0; resume without --save-trajectory, or remove the run folder and train again")
            }
            let saved = try TrajectoryFile.read(url)
            guard saved.every == every, saved.origin.count == student.parameters.count else {
                throw DataError.mismatch(file: url.path, reason: "saved every \(saved.every) steps over \(saved.origin.count) parameters; this run saves every \(every) over \(student.parameters.count); resume with --save-trajectory \(saved.every)")
            }
            try AppendOnlyFile.truncate(url, to: TrajectoryFile.length(keepingThrough: step, of: saved))
            origin = saved.origin
            lastSaved = saved.steps.last { $0 <= step } ?? 0
        } else {
            origin = student.parameters
            try AtomicFile.write(Data(TrajectoryFile.header(origin: origin, every: every)), to: url)
        }
        writer = try AppendOnlyFile(url, durable: durable)
    }

    public func observe(_ step: QATStepView) throws {
        if step.step % every == 0 { try save(step.step, step.student.parameters) }
    }

    public func finish(student: StudentState, quantization: QuantConfig, step: Int) throws {
        if step > lastSaved { try save(step, student.parameters) }
    }

    private func save(_ step: Int, _ parameters: [Float]) throws {
        guard let writer else { return }  // not rank 0
        try writer.append(bytes: TrajectoryFile.entry(step: step, parameters: parameters, origin: origin))
        lastSaved = step
    }
}
