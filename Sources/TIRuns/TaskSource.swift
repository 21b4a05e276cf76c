// Where a task's examples come from: an embedded generator, GLUE TSV files tokenized with the
// model's own WordPiece vocabulary, or an embedded task rendered as GLUE-format text files.
import Foundation
import TIModel
import TIMethods
import TIData

public enum TaskSource: Equatable, Sendable {
    case embedded(EmbeddedTask)
    case glue(GLUETask, dataDir: URL, maxSeqLength: Int, skipBadRows: Bool, truncation: PairTruncation = .seeds)
    /// An embedded task's GLUE-format rendering (GLUETaskData.renderEmbedded), read as text.
    case embeddedFiles(EmbeddedTask, dataDir: URL, maxSeqLength: Int, truncation: PairTruncation = .seeds)

    /// An embedded or GLUE task by name; embedded names generate in memory unless a data directory is given.
    /// `truncation` is how text pairs longer than `maxSeqLength` are cut (the seeds' rule by default).
    public init(name: String, dataDir: String?, maxSeqLength: Int, skipBadRows: Bool, truncation: PairTruncation = .seeds) throws {
        if let e = EmbeddedTask(rawValue: name) {
            self = dataDir.map { .embeddedFiles(e, dataDir: URL(fileURLWithPath: $0), maxSeqLength: maxSeqLength, truncation: truncation) } ?? .embedded(e)
        } else if let g = GLUETask(rawValue: name) {
            guard let dataDir else {
                throw OptionValueError(option: .dataDir, value: nil,
                                       reason: "GLUE task '\(name)' needs its data directory (the folder with train.tsv and dev.tsv, or the glue_data root)")
            }
            self = .glue(g, dataDir: URL(fileURLWithPath: dataDir), maxSeqLength: maxSeqLength, skipBadRows: skipBadRows, truncation: truncation)
        } else {
            let known = EmbeddedTask.allCases.map(\.rawValue) + GLUETask.allCases.map(\.rawValue)
            throw OptionValueError(option: .task, value: name, reason: "unknown task (expected one of \(known.joined(separator: ", ")))")
        }
    }

    /// The name runs are filed under (teacher-<name>, qat-<name>-<mode>-seed<s>).
    public var name: String {
        switch self {
        case .embedded(let e): return e.rawValue
        case .glue(let g, _, _, _, _): return "glue-\(g.rawValue)"
        case .embeddedFiles(let e, _, _, _): return "\(e.rawValue)-text"
        }
    }

    /// The task's own name (a GLUE task's lower-case name, or the embedded task's), as recipes key on it.
    public var taskName: String {
        switch self {
        case .embedded(let e), .embeddedFiles(let e, _, _, _): return e.rawValue
        case .glue(let g, _, _, _, _): return g.rawValue
        }
    }

    /// The teacher's schedule when none is given: the embedded task's own learning rate for a
    /// generated task (trained from scratch), the common defaults otherwise.
    public func defaultTeacherConfig(seed: UInt64 = 1) -> FineTuneConfig {
        var c = FineTuneConfig()
        c.seed = seed
        if case .embedded(let e) = self { c.learningRate = e.teacherLearningRate }
        return c
    }

    /// Text sources need the model's tokenizer; the embedded generator does not.
    public var needsTokenizer: Bool {
        if case .embedded = self { return false }
        return true
    }

    /// Loads the examples; `tokenizerDir` holds tokenizer.json or vocab.txt for text sources.
    /// Skipped malformed rows (`skipBadRows`) are counted in a note.
    public func load(tokenizerDir: URL?, events: RunEvents = .silent) throws -> TaskData {
        switch self {
        case .embedded(let e):
            return SyntheticTaskGenerator(task: e).make(train: Workspace.defaultTrainSize, dev: Workspace.defaultDevSize)
        case .glue(let g, let dir, let len, let skip, let cut):
            let (data, skipped) = try GLUETaskData.load(task: g, dataDir: dir, tokenizer: try tokenizer(tokenizerDir), maxSeqLength: len,
                                                        skipBadRows: skip, truncation: cut)
            if skipped > 0 { events.note("skipped \(skipped) malformed rows in \(dir.path)") }
            return data
        case .embeddedFiles(let e, let dir, let len, let cut):
            return try GLUETaskData.loadEmbedded(task: e, dataDir: dir, tokenizer: try tokenizer(tokenizerDir), maxSeqLength: len,
                                                 truncation: cut).data
        }
    }

    func tokenizer(_ dir: URL?) throws -> WordPieceTokenizer {
        guard let dir else { throw OptionValueError(option: .tokenizerDir, value: nil, reason: "task '\(name)' is text: name the model whose tokenizer reads it") }
        return try WordPieceTokenizer.load(modelDirectory: dir)
    }
}
