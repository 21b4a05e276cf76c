// `tianalyze eval --checkpoint PATH`: every GLUE score of any model the project writes or reads,
// on one split of its task. The path says what it is: a directory with config.json is a
// full-precision checkpoint (a fine-tuned teacher, any HuggingFace BERT checkpoint), a QAT run
// directory (metadata.json + student/) is that run's student under the quantization its method
// saved, and a file is Q8BERT's int8 export (evaluated beside the run's fake-quantized student).
import Foundation
import TILinalg
import TIData
import TICore

/// Which examples are scored.
public enum EvaluationSplit: String, CaseIterable, Sendable {
    case dev
    /// MNLI's dev_mismatched.tsv (`TaskData.devMismatched`).
    case devMismatched = "dev-mismatched"
    case train
}

public enum CheckpointKind: Equatable, Sendable, CustomStringConvertible {
    case fullPrecision
    /// A QAT run's student, quantized as its method saved it.
    case student(QATMode)
    case int8Export

    public var description: String {
        switch self {
        case .fullPrecision: return "full-precision checkpoint"
        case .student(let mode): return "\(mode.rawValue) student"
        case .int8Export: return "int8 export"
        }
    }
}

public struct CheckpointEvaluation {
    public var kind: CheckpointKind
    /// The checkpoint directory, run directory or export file that was read.
    public var location: URL
    public var split: EvaluationSplit
    /// Every GLUE score (`scores`, in report order), the headline in `metric`, the task loss.
    public var evaluation: EvaluationResult
    /// What the loader did that a reader must know (e.g. a classifier the checkpoint lacked).
    public var notes: [String] = []
    /// An int8 export inside its run: the run's fake-quantized student on the same examples.
    public var reference: EvaluationResult? = nil
    public var maxLogitDifference: Double? = nil
    /// An int8 export: the file run in integer arithmetic beside its fake-quantized evaluation.
    public var integer: IntegerArithmeticEvaluation? = nil
}

extension CheckpointEvaluation {
    /// What `path` holds, and the location to read (`<run>/student` is read as its run).
    public static func kind(of path: URL) throws -> (kind: CheckpointKind, location: URL) {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path.path, isDirectory: &isDir) else {
            throw DataError.io(file: path.path, reason: "not found (expected a checkpoint directory, a QAT run directory or an int8 export)")
        }
        if !isDir.boolValue { return (.int8Export, path) }
        var run = path
        if path.lastPathComponent == StudentFiles.checkpoint && isRun(path.deletingLastPathComponent()) { run = path.deletingLastPathComponent() }
        if isRun(run) {
            let metadata = run.appendingPathComponent("metadata.json")
            let meta: QATRunMetadata
            do { meta = try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: metadata)) } catch {
                throw DataError.malformed(file: metadata.path, reason: "not a QAT run's metadata: \(error)")
            }
            return (.student(meta.config.mode), run)
        }
        guard fm.fileExists(atPath: path.appendingPathComponent(Checkpoint.configFile).path) else {
            throw DataError.io(file: path.path, reason: "neither a checkpoint (no config.json) nor a QAT run directory (no metadata.json with student/)")
        }
        return (.fullPrecision, path)
    }

    private static func isRun(_ dir: URL) -> Bool {
        let fm = FileManager.default
        return fm.fileExists(atPath: dir.appendingPathComponent("metadata.json").path)
            && fm.fileExists(atPath: dir.appendingPathComponent(StudentFiles.checkpoint).path)
    }

    /// The model directory whose tokenizer reads a text task for this checkpoint: the checkpoint's
    /// own when it carries one, else the teacher its run names, else the workspace's teacher.
    public static func tokenizerDirectory(kind: CheckpointKind, location: URL, workspace: Workspace, task: TaskSource) -> URL {
        var candidates: [URL] = []
        switch kind {
        case .fullPrecision: candidates.append(location)
        case .student, .int8Export:
            let run = kind == .int8Export ? location.deletingLastPathComponent() : location
            if let data = try? Data(contentsOf: run.appendingPathComponent("metadata.json")),
               let meta = try? JSONDecoder().decode(QATRunMetadata.self, from: data) {
                candidates.append(URL(fileURLWithPath: meta.teacherPath))
            }
        }
        let fm = FileManager.default
        return candidates.first { dir in
            ["tokenizer.json", "vocab.txt"].contains { fm.fileExists(atPath: dir.appendingPathComponent($0).path) }
        } ?? workspace.teacherDir(task)
    }

    /// The examples of `split`, the first `samples` of them when given.
    public static func examples(_ data: TaskData, split: EvaluationSplit, samples: Int? = nil) throws -> [Example] {
        let all: [Example]
        switch split {
        case .dev: all = data.dev
        case .train: all = data.train
        case .devMismatched:
            guard !data.devMismatched.isEmpty else {
                throw OptionValueError(option: .split, value: split.rawValue,
                                       reason: "task '\(data.name)' has no mismatched dev set (only MNLI does: dev_mismatched.tsv)")
            }
            all = data.devMismatched
        }
        if let samples, samples < 1 { throw OptionValueError(option: .samples, value: String(samples), reason: "must be at least 1") }
        return Array(all.prefix(samples ?? all.count))
    }

    /// Reads the task with the checkpoint's tokenizer and scores the checkpoint on `split`.
    public static func run(checkpoint path: URL, task: TaskSource, workspace: Workspace, split: EvaluationSplit = .dev,
                           samples: Int? = nil, quantConfig: QuantConfigFile? = nil) throws -> CheckpointEvaluation {
        let (kind, location) = try kind(of: path)
        let tokenizer = task.needsTokenizer ? tokenizerDirectory(kind: kind, location: location, workspace: workspace, task: task) : nil
        let data = try task.load(tokenizerDir: tokenizer, events: workspace.events)
        return try run(checkpoint: path, data: data, split: split, samples: samples, quantConfig: quantConfig)
    }

    /// Scores the checkpoint on `split` of task data already loaded (tokenized for this model).
    /// `quantConfig`: per-tensor weight precisions; a full-precision checkpoint is then evaluated under
    /// TernaryBERT's scheme (8-bit activations) with those weight precisions (post-training quantization).
    public static func run(checkpoint path: URL, data: TaskData, split: EvaluationSplit = .dev, samples: Int? = nil,
                           quantConfig: QuantConfigFile? = nil) throws -> CheckpointEvaluation {
        let (kind, location) = try kind(of: path)
        let examples = try examples(data, split: split, samples: samples)
        switch kind {
        case .fullPrecision:
            let ck = try Checkpoint.load(location)
            try data.validate(against: ck.config, configFile: location.appendingPathComponent(Checkpoint.configFile).path)
            let model = BertModel(config: ck.config)
            let q = try quantConfig.map { QuantConfig.ternaryW8A8.with(weightPrecisions: try $0.precisions(for: model.layout)) } ?? .fullPrecision
            let ev = Evaluator<Float>(model: model, task: data).evaluate(ck.parameters, quantization: q, examples: examples)
            return CheckpointEvaluation(kind: kind, location: location, split: split, evaluation: ev, notes: ck.notes)
        case .student:
            let s = try QATRun.loadStudent(location)
            let config = location.appendingPathComponent(StudentFiles.checkpoint).appendingPathComponent(Checkpoint.configFile)
            try data.validate(against: s.model.config, configFile: config.path)
            var q = s.quantization
            if let quantConfig, case .student(let mode) = kind {
                try quantConfig.check(appliesTo: q, mode: mode)
                q = q.with(weightPrecisions: try quantConfig.precisions(for: s.model.layout))
            }
            let ev = Evaluator<Float>(model: s.model, task: data).evaluate(s.parameters, quantization: q, examples: examples)
            return CheckpointEvaluation(kind: kind, location: location, split: split, evaluation: ev)
        case .int8Export:
            if let quantConfig {
                throw OptionValueError(option: .weightPrecisions, value: quantConfig.path, reason: "an int8 export's weights are stored at 8 bits; give a checkpoint or QAT run directory")
            }
            let r = try QuantizedEvaluation.run(export: location, task: data, examples: examples)
            return CheckpointEvaluation(kind: kind, location: location, split: split, evaluation: r.evaluation,
                                        reference: r.reference, maxLogitDifference: r.maxLogitDifference, integer: r.integer)
        }
    }
}
