// tianalyze tokenize: the model inputs (tokens, ids, token types, attention mask) a checkpoint's
// tokenizer builds for a text, a pair, or the rows of a GLUE TSV, as training and evaluation see them.
import ArgumentParser
import Foundation
import TIData

extension PairTruncation: ExpressibleByArgument {}

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Show the tokens, ids, token types and attention mask of a text, a pair or GLUE TSV rows.")

    enum Format: String, CaseIterable, ExpressibleByArgument { case table, jsonl }

    @Option(help: "Model folder with tokenizer.json or vocab.txt (and tokenizer_config.json).") var checkpoint: String
    @Option(help: "Text to tokenize (the first segment of a pair).") var text: String?
    @Option(help: "Second segment of a pair (with --text).") var textPair: String?
    @Option(help: "GLUE task whose TSV rows to tokenize (\(GLUETask.allCases.map(\.rawValue).joined(separator: ", "))), with --data-dir.")
    var task: String?
    @Option(help: "Folder with the task's TSV files, or the glue_data root.") var dataDir: String?
    @Option(help: "TSV split: train, dev (MNLI also dev_matched, dev_mismatched).") var split = "dev"
    @Option(parsing: .unconditional, help: "Sequence length every input is cut and padded to.") var maxSeqLength = 128
    @Option(help: "Pair truncation: seeds (the seed code's _truncate_seq_pair, the default) or longest-first (the fast tokenizer's).")
    var truncation: PairTruncation = .seeds
    @Option(help: "table (real tokens, one per line) or jsonl (one JSON object per input, padding included).")
    var format: Format = .table
    @Option(help: "Tokenize only the first N TSV rows.") var limit: Int?

    func validate() throws {
        if (text == nil) == (task == nil) { throw ValidationError("give either --text (and optionally --text-pair) or --task with --data-dir") }
        if textPair != nil && text == nil { throw ValidationError("--text-pair needs --text") }
        if task != nil && dataDir == nil { throw ValidationError("--task needs --data-dir (the folder with <split>.tsv)") }
        try Domain.count(limit, "--limit", Domain.examples, "rows")
        // At least room for [CLS] and [SEP]; every input is padded to this length, so it is bounded too.
        try Domain.count(maxSeqLength, "--max-seq-length", Domain.sequence, "tokens")
        try PathChecks.inputFolder(checkpoint, "--checkpoint")
        try PathChecks.inputFolder(dataDir, "--data-dir")
    }

    func run() throws {
        let tokenizer = try WordPieceTokenizer.load(modelDirectory: URL(fileURLWithPath: checkpoint))
        let examples: [TextExample]
        if let text {
            examples = [TextExample(textA: text, textB: textPair)]
        } else {
            examples = try TokenizedRow.examples(task: task!, split: split, dataDir: URL(fileURLWithPath: dataDir!), limit: limit)
        }
        let rows = TokenizedRow.make(examples, tokenizer: tokenizer, maxLength: maxSeqLength, truncation: truncation)
        for (i, row) in rows.enumerated() {
            switch format {
            case .jsonl: print(row.jsonLine)
            case .table: print((i > 0 ? "\n" : "") + row.table)
            }
        }
    }
}
