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

    func testFoundationAndEncodingErrorsBecomeOneLineNamingTheFile() throws {
        XCTAssertThrowsError(try FileManager.default.contentsOfDirectory(atPath: "/nonexistent-tia")) { e in
            XCTAssertEqual("\(ErrorMessages.forCommandLine(e))", "/nonexistent-tia: No such file or directory")
        }
        struct Config: Encodable { let learningRate: Double }
        XCTAssertThrowsError(try JSONEncoder().encode(Config(learningRate: .infinity))) { e in
            XCTAssertEqual("\(ErrorMessages.forCommandLine(e))", "cannot record inf at 'learningRate': not a finite number")
        }
    }

    func testDivergenceNamesTheFlagsThatChangeIt() {
        let e = DivergenceError(step: 30, phase: 1, loss: 912.5, start: 3.6, factor: 100, window: 20)
        XCTAssertEqual("\(ErrorMessages.forCommandLine(e))", "training diverged: the loss stayed above 100 × its starting value 3.6 for 20 steps (912.5 at step 30, phase 1); lower --lr, or raise --divergence-factor (0 switches the check off)")
    }

    func testErrorsPrintAsOneLineWithArgumentParsersExitCode() {
        let parse = ErrorMessages.errorLine(ValidationError("--grid '0': expected 1...100001 points per axis, got 0"))
        XCTAssertEqual(parse.line, "Error: --grid '0': expected 1...100001 points per axis, got 0")
        XCTAssertEqual(parse.code, .validationFailure)
        let data = ErrorMessages.errorLine(DataError.malformed(file: "/x/config.json", reason: "not valid JSON"))
        XCTAssertEqual(data.line, "Error: /x/config.json: malformed: not valid JSON")
        XCTAssertEqual(data.code, .failure)
    }

    func testOtherErrorsPassThrough() {
        let e = DataError.malformed(file: "/x/config.json", reason: "not JSON")
        XCTAssertEqual(ErrorMessages.forCommandLine(e) as? DataError, e)
        let v = ValidationError("--range must be min:max")
        XCTAssertEqual((ErrorMessages.forCommandLine(v) as? ValidationError)?.message, v.message)
    }
}
