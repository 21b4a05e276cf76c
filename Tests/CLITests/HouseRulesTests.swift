// The house rules that keep the source tree extensible, checked on every test run: files stay small,
// functions stay short, and no code outside the method files branches on a QAT method's name (adding
// a method is one file in Sources/TIMethods/Methods and one registry line).
import Foundation
import XCTest

final class HouseRulesTests: XCTestCase {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Sources")

    /// Every Swift file under Sources with its lines.
    func swiftFiles() throws -> [(path: String, lines: [Substring])] {
        let fm = FileManager.default
        let root = Self.sources.path
        let paths = try XCTUnwrap(fm.enumerator(atPath: root)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        XCTAssertGreaterThan(paths.count, 50, "Sources not found at \(root)")
        return try paths.sorted().map { p in
            (p, try String(contentsOfFile: root + "/" + p, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false))
        }
    }

    func testNoSourceFileOver400Lines() throws {
        let long = try swiftFiles().filter { $0.lines.count > 400 }.map { "\($0.path): \($0.lines.count) lines" }
        XCTAssertEqual(long, [], "split these files by concept")
    }

    func testNoFunctionOver100Lines() throws {
        var long: [String] = []
        for f in try swiftFiles() {
            for (name, start, length) in Self.functions(f.lines) where length > 100 { long.append("\(f.path):\(start + 1) \(name): \(length) lines") }
        }
        XCTAssertEqual(long, [])
    }

    /// The lengths counter works: a known 3-line function and a nested one are measured right.
    func testFunctionLengthCounter() {
        let text = "struct S {\n    func a() {\n        if x { y() }\n    }\n    func b() -> Int { 1 }\n}"
        let found = Self.functions(text.split(separator: "\n", omittingEmptySubsequences: false))
        XCTAssertEqual(found.map(\.length), [3, 1])
    }

    func testNoCodeOutsideTheMethodFilesBranchesOnAMethodName() throws {
        // A comparison or a switch case against a named mode, or a mode-specific flag of the old enum.
        let branch = try NSRegularExpression(pattern:
            #"(mode|Mode)\s*[!=]=\s*(QATMode)?\.[a-zA-Z]|case\s+\.(fp|qat|kd|mi|ci|oi|tiG|tiI|tiS|q8bert|ptqW8A8|adaRoundW4|lsqW4A8)\b|isPostTraining|learnsSteps|isTwoStep|calibratesActivations"#)
        var found: [String] = []
        for f in try swiftFiles() where !f.path.hasPrefix("TIMethods/Methods/") {
            for (i, line) in f.lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                let s = String(line)
                if branch.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil { found.append("\(f.path):\(i + 1): \(s)") }
            }
        }
        XCTAssertEqual(found, [], "ask the method (QATMethod) instead of testing its name")
    }

    /// (name, first line, length in lines) of every `func`/`init` whose body opens on its declaration
    /// line, measured by brace depth (string literals with braces are rare enough here to ignore).
    static func functions(_ lines: [Substring]) -> [(name: String, start: Int, length: Int)] {
        var result: [(String, Int, Int)] = []
        let decl = try! NSRegularExpression(pattern: #"^\s*(@\w+(\([^)]*\))?\s+)*((public|package|private|fileprivate|internal|static|mutating|override|final|nonisolated)\s+)*(func\s+[^(<\s]+|init[?!]?)"#)
        for (i, line) in lines.enumerated() {
            let s = String(line)
            guard let m = decl.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { continue }
            var depth = 0, opened = false, end = i
            scan: for j in i..<lines.count {
                for c in lines[j] {
                    if c == "{" { depth += 1; opened = true } else if c == "}" { depth -= 1 }
                    if opened && depth == 0 { end = j; break scan }
                }
                if !opened && j > i + 8 { break }  // a protocol requirement: no body
            }
            if opened { result.append((String(s[Range(m.range(at: 5), in: s)!]), i, end - i + 1)) }
        }
        return result
    }
}
