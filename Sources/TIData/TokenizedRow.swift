// What `tianalyze tokenize` shows: each input text (or pair) with the model inputs the tokenizer
// builds for it, as a readable table or as one JSON object per line for scripts.
import Foundation

public struct TokenizedRow: Equatable, Sendable, Codable {
    /// 0-based position among the inputs (the data row of a TSV, header not counted).
    public var row: Int
    public var textA: String
    public var textB: String?
    /// Vocabulary token of every id, padding included.
    public var tokens: [String]
    public var inputIds: [Int]
    public var tokenTypeIds: [Int]
    public var attentionMask: [Int]

    enum CodingKeys: String, CodingKey {
        case row, textA = "text_a", textB = "text_b", tokens, inputIds = "input_ids"
        case tokenTypeIds = "token_type_ids", attentionMask = "attention_mask"
    }

    public init(row: Int, textA: String, textB: String?, tokens: [String], inputIds: [Int], tokenTypeIds: [Int], attentionMask: [Int]) {
        self.row = row
        self.textA = textA
        self.textB = textB
        self.tokens = tokens
        self.inputIds = inputIds
        self.tokenTypeIds = tokenTypeIds
        self.attentionMask = attentionMask
    }

    /// text_b is written as null for a single text, so every line has the same keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(row, forKey: .row)
        try c.encode(textA, forKey: .textA)
        try c.encode(textB, forKey: .textB)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(inputIds, forKey: .inputIds)
        try c.encode(tokenTypeIds, forKey: .tokenTypeIds)
        try c.encode(attentionMask, forKey: .attentionMask)
    }

    /// Encodes each example (pairs cut by `truncation`) to exactly `maxLength` positions.
    public static func make(_ examples: [TextExample], tokenizer: WordPieceTokenizer, maxLength: Int,
                            truncation: PairTruncation = .seeds) -> [TokenizedRow] {
        examples.enumerated().map { i, ex in
            let e = tokenizer.encode(ex.textA, ex.textB, maxLength: maxLength, truncation: truncation)
            return TokenizedRow(row: i, textA: ex.textA, textB: ex.textB, tokens: tokenizer.decodeTokens(e.inputIds),
                                inputIds: e.inputIds, tokenTypeIds: e.tokenTypeIds, attentionMask: e.attentionMask)
        }
    }

    /// The first `limit` (default all) examples of a GLUE TSV: `<dataDir>/<split>.tsv`, or the task's
    /// folder below a glue_data root. `task` is a GLUE task name, checked here so that a typo is
    /// reported as one line.
    public static func examples(task name: String, split: String, dataDir: URL, limit: Int? = nil) throws -> [TextExample] {
        guard let task = GLUETask(rawValue: name) else {
            throw DataError.mismatch(file: "--task", reason: "unknown GLUE task '\(name)' (expected one of \(GLUETask.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let all = try GLUEReader.read(task: task, split: split, dataDir: dataDir).examples
        return Array(all.prefix(limit ?? all.count))
    }

    /// One line of JSON (keys sorted, UTF-8 text unescaped).
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and arrays of them always encode.
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// A heading with the text(s), then one line per real token (position, id, type, mask,
    /// token); padding positions are summarized in the heading rather than listed.
    public var table: String {
        let real = attentionMask.reduce(0, +)
        let pair = textB.map { " | \(String(reflecting: $0))" } ?? ""
        var lines = ["row \(row): \(String(reflecting: textA))\(pair)  (\(real) tokens, \(inputIds.count - real) padding)"]
        func column(_ title: String, _ values: [Int]) -> [String] { [title] + values.prefix(real).map { String($0) } }
        // Numbers right-aligned; the token goes last, so wide (CJK) glyphs cannot shift a column.
        let columns: [[String]] = [column("pos", Array(0..<real)), column("id", inputIds), column("type", tokenTypeIds),
                                   column("mask", attentionMask)]
        let widths = columns.map { col in col.map(\.count).max() ?? 0 }
        let tokenColumn = ["token"] + tokens.prefix(real)
        for r in 0...real {
            let cells = columns.indices.map { c in String(repeating: " ", count: widths[c] - columns[c][r].count) + columns[c][r] }
            lines.append("  " + (cells + [tokenColumn[r]]).joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
