// The divergence rule on hand-made loss sequences (where it must and must not stop), and on a real
// QAT run at a learning rate that blows the loss up: stopped at the same step whether or not the
// run was interrupted and resumed on the way.
import XCTest
import Foundation
import TICore
import TILinalg
import TIData

final class DivergenceGuardTests: XCTestCase {
    /// Feeds `losses` as steps 1, 2, … of `phase`; returns the step it stopped at, if any.
    func stop(_ losses: [Double], factor: Double = 10, window: Int = 3, phase: (Int) -> Int = { _ in 0 }) -> Int? {
        var g = DivergenceGuard(factor: factor, window: window)
        for (i, l) in losses.enumerated() {
            do { try g.observe(loss: l, step: i + 1, phase: phase(i + 1)) } catch let e as DivergenceError { return e.step } catch { return nil }
        }
        return nil
    }

    func testStopsWhenTheLossStaysAboveTheFactorForTheWindow() {
        // Start 2: threshold 20. Steps 3, 4, 5 are above it: the third in a row stops the run.
        XCTAssertEqual(stop([2, 5, 21, 30, 25, 40]), 5)
    }

    func testASpikeOrADipResetsTheCount() {
        XCTAssertNil(stop([2, 25, 25, 19, 25, 25, 3]), "two above, one at 19 (below 20), two above: never three in a row")
        XCTAssertNil(stop([2, 20, 20, 20]), "equal to the threshold is not above it")
    }

    func testEachPhaseHasItsOwnStart() {
        // Phase 2 starts at 30 (after the jump when the intervention is removed): 50 is not divergence there.
        XCTAssertNil(stop([2, 3, 30, 50, 50, 50, 50], phase: { $0 < 3 ? 1 : 2 }))
        XCTAssertEqual(stop([2, 3, 30, 301, 302, 303], phase: { $0 < 3 ? 1 : 2 }), 6)
    }

    func testTinyStartsAreFloored() {
        // A start of 1e-6 counts as the floor 0.01: threshold 0.1, so 0.05 noise never stops the run.
        XCTAssertNil(stop([1e-6, 0.05, 0.05, 0.05, 0.05]))
        XCTAssertEqual(stop([1e-6, 0.2, 0.2, 0.2]), 4)
    }

    func testFactorZeroSwitchesTheCheckOff() {
        XCTAssertNil(stop([1, 1e9, 1e9, 1e9, 1e9], factor: 0))
    }

    func testTheErrorSaysWhatHappened() {
        var g = DivergenceGuard(factor: 100, window: 2)
        XCTAssertThrowsError(try [3.0, 400, 500].enumerated().forEach { try g.observe(loss: $1, step: $0 + 1, phase: 0) }) { e in
            XCTAssertEqual(e as? DivergenceError, DivergenceError(step: 3, phase: 0, loss: 500, start: 3, factor: 100, window: 2))
            XCTAssertEqual("\(e)", "training diverged: the loss stayed above 100 × its starting value 3 for 2 steps (500 at step 3, phase 0); lower the learning rate, or raise the divergence factor (0 switches the check off)")
        }
    }

    // MARK: A QAT run

    func run(interruptAt: Int? = nil, outDir: URL) throws -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: QATMode(rawValue: "KD")!)
        cfg.epochs = 10; cfg.batchSize = 16; cfg.evalEvery = 5; cfg.devProbeSize = 16; cfg.learningRate = 1
        var r = QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
        r.interruptAfterStep = interruptAt
        return r
    }

    func divergedStep(_ r: QATRun, _ dir: URL) -> Int? {
        do { _ = try r.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil) } catch let e as DivergenceError { return e.step } catch {}
        return nil
    }

    func testAQATRunAtADivergingRateStopsAndAResumedOneStopsAtTheSameStep() throws {
        let saved = DivergenceGuard.defaultFactor
        DivergenceGuard.defaultFactor = 3
        defer { DivergenceGuard.defaultFactor = saved }
        let whole = tempDir(), split = tempDir()
        let stopped = try XCTUnwrap(divergedStep(try run(outDir: whole), whole), "lr 1 must diverge on this model")
        XCTAssertGreaterThan(stopped, DivergenceGuard.defaultWindow)
        let steps = try String(contentsOf: whole.appendingPathComponent("steps.csv"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(steps.count, 1 + stopped, "every step up to the stop is logged")
        XCTAssertThrowsError(try run(interruptAt: 10, outDir: split).run(outDir: split, teacherPath: "t", teacherDevMetric: nil)) {
            XCTAssertTrue($0 is CancellationError, "\($0)")
        }
        XCTAssertEqual(divergedStep(try run(outDir: split), split), stopped)
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-div-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }
}

/// QAT configurations that would train nothing, refused in the library's terms before a run starts.
final class QATConfigChecksTests: XCTestCase {
    func testSchedulesThatTrainNothingAreRefused() {
        let kd = QATMode(rawValue: "KD")!
        let cases: [(WritableKeyPath<QATConfig, Int>, Int, OptionName)] = [(\.epochs, -1, .epochs), (\.batchSize, 0, .batchSize), (\.evalEvery, 0, .evalEvery)]
        for (path, value, option) in cases {
            var c = QATConfig(mode: kd)
            c[keyPath: path] = value
            XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? OptionValueError)?.option, option) }
        }
        var c = QATConfig(mode: kd)
        c.learningRate = .infinity
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual("\($0)", "learningRate 'inf': expected a finite positive learning rate") }
        c = QATConfig(mode: kd)
        c.stepOneLength = 0
        XCTAssertThrowsError(try c.validate()) { XCTAssertEqual(($0 as? OptionValueError)?.option, .stepOne) }
        XCTAssertNoThrow(try QATConfig(mode: kd).validate())
    }
}
