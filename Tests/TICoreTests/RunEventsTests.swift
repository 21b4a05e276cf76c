// Library progress and notes reach the caller's RunEvents (never stderr): what is reported, when its
// text is built, and which receiver the on/off-switch form of ProgressReporter reaches.
import XCTest
import Foundation
import TICore
import TIData
import TITestSupport

final class RunEventsTests: XCTestCase {
    private func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("run-events-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    func testReporterForwardsCountersAndBuildsTheMessageOnlyForAReceiver() {
        let rec = EventRecorder()
        var built = 0
        func message() -> String { built += 1; return "loss \(built)" }
        let bar = ProgressReporter("train", total: 4, events: rec.events)
        bar.update(1, message())
        bar.update(4, message())
        XCTAssertEqual(rec.updates.map(\.done), [1, 4])
        XCTAssertEqual(Set(rec.updates.map(\.label)), ["train"])
        XCTAssertEqual(Set(rec.updates.map(\.total)), [4])
        XCTAssertEqual(rec.updates.map(\.text), ["loss 1", "loss 2"])
        let silent = ProgressReporter("train", total: 4, events: .silent)
        silent.update(2, message())
        XCTAssertEqual(built, 2, "a silent receiver must not build the message")
    }

    private func tinyFineTune(_ configure: (inout FineTuneConfig) -> Void, events: RunEvents) throws -> FineTuneResult {
        var data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 16)
        data.seqLen = 26
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = FineTuneConfig()
        cfg.seed = 3; cfg.epochs = 1; cfg.batchSize = 16; cfg.evalEvery = 2
        configure(&cfg)
        return try FineTune.run(model: model, task: data, config: cfg, events: events).1
    }

    func testFineTuneReportsEachEvaluation() throws {
        let rec = EventRecorder()
        let result = try tinyFineTune({ $0.patience = 10 }, events: rec.events)
        // 64 examples in batches of 16: 4 steps, evaluated at steps 2 and 4.
        XCTAssertEqual(rec.updates.map(\.done), [2, 4])
        XCTAssertEqual(Set(rec.updates.map(\.total)), [4])
        XCTAssertEqual(Set(rec.updates.map(\.label)), ["finetune count"])
        XCTAssertEqual(rec.updates.map(\.text), result.history.map { p in
            String(format: "dev %@ %.4f (best %.4f)", result.dev.metricName, p.devMetric,
                   result.history.prefix { $0.step <= p.step }.map(\.devMetric).max()!)
        })
    }

    func testNonFiniteTrainingNamesTheLearningRate() throws {
        // Finite but absurd: the first steps throw the weights to ±1e30 and a later loss overflows.
        XCTAssertThrowsError(try tinyFineTune({ $0.learningRate = 1e30 }, events: .silent)) { e in
            guard let o = e as? OptionValueError else { return XCTFail("expected OptionValueError, got \(e)") }
            XCTAssertEqual(o.option, .learningRate)
            XCTAssertEqual(o.value, "1e+30")
            XCTAssertTrue(o.reason.contains("is not finite at step "), o.reason)
        }
    }

    func testNonFiniteLearningRateIsRefusedBeforeTraining() throws {
        let rec = EventRecorder()
        XCTAssertThrowsError(try tinyFineTune({ $0.learningRate = .infinity }, events: rec.events)) { e in
            XCTAssertEqual(e as? OptionValueError, OptionValueError(option: .learningRate, value: "inf", reason: "expected a finite positive learning rate"))
        }
        XCTAssertEqual(rec.updates, [], "no step was taken")
    }

    func testSkippedRowsAreANoteNamingTheFolder() throws {
        let dir = try tempDir()
        try GLUETaskData.renderEmbedded(task: .count, to: dir, train: 20, dev: 5)
        let url = dir.appendingPathComponent("train.tsv")
        var lines = try String(contentsOf: url, encoding: .utf8).components(separatedBy: "\n")
        lines[4] = lines[4].replacingOccurrences(of: "\t", with: " ")
        lines[6] = lines[6].replacingOccurrences(of: "\t", with: " ")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        let rec = EventRecorder()
        let source = try TaskSource(name: "stsb", dataDir: dir.path, maxSeqLength: 26, skipBadRows: true)
        let data = try source.load(tokenizerDir: dir, events: rec.events)
        XCTAssertEqual(data.train.count, 18)
        XCTAssertEqual(rec.notes, ["skipped 2 malformed rows in \(dir.path)"])
        XCTAssertEqual(rec.updates, [])
    }
}
