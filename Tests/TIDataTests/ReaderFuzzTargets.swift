// The six readers of untrusted files under the fuzzer, each with its seed corpus (the committed
// fixtures of its format plus Fixtures/fuzz/), a dictionary of format tokens, and what "reading"
// means: everything an accepted input claims is used (every tensor decoded, every config round-
// tripped, every tokenizer run on text), so a lie in the input cannot hide behind a lazy parse.
import Foundation
import TIData
import TILinalg
import XCTest

extension FuzzTarget {
    static let all: [FuzzTarget] = [safetensors, pickle, config, vocab, tokenizer, tsv]

    static func seeds(_ paths: [String]) -> [Data] { paths.map { try! Fixture.data($0) } }

    static func files(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: Fixture.url(folder).path)) ?? []).sorted().map { "\(folder)/\($0)" }
    }

    static let json: [[UInt8]] = ["{", "}", "[", "]", "\"", ":", ",", "\\u0000", "\\", "null", "true", "-", "e", " ", "\u{FEFF}"].map { Array($0.utf8) }

    /// Decodes every tensor the file claims.
    static func useTensors(_ f: SafeTensorsFile) throws {
        for n in f.tensorNames {
            let info = try XCTUnwrap(f.info(n))
            guard try f.values(n, as: Double.self).count == info.elementCount else { throw FuzzFailure("\(n): wrong element count") }
        }
    }

    static let safetensors = FuzzTarget(
        name: "safetensors",
        seeds: seeds(files(in: "safetensors").filter { $0.hasSuffix(".safetensors") } + ["pytorch/views.safetensors", "pytorch/parameters.safetensors"]),
        dictionary: json + ["\"dtype\"", "\"shape\"", "\"data_offsets\"", "\"__metadata__\"", "\"F16\"", "\"BF16\"", "\"I64\""].map { Array($0.utf8) }
            + [[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [0, 0, 0, 0, 0, 0, 0, 0]],
        read: { data, _ in try useTensors(try SafeTensorsFile(data: data, name: "fuzz.safetensors")) })

    static let pickleOpcodes: [[UInt8]] = [0x28, 0x2E, 0x4A, 0x4B, 0x4D, 0x4E, 0x51, 0x52, 0x58, 0x5D, 0x61, 0x62, 0x63, 0x65, 0x68,
                                          0x6A, 0x71, 0x72, 0x73, 0x74, 0x75, 0x7D, 0x80, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8C,
                                          0x93, 0x94, 0x95].map { [$0] }
        + ["torch._utils\n_rebuild_tensor_v2\n", "collections\nOrderedDict\n", "os\nsystem\n", "FloatStorage", "PK\u{3}\u{4}"].map { Array($0.utf8) }

    static let pickle = FuzzTarget(
        name: "pickle",
        seeds: seeds(["pytorch/tiny-bert-bin/pytorch_model.bin", "pytorch/tiny-bert-legacy/pytorch_model.bin", "pytorch/views.bin",
                      "pytorch/parameters.bin", "pytorch/tiny-bert-f16.bin", "pytorch/tiny-bert-proto4.bin", "pytorch/evil-os-system.bin"]),
        dictionary: pickleOpcodes,
        read: { data, _ in try useTensors(try PyTorchCheckpoint.read(data: data, name: "fuzz.bin")) },
        // A zip's CRC would stop most raw mutations before the unpickler: mutate one entry and rewrap it.
        structuralMutation: { data, rng, mutate in
            guard data.starts(with: [0x50, 0x4B, 0x03, 0x04]), var entries = try? StoredZip.entries(data), !entries.isEmpty else { return nil }
            let pkl = entries.firstIndex { $0.name.hasSuffix("data.pkl") }
            let i = rng.below(3) != 0 ? (pkl ?? 0) : rng.below(entries.count)
            mutate(&entries[i].data, &rng)
            return Data(StoredZip.make(entries))
        })

    static let config = FuzzTarget(
        name: "config.json",
        seeds: seeds(files(in: "config") + files(in: "fuzz/config") + ["pytorch/tiny-bert-bin/config.json"]),
        dictionary: json + ["\"vocab_size\"", "\"num_labels\"", "\"id2label\"", "\"hidden_act\"", "\"gelu_new\"", "\"regression\"", "1e400", "-0"].map { Array($0.utf8) },
        read: { data, _ in
            let c = try HFBertConfig.decode(data, file: "fuzz.json")
            // What is accepted must write and read back as itself.
            let again = try HFBertConfig.decode(try JSONEncoder().encode(c), file: "again.json")
            guard again == c else { throw FuzzFailure("config does not round-trip: \(c) vs \(again)") }
        })

    static let texts = ["The quick brown foxes jumped over the lazy dog.", "été 中文 naïve ##s [CLS] [UNK]x", "a\u{0}b\u{FFFD}c \t\r\n ", String(repeating: "x", count: 300)]

    /// Encodes sample texts as single sentences and pairs; every id must be one the vocabulary has.
    static func useTokenizer(_ t: WordPieceTokenizer, _ rng: inout SeededRandom) throws {
        for _ in 0..<3 {
            let a = texts[rng.below(texts.count)], b = rng.below(2) == 0 ? nil : texts[rng.below(texts.count)]
            let e = t.encode(a, b, maxLength: 2 + rng.below(40))
            for id in e.inputIds where t.token(of: id) == nil { throw FuzzFailure("id \(id) has no token") }
        }
    }

    static let vocab = FuzzTarget(
        name: "vocab.txt",
        seeds: seeds(files(in: "fuzz/vocab") + ["tokenizer/vocab.txt"]),
        dictionary: ["\n", "\r\n", "\r", "[UNK]", "[PAD]", "[CLS]", "[SEP]", "##", "\u{0}", "\u{FEFF}", "é", "中"].map { Array($0.utf8) } + [[0xFF], [0xC3]],
        read: { data, rng in
            try useTokenizer(try WordPieceTokenizer.load(vocabTxtData: data, file: "fuzz.txt", doLowerCase: rng.below(2) == 0), &rng)
        })

    static let tokenizer = FuzzTarget(
        name: "tokenizer.json",
        seeds: seeds(files(in: "fuzz/tokenizer") + ["tokenizer/tokenizer.json"]),
        dictionary: json + ["\"normalizer\"", "\"BertNormalizer\"", "\"WordPiece\"", "\"max_input_chars_per_word\"", "\"added_tokens\"",
                            "\"special\"", "\"unk_token\"", "\"continuing_subword_prefix\"", "false"].map { Array($0.utf8) },
        read: { data, rng in try useTokenizer(try WordPieceTokenizer.load(tokenizerJSONData: data, file: "fuzz.json"), &rng) })

    /// TSV seeds carry their task as a first line "task=<name>"; a damaged one reads as a random task.
    static func taskSeeds() -> [Data] {
        var out: [Data] = []
        for task in GLUETask.allCases {
            for name in files(in: "glue/\(task.directoryName)") { out.append(Data("task=\(task.rawValue)\n".utf8) + (try! Fixture.data(name))) }
        }
        for name in files(in: "fuzz/tsv") where name.hasSuffix(".tsv") {
            let task = URL(fileURLWithPath: name).lastPathComponent.split(separator: "-")[0]
            out.append(Data("task=\(task)\n".utf8) + (try! Fixture.data(name)))
        }
        return out
    }

    static let tsv = FuzzTarget(
        name: "tsv",
        seeds: taskSeeds(),
        dictionary: ["\t", "\n", "\r\n", "\r", "\"", "\\", "entailment", "not_entailment", "contradiction", "gold_label", "label", "1", "0",
                     "5.0", "nan", "\u{FEFF}"].map { Array($0.utf8) } + [[0xFF], [0xC0, 0x80]],
        read: { data, rng in
            let newline = data.firstIndex(of: 0x0A) ?? data.endIndex
            let named = String(decoding: data[..<newline], as: UTF8.self).split(separator: "=").last.flatMap { GLUETask(rawValue: String($0)) }
            let task = named ?? GLUETask.allCases[rng.below(GLUETask.allCases.count)]
            let body = Data(data[min(data.endIndex, newline + 1)...])
            let r = try GLUEReader.parse(task: task, data: body, file: "fuzz.tsv", skipBadRows: rng.below(2) == 0)
            for e in r.examples where (task.isRegression ? e.target == nil : e.label == nil) { throw FuzzFailure("example without its label") }
        })
}

/// A reader accepted an input and then contradicted it: a bug, reported as a non-DataError.
struct FuzzFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
