// The observer hook of the QAT loop: observers see every trained step once, in order, across an
// interruption and resume, with the parameters the step started from; and a watched run trains the
// same student as an unwatched one (an observer must not change the run).
import XCTest
import Foundation
import TICore
import TILinalg

final class QATObserverTests: XCTestCase {
    final class Recorder: QATObserver {
        var opened: [Int?] = [], steps: [Int] = [], checkpoints: [Int] = [], finished: Int? = nil
        var phaseOfStep: [Int: Int] = [:]
        var previousAfter: [Float]? = nil
        var beforeMatchesPreviousAfter = true
        func open(_ context: QATObserverContext, student: StudentState, quantization: QuantConfig) throws {
            opened.append(context.resumedAt)
            previousAfter = student.parameters
        }
        func observe(_ s: QATStepView) throws {
            steps.append(s.step)
            phaseOfStep[s.step] = s.phase.number
            // Step 1's best model may replace the parameters at its end; elsewhere the chain is exact.
            if let p = previousAfter, p != s.parametersBefore, s.local != 0 { beforeMatchesPreviousAfter = false }
            previousAfter = s.student.parameters
        }
        func checkpoint(step: Int) throws { checkpoints.append(step) }
        func finish(student: StudentState, quantization: QuantConfig, step: Int) throws { finished = step }
    }

    func setup() -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .tiG)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 3; cfg.devProbeSize = 16
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-obs-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testObserversSeeEveryStepOnceAcrossAResumeAndDoNotChangeTheRun() throws {
        let plain = try setup().run(outDir: tempDir(), teacherPath: "t", teacherDevMetric: nil)
        let total = plain.summary.totalSteps
        XCTAssertEqual(total, 8)

        let dir = tempDir(), first = Recorder()
        var interrupted = setup()
        interrupted.observers = [first]
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil))
        let saved = try XCTUnwrap(first.checkpoints.last)
        XCTAssertGreaterThanOrEqual(saved, 4)
        XCTAssertEqual(first.opened, [nil])
        XCTAssertEqual(first.steps, Array(1...saved))
        XCTAssertNil(first.finished)

        let second = Recorder()
        var resumed = setup()
        resumed.observers = [second]
        let watched = try resumed.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(second.opened, [saved])
        XCTAssertEqual(second.steps, Array((saved + 1)...total), "replayed steps are not shown again")
        XCTAssertEqual(second.finished, total)
        XCTAssertEqual(Set(first.phaseOfStep.values).union(second.phaseOfStep.values), [1, 2], "TI-G's two steps are both seen")
        XCTAssertTrue(first.beforeMatchesPreviousAfter && second.beforeMatchesPreviousAfter)
        XCTAssertEqual(watched.student, plain.student, "a watched run trains the same student")
    }
}
