// The teacher's learning rate when `finetune` is given none is the embedded task's own (the
// regression task trains at 5e-4, see EmbeddedTask.teacherLearningRate), read back from the
// teacher.json the built binary writes; --lr given replaces it.
import XCTest
import TITestSupport
import Foundation
import TICore

final class FineTuneDefaultsTests: XCTestCase {
    private func trainedRate(_ extra: [String]) throws -> Double {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-ftdefaults-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let r = try BuiltExecutable.run(["finetune", "--quiet", "--task", "pair-distance", "--train-size", "64", "--epochs", "1",
                                         "--eval-every", "2", "--out", dir.path] + extra)
        XCTAssertEqual(r.status, 0, r.stderr)
        let result = try JSONDecoder().decode(FineTuneResult.self, from: Data(contentsOf: dir.appendingPathComponent("teacher.json")))
        XCTAssertEqual(result.task, "pair-distance")
        return result.config.learningRate
    }

    func testPairDistanceTeacherDefaultsToItsOwnRateAndLrReplacesIt() throws {
        XCTAssertEqual(try trainedRate([]), 5e-4)
        XCTAssertEqual(try trainedRate(["--lr", "2e-4"]), 2e-4)
    }
}
