// The parts of a QAT run that differ by rank: rank 0 claims the run directory and opens its logs
// first, then the other ranks read what a resumed run needs (the same files, unchanged until the
// next save, which comes after a collective step); each failure is agreed by every rank.
import Foundation
import TILinalg
import TIData
import TIQuant
import TIModel

extension QATRun {
    /// Each rank needs at least one example of every batch.
    func requireShares() throws {
        try ScheduleChecks.shares(batchSize: config.batchSize, examples: task.train.count, ranks: communicator.size)
    }

    /// A finished run's result, when every rank finds it (a rank returning early would leave the others
    /// waiting in the run's first collective, so ranks that disagree stop with one line).
    func finishedOnEveryRank(_ dir: URL, hash: String) throws -> (student: [Float], summary: QATSummary, evals: [QATEval])? {
        let comm = communicator
        let done = try comm.agreeing { try finishedRun(dir, hash: hash) }
        guard comm.isDistributed else { return done }
        let seen = comm.allGather([done == nil ? 0 : 1])
        guard seen.allSatisfy({ $0 == seen[0] }) else {
            throw DataError.mismatch(file: dir.path, reason: "some ranks find a finished run in this directory and others do not; every rank needs the same run directory")
        }
        return done
    }

    /// The resumable state (or a step-2 run's hand-off): rank 0 claims the directory and reads it,
    /// then the other ranks read the same files.
    func openState(_ dir: URL, hash: String) throws -> QATCheckpointState? {
        let comm = communicator
        var state: QATCheckpointState? = nil
        try comm.agreeing { if comm.isRoot { state = try QATCheckpointState.load(dir, expectedHash: hash) ?? handOff(to: dir)?.state } }
        try comm.agreeing {
            if !comm.isRoot { state = try QATCheckpointState.read(dir, expectedHash: hash) ?? handOff(to: dir, copyingLogs: false)?.state }
        }
        return state
    }

    /// The recorder: rank 0's truncates and opens the logs, then the others read the resumed history.
    func openRecorder(_ dir: URL, resumedAt: Int?, student: StudentState, teacher: [Float], phases: [TrainingPhase]) throws -> QATRecorder {
        let comm = communicator
        var recorder: QATRecorder? = nil
        let open = {
            recorder = try QATRecorder(dir: dir, resumedAt: resumedAt, model: student.model, task: task, teacher: teacher,
                                       probeSize: config.devProbeSize, stepOne: phases.contains { $0.number == 1 },
                                       keepsBestStepOne: config.stepOneSelection == .best, communicator: comm)
        }
        try comm.agreeing { if comm.isRoot { try open() } }
        try comm.agreeing { if !comm.isRoot { try open() } }
        recorder!.evaluator.interventionLayers = config.interventionLayers
        return recorder!
    }

    /// Forward and backward of one step on this rank's share of `batch`, the loss terms, the logged
    /// task loss and the gradient reduced to the global batch's means (the same bits on every rank).
    func dataParallelStep(_ obj: BertObjective<Float>, θ: [Float], batch: Batch, dropoutSeed: UInt64) -> (StepTerms, [Float]) {
        var obj = obj
        let share = DataParallel.share(of: batch, communicator)
        obj.batchStatistics = GlobalBatchStatistics.over(communicator)
        // Under several ranks the collectives of the student's forward stay on this thread.
        let r = Self.forwardBackward(obj, θ: θ, batch: share, teacher: teacher, dropoutSeed: dropoutSeed,
                                     concurrentTeacher: !communicator.isDistributed)
        let ce = Double(obj.taskLoss(r.trace.logits, batch: share).0)
        let (terms, extra) = DataParallel.mean(r.terms, extra: [ce], share: share, of: batch, communicator)
        var gradient = r.gradient!
        DataParallel.mean(&gradient, share: share, of: batch, communicator)
        return (StepTerms(loss: terms, trainCE: extra[0]), gradient)
    }
}
