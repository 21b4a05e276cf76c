// A padded batch of token sequences with labels, in the layout the kernels use ([B, T] row-major).
import TILinalg
import TIQuant

public struct Batch: Sendable, Equatable {
    public let size: Int          // B
    public let seqLen: Int        // T
    public var tokens: [Int]      // [B, T]
    public var tokenTypes: [Int]  // [B, T]
    public var attentionMask: [Int]  // [B, T], 1 = real token, 0 = padding
    public var labels: [Int]      // [B] class index (classification)
    public var targets: [Double]  // [B] regression target
    /// Index of row 0 in the global batch this one is a slice of (a rank's share, a chunk): dropout
    /// keys its masks by global example index, so a split batch draws the masks the whole one would.
    public var firstExample = 0

    public init(size: Int, seqLen: Int, tokens: [Int], tokenTypes: [Int], attentionMask: [Int],
                labels: [Int] = [], targets: [Double] = [], firstExample: Int = 0) {
        self.size = size; self.seqLen = seqLen; self.tokens = tokens; self.tokenTypes = tokenTypes
        self.attentionMask = attentionMask; self.labels = labels; self.targets = targets; self.firstExample = firstExample
    }

    /// Checks ids and shapes against the model before any kernel reads them.
    public func validate(for c: BertConfig) throws {
        let n = size * seqLen
        guard tokens.count == n, tokenTypes.count == n, attentionMask.count == n else {
            throw ModelError.batch("expected \(n) token/type/mask entries for [\(size), \(seqLen)]")
        }
        guard seqLen <= c.maxPositions else {
            throw ModelError.batch("sequence length \(seqLen) exceeds max_position_embeddings \(c.maxPositions)")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
            throw ModelError.batch("token id \(bad) outside vocabulary of size \(c.vocabSize)")
        }
        if let bad = tokenTypes.first(where: { $0 < 0 || $0 >= c.typeVocabSize }) {
            throw ModelError.batch("token type \(bad) outside type_vocab_size \(c.typeVocabSize)")
        }
        if c.isRegression {
            guard targets.count == size else { throw ModelError.batch("expected \(size) regression targets") }
        } else {
            guard labels.count == size else { throw ModelError.batch("expected \(size) labels") }
            if let bad = labels.first(where: { $0 < 0 || $0 >= c.numLabels }) {
                throw ModelError.batch("label \(bad) outside 0..<\(c.numLabels)")
            }
        }
    }

    /// Rows `range` of this batch as a new batch.
    public func slice(_ range: Range<Int>) -> Batch {
        let t = seqLen
        let r = (range.lowerBound * t)..<(range.upperBound * t)
        return Batch(size: range.count, seqLen: t, tokens: Array(tokens[r]), tokenTypes: Array(tokenTypes[r]),
                     attentionMask: Array(attentionMask[r]),
                     labels: labels.isEmpty ? [] : Array(labels[range]),
                     targets: targets.isEmpty ? [] : Array(targets[range]), firstExample: firstExample + range.lowerBound)
    }
}

/// Sizes shared by every kernel of one forward pass.
public struct Dims: Sendable {
    public let batch, seq, hidden, heads, headDim, ffn: Int
    /// The batch's `firstExample`: where its rows sit in the global batch.
    public let firstExample: Int
    public var rows: Int { batch * seq }  // N = B·T
    public init(_ c: BertConfig, _ b: Batch) {
        batch = b.size; seq = b.seqLen; hidden = c.hiddenSize; heads = c.numHeads
        headDim = c.headDim; ffn = c.intermediateSize; firstExample = b.firstExample
    }
}
