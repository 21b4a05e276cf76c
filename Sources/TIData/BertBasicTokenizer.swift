// BERT's text clean-up and word splitting as the slow Python BertTokenizer's BasicTokenizer does
// it (the tokenizer the seed code builds its features with), so token ids agree with checkpoints
// fine-tuned there: control characters dropped, whitespace unified, CJK ideographs isolated, NFC,
// then per whitespace-separated word Python's str.lower(), accent stripping (NFD, marks dropped)
// and punctuation splitting. The fast tokenizer differs in three places: it lowercases scalar by
// scalar after stripping accents (no Greek final sigma), skips NFC, and has no never-split words.
// Everything works on Unicode scalars, not Characters: the reference counts and splits code
// points, and grapheme clustering would merge e.g. "e" + U+0301 into one unit.
import Foundation

public struct BertBasicTokenizer: Sendable, Equatable {
    public var doLowerCase: Bool
    /// nil follows `doLowerCase`, as in the reference.
    public var stripAccents: Bool?
    public var cleanText: Bool
    public var handleChineseChars: Bool
    /// Words kept as they are, not lowercased or split at punctuation (the reference passes its
    /// special tokens, so "[MA\u{200B}SK]" still reads as "[MASK]" once the format char is gone).
    public private(set) var neverSplit: [String] = []
    private var neverSplitKeys: Set<[UInt32]> = []

    public init(doLowerCase: Bool = true, stripAccents: Bool? = nil, cleanText: Bool = true, handleChineseChars: Bool = true) {
        self.doLowerCase = doLowerCase
        self.stripAccents = stripAccents
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
    }

    /// The same tokenizer with `words` never split. Keys are scalar values, not Strings, because
    /// String equality is canonical equivalence and the reference compares code points.
    public func neverSplitting(_ words: [String]) -> BertBasicTokenizer {
        var t = self
        t.neverSplit = words
        t.neverSplitKeys = Set(words.map { $0.unicodeScalars.map(\.value) })
        return t
    }

    /// Normalizes and splits text into words and single punctuation marks.
    public func split(_ text: String) -> [String] {
        words(Array(text.unicodeScalars)).map { String(String.UnicodeScalarView($0)) }
    }

    func words(_ text: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var out: [[Unicode.Scalar]] = []
        for word in Self.whitespaceSplit(Self.composed(clean(text))) {
            if !neverSplitKeys.isEmpty && neverSplitKeys.contains(word.map(\.value)) {
                out.append(word)
            } else {
                Self.splitPunctuation(normalizeCase(word), into: &out)
            }
        }
        return out
    }

    /// Control characters removed, whitespace made a plain space, CJK ideographs spaced apart.
    func clean(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var s: [Unicode.Scalar] = []
        s.reserveCapacity(input.count)
        for c in input {
            if cleanText {
                if c.value == 0 || c.value == 0xFFFD || Self.isControl(c) { continue }
                if Self.isWhitespace(c) { s.append(" "); continue }
            }
            if handleChineseChars && Self.isCJK(c) {
                s.append(" "); s.append(c); s.append(" ")
            } else {
                s.append(c)
            }
        }
        return s
    }

    /// NFC, so "e" + U+0301 and "é" become the same word. Text made only of scalars below U+0300,
    /// CJK ideographs and Hangul syllables is already NFC (none of them changes or combines with
    /// a neighbour), which spares most inputs the costly Foundation pass.
    static func composed(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let stable = s.allSatisfy { c in
            c.value < 0x300 || (0x4E00...0x9FFF).contains(c.value) || (0xAC00...0xD7A3).contains(c.value)
        }
        if stable { return s }
        return Array(String(String.UnicodeScalarView(s)).precomposedStringWithCanonicalMapping.unicodeScalars)
    }

    /// Lowercasing first (str.lower sees the whole word, which the final-sigma rule needs), then
    /// accent stripping: canonical decomposition splits "é" into "e" + U+0301 and marks (Mn) go.
    func normalizeCase(_ word: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var w = word
        if doLowerCase { w = PythonLowercase.lowercase(w) }
        // Nothing below U+00C0 and no CJK ideograph decomposes or is a mark: skip the NFD pass.
        let plain = w.allSatisfy { c in c.value < 0xC0 || (0x4E00...0x9FFF).contains(c.value) }
        if stripAccents ?? doLowerCase, !plain {
            let decomposed = String(String.UnicodeScalarView(w)).decomposedStringWithCanonicalMapping
            w = decomposed.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
        }
        return w
    }

    /// Python's str.split(): runs of whitespace separate words, empty words vanish.
    static func whitespaceSplit(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var out: [[Unicode.Scalar]] = []
        var word: [Unicode.Scalar] = []
        for c in s {
            if isPythonSpace(c) {
                if !word.isEmpty { out.append(word); word = [] }
            } else {
                word.append(c)
            }
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

    /// Every punctuation scalar becomes a word of its own.
    static func splitPunctuation(_ word: [Unicode.Scalar], into out: inout [[Unicode.Scalar]]) {
        var piece: [Unicode.Scalar] = []
        for c in word {
            if isPunctuation(c) {
                if !piece.isEmpty { out.append(piece); piece = [] }
                out.append([c])
            } else {
                piece.append(c)
            }
        }
        if !piece.isEmpty { out.append(piece) }
    }

    /// str.isspace(): Unicode White_Space plus the ASCII separators U+001C...U+001F.
    static func isPythonSpace(_ c: Unicode.Scalar) -> Bool {
        if c.isASCII { return c == " " || (0x09...0x0D).contains(c.value) || (0x1C...0x1F).contains(c.value) }
        return c.properties.isWhitespace
    }

    /// The reference turns only Zs, tab, newline and CR into a space and leaves U+2028/U+2029 for
    /// str.split to separate on; mapping all White_Space here gives the same words.
    static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        if c.value > 0x20 && c.value < 0x7F { return false }
        return c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
    }

    /// Control, format, surrogate, private-use and unassigned scalars, except tab/newline/CR.
    static func isControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        if c.value >= 0x20 && c.value < 0x7F { return false }
        switch c.properties.generalCategory {
        case .control, .format, .surrogate, .privateUse, .unassigned: return true
        default: return false
        }
    }

    /// All ASCII symbols (so "$", "+", "^" split like "."), plus every Unicode punctuation category.
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (0x21...0x2F).contains(v) || (0x3A...0x40).contains(v) || (0x5B...0x60).contains(v) || (0x7B...0x7E).contains(v) {
            return true
        }
        if v < 0x80 { return false }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideograph blocks BERT isolates (not Hiragana, Katakana or Hangul).
    static func isCJK(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
