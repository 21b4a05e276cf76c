// Loads WordPiece vocabularies from the two places checkpoints ship them: BERT's original
// vocab.txt (id = line number) and the HuggingFace tokenizer.json, whose normalizer settings
// (lowercasing, accent stripping) are honoured so a cased model is not silently lowercased.
import Foundation

extension WordPieceTokenizer {
    /// vocab.txt: one token per line, id = zero-based line number.
    public static func load(vocabTxt url: URL, doLowerCase: Bool = true, stripAccents: Bool? = nil) throws -> WordPieceTokenizer {
        try load(vocabTxtData: InputFile.read(url, limit: maxTokenizerBytes), file: url.path, doLowerCase: doLowerCase, stripAccents: stripAccents)
    }

    /// vocab.txt contents already in memory; `file` labels errors.
    public static func load(vocabTxtData data: Data, file: String, doLowerCase: Bool = true, stripAccents: Bool? = nil) throws -> WordPieceTokenizer {
        guard let text = String(validating: data, as: UTF8.self) else {
            let utf16 = data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF])
            throw DataError.malformed(file: file, reason: "vocabulary is not valid UTF-8 text\(utf16 ? " (it is UTF-16; save it as UTF-8)" : "")")
        }
        // CRLF files (saved on Windows) read as their LF twins: one token per line either way.
        let lines = InputFile.lines(text)
        guard !lines.isEmpty else { throw DataError.malformed(file: file, reason: "vocabulary is empty") }
        return try WordPieceTokenizer(vocab: lines.enumerated().map { ($0.element, $0.offset) },
                                      basic: BertBasicTokenizer(doLowerCase: doLowerCase, stripAccents: stripAccents),
                                      file: file)
    }

    /// HuggingFace tokenizer.json with a WordPiece model and a BertNormalizer (or none).
    public static func load(tokenizerJSON url: URL) throws -> WordPieceTokenizer {
        try load(tokenizerJSONData: readFile(url), file: url.path)
    }

    /// tokenizer.json contents already in memory; `file` labels errors.
    public static func load(tokenizerJSONData data: Data, file: String) throws -> WordPieceTokenizer {
        func bad(_ reason: String) -> DataError { .malformed(file: file, reason: reason) }
        let root: JSONValue
        do {
            root = try JSONParser.parse([UInt8](data))
        } catch let e as JSONSyntaxError {
            throw bad("not valid JSON: \(e.message) at byte \(e.offset)")
        }
        guard case .object(let top) = root else { throw bad("top level must be an object") }
        func field(_ members: [(key: String, value: JSONValue)], _ key: String) -> JSONValue? {
            members.last(where: { $0.key == key })?.value
        }
        guard case .object(let model)? = field(top, "model") else { throw bad("field 'model': expected an object") }
        if case .string(let type)? = field(model, "type"), type != "WordPiece" {
            throw bad("field 'model.type': unsupported tokenizer model '\(type)' (expected WordPiece)")
        }
        guard case .object(let vocabEntries)? = field(model, "vocab") else { throw bad("field 'model.vocab': expected an object") }
        var vocab: [(token: String, id: Int)] = []
        vocab.reserveCapacity(vocabEntries.count)
        for (token, v) in vocabEntries {
            guard let id = v.nonNegativeInt else { throw bad("field 'model.vocab': id of '\(token)' must be a non-negative integer") }
            vocab.append((token, id))
        }
        func string(_ members: [(key: String, value: JSONValue)], _ key: String, _ fallback: String) throws -> String {
            switch field(members, key) {
            case nil, .null?: return fallback
            case .string(let s)?: return s
            case let v?: throw bad("field '\(key)': expected a string, found \(v.kind)")
            }
        }
        let unk = try string(model, "unk_token", "[UNK]")
        let prefix = try string(model, "continuing_subword_prefix", "##")
        var maxChars = 100
        if let v = field(model, "max_input_chars_per_word") {
            guard let n = v.nonNegativeInt else { throw bad("field 'model.max_input_chars_per_word': expected a non-negative integer") }
            maxChars = n
        }

        var basic = BertBasicTokenizer()
        switch field(top, "normalizer") {
        case nil, .null?:
            basic = BertBasicTokenizer(doLowerCase: false, stripAccents: false, cleanText: false, handleChineseChars: false)
        case .object(let n)?:
            let type = try string(n, "type", "")
            guard type == "BertNormalizer" else {
                throw bad("field 'normalizer.type': unsupported normalizer '\(type)' (expected BertNormalizer)")
            }
            func flag(_ key: String, _ fallback: Bool?) throws -> Bool? {
                switch field(n, key) {
                case nil, .null?: return fallback
                case .bool(let b)?: return b
                case let v?: throw bad("field 'normalizer.\(key)': expected a boolean, found \(v.kind)")
                }
            }
            basic = BertBasicTokenizer(doLowerCase: try flag("lowercase", true)!, stripAccents: try flag("strip_accents", nil),
                                       cleanText: try flag("clean_text", true)!, handleChineseChars: try flag("handle_chinese_chars", true)!)
        case let v?:
            throw bad("field 'normalizer': expected an object, found \(v.kind)")
        }

        var specials: [String]?
        if case .array(let added)? = field(top, "added_tokens") {
            specials = []
            for case .object(let t) in added {
                if case .string(let content)? = field(t, "content"), case .bool(true)? = field(t, "special") {
                    specials?.append(content)
                }
            }
        }
        return try WordPieceTokenizer(vocab: vocab, basic: basic, specialTokens: specials, unkToken: unk,
                                      continuingSubwordPrefix: prefix, maxInputCharsPerWord: maxChars, file: file)
    }

    /// A checkpoint folder: tokenizer.json when present, else vocab.txt with `do_lower_case`
    /// (and `strip_accents`) from tokenizer_config.json when that exists.
    public static func load(modelDirectory dir: URL) throws -> WordPieceTokenizer {
        let fm = FileManager.default
        let json = dir.appendingPathComponent("tokenizer.json")
        if fm.fileExists(atPath: json.path) { return try load(tokenizerJSON: json) }
        let vocab = dir.appendingPathComponent("vocab.txt")
        guard fm.fileExists(atPath: vocab.path) else {
            throw DataError.io(file: dir.path, reason: "no tokenizer.json or vocab.txt in this folder")
        }
        var doLowerCase = true
        var stripAccents: Bool?
        let configURL = dir.appendingPathComponent("tokenizer_config.json")
        if fm.fileExists(atPath: configURL.path) {
            struct TokenizerConfig: Decodable { let do_lower_case: Bool?; let strip_accents: Bool? }
            do {
                let c = try JSONDecoder().decode(TokenizerConfig.self, from: readFile(configURL))
                doLowerCase = c.do_lower_case ?? true
                stripAccents = c.strip_accents
            } catch is DecodingError {
                throw DataError.malformed(file: configURL.path, reason: "do_lower_case / strip_accents must be booleans in a JSON object")
            }
        }
        return try load(vocabTxt: vocab, doLowerCase: doLowerCase, stripAccents: stripAccents)
    }

    /// Real vocabularies and tokenizer.json files are a few MB; the bound refuses a hostile path early.
    static let maxTokenizerBytes = 1 << 30

    private static func readFile(_ url: URL) throws -> Data {
        try InputFile.read(url, limit: maxTokenizerBytes)
    }
}
