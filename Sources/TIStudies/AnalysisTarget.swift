// What an analysis looks at: a QAT method's trained student (or a named checkpoint, or the
// freshly quantized teacher), the objective evaluated there, and the data it is averaged over.
import Foundation
import TILinalg
import TIData
import TICore

public enum ObjectiveChoice: String, Codable, CaseIterable, Sendable {
    /// Task loss of the quantized model with labels, no intervention, evaluation mode (Figure 5).
    case task
    /// The method's own training loss with its intervention active.
    case train
}

public enum AnalysisPointChoice: String, Codable, CaseIterable, Sendable {
    case trained  // the method's student after QAT
    case initial = "init"  // the teacher's weights, freshly quantized, before any QAT step
}

public struct AnalysisTarget {
    public var model: BertModel
    public var task: TaskData
    public var taskName: TaskSource
    public var teacher: [Float]
    public var parameters: [Float]
    public var checkpointPath: String
    public var checkpointHash: String

    /// Resolves the point: `checkpoint` wins; otherwise the workspace's student of `mode` (trained
    /// on demand), or the teacher itself for `.initial` and for FP.
    public static func resolve(workspace: Workspace, task: TaskSource, mode: QATMode, at: AnalysisPointChoice,
                               checkpoint: String?, seed: UInt64) throws -> AnalysisTarget {
        let t = try workspace.teacher(task)
        let data = try workspace.taskData(task)
        var θ = t.parameters, path = t.dir.path
        if let checkpoint {
            let ck = try Checkpoint.load(URL(fileURLWithPath: checkpoint))
            guard ck.config == t.model.config else {
                throw DataError.mismatch(file: checkpoint, reason: "config differs from the teacher's (\(t.dir.path))")
            }
            θ = ck.parameters; path = checkpoint
        } else if at == .trained && mode != .fp {
            let s = try workspace.student(task, mode: mode, seed: seed)
            θ = s.parameters; path = s.dir.appendingPathComponent("student").path
        }
        return AnalysisTarget(model: t.model, task: data, taskName: task, teacher: t.parameters, parameters: θ,
                              checkpointPath: path, checkpointHash: Checkpoint.hash(θ))
    }

    /// The objective spec of `mode` under the chosen objective; for schedules `phase` picks the
    /// intervention (default: the one active at the end of step 1).
    public static func spec(mode: QATMode, objective: ObjectiveChoice, phase: InterventionPoint?) -> ObjectiveSpec {
        switch objective {
        case .task:
            return ObjectiveSpec(quantization: mode.quantization, loss: .task)
        case .train:
            var rng = SeededRandom(seed: 0)
            let point = phase ?? mode.intervention(atStep: 5, stepOneLength: 6, rng: &rng)
            return mode.objectiveSpec(intervention: mode.isTwoStep ? point : nil)
        }
    }
}
