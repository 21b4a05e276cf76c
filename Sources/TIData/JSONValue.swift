// Safetensors headers are untrusted input. Foundation's JSON APIs turn numbers into Double/NSNumber,
// which silently accepts shapes like 2.0 or 1e3 and loses precision past 2^53; this small parser
// keeps number text verbatim so integer fields are checked exactly, bounds nesting depth, and
// reports the byte offset of the first syntax error.

/// A JSON document tree; objects keep key order and duplicates so callers can reject them.
enum JSONValue: Equatable {
    case object([(key: String, value: JSONValue)])
    case array([JSONValue])
    case string(String)
    case number(String)
    case bool(Bool)
    case null

    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(x), .array(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.null, .null): return true
        default: return false
        }
    }

    /// Short type name for error messages ("expected an array, found a string").
    var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// The value as a non-negative integer written without fraction or exponent, if it is one.
    var nonNegativeInt: Int? {
        guard case .number(let text) = self, !text.isEmpty,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return Int(text)
    }
}

struct JSONSyntaxError: Error {
    let offset: Int
    let message: String
}

struct JSONParser {
    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0
    // Real headers nest three levels; the bound only stops hostile input from exhausting the stack.
    private let maxDepth = 64

    /// Parses one JSON value followed only by whitespace.
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var p = JSONParser(bytes: bytes)
        p.skipWhitespace()
        let v = try p.value()
        p.skipWhitespace()
        guard p.pos == bytes.count else { throw p.fail("unexpected content after the JSON value") }
        return v
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func fail(_ message: String) -> JSONSyntaxError { JSONSyntaxError(offset: pos, message: message) }

    private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 }
    }

    private mutating func expect(_ c: UInt8) throws {
        guard current == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        pos += 1
    }

    private mutating func value() throws -> JSONValue {
        guard let c = current else { throw fail("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try nested { try $0.object() }
        case UInt8(ascii: "["): return try nested { try $0.array() }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character")
        }
    }

    private mutating func nested(_ body: (inout JSONParser) throws -> JSONValue) throws -> JSONValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= maxDepth else { throw fail("nesting deeper than \(maxDepth) levels") }
        return try body(&self)
    }

    private mutating func literal(_ word: String) throws {
        for b in word.utf8 {
            guard current == b else { throw fail("invalid literal, expected '\(word)'") }
            pos += 1
        }
    }

    private mutating func object() throws -> JSONValue {
        pos += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try string()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            members.append((key, try value()))
            skipWhitespace()
            if current == UInt8(ascii: ",") { pos += 1; continue }
            guard current == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            pos += 1
            return .object(members)
        }
    }

    private mutating func array() throws -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value())
            skipWhitespace()
            if current == UInt8(ascii: ",") { pos += 1; continue }
            guard current == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            pos += 1
            return .array(items)
        }
    }

    private mutating func number() throws -> String {
        let start = pos
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.pos
            while let c = p.current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { p.pos += 1 }
            return p.pos - s
        }
        if current == UInt8(ascii: "-") { pos += 1 }
        if current == UInt8(ascii: "0") {
            pos += 1
        } else if digits(&self) == 0 {
            throw fail("invalid number")
        }
        if current == UInt8(ascii: ".") {
            pos += 1
            guard digits(&self) > 0 else { throw fail("invalid number: digits expected after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard digits(&self) > 0 else { throw fail("invalid number: digits expected in exponent") }
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func string() throws -> String {
        pos += 1
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw fail("unterminated string") }
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                // The input was checked to be UTF-8 and escapes only add valid scalars.
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = current else { throw fail("unterminated escape") }
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): out.append(contentsOf: Array(String(try unicodeEscape()).utf8))
                default: throw fail("invalid escape '\\\(Character(Unicode.Scalar(e)))'")
                }
            case 0..<0x20:
                throw fail("unescaped control character in string")
            default:
                out.append(c)
            }
        }
    }

    /// Reads the XXXX of a \uXXXX escape (and a following low surrogate when needed).
    private mutating func unicodeEscape() throws -> Character {
        let high = try hex4()
        if (0xD800..<0xDC00).contains(high) {
            guard current == UInt8(ascii: "\\") else { throw fail("lone surrogate in \\u escape") }
            pos += 1
            guard current == UInt8(ascii: "u") else { throw fail("lone surrogate in \\u escape") }
            pos += 1
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid low surrogate in \\u escape") }
            let scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            return Character(Unicode.Scalar(scalar)!)
        }
        guard let s = Unicode.Scalar(high) else { throw fail("lone surrogate in \\u escape") }
        return Character(s)
    }

    private mutating func hex4() throws -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let d = Self.hexValue(c) else { throw fail("invalid \\u escape") }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(c - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
