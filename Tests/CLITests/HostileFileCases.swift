// Corpus, part 2: hostile and careless files. Config sizes that overflow or cannot fit in memory,
// inputs that are FIFOs, folders or junk, outputs that would overwrite an input or cannot be
// written, empty data splits, and CRLF twins of text files (read exactly as their LF originals).
import Foundation
import TICore

extension HostileCase {
    static let fileCases: [HostileCase] = configCases + inputCases + outputCases + dataCases

    /// `hessian --checkpoint` of a tiny checkpoint whose config.json carries `overrides`.
    static func config(_ name: String, _ overrides: [String: String], _ fragments: [String]) -> HostileCase {
        HostileCase(name, cli("hessian", "--checkpoint", "{S}/ck", "--at", "init"), .refused(["config.json"] + fragments), maxSeconds: 5) {
            try $0.hostileConfig("ck", HostileSandbox.configJSON(overrides))
        }
    }

    static let configCases: [HostileCase] = [
        config("config vocab_size 2^62", ["vocab_size": "4611686018427387904"], ["vocab_size"]),
        config("config num_hidden_layers 10^9", ["num_hidden_layers": "1000000000"], ["num_hidden_layers"]),
        config("config intermediate_size 10^12", ["intermediate_size": "1000000000000"], ["intermediate_size"]),
        config("config hidden_size 2^40", ["hidden_size": "1099511627776", "num_attention_heads": "1"], ["hidden_size"]),
        config("config max_position_embeddings 2^62", ["max_position_embeddings": "4611686018427387904"], ["max_position_embeddings"]),
        config("config num_labels 10^12", ["num_labels": "1000000000000"], ["num_labels"]),
        config("config type_vocab_size Int.max", ["type_vocab_size": "9223372036854775807"], ["type_vocab_size"]),
        config("config vocab_size 1e400", ["vocab_size": "1e400"], ["vocab_size"]),
        config("config hidden_size as a string", ["hidden_size": "\"128\""], ["hidden_size"]),
        config("config layer_norm_eps NaN-like", ["layer_norm_eps": "-1"], ["layer_norm_eps"]),
        HostileCase("config.json a JSON array", cli("hessian", "--checkpoint", "{S}/ck", "--at", "init"), .refused(["config.json"]), maxSeconds: 5) {
            try $0.hostileConfig("ck", "[]")
        },
        HostileCase("config.json a folder", cli("hessian", "--checkpoint", "{S}/ck", "--at", "init"), .refused(["config.json"]), maxSeconds: 5) {
            try $0.checkpoint("ck")
            try FileManager.default.removeItem(at: $0.url("ck/config.json"))
            try $0.mkdir("ck/config.json")
        },
        HostileCase("config.json a FIFO", cli("hessian", "--checkpoint", "{S}/ck", "--at", "init"), .refused(["config.json", "not a regular file"]), maxSeconds: 5) {
            try $0.checkpoint("ck")
            try FileManager.default.removeItem(at: $0.url("ck/config.json"))
            try $0.fifo("ck/config.json")
        },
        HostileCase("teacher config num_hidden_layers 10^9", cli("qat"), .refused(["config.json", "num_hidden_layers"]), maxSeconds: 5) {
            try $0.hostileConfig("runs/teacher-count", HostileSandbox.configJSON(["num_hidden_layers": "1000000000"]))
        },
        HostileCase("teacher config vocab_size 2^62", cli("landscape", "--at", "init", "--mode", "KD"), .refused(["config.json", "vocab_size"]), maxSeconds: 5) {
            try $0.hostileConfig("runs/teacher-count", HostileSandbox.configJSON(["vocab_size": "4611686018427387904"]))
        },
    ]

    static let inputCases: [HostileCase] = [
        HostileCase("model.safetensors a FIFO", cli("hessian", "--checkpoint", "{S}/ck", "--at", "init"), .refused(["model.safetensors", "not a regular file"]), maxSeconds: 5) {
            try $0.checkpoint("ck")
            try FileManager.default.removeItem(at: $0.url("ck/model.safetensors"))
            try $0.fifo("ck/model.safetensors")
        },
        HostileCase("model.safetensors a folder", cli("hessian", "--checkpoint", "{S}/ck", "--at", "init"), .refused(["model.safetensors"]), maxSeconds: 5) {
            try $0.checkpoint("ck")
            try FileManager.default.removeItem(at: $0.url("ck/model.safetensors"))
            try $0.mkdir("ck/model.safetensors")
        },
        HostileCase("hessian checkpoint folder empty, runs empty", cli("hessian", "--checkpoint", "{S}/bad"), .refused(["bad"]), maxSeconds: 2) {
            try $0.mkdir("bad")
        },
        HostileCase("hessian checkpoint with junk weights, runs empty", cli("hessian", "--checkpoint", "{S}/bad"), .refused(["bad/model.safetensors"]), maxSeconds: 2) {
            try $0.checkpoint("bad")
            try $0.write(Data([200, 0, 0, 0, 0, 0, 0, 0]) + Data("{\"a\":".utf8), to: "bad/model.safetensors")
        },
        HostileCase("landscape checkpoint missing, runs empty", cli("landscape", "--checkpoint", "{S}/gone"), .refused(["gone"]), maxSeconds: 2),
        HostileCase("probe checkpoint with junk config, runs empty", cli("probe", "--checkpoint", "{S}/bad"), .refused(["config.json"]), maxSeconds: 2) {
            try $0.hostileConfig("bad", "{\"hidden_size\": ")
        },
        HostileCase("checkpoint a regular file", cli("hessian", "--checkpoint", "{S}/file.txt"), .refused(["file.txt"]), maxSeconds: 2) {
            try $0.write("not a checkpoint", to: "file.txt")
        },
        HostileCase("pickle that calls os.system", cli("hessian", "--checkpoint", "{S}/ck", "--at", "init"), .refused(["pytorch_model.bin"]), maxSeconds: 5) {
            try $0.checkpoint("ck")
            try FileManager.default.removeItem(at: $0.url("ck/model.safetensors"))
            try $0.write(Data(contentsOf: fixture("pytorch/evil-os-system.bin")), to: "ck/pytorch_model.bin")
        },
        HostileCase("teacher weights changed after saving", cli("hessian", "--at", "init"), .refused(["model.safetensors", "checksum"]), maxSeconds: 5) {
            try $0.teacher()
            try flipLastWeightByte($0.url("runs/teacher-count/model.safetensors"))
        },
        HostileCase("int8 export a folder", cli("eval", "--load-quantized", "{S}/export"), .refused(["export"]), maxSeconds: 5) {
            try $0.teacher(); try $0.mkdir("export")
        },
        HostileCase("int8 export a FIFO", cli("eval", "--load-quantized", "{S}/export.safetensors"), .refused(["export.safetensors", "FIFO"]), maxSeconds: 5) {
            try $0.teacher(); try $0.fifo("export.safetensors")
        },
        HostileCase("merge of a missing folder", ["merge", "{S}/nonexistent"], .refused(["nonexistent"]), maxSeconds: 5),
    ]

    static let outputCases: [HostileCase] = [
        HostileCase("eval json a folder", cli("eval", "--load-quantized", "{S}/x-int8.safetensors", "--json", "{S}/out"),
                    .refused(["--json", "out", "folder"]), maxSeconds: 5) {
            try $0.write("x", to: "x-int8.safetensors"); try $0.mkdir("out")
        },
        HostileCase("eval json is its input export", cli("eval", "--load-quantized", "{S}/x-int8.safetensors", "--json", "{S}/./x-int8.safetensors"),
                    .refused(["--json", "overwrite"]), maxSeconds: 5) { try $0.write("x", to: "x-int8.safetensors") },
        HostileCase("finetune output is its input checkpoint", cli("finetune", "--checkpoint", "{S}/ck", "--out", "{S}/ck"), .refused(["--out", "ck"]), maxSeconds: 5) {
            try $0.checkpoint("ck")
        },
        HostileCase("finetune output contains its input checkpoint", cli("finetune", "--checkpoint", "{S}/out/ck", "--out", "{S}/out"), .refused(["--out", "out"]), maxSeconds: 5) {
            try $0.checkpoint("out/ck")
        },
        HostileCase("qat output is the teacher", cli("qat", "--out", "{R}/teacher-count"), .refused(["--out", "teacher-count"]), maxSeconds: 5) { try $0.teacher() },
        HostileCase("hessian output is the analysed checkpoint", cli("hessian", "--checkpoint", "{S}/ck", "--out", "{S}/ck"), .refused(["--out"]), maxSeconds: 5) {
            try $0.teacher(); try $0.checkpoint("ck")
        },
        HostileCase("finetune output a regular file", cli("finetune", "--out", "{S}/file.txt"), .refused(["file.txt"]), maxSeconds: 5) {
            try $0.write("x", to: "file.txt")
        },
        HostileCase("finetune output under a regular file", cli("finetune", "--out", "{S}/file.txt/sub"), .refused(["file.txt"]), maxSeconds: 5) {
            try $0.write("x", to: "file.txt")
        },
        HostileCase("landscape output a regular file", cli("landscape", "--at", "init", "--mode", "KD", "--out", "{S}/file.txt"), .refused(["file.txt"]), maxSeconds: 5) {
            try $0.teacher(); try $0.write("x", to: "file.txt")
        },
        HostileCase("runs folder a regular file", ["qat", "--runs", "{S}/file.txt", "--quiet"], .refused(["file.txt"]), maxSeconds: 5) {
            try $0.write("x", to: "file.txt")
        },
        HostileCase("render-task output under a regular file", ["render-task", "--out", "{S}/file.txt/rt"], .refused(["file.txt"]), maxSeconds: 5) {
            try $0.write("x", to: "file.txt")
        },
    ]

    /// `finetune` of RTE from the tiny pretrained checkpoint, reading the data folder {S}/rte.
    static func rte(_ name: String, _ fragments: [String], extra: [String] = [], setup: @escaping (HostileSandbox) throws -> Void) -> HostileCase {
        HostileCase(name, cli("finetune", "--task", "rte", "--data-dir", "{S}/rte", "--checkpoint", "{S}/pre") + extra, .refused(fragments), maxSeconds: 5) {
            try $0.pretrained("pre"); try setup($0)
        }
    }

    static let dataCases: [HostileCase] = [
        rte("dev split header only", ["dev.tsv", "no examples"]) { try $0.rte("rte", train: HostileSandbox.rteRows, dev: []) },
        rte("train split header only", ["train.tsv", "no examples"]) { try $0.rte("rte", train: [], dev: HostileSandbox.rteRows) },
        rte("every train row skipped", ["train.tsv", "no examples"], extra: ["--skip-bad-rows"]) {
            try $0.rte("rte", train: ["0\ta\tb\tmaybe", "1\tc"], dev: HostileSandbox.rteRows)
        },
        rte("train split a FIFO", ["train.tsv", "not a regular file"]) {
            try $0.rte("rte", train: [], dev: HostileSandbox.rteRows)
            try FileManager.default.removeItem(at: $0.url("rte/train.tsv")); try $0.fifo("rte/train.tsv")
        },
        HostileCase("data folder missing", cli("finetune", "--task", "rte", "--data-dir", "{S}/missing", "--checkpoint", "{S}/pre"),
                    .refused(["missing"]), maxSeconds: 5) { try $0.pretrained("pre") },
        rte("vocab.txt empty", ["vocab.txt"]) {
            try $0.rte("rte", train: HostileSandbox.rteRows, dev: HostileSandbox.rteRows); try $0.write("", to: "pre/vocab.txt")
        },
        rte("tokenizer.json junk", ["tokenizer.json"]) {
            try $0.rte("rte", train: HostileSandbox.rteRows, dev: HostileSandbox.rteRows); try $0.write("{\"model\": 3}", to: "pre/tokenizer.json")
        },
        HostileCase("vocab.txt in UTF-16", ["tokenize", "--checkpoint", "{S}/ck", "--text", "a"], .refused(["vocab.txt", "UTF-8"]), maxSeconds: 5) {
            try $0.checkpoint("ck")
            try $0.write(Data([0xFF, 0xFE]) + "[PAD]\n[UNK]\n".data(using: .utf16LittleEndian)!, to: "ck/vocab.txt")
        },
        HostileCase("CRLF vocab.txt reads as its LF twin", ["tokenize", "--checkpoint", "{S}/crlf", "--text", "a b c", "--format", "jsonl"],
                    .sameOutputAs(["tokenize", "--checkpoint", "{S}/lf", "--text", "a b c", "--format", "jsonl"])) {
            try $0.checkpoint("lf"); try $0.checkpoint("crlf")
            try $0.write(SymbolVocabulary.tokens.map { $0 + "\r\n" }.joined(), to: "crlf/vocab.txt")
        },
        HostileCase("CRLF TSV reads as its LF twin", ["tokenize", "--checkpoint", "{S}/ck", "--task", "rte", "--data-dir", "{S}/crlf", "--format", "jsonl"],
                    .sameOutputAs(["tokenize", "--checkpoint", "{S}/ck", "--task", "rte", "--data-dir", "{S}/lf", "--format", "jsonl"])) {
            try $0.checkpoint("ck")
            try $0.rte("lf", train: HostileSandbox.rteRows, dev: HostileSandbox.rteRows)
            try $0.rte("crlf", train: HostileSandbox.rteRows, dev: HostileSandbox.rteRows, lineEnding: "\r\n")
        },
    ]

    static func fixture(_ relative: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TIDataTests/Fixtures/\(relative)")
    }

    /// Changes one byte of the last tensor's data (a weight value), leaving the header intact.
    static func flipLastWeightByte(_ url: URL) throws {
        var d = try Data(contentsOf: url)
        d[d.count - 2] ^= 0x01
        try d.write(to: url)
    }
}
