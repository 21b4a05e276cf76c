// The generator of the hostile-input corpus: a fresh folder per case holding the malformed or
// careless inputs it needs (tiny checkpoints, hostile configs, FIFOs, CRLF twins, header-only
// TSVs, planted run state), made at test time so that the corpus is the code in this folder.
import Foundation
import TICore
import TIData

struct HostileSandbox {
    let root: URL
    var runs: URL { root.appendingPathComponent("runs") }
    var teacherDir: URL { runs.appendingPathComponent("teacher-count") }

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("tia-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: runs, withIntermediateDirectories: true)
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    func remove() { try? FileManager.default.removeItem(at: root) }

    func write(_ text: String, to relative: String) throws { try write(Data(text.utf8), to: relative) }

    func write(_ data: Data, to relative: String) throws {
        let u = url(relative)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: u)
    }

    func mkdir(_ relative: String) throws {
        try FileManager.default.createDirectory(at: url(relative), withIntermediateDirectories: true)
    }

    func fifo(_ relative: String) throws {
        let u = url(relative)
        try FileManager.default.createDirectory(at: u.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard mkfifo(u.path, 0o644) == 0 else { throw DataError.io(file: u.path, reason: "mkfifo failed") }
    }

    /// The tiny model every case that needs weights uses (hidden 8, one layer): loads in milliseconds.
    static func tinyConfig(labels: Int = EmbeddedTask.count.numLabels) -> BertConfig {
        BertConfig(vocabSize: SymbolVocabulary.size, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 8,
                   maxPositions: 64, numLabels: labels)
    }

    /// A checkpoint folder (config.json, model.safetensors, vocab.txt) at `relative`.
    @discardableResult
    func checkpoint(_ relative: String, labels: Int = EmbeddedTask.count.numLabels) throws -> URL {
        let dir = url(relative)
        let cfg = Self.tinyConfig(labels: labels)
        try Checkpoint.save(BertModel(config: cfg).initialParameters(seed: 1, std: 0.3), config: cfg, to: dir)
        try write(SymbolVocabulary.tokens.joined(separator: "\n") + "\n", to: relative + "/vocab.txt")
        return dir
    }

    /// The embedded default task's teacher in runs/, so that nothing is trained on demand.
    func teacher() throws { try checkpoint("runs/teacher-count") }

    /// A checkpoint folder whose config.json is `json` (a hostile one) beside valid tiny weights.
    func hostileConfig(_ relative: String, _ json: String) throws {
        try checkpoint(relative)
        try write(json, to: relative + "/config.json")
    }

    /// A BERT config.json with the tiny sizes and `overrides` spliced in as raw JSON values.
    static func configJSON(_ overrides: [String: String]) -> String {
        var fields = ["vocab_size": "\(SymbolVocabulary.size)", "hidden_size": "8", "num_hidden_layers": "1",
                      "num_attention_heads": "2", "intermediate_size": "8", "max_position_embeddings": "64", "num_labels": "8"]
        for (k, v) in overrides { fields[k] = v }
        return "{" + fields.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
    }

    /// A GLUE RTE folder with the given train and dev bodies under the RTE header.
    func rte(_ relative: String, train: [String], dev: [String], lineEnding: String = "\n") throws {
        let header = "index\tsentence1\tsentence2\tlabel"
        for (name, rows) in [("train", train), ("dev", dev)] {
            try write(([header] + rows).map { $0 + lineEnding }.joined(), to: "\(relative)/\(name).tsv")
        }
    }

    static let rteRows = ["0\ta b c\ta b\tentailment", "1\tc d\te f g\tnot_entailment", "2\ta a\tb\tentailment"]

    /// A pretrained checkpoint (tiny) whose tokenizer reads RTE's symbols: a pair task of 2 labels.
    func pretrained(_ relative: String) throws { try checkpoint(relative, labels: 2) }

    /// A student run folder of `mode` whose student exists but whose run never finished
    /// (metadata.json without `finished`), as a failed or killed run leaves it.
    func unfinishedStudent(mode: String) throws {
        let dir = "runs/qat-count-\(mode)-seed1"
        try checkpoint(dir + "/student")
        let config = String(decoding: try JSONEncoder().encode(QATConfig(mode: try XCTUnwrapMode(mode))), as: UTF8.self)
        try write("""
            {"tool": "tianalyze qat", "config": \(config), "task": "count", "dataHash": "0", "teacherPath": "\(teacherDir.path)",
             "teacherHash": "0", "quantization": {}, "gitRevision": "unknown", "started": "2024-01-01T00:00:00Z"}
            """, to: dir + "/metadata.json")
    }

    private func XCTUnwrapMode(_ name: String) throws -> QATMode {
        guard let m = QATMode(rawValue: name) else { throw DataError.mismatch(file: name, reason: "unknown mode") }
        return m
    }

    /// Every file under the sandbox with its bytes (FIFOs and folders by kind only: opening a FIFO blocks).
    func snapshot() -> [String: Data] {
        var out: [String: Data] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root.path) else { return out }
        for case let rel as String in walker {
            let path = root.appendingPathComponent(rel).path
            let type = (try? fm.attributesOfItem(atPath: path)[.type] as? FileAttributeType) ?? nil
            switch type {
            case .typeRegular?: out[rel] = fm.contents(atPath: path) ?? Data("<unreadable>".utf8)
            case .typeDirectory?: out[rel] = Data("<dir>".utf8)
            default: out[rel] = Data("<\(type?.rawValue ?? "?")>".utf8)
            }
        }
        return out
    }
}

/// Sandbox contents that take seconds to make (an interrupted QAT run, a finished landscape): made
/// once per test process under a key and copied into each case's sandbox that needs them.
enum HostileTemplates {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var made: [String: HostileSandbox] = [:]

    /// Deletes every template (after the corpus).
    static func removeAll() {
        lock.lock(); defer { lock.unlock() }
        for t in made.values { t.remove() }
        made = [:]
    }

    static func copy(_ key: String, into s: HostileSandbox, make: (HostileSandbox) throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        let template: HostileSandbox
        if let t = made[key] { template = t } else {
            template = try HostileSandbox()
            try make(template)
            made[key] = template
        }
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: template.root.path) {
            let to = s.root.appendingPathComponent(name)
            try? fm.removeItem(at: to)
            try fm.copyItem(at: template.root.appendingPathComponent(name), to: to)
        }
    }
}
