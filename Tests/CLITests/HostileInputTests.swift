// The hostile-input corpus against the built executable: every case (HostileOptionCases,
// HostileFileCases, HostileStateCases) must end in one clear error line, a non-zero exit, no trap,
// no hang, and nothing written or overwritten; CRLF twins must read as their LF originals.
// TIANALYZE_BINARY=<path> runs the corpus against another build (e.g. one without these checks);
// TIANALYZE_HOSTILE_REPORT=<file> writes one line per case with its verdict.
import Foundation
import XCTest

final class HostileInputTests: XCTestCase {
    static let corpus = HostileCase.optionCases + HostileCase.fileCases + HostileCase.stateCases + HostileCase.sensitivityCases + HostileCase.trajectoryCases

    func testCaseNamesAreUnique() {
        let names = Self.corpus.map(\.name)
        XCTAssertEqual(Set(names).count, names.count)
    }

    func testCorpus() throws {
        let exe = HostileRunner.executable
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            return XCTFail("build the executable first (swift build --build-tests): \(exe.path)")
        }
        let only = ProcessInfo.processInfo.environment["TIANALYZE_HOSTILE_ONLY"]
        let cases = Self.corpus.filter { c in only.map { c.name.contains($0) } ?? true }
        defer { HostileTemplates.removeAll() }
        var verdicts = [[String]?](repeating: nil, count: cases.count)
        let lock = NSLock()
        // Two at a time: the cases are short processes, mostly waiting on startup and I/O.
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for i in stride(from: worker, to: cases.count, by: 2) {
                let v = cases[i].judge()
                lock.lock(); verdicts[i] = v; lock.unlock()
            }
        }
        var report: [String] = []
        for (c, v) in zip(cases, verdicts) {
            let problems = v ?? ["not run"]
            report.append((problems.isEmpty ? "PASS  " : "FAIL  ") + c.name + (problems.isEmpty ? "" : ": " + problems.joined(separator: "; ")))
            if !problems.isEmpty { XCTFail("\(c.name): \(problems.joined(separator: "; "))") }
        }
        let failed = verdicts.filter { !($0?.isEmpty ?? false) }.count
        report.append("hostile corpus: \(cases.count) cases, \(failed) failed")
        if let path = ProcessInfo.processInfo.environment["TIANALYZE_HOSTILE_REPORT"] {
            try report.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        print(report.last!)
    }
}
