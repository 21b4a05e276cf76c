// Python's `str.lower()`, which the slow BertTokenizer applies to each whitespace-separated word:
// the full Unicode lowercase mapping of every scalar (so 'İ' becomes the two scalars "i" U+0307)
// plus the one context rule Python implements, Final_Sigma. Swift's `String.lowercased()` maps
// scalar by scalar and turns every 'Σ' into 'σ', so the rule is written out here.

public enum PythonLowercase {
    static let capitalSigma: Unicode.Scalar = "\u{03A3}"
    static let smallSigma: Unicode.Scalar = "\u{03C3}"
    static let finalSigma: Unicode.Scalar = "\u{03C2}"

    /// `str.lower()` of the scalars as one Python string (the context rule looks across all of them).
    public static func lowercase(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(s.count)
        for (i, c) in s.enumerated() {
            if c.isASCII {
                out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
            } else if c == capitalSigma {
                out.append(isFinalSigma(s, at: i) ? finalSigma : smallSigma)
            } else {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    public static func lowercase(_ s: String) -> String {
        String(String.UnicodeScalarView(lowercase(Array(s.unicodeScalars))))
    }

    /// Unicode's Final_Sigma context: a cased letter before the sigma and none after it, where
    /// case-ignorable scalars (combining marks, apostrophes, periods, soft hyphens, ...) in between
    /// are skipped on both sides.
    static func isFinalSigma(_ s: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && s[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && s[j].properties.isCased else { return false }
        var k = i + 1
        while k < s.count && s[k].properties.isCaseIgnorable { k += 1 }
        return k == s.count || !s[k].properties.isCased
    }
}
