// BERT's text clean-up and word splitting, matching the HuggingFace `tokenizers` BertNormalizer
// and BertPreTokenizer (the fast tokenizer transformers uses) so token ids agree with checkpoints
// fine-tuned in Python. Everything works on Unicode scalars, not Characters: the reference counts
// and splits code points, and grapheme clustering would merge e.g. "e" + U+0301 into one unit.
import Foundation

public struct BertBasicTokenizer: Sendable, Equatable {
    public var doLowerCase: Bool
    /// nil follows `doLowerCase`, as in the reference.
    public var stripAccents: Bool?
    public var cleanText: Bool
    public var handleChineseChars: Bool

    public init(doLowerCase: Bool = true, stripAccents: Bool? = nil, cleanText: Bool = true, handleChineseChars: Bool = true) {
        self.doLowerCase = doLowerCase
        self.stripAccents = stripAccents
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
    }

    /// Normalizes and splits text into words and single punctuation marks.
    public func split(_ text: String) -> [String] {
        words(Array(text.unicodeScalars)).map { String(String.UnicodeScalarView($0)) }
    }

    func words(_ text: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        preTokenize(normalize(text))
    }

    func normalize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
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
        // ASCII text is already decomposed and has no marks, so the costly NFD pass is skipped.
        if stripAccents ?? doLowerCase, !s.allSatisfy(\.isASCII) {
            // Canonical decomposition splits "é" into "e" + U+0301, then the marks (Mn) are dropped.
            let decomposed = String(String.UnicodeScalarView(s)).decomposedStringWithCanonicalMapping
            s = decomposed.unicodeScalars.filter { $0.properties.generalCategory != .nonspacingMark }
        }
        if doLowerCase {
            // Per-scalar full lowercase mapping (no context rules such as Greek final sigma),
            // which is what the reference applies.
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(s.count)
            for c in s {
                if c.isASCII {
                    lowered.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
                } else {
                    lowered.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
                }
            }
            s = lowered
        }
        return s
    }

    func preTokenize(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var out: [[Unicode.Scalar]] = []
        var word: [Unicode.Scalar] = []
        for c in s {
            if c.isASCII ? (c == " " || (c.value >= 0x09 && c.value <= 0x0D)) : c.properties.isWhitespace {
                if !word.isEmpty { out.append(word); word = [] }
            } else if Self.isPunctuation(c) {
                if !word.isEmpty { out.append(word); word = [] }
                out.append([c])
            } else {
                word.append(c)
            }
        }
        if !word.isEmpty { out.append(word) }
        return out
    }

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
