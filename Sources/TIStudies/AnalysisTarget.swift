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
    /// The trained student's own quantization (saved activation ranges, PTQ options, learned
    /// steps); nil means the mode's default scheme.
    public var quantization: QuantConfig? = nil
    public var mode: QATMode? = nil
    /// Per-tensor weight precisions (`--quant-config`) replacing those of every objective analysed here.
    public var weightPrecisions: WeightPrecisions? = nil

    /// Resolves the point: `checkpoint` wins; otherwise the workspace's student of `mode` (trained
    /// on demand), or the teacher itself for `.initial` and for FP.
    public static func resolve(workspace: Workspace, task: TaskSource, mode: QATMode, at: AnalysisPointChoice,
                               checkpoint: String?, seed: UInt64) throws -> AnalysisTarget {
        // A named checkpoint is read before anything is trained on demand: a bad file fails at once.
        let named = try checkpoint.map { try Checkpoint.load(URL(fileURLWithPath: $0)) }
        let t = try workspace.teacher(task)
        let data = try workspace.taskData(task)
        var θ = t.parameters, path = t.dir.path
        if let checkpoint, let ck = named {
            guard ck.config == t.model.config else {
                throw DataError.mismatch(file: checkpoint, reason: "config differs from the teacher's (\(t.dir.path))")
            }
            θ = ck.parameters; path = checkpoint
        } else if at == .trained && !mode.method.studentIsTeacher {
            let s = try workspace.student(task, mode: mode, seed: seed)
            return try fromRun(s.dir, mode: mode, teacher: t.parameters, data: data, task: task)
        }
        return AnalysisTarget(model: t.model, task: data, taskName: task, teacher: t.parameters, parameters: θ,
                              checkpointPath: path, checkpointHash: Checkpoint.hash(θ))
    }

    /// The objective spec of `mode` under the chosen objective; for schedules `phase` picks the
    /// intervention (default: the one active at the end of step 1).
    /// `quantization` replaces the mode's default scheme (a trained student's own ranges/steps).
    public static func spec(mode: QATMode, objective: ObjectiveChoice, phase: InterventionPoint?,
                            quantization: QuantConfig? = nil) -> ObjectiveSpec {
        let method = mode.method
        let q = quantization ?? method.defaultQuantization
        switch objective {
        case .task: return ObjectiveSpec(quantization: q, loss: .task)
        case .train: return method.objective(intervention: method.analysisIntervention(requested: phase), quantization: q)
        }
    }

    /// The objective of `mode` at this target: the student's own quantization when it is that mode's student.
    /// With `weightPrecisions`, the scheme's weight quantizers of the named tensors are replaced.
    public func spec(mode m: QATMode, objective: ObjectiveChoice, phase: InterventionPoint?) -> ObjectiveSpec {
        var s = Self.spec(mode: m, objective: objective, phase: phase, quantization: m == mode ? quantization : nil)
        s.quantization = s.quantization.with(weightPrecisions: weightPrecisions)
        return s
    }

    /// Reads `--quant-config` against this target's layout and refuses modes whose scheme it cannot change.
    public mutating func apply(_ file: QuantConfigFile?, modes: [QATMode]) throws {
        guard let file else { return }
        for m in modes { try file.check(appliesTo: Self.spec(mode: m, objective: .task, phase: nil, quantization: m == mode ? quantization : nil).quantization, mode: m) }
        let p = try file.precisions(for: model.layout)
        weightPrecisions = p
        // The point analysed is the checkpoint under other weight quantizers: resumable results keyed by
        // this hash (landscape grids) must not mix with those of the scheme's own precisions.
        checkpointHash += "+precisions:" + String(CRC32.checksum(Data(p.byTensor.keys.sorted().map { "\($0)=\(p.byTensor[$0]!)" }.joined(separator: ";").utf8)), radix: 16)
    }
}
