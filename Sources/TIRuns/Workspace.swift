// The runs directory that links the commands: `finetune` writes the teacher, `qat` the students,
// and `hessian`/`landscape` find them there (training them on demand when missing).
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIMethods
import TIData

public struct Workspace: Sendable {
    public let root: URL
    /// Where training progress and notes (a teacher or student trained on demand) go.
    public var events: RunEvents

    public init(root: URL, events: RunEvents = .silent) { self.root = root; self.events = events }

    public func teacherDir(_ task: TaskSource) -> URL { root.appendingPathComponent("teacher-\(task.name)") }
    public func studentDir(_ task: TaskSource, _ mode: QATMode, seed: UInt64) -> URL {
        root.appendingPathComponent("qat-\(task.name)-\(mode.rawValue)-seed\(seed)")
    }

    public static let defaultTrainSize = 12_000
    public static let defaultDevSize = 1_000

    /// The task's examples; text tasks are tokenized with the teacher's tokenizer.
    public func taskData(_ task: TaskSource) throws -> TaskData {
        let data = try task.load(tokenizerDir: task.needsTokenizer ? teacherDir(task) : nil, events: events)
        try data.requireExamples()
        return data
    }

    public static func defaultConfig(for data: TaskData) -> BertConfig {
        .small(vocabSize: data.vocabSize, maxPositions: 64, numLabels: data.numLabels)
    }

    /// Trains and saves the FP teacher: config.json, model.safetensors, the tokenizer files and
    /// teacher.json. Embedded tasks start from a seeded random init of the small default model;
    /// `pretrained` (an HF checkpoint directory) starts from its encoder and reads text tasks with its tokenizer.
    /// Under several ranks each trains on its share of every batch and rank 0 alone writes the files.
    @discardableResult
    public func trainTeacher(_ task: TaskSource, config: FineTuneConfig, trainSize: Int = defaultTrainSize,
                             pretrained: URL? = nil, to dir: URL? = nil,
                             communicator: Communicator = SingleProcess.shared) throws -> (BertModel, [Float], FineTuneResult) {
        let out = dir ?? teacherDir(task)
        let data: TaskData
        let model: BertModel
        var initial: [Float]? = nil
        if let pretrained {
            data = try task.load(tokenizerDir: pretrained, events: events)
            let ck = try Checkpoint.load(pretrained, seed: config.seed, numLabelsOverride: data.numLabels)
            for note in ck.notes { events.note("checkpoint: \(note)") }
            try data.validate(against: ck.config, configFile: pretrained.appendingPathComponent(Checkpoint.configFile).path)
            model = BertModel(config: ck.config)
            initial = ck.parameters
        } else {
            guard case .embedded(let e) = task else {
                throw OptionValueError(option: .pretrained, value: nil, reason: "task '\(task.name)' is text: its teacher is fine-tuned from a pretrained checkpoint")
            }
            data = SyntheticTaskGenerator(task: e).make(train: trainSize, dev: Self.defaultDevSize)
            model = BertModel(config: Self.defaultConfig(for: data))
        }
        let (θ, result) = try FineTune.run(model: model, task: data, config: config, initial: initial, events: events,
                                           communicator: communicator)
        guard communicator.isRoot else { return (model, θ, result) }
        try Checkpoint.save(θ, config: model.config, to: out, metadata: ["tianalyze.task": task.name])
        if let pretrained {
            for name in ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"] {
                let src = pretrained.appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: src.path) { try AtomicFile.write(Data(contentsOf: src), to: out.appendingPathComponent(name)) }
            }
        } else {
            try AtomicFile.write(SymbolVocabulary.tokens.joined(separator: "\n") + "\n", to: out.appendingPathComponent("vocab.txt"))
        }
        try AtomicFile.writeJSON(result, to: out.appendingPathComponent("teacher.json"))
        return (model, θ, result)
    }

    /// The teacher's layer count without training it (options that name layers are checked first):
    /// its config.json, else the default model an embedded task's teacher will have.
    public func teacherLayerCount(_ task: TaskSource) throws -> Int {
        let url = teacherDir(task).appendingPathComponent(Checkpoint.configFile)
        if FileManager.default.fileExists(atPath: url.path) {
            return try BertConfig(huggingFace: HFBertConfig.load(url: url), file: url.path).numLayers
        }
        guard case .embedded = task else { throw MissingTeacherError(directory: teacherDir(task).path, task: task) }
        return Self.defaultConfig(for: try taskData(task)).numLayers
    }

    /// The task's teacher; an embedded task's is trained now (default settings, seed 1) if missing.
    public func teacher(_ task: TaskSource) throws -> (model: BertModel, parameters: [Float], dir: URL, devMetric: Double?) {
        let dir = teacherDir(task)
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent(Checkpoint.weightsFile).path) {
            guard case .embedded(let e) = task else {
                throw MissingTeacherError(directory: dir.path, task: task)
            }
            events.note("no teacher at \(dir.path): training it now (task \(e.rawValue), default settings)")
            try trainTeacher(task, config: task.defaultTeacherConfig())
        }
        let ck = try Checkpoint.load(dir)
        let info = try? JSONDecoder().decode(FineTuneResult.self, from: Data(contentsOf: dir.appendingPathComponent("teacher.json")))
        return (BertModel(config: ck.config), ck.parameters, dir, info?.dev.metric)
    }

    /// The trained student of a QAT mode (FP: the teacher), trained now (with `observers` riding
    /// along) if it is not on disk.
    public func student(_ task: TaskSource, mode: QATMode, seed: UInt64 = 1, config: QATConfig? = nil,
                        observers: [QATObserver] = []) throws -> (model: BertModel, parameters: [Float], dir: URL) {
        var cfg = config ?? QATConfig(mode: mode)
        cfg.mode = mode; cfg.seed = seed
        try cfg.validate()  // before a teacher is trained on demand
        let t = try teacher(task)
        if mode.method.studentIsTeacher { return (t.model, t.parameters, t.dir) }
        let dir = studentDir(task, mode, seed: seed)
        let weights = dir.appendingPathComponent("student").appendingPathComponent(Checkpoint.weightsFile)
        if !FileManager.default.fileExists(atPath: weights.path) {
            events.note("no \(mode.rawValue) student at \(dir.path): training it now")
            let data = try taskData(task)
            var run = QATRun(model: t.model, task: data, teacher: t.parameters, config: cfg)
            run.observers = observers
            _ = try run.run(outDir: dir, teacherPath: t.dir.path, teacherDevMetric: t.devMetric, events: events)
        }
        let ck = try Checkpoint.load(dir.appendingPathComponent("student"))
        return (BertModel(config: ck.config), ck.parameters, dir)
    }
}

/// A text task's teacher is missing: it is fine-tuned from a pretrained checkpoint, never trained on demand.
public struct MissingTeacherError: Error, CustomStringConvertible, Equatable {
    public var directory: String
    public var task: TaskSource
    public init(directory: String, task: TaskSource) { self.directory = directory; self.task = task }
    public var description: String {
        "\(directory): no teacher: fine-tune task '\(task.name)' from a pretrained checkpoint first (Workspace.trainTeacher)"
    }
}
