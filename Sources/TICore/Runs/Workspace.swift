// The runs directory that links the commands: `finetune` writes the teacher, `qat` the students,
// and `hessian`/`landscape` find them there (training them on demand when missing).
import Foundation
import TILinalg
import TIData

public struct Workspace: Sendable {
    public let root: URL
    public var progress: Bool

    public init(root: URL, progress: Bool = true) { self.root = root; self.progress = progress }

    public func teacherDir(_ task: EmbeddedTask) -> URL { root.appendingPathComponent("teacher-\(task.rawValue)") }
    public func studentDir(_ task: EmbeddedTask, _ mode: QATMode, seed: UInt64) -> URL {
        root.appendingPathComponent("qat-\(task.rawValue)-\(mode.rawValue)-seed\(seed)")
    }

    public static let defaultTrainSize = 12_000
    public static let defaultDevSize = 1_000

    public func taskData(_ task: EmbeddedTask, trainSize: Int = defaultTrainSize) -> TaskData {
        SyntheticTaskGenerator(task: task).make(train: trainSize, dev: Self.defaultDevSize)
    }

    public static func defaultConfig(for data: TaskData) -> BertConfig {
        .small(vocabSize: data.vocabSize, maxPositions: 64, numLabels: data.numLabels)
    }

    /// Trains and saves the FP teacher: config.json, model.safetensors, vocab.txt and teacher.json.
    @discardableResult
    public func trainTeacher(_ task: EmbeddedTask, config: FineTuneConfig, trainSize: Int = defaultTrainSize, to dir: URL? = nil) throws -> (BertModel, [Float], FineTuneResult) {
        let data = taskData(task, trainSize: trainSize)
        let model = BertModel(config: Self.defaultConfig(for: data))
        let (θ, result) = try FineTune.run(model: model, task: data, config: config, progress: progress)
        let out = dir ?? teacherDir(task)
        try Checkpoint.save(θ, config: model.config, to: out, metadata: ["tianalyze.task": task.rawValue])
        try AtomicFile.write(SymbolVocabulary.tokens.joined(separator: "\n") + "\n", to: out.appendingPathComponent("vocab.txt"))
        try AtomicFile.writeJSON(result, to: out.appendingPathComponent("teacher.json"))
        return (model, θ, result)
    }

    /// The embedded task's teacher, trained now (default settings, seed 1) if it is not on disk.
    public func teacher(_ task: EmbeddedTask) throws -> (model: BertModel, parameters: [Float], dir: URL, devMetric: Double?) {
        let dir = teacherDir(task)
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent(Checkpoint.weightsFile).path) {
            if progress { FileHandle.standardError.write(Data("no teacher at \(dir.path): training it now (tianalyze finetune --task \(task.rawValue))\n".utf8)) }
            try trainTeacher(task, config: FineTuneConfig())
        }
        let ck = try Checkpoint.load(dir)
        let info = try? JSONDecoder().decode(FineTuneResult.self, from: Data(contentsOf: dir.appendingPathComponent("teacher.json")))
        return (BertModel(config: ck.config), ck.parameters, dir, info?.dev.metric)
    }

    /// The trained student of a QAT mode (FP: the teacher), trained now if it is not on disk.
    public func student(_ task: EmbeddedTask, mode: QATMode, seed: UInt64 = 1, config: QATConfig? = nil) throws -> (model: BertModel, parameters: [Float], dir: URL) {
        let t = try teacher(task)
        if mode == .fp { return (t.model, t.parameters, t.dir) }
        let dir = studentDir(task, mode, seed: seed)
        let weights = dir.appendingPathComponent("student").appendingPathComponent(Checkpoint.weightsFile)
        if !FileManager.default.fileExists(atPath: weights.path) {
            if progress { FileHandle.standardError.write(Data("no \(mode.rawValue) student at \(dir.path): training it now\n".utf8)) }
            var cfg = config ?? QATConfig(mode: mode)
            cfg.mode = mode; cfg.seed = seed
            _ = try QATRun(model: t.model, task: taskData(task), teacher: t.parameters, config: cfg)
                .run(outDir: dir, teacherPath: t.dir.path, teacherDevMetric: t.devMetric, progress: progress)
        }
        let ck = try Checkpoint.load(dir.appendingPathComponent("student"))
        return (BertModel(config: ck.config), ck.parameters, dir)
    }
}
