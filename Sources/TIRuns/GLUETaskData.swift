// GLUE TSVs as TaskData: read with GLUEReader, tokenized with a checkpoint's WordPiece tokenizer,
// and packed into Examples the trainer, evaluator and analyses already consume. The embedded
// synthetic tasks can be written out in a GLUE layout and read back through the same path, so the
// file → tokenizer → Example route is testable without the GLUE download.
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIMethods
import TIData

public enum GLUETaskData {
    /// Reads `<split>.tsv` for train and dev from `dataDir` (a task folder, or the glue_data root),
    /// tokenizes single sentences or pairs with `tokenizer`, pairs cut by `truncation` to
    /// `maxSeqLength`, and returns the task with the number of rows skipped (train + dev) when
    /// `skipBadRows` is set. `devSplit` nil means "dev" (dev_matched for MNLI), and MNLI then also
    /// reads dev_mismatched into `devMismatched`, the second dev set GLUE reports MNLI on.
    public static func load(task: GLUETask, dataDir: URL, tokenizer: WordPieceTokenizer, maxSeqLength: Int,
                            skipBadRows: Bool, trainSplit: String = "train", devSplit: String? = nil,
                            truncation: PairTruncation = .seeds) throws
        -> (data: TaskData, skipped: Int)
    {
        try checkLength(maxSeqLength, pair: task.isPair, dataDir: dataDir)
        let train = try GLUEReader.read(task: task, split: trainSplit, dataDir: dataDir, skipBadRows: skipBadRows)
        let dev = try GLUEReader.read(task: task, split: devSplit ?? "dev", dataDir: dataDir, skipBadRows: skipBadRows)
        func convert(_ texts: [TextExample]) -> [Example] {
            encode(texts, tokenizer: tokenizer, maxSeqLength: maxSeqLength, truncation: truncation) { text, e in
                // GLUEReader sets exactly one of label/target according to task.isRegression.
                if task.isRegression { e.target = text.target! } else { e.label = text.label! }
            }
        }
        var data = TaskData(name: taskName("glue-\(task.rawValue)", truncation), numLabels: task.numLabels, seqLen: maxSeqLength,
                            vocabSize: tokenizer.vocabSize, train: convert(train.examples), dev: convert(dev.examples),
                            metricName: metricName(task))
        var skipped = train.skipped + dev.skipped
        if task == .mnli && devSplit == nil {
            let mismatched = try GLUEReader.read(task: task, split: "dev_mismatched", dataDir: dataDir, skipBadRows: skipBadRows)
            data.devMismatched = convert(mismatched.examples)
            skipped += mismatched.skipped
        }
        return (data, skipped)
    }

    /// The Evaluator key of a task's headline GLUE metric (`GLUETask.metrics.first`, a key every
    /// evaluation of the task's kind computes: see `GLUEMetric.reported`).
    public static func metricName(_ task: GLUETask) -> String {
        task.metrics.first!.rawValue
    }

    // MARK: Embedded tasks in a GLUE layout

    /// Layout every embedded task is rendered in. STS-B is the one GLUE layout whose label column
    /// is a number rather than a fixed vocabulary: the embedded classification tasks have 8 and 5
    /// classes, which no GLUE label set (at most 3) can hold, so their class index goes into the
    /// score column. A single-sentence example leaves sentence2 empty.
    public static let embeddedLayout = GLUETask.stsb

    /// Writes train.tsv and dev.tsv (symbols as text, "a b c d") plus vocab.txt for an embedded task,
    /// with the same examples `SyntheticTaskGenerator(task:seed:).make(train:dev:)` produces, and
    /// returns the GLUE task whose layout the files use. Read them back with `loadEmbedded`; for
    /// pair-distance (regression, like STS-B) plain `load(task: .stsb, ...)` gives the same data.
    @discardableResult
    public static func renderEmbedded(task: EmbeddedTask, to dir: URL, train: Int = Workspace.defaultTrainSize,
                                      dev: Int = Workspace.defaultDevSize,
                                      seed: UInt64 = 1234) throws -> GLUETask {
        let data = SyntheticTaskGenerator(task: task, seed: seed).make(train: train, dev: dev)
        let names = SymbolVocabulary.tokens
        func row(_ i: Int, _ e: Example) -> String {
            // Strip the framing the tokenizer adds back: [CLS] a [SEP] (b [SEP]).
            let body = e.tokens.dropFirst()
            let sep = body.firstIndex(of: SymbolVocabulary.sep)!
            let a = body[..<sep].map { names[$0] }.joined(separator: " ")
            let rest = body[(sep + 1)...].dropLast()
            let b = rest.map { names[$0] }.joined(separator: " ")
            let score = data.isRegression ? String(e.target) : String(e.label)
            return "\(i)\tembedded\t\(task.rawValue)\t0\t\(i)\tnone\tnone\t\(a)\t\(b)\t\(score)"
        }
        let header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore"
        for (split, examples) in [("train", data.train), ("dev", data.dev)] {
            let lines = [header] + examples.enumerated().map { row($0.offset, $0.element) }
            try AtomicFile.write(lines.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("\(split).tsv"))
        }
        try AtomicFile.write(names.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("vocab.txt"))
        return embeddedLayout
    }

    /// Reads a folder written by `renderEmbedded` through GLUEReader and the tokenizer (by default
    /// its vocab.txt), giving the task exactly as the generator makes it: class labels for
    /// count/pair-count, targets for pair-distance, single sentences where sentence2 is empty.
    public static func loadEmbedded(task: EmbeddedTask, dataDir: URL, tokenizer: WordPieceTokenizer? = nil,
                                    maxSeqLength: Int? = nil, skipBadRows: Bool = false,
                                    truncation: PairTruncation = .seeds) throws
        -> (data: TaskData, skipped: Int)
    {
        let generator = SyntheticTaskGenerator(task: task)
        let seqLen = maxSeqLength ?? generator.seqLen
        let tok = try tokenizer ?? WordPieceTokenizer.load(vocabTxt: dataDir.appendingPathComponent("vocab.txt"))
        try checkLength(seqLen, pair: task != .count, dataDir: dataDir)
        func convert(_ split: String) throws -> (examples: [Example], skipped: Int) {
            let (texts, skipped) = try GLUEReader.read(task: embeddedLayout, split: split, dataDir: dataDir, skipBadRows: skipBadRows)
            let file = dataDir.appendingPathComponent("\(split).tsv").path
            var labels: [Int] = []
            if task.numLabels > 1 {
                labels = try texts.enumerated().map { i, t in
                    let score = t.target!
                    guard let c = Int(exactly: score), (0..<task.numLabels).contains(c) else {
                        // Lines are known only when no row was skipped (header is line 1).
                        let place = skipped == 0 ? "line \(i + 2)" : "data row \(i + 1) after \(skipped) skipped"
                        throw DataError.malformed(file: file, reason: "\(place): score '\(score)' is not a class index of \(task.rawValue) (0..<\(task.numLabels))")
                    }
                    return c
                }
            }
            let singles = texts.map { t in TextExample(textA: t.textA, textB: t.textB?.isEmpty == false ? t.textB : nil) }
            var examples = encode(singles, tokenizer: tok, maxSeqLength: seqLen, truncation: truncation) { _, _ in }
            for i in examples.indices {
                if task.numLabels > 1 { examples[i].label = labels[i] } else { examples[i].target = texts[i].target! }
            }
            return (examples, skipped)
        }
        let train = try convert("train"), dev = try convert("dev")
        let data = TaskData(name: taskName(task.rawValue, truncation), numLabels: task.numLabels, seqLen: seqLen, vocabSize: tok.vocabSize,
                            train: train.examples, dev: dev.examples, metricName: task.numLabels == 1 ? "pearson" : "accuracy")
        return (data, train.skipped + dev.skipped)
    }

    // MARK: Shared

    /// Run metadata records TaskData.name (and a data hash over it): a pair truncation other than
    /// the seeds' default is named there, e.g. "glue-rte+longest-first".
    static func taskName(_ base: String, _ truncation: PairTruncation) -> String {
        truncation == .seeds ? base : "\(base)+\(truncation.rawValue)"
    }

    /// Below this the tokenizer would return only the special tokens, longer than maxSeqLength.
    /// Above the longest position table of any BERT, every example would be padded to a length no
    /// model reads (and a hostile length would be allocated per example).
    static let maxSequenceLength = 8_192

    private static func checkLength(_ n: Int, pair: Bool, dataDir: URL) throws {
        let minimum = pair ? 3 : 2
        guard n >= minimum else {
            throw DataError.mismatch(file: dataDir.path, reason: "max sequence length \(n) leaves no room for text (the [CLS]/[SEP] framing alone needs \(minimum))")
        }
        guard n <= maxSequenceLength else {
            throw DataError.mismatch(file: dataDir.path, reason: "max sequence length \(n) is longer than any BERT position table (at most \(maxSequenceLength))")
        }
    }

    /// Tokenizes in parallel chunks (MNLI and QQP have ~400k rows) and keeps only the real tokens:
    /// Batching pads, and a shorter stored sequence keeps the data hash independent of padding.
    private static func encode(_ texts: [TextExample], tokenizer: WordPieceTokenizer, maxSeqLength: Int,
                               truncation: PairTruncation, fill: (TextExample, inout Example) -> Void) -> [Example] {
        let chunk = 2048
        let chunks = Parallel.map((texts.count + chunk - 1) / chunk) { c -> [Example] in
            texts[(c * chunk)..<min(texts.count, (c + 1) * chunk)].map { t in
                let enc = tokenizer.encode(t.textA, t.textB, maxLength: maxSeqLength, truncation: truncation)
                // encode never pads between real tokens, so the mask is a prefix of ones.
                let n = enc.attentionMask.reduce(0, +)
                var e = Example(tokens: Array(enc.inputIds[..<n]), tokenTypes: Array(enc.tokenTypeIds[..<n]))
                fill(t, &e)
                return e
            }
        }
        return chunks.flatMap { $0 }
    }
}

extension TaskData {
    /// Refuses a model whose config cannot consume this task: different vocabulary (the tokenizer
    /// that produced the ids is not the model's), token ids or types out of range, a sequence
    /// length beyond the position table, or a head of the wrong width. `configFile` labels errors.
    public func validate(against config: BertConfig, configFile: String = "config.json") throws {
        func bad(_ field: String, _ why: String) -> DataError {
            .mismatch(file: configFile, reason: "field '\(field)': \(why)")
        }
        guard vocabSize == config.vocabSize else {
            throw bad("vocab_size", "model has \(config.vocabSize) tokens, task '\(name)' was tokenized with a vocabulary of \(vocabSize) (wrong tokenizer for this checkpoint?)")
        }
        let examples = train + dev
        if let top = examples.lazy.compactMap({ $0.tokens.max() }).max(), top >= config.vocabSize {
            throw bad("vocab_size", "task '\(name)' uses token id \(top), model has \(config.vocabSize) tokens")
        }
        if let top = examples.lazy.compactMap({ $0.tokenTypes.max() }).max(), top >= config.typeVocabSize {
            throw bad("type_vocab_size", "task '\(name)' uses token type \(top), model has \(config.typeVocabSize)")
        }
        guard seqLen <= config.maxPositions else {
            throw bad("max_position_embeddings", "\(config.maxPositions) is shorter than the task's sequence length \(seqLen)")
        }
        guard numLabels == config.numLabels else {
            throw bad("num_labels", "model head has \(config.numLabels) outputs, task '\(name)' needs \(numLabels) (load the checkpoint with numLabelsOverride)")
        }
    }
}
