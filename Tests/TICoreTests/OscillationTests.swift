// Weight-oscillation telemetry: the counters against a hand-made state sequence with known flips and
// reversals (EMA computed by hand), the integer states against the quantizers' own outputs, a frozen
// run (learning rate 0) that must show no change at all, and a resumed run that must write the
// oscillation.csv of an uninterrupted one.
import XCTest
import Foundation
import TICore
import TILinalg
import TIData

final class OscillationTests: XCTestCase {
    func testCountersFollowAHandMadeSequence() {
        // w0: 0 → 1 → 0 → 1 → 1   (first change, reversal, reversal, none)
        // w1: 0 → 0 → −1 → 1 → 0  (none, first change, reversal by 2, reversal)
        // w2: constant 3
        var c = OscillationCounters(codes: [0, 0, 3], momentum: 0.5)
        let steps: [[Int32]] = [[1, 0, 3], [0, -1, 3], [1, 1, 3], [1, 0, 3]]
        // By hand with m = 0.5: f0 = 0, .5, .75, .375; f1 = 0, 0, .5, .75.
        let expected: [(Double, Double)] = [(1.0 / 3, 0), (2.0 / 3, 0.5 / 3), (2.0 / 3, 1.25 / 3), (1.0 / 3, 1.125 / 3)]
        for (s, e) in zip(steps, expected) {
            let r = c.advance(to: s)
            XCTAssertEqual(r.changedFraction, e.0, accuracy: 1e-12)
            XCTAssertEqual(r.frequency, e.1, accuracy: 1e-7)
        }
        XCTAssertEqual(c.frequency, [0.375, 0.75, 0])
        XCTAssertEqual(c.lastDirection, [1, -1, 0])
    }

    /// Codes order the weights exactly as the quantizer's outputs do, and ternary codes are sign(Ŵ);
    /// the near-threshold count matches a brute-force count with Δ computed independently in Double.
    func testIntegerStatesAreTheQuantizersOwn() {
        var rng = SeededRandom(seed: 9)
        let rows = 6, cols = 16, n = rows * cols
        let w = (0..<n).map { _ in Float(rng.normal() * 0.1) }
        let quantizers: [WeightQuantizer] = [.ternary(clip: 2.5, perRow: false), .ternary(clip: 0.12, perRow: true),
                                             .uniform(bits: 3, symmetric: true, perRow: false), .uniform(bits: 2, symmetric: false, perRow: true),
                                             .symmetricMSE(bits: 4, golden: false), .lsq(bits: 4)]
        for q in quantizers {
            var out = [Float](repeating: 0, count: n), mask = out, codes = [Int32](repeating: 0, count: n)
            q.quantize(w, rows: rows, cols: cols, out: &out, mask: &mask)
            let near = q.integerStates(w, rows: rows, cols: cols, epsilon: 0.2, codes: &codes)
            let groups: Int = { if case .ternary(_, true) = q { return rows }; if case .uniform(_, _, true) = q { return rows }; return 1 }()
            let len = n / groups
            for g in 0..<groups {
                for i in g * len..<(g + 1) * len {
                    for j in g * len..<(g + 1) * len {
                        XCTAssertEqual(codes[i] < codes[j], out[i] < out[j], "\(q.label): codes order as Ŵ")
                        XCTAssertEqual(codes[i] == codes[j], out[i] == out[j], "\(q.label): one code per value")
                    }
                }
            }
            guard case .ternary(let clip, let perRow) = q else { continue }
            XCTAssertEqual(codes, out.map { Int32($0.sign == .minus && $0 != 0 ? -1 : ($0 > 0 ? 1 : 0)) })
            var expectedNear = 0
            for g in 0..<(perRow ? rows : 1) {
                let group = w[(g * len)..<((g + 1) * len)].map { min(abs(Double($0)), clip) }
                let delta = 0.7 * group.reduce(0, +) / Double(len)
                expectedNear += group.filter { abs($0 - delta) <= 0.2 * delta }.count
            }
            XCTAssertEqual(near, expectedNear, "\(q.label)")
        }
    }

    func setup(lr: Double = 2e-2) -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: .tiG)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 3; cfg.devProbeSize = 16
        cfg.learningRate = lr
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-osc-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func rows(_ dir: URL) throws -> [[String]] {
        try String(contentsOf: dir.appendingPathComponent(OscillationTracker.file), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
    }

    func testFrozenRunNeverChangesAState() throws {
        let dir = tempDir()
        var run = setup(lr: 0)
        run.observers = [OscillationTracker()]
        _ = try run.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        let r = try rows(dir)
        XCTAssertEqual(Set(r.map { $0[0] }).count, 9, "steps 0…8")
        XCTAssertFalse(r.isEmpty)
        for row in r { XCTAssertEqual(row[3], "0"); XCTAssertEqual(row[4], "0") }
        XCTAssertTrue(r.contains { Double($0[5])! > 0 }, "some weights sit near a threshold")
    }

    func testResumedRunWritesTheUninterruptedFileAndTrainsTheSameStudent() throws {
        let plain = try setup().run(outDir: tempDir(), teacherPath: "t", teacherDevMetric: nil)
        let whole = tempDir()
        var uninterrupted = setup()
        uninterrupted.observers = [OscillationTracker(momentum: 0.3)]
        let watched = try uninterrupted.run(outDir: whole, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(watched.student, plain.student, "the tracker does not change the run")
        XCTAssertTrue(try rows(whole).contains { Double($0[3])! > 0 }, "training changes states")

        let dir = tempDir()
        var interrupted = setup()
        interrupted.observers = [OscillationTracker(momentum: 0.3)]
        interrupted.interruptAfterStep = 4
        XCTAssertThrowsError(try interrupted.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil))
        var resumed = setup()
        resumed.observers = [OscillationTracker(momentum: 0.3)]
        _ = try resumed.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent(OscillationTracker.file), encoding: .utf8),
                       try String(contentsOf: whole.appendingPathComponent(OscillationTracker.file), encoding: .utf8))
        XCTAssertTrue(try rows(whole).contains { Double($0[4])! > 0 }, "some weight oscillates, so the resumed EMA is exercised")
    }
}
