// One case of the hostile-input corpus and how it is judged: the exit, the one line on stderr, the
// time taken, and the sandbox before and after (nothing written or overwritten unless the case
// names what a started run may write).
import Foundation

struct HostileCase: @unchecked Sendable {
    enum Outcome {
        /// A non-zero exit with exactly one stderr line, "Error: …", containing every fragment.
        case refused([String])
        /// Exit 0 with the same stdout as these arguments (the clean twin of the input).
        case sameOutputAs([String])
        /// Exit 0 (a careless but valid input), writing only where `mayWrite` allows.
        case accepted
    }

    var name: String
    /// "{S}" stands for the sandbox folder, "{R}" for its runs folder.
    var args: [String]
    var outcome: Outcome
    var setup: (HostileSandbox) throws -> Void = { _ in }
    /// A refusal must come within this many seconds (validation before work).
    var maxSeconds: Double = 20
    /// Sandbox paths (prefixes) a run that legitimately started may write before it stops.
    var mayWrite: [String] = []
    /// Refused when the command line is parsed: judged by parsing in the test process (as main
    /// parses), unless the corpus runs against another build.
    var parseTime = false

    /// The same case, judged at parse time.
    func atParseTime() -> HostileCase { var c = self; c.parseTime = true; return c }

    init(_ name: String, _ args: [String], _ outcome: Outcome, maxSeconds: Double = 20, mayWrite: [String] = [],
         setup: @escaping (HostileSandbox) throws -> Void = { _ in }) {
        self.name = name; self.args = args; self.outcome = outcome; self.maxSeconds = maxSeconds
        self.mayWrite = mayWrite; self.setup = setup
    }

    /// A command with the shared flags of the corpus: the sandbox's runs folder, no progress lines.
    static func cli(_ args: String...) -> [String] { args + ["--runs", "{R}", "--quiet"] }

    func expand(_ args: [String], _ s: HostileSandbox) -> [String] {
        args.map { $0.replacingOccurrences(of: "{S}", with: s.root.path).replacingOccurrences(of: "{R}", with: s.runs.path) }
    }

    /// Runs the case in a fresh sandbox and returns what is wrong with the outcome (empty: passed).
    func judge() -> [String] {
        let started = Date()
        defer { if ProcessInfo.processInfo.environment["TIANALYZE_HOSTILE_TIMES"] != nil { print(String(format: "%6.2f s  %@", Date().timeIntervalSince(started), name)) } }
        do {
            let s = try HostileSandbox()
            defer { s.remove() }
            try setup(s)
            let before = s.snapshot()
            // A hang (or work before validation) shows as a timeout past the allowed time.
            let r = parseTime && !HostileRunner.foreignBinary ? HostileRunner.parse(expand(args, s))
                : try HostileRunner.run(expand(args, s), in: s.root, timeout: maxSeconds + 10)
            var problems = basicProblems(r)
            switch outcome {
            case .refused(let fragments):
                problems += refusalProblems(r, fragments)
                problems += changes(before, s.snapshot(), s)
            case .accepted:
                if r.status != 0 { problems.append("exit \(r.status): \(r.stderrLines.first ?? "")") }
                problems += changes(before, s.snapshot(), s)
            case .sameOutputAs(let twin):
                if r.status != 0 { problems.append("exit \(r.status): \(r.stderrLines.first ?? "")") }
                let t = try HostileRunner.run(expand(twin, s), in: s.root, timeout: 60)
                if r.stdout != t.stdout || t.status != 0 { problems.append("output differs from its clean twin") }
            }
            return problems
        } catch {
            return ["harness: \(error)"]
        }
    }

    private func basicProblems(_ r: HostileRun) -> [String] {
        if r.timedOut { return ["timed out after \(Int(r.seconds)) s (hang or work before validation)"] }
        var p: [String] = []
        if r.signalled || r.stderr.contains("Fatal error") || r.stderr.contains("Stack dump") {
            p.append("crashed (status \(r.status)): \(r.stderrLines.prefix(2).joined(separator: " | "))")
        }
        return p
    }

    private func refusalProblems(_ r: HostileRun, _ fragments: [String]) -> [String] {
        var p: [String] = []
        if r.status == 0 { p.append("exit 0 (accepted)") }
        let lines = r.stderrLines
        if lines.count != 1 { p.append("\(lines.count) stderr lines: \(lines.prefix(3).joined(separator: " | "))") }
        let line = lines.first ?? ""
        if !line.hasPrefix("Error: ") { p.append("not an error line: '\(line)'") }
        if line.range(of: #"\b([A-Za-z]+) \1\b"#, options: .regularExpression) != nil { p.append("a word doubled: '\(line)'") }
        let missing = fragments.filter { !line.contains($0) }
        if !missing.isEmpty { p.append("message lacks \(missing): '\(line)'") }
        if r.seconds > maxSeconds { p.append(String(format: "took %.1f s (allowed %.0f s)", r.seconds, maxSeconds)) }
        return p
    }

    private func changes(_ before: [String: Data], _ after: [String: Data], _ s: HostileSandbox) -> [String] {
        let allowed = { (path: String) in mayWrite.contains { path.hasPrefix(expand([$0], s)[0].replacingOccurrences(of: s.root.path + "/", with: "")) } }
        let changed = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] && !allowed($0) }.sorted()
        return changed.isEmpty ? [] : ["wrote or changed: \(changed.prefix(4).joined(separator: ", "))\(changed.count > 4 ? " …" : "")"]
    }
}
