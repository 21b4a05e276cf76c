// The CLI's wording of library errors: every library option name maps to a flag some command has,
// and library errors become one line in flag terms; other errors pass through untouched.
import XCTest
import Foundation
import ArgumentParser
import TICore
import TIData
import TILandscape
@testable import tianalyze

final class ErrorMessagesTests: XCTestCase {
    func testEveryLibraryOptionMapsToADeclaredFlag() {
        let help = Tianalyze.configuration.subcommands.map { $0.helpMessage(columns: 400) }.joined(separator: "\n")
        for option in OptionName.allCases {
            for flag in option.flag.split(separator: "/") {
                XCTAssertTrue(help.contains("\(flag) <") || help.contains("\(flag) "), "\(option) → \(flag): no command declares it")
            }
        }
    }

    func testOptionValueErrorsNameTheFlag() {
        let e = OptionValueError(option: .pegSites, value: "y,q", reason: "expected a comma list of x, h, y")
        XCTAssertEqual("\(ErrorMessages.forCommandLine(e))", "--peg-sites 'y,q': expected a comma list of x, h, y")
        XCTAssertEqual("\(e)", "pegSites 'y,q': expected a comma list of x, h, y", "the library's own wording")
        let missing = OptionValueError(option: .dataDir, value: nil, reason: "GLUE task 'cola' needs its data directory")
        XCTAssertEqual("\(ErrorMessages.forCommandLine(missing))", "--data-dir: GLUE task 'cola' needs its data directory")
    }

    func testAdviceBecomesACommandLine() throws {
        let task = try TaskSource(name: "rte", dataDir: "/data/RTE", maxSeqLength: 128, skipBadRows: false)
        let e = MissingTeacherError(directory: "/runs/teacher-glue-rte", task: task)
        XCTAssertEqual("\(ErrorMessages.forCommandLine(e))",
                       "/runs/teacher-glue-rte: no teacher: run tianalyze finetune --task rte --data-dir /data/RTE --checkpoint PRETRAINED first")
        let mismatch = LandscapeError.configMismatch(directory: "/runs/l", found: "abc", expected: "def")
        XCTAssertEqual("\(ErrorMessages.forCommandLine(mismatch))",
                       "/runs/l holds a landscape with configHash abc, this run has def; use another --out directory or delete it")
    }

    func testOtherErrorsPassThrough() {
        let e = DataError.malformed(file: "/x/config.json", reason: "not JSON")
        XCTAssertEqual(ErrorMessages.forCommandLine(e) as? DataError, e)
        let v = ValidationError("--range must be min:max")
        XCTAssertEqual((ErrorMessages.forCommandLine(v) as? ValidationError)?.message, v.message)
    }
}
