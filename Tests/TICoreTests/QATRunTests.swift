// The two-step QAT run end to end on a tiny model: logs, a killed-and-resumed run equal to an
// uninterrupted one, refusal of a different configuration in the same directory.
import XCTest
import Foundation
import TICore
import TILinalg

final class QATRunTests: XCTestCase {
    func setup(mode: QATMode) -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: mode)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 3; cfg.devProbeSize = 16
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-qat-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func column(_ url: URL, dropLast: Bool) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            var f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if dropLast { f.removeLast() }  // wall time differs between runs
            return f.joined(separator: ",")
        }
    }

    func testInterruptedRunResumesToTheSameResult() throws {
        let whole = tempDir(), split = tempDir()
        let (θa, sa, _) = try setup(mode: .tiG).run(outDir: whole, teacherPath: "t", teacherDevMetric: nil)
        var interrupted = setup(mode: .tiG)
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: split, teacherPath: "t", teacherDevMetric: nil))
        XCTAssertTrue(FileManager.default.fileExists(atPath: split.appendingPathComponent("resume-state.safetensors").path))
        let (θb, sb, _) = try setup(mode: .tiG).run(outDir: split, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(θa.map(\.bitPattern), θb.map(\.bitPattern))
        XCTAssertEqual(sa.finalDevMetric, sb.finalDevMetric)
        XCTAssertEqual(sa.stepOneLossJump, sb.stepOneLossJump)
        XCTAssertEqual(try column(whole.appendingPathComponent("steps.csv"), dropLast: true),
                       try column(split.appendingPathComponent("steps.csv"), dropLast: true))
        XCTAssertEqual(try column(whole.appendingPathComponent("evals.csv"), dropLast: false),
                       try column(split.appendingPathComponent("evals.csv"), dropLast: false))
        XCTAssertFalse(FileManager.default.fileExists(atPath: split.appendingPathComponent("resume-state.safetensors").path))
        // Step 1 used the TI-G schedule: OI first, MI last.
        let steps = try column(split.appendingPathComponent("steps.csv"), dropLast: true)
        XCTAssertTrue(steps[1].hasPrefix("1,1,OI,"), steps[1])
        XCTAssertTrue(steps[3].hasPrefix("3,1,MI,"), steps[3])
        XCTAssertTrue(steps[4].hasPrefix("4,2,none,"), steps[4])
    }

    func testDifferentConfigurationInSameDirectoryIsRefused() throws {
        let dir = tempDir()
        var first = setup(mode: .kd)
        first.interruptAfterStep = 2
        XCTAssertThrowsError(try first.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil))
        XCTAssertThrowsError(try setup(mode: .tiG).run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)) { e in
            XCTAssertTrue("\(e)".contains("configuration"), "\(e)")
        }
    }
}
