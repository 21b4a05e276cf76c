// `qat --save-trajectory`: an interrupted run, resumed after a kill left an entry past its last
// checkpoint and a torn tail, ends with the same trajectory file as an uninterrupted run, and the
// entries hold the student's parameters to float16 precision.
import XCTest
import Foundation
import TICore
import TIData
import TILinalg

final class TrajectoryObserverTests: XCTestCase {
    func setup(_ observer: TrajectoryObserver) -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .tiG)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 3; cfg.devProbeSize = 16
        observer.durable = false
        var run = QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
        run.observers = [observer]
        return run
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-traj-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testResumedRunWritesTheSameTrajectoryAsAnUninterruptedOne() throws {
        let plainDir = tempDir()
        let plain = try setup(TrajectoryObserver(every: 3)).run(outDir: plainDir, teacherPath: "t", teacherDevMetric: nil)
        let expected = try Data(contentsOf: plainDir.appendingPathComponent(TrajectoryFile.name))
        let t = try TrajectoryFile.read(plainDir.appendingPathComponent(TrajectoryFile.name))
        XCTAssertEqual(t.steps, [3, 6, 8], "every 3 steps and the final step")
        let last = t.point(t.steps.count - 1)
        for i in last.indices {
            let delta = abs(plain.student[i] - t.origin[i])
            XCTAssertLessThanOrEqual(abs(last[i] - plain.student[i]), delta * 0x1p-11 + 0x1p-24 + 1.2e-7 * max(abs(t.origin[i]), abs(plain.student[i])), "parameter \(i)")
        }

        let dir = tempDir()
        var interrupted = setup(TrajectoryObserver(every: 3))
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil))
        // What a kill between the checkpoint and the next one leaves: an entry past the checkpoint
        // (step 7, never written by this run's replay at that value) and half of another entry.
        let url = dir.appendingPathComponent(TrajectoryFile.name)
        let stray = TrajectoryFile.entry(step: 7, parameters: t.origin.map { $0 + 1 }, origin: t.origin)
        let handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(stray + stray.prefix(10)))
        try handle.close()
        let resumed = try setup(TrajectoryObserver(every: 3)).run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(resumed.student, plain.student)
        XCTAssertEqual(try Data(contentsOf: url), expected, "the resumed trajectory is the uninterrupted one, byte for byte")
    }

    func testResumeWithAnotherIntervalIsRefused() throws {
        let dir = tempDir()
        var interrupted = setup(TrajectoryObserver(every: 3))
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil))
        XCTAssertThrowsError(try setup(TrajectoryObserver(every: 2)).run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)) {
            XCTAssertTrue("\($0)".contains("--save-trajectory 3"), "\($0)")
        }
    }
}
