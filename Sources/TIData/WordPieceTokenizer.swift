// WordPiece on top of BertBasicTokenizer, plus the [CLS] a [SEP] b [SEP] framing, truncation and
// padding that BERT classification inputs need (by default as the seed code builds its features).
// Vocabulary lookups key on UTF-8 bytes rather than String because Swift's String equality is
// canonical-equivalence based ("e\u{301}" == "é"), while the reference treats those as different
// tokens.
import Foundation

/// Model inputs for one example, all of length maxLength.
public struct Encoding: Equatable, Sendable {
    public var inputIds: [Int]
    public var tokenTypeIds: [Int]
    public var attentionMask: [Int]
}

public struct WordPieceTokenizer: Sendable {
    public let basic: BertBasicTokenizer
    public let unkToken: String
    public let clsToken: String
    public let sepToken: String
    public let padToken: String
    public let continuingSubwordPrefix: String
    public let maxInputCharsPerWord: Int
    /// Tokens matched verbatim in raw text before normalization (e.g. "[MASK]").
    public let specialTokens: [String]

    public let unkId: Int, clsId: Int, sepId: Int, padId: Int
    private let ids: [[UInt8]: Int]
    private let tokensById: [Int: String]
    private let specialBytes: [(bytes: [UInt8], id: Int)]
    private let prefixBytes: [UInt8]

    public var vocabSize: Int { ids.count }

    /// `file` only labels errors (a missing required token is reported against it).
    public init(vocab: [(token: String, id: Int)], basic: BertBasicTokenizer = BertBasicTokenizer(),
                specialTokens: [String]? = nil, unkToken: String = "[UNK]", clsToken: String = "[CLS]",
                sepToken: String = "[SEP]", padToken: String = "[PAD]", continuingSubwordPrefix: String = "##",
                maxInputCharsPerWord: Int = 100, file: String = "<vocab>") throws {
        var ids: [[UInt8]: Int] = [:]
        var tokensById: [Int: String] = [:]
        for (t, i) in vocab {
            ids[Array(t.utf8)] = i  // later duplicates win, as in the reference loaders
            tokensById[i] = t
        }
        func require(_ t: String) throws -> Int {
            guard let i = ids[Array(t.utf8)] else {
                throw DataError.mismatch(file: file, reason: "vocabulary has no '\(t)' token")
            }
            return i
        }
        self.unkId = try require(unkToken)
        self.clsId = try require(clsToken)
        self.sepId = try require(sepToken)
        self.padId = try require(padToken)
        let specials = specialTokens ?? [padToken, unkToken, clsToken, sepToken, "[MASK]"].filter { ids[Array($0.utf8)] != nil }
        var specialBytes: [(bytes: [UInt8], id: Int)] = []
        for s in specials where !s.isEmpty {
            specialBytes.append((Array(s.utf8), try require(s)))
        }
        // Longest first so that the leftmost match is also the longest one.
        self.specialBytes = specialBytes.sorted { $0.bytes.count > $1.bytes.count }
        self.specialTokens = specials
        self.ids = ids
        self.tokensById = tokensById
        // The reference keeps its special tokens whole even when they appear only after clean-up.
        self.basic = basic.neverSplitting(specials)
        self.unkToken = unkToken
        self.clsToken = clsToken
        self.sepToken = sepToken
        self.padToken = padToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.prefixBytes = Array(continuingSubwordPrefix.utf8)
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    public func id(of token: String) -> Int? { ids[Array(token.utf8)] }

    public func token(of id: Int) -> String? { tokensById[id] }

    /// Token strings for ids; ids outside the vocabulary become the unknown token.
    public func decodeTokens(_ ids: [Int]) -> [String] { ids.map { tokensById[$0] ?? unkToken } }

    /// Readable text: pads (and optionally all special tokens) dropped, "##" pieces glued on.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = true) -> String {
        let special = Set(specialBytes.map(\.id)).union([padId])
        var out = ""
        for id in ids {
            if id == padId || (skipSpecialTokens && special.contains(id)) { continue }
            let t = tokensById[id] ?? unkToken
            if t.hasPrefix(continuingSubwordPrefix) && !out.isEmpty {
                out += t.dropFirst(continuingSubwordPrefix.count)
            } else {
                out += out.isEmpty ? t : " " + t
            }
        }
        return out
    }

    /// WordPiece token ids of one text, without [CLS]/[SEP].
    public func tokenIds(_ text: String) -> [Int] {
        var out: [Int] = []
        for segment in splitOnSpecialTokens(text) {
            switch segment {
            case .special(let id): out.append(id)
            case .text(let scalars):
                for word in basic.words(scalars) { wordPiece(word, into: &out) }
            }
        }
        return out
    }

    public func tokenize(_ text: String) -> [String] { decodeTokens(tokenIds(text)) }

    /// [CLS] a [SEP] (b [SEP]), a pair cut by `truncation` to maxLength (a single text loses its
    /// tail), and padded with [PAD]. Token type ids are 0 for the first segment and 1 for the
    /// second; pads get type 0, mask 0. A maxLength below the number of special tokens still
    /// yields the special tokens.
    public func encode(_ a: String, _ b: String? = nil, maxLength: Int, truncation: PairTruncation = .seeds) -> Encoding {
        var first = tokenIds(a)
        var second = b.map(tokenIds)
        let budget = max(0, maxLength - (second == nil ? 2 : 3))
        if var s = second {
            let (n1, n2) = truncation.keptLengths(first.count, s.count, budget: budget)
            first.removeLast(first.count - n1)
            s.removeLast(s.count - n2)
            second = s
        } else if first.count > budget {
            first.removeLast(first.count - budget)
        }
        var inputIds = [clsId] + first + [sepId]
        var types = [Int](repeating: 0, count: inputIds.count)
        if let s = second {
            inputIds += s + [sepId]
            types += [Int](repeating: 1, count: s.count + 1)
        }
        var mask = [Int](repeating: 1, count: inputIds.count)
        let pad = max(0, maxLength - inputIds.count)
        inputIds += [Int](repeating: padId, count: pad)
        types += [Int](repeating: 0, count: pad)
        mask += [Int](repeating: 0, count: pad)
        return Encoding(inputIds: inputIds, tokenTypeIds: types, attentionMask: mask)
    }

    /// Kept lengths under the fast tokenizer's `longest_first` (see PairTruncation.longestFirst).
    public static func longestFirstLengths(_ n1: Int, _ n2: Int, budget: Int) -> (Int, Int) {
        PairTruncation.longestFirst.keptLengths(n1, n2, budget: budget)
    }

    private enum Segment { case text([Unicode.Scalar]), special(Int) }

    private func splitOnSpecialTokens(_ text: String) -> [Segment] {
        guard !specialBytes.isEmpty else { return [.text(Array(text.unicodeScalars))] }
        let bytes = Array(text.utf8)
        // Only bytes that can start a special token are checked; a UTF-8 lead or ASCII byte
        // always sits on a scalar boundary, so a match never splits a character.
        let specialFirstBytes = Set(specialBytes.map { $0.bytes[0] })
        var segments: [Segment] = []
        var start = 0, i = 0
        func flush(_ end: Int) {
            if end > start { segments.append(.text(Array(String(decoding: bytes[start..<end], as: UTF8.self).unicodeScalars))) }
        }
        while i < bytes.count {
            if specialFirstBytes.contains(bytes[i]), let m = specialBytes.first(where: { bytes.count - i >= $0.bytes.count && bytes[i..<(i + $0.bytes.count)].elementsEqual($0.bytes) }) {
                flush(i)
                segments.append(.special(m.id))
                i += m.bytes.count
                start = i
            } else {
                i += 1
            }
        }
        flush(bytes.count)
        return segments
    }

    /// Greedy longest-match-first; a word with any unmatched piece becomes a single unknown token.
    private func wordPiece(_ word: [Unicode.Scalar], into out: inout [Int]) {
        guard word.count <= maxInputCharsPerWord else { out.append(unkId); return }
        // UTF-8 offset of every scalar boundary so candidate pieces are byte slices.
        var utf8: [UInt8] = []
        var boundaries = [0]
        for c in word {
            utf8.append(contentsOf: UTF8.encode(c)!)
            boundaries.append(utf8.count)
        }
        var pieces: [Int] = []
        var start = 0
        while start < word.count {
            var end = word.count
            var found: Int?
            while end > start {
                var key = start > 0 ? prefixBytes : []
                key.append(contentsOf: utf8[boundaries[start]..<boundaries[end]])
                if let id = ids[key] { found = id; break }
                end -= 1
            }
            guard let id = found else { out.append(unkId); return }
            pieces.append(id)
            start = end
        }
        out.append(contentsOf: pieces)
    }
}
