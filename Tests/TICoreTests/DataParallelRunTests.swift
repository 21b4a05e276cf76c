// QAT runs and fine-tuning under 2 ranks (threads standing in for processes): the same training as
// one process to float rounding, rank 0 alone writing the run directory, a NaN on one rank's share
// stopping every rank with the same line (no rank left waiting), and a killed 2-rank run resumed
// under 2 ranks to the same bits as an uninterrupted one.
import XCTest
import Foundation
import TICore
import TILinalg

final class DataParallelRunTests: XCTestCase {
    func setup(mode: QATMode, task: TaskData? = nil, includeTaskLoss: Bool = false) -> QATRun {
        let data = task ?? SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: mode)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.stepOneLength = 3; cfg.devProbeSize = 16
        cfg.includeTaskLoss = includeTaskLoss
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-dp-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// `body` under `ranks` thread ranks, failing the test instead of hanging when a rank never returns.
    func ranks<R>(_ ranks: Int, timeout: Double = 300, _ body: @escaping @Sendable (Communicator) throws -> R) throws -> [R] {
        let done = DispatchSemaphore(value: 0)
        let box = Box<Result<[R], Error>>()
        Thread { box.value = Result { try ThreadGroup.run(ranks: ranks, body) }; done.signal() }.start()
        guard done.wait(timeout: .now() + timeout) == .success else {
            XCTFail("ranks still waiting after \(timeout) s: a rank hangs in a collective")
            throw CancellationError()
        }
        return try box.value!.get()
    }

    func rows(_ file: String, in dir: URL) throws -> [[String]] {
        try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    func column(_ name: String, of file: String, in dir: URL) throws -> [Double] {
        let r = try rows(file, in: dir)
        let i = try XCTUnwrap(r[0].firstIndex(of: name))
        return r.dropFirst().map { Double($0[i])! }
    }

    func metadata(_ dir: URL) throws -> QATRunMetadata {
        try JSONDecoder().decode(QATRunMetadata.self, from: Data(contentsOf: dir.appendingPathComponent("metadata.json")))
    }

    func assertClose(_ a: [Double], _ b: [Double], relative: Double, _ what: String) {
        XCTAssertEqual(a.count, b.count, what)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: relative * max(abs(y), 1e-3), what) }
    }

    /// Rank 1 is handed a directory of its own: it must not create it. Rank 0's directory holds each
    /// step once, the losses and evaluations of one process to Float rounding, and records 2 ranks.
    /// Tolerance: 1e-5 relative. The ranks' Float loss sums are grouped differently (measured: about
    /// 1e-6 relative per step); the quantizer ranges are the same, so nothing larger can appear
    /// (without the global ranges the first step's loss differs by 3e-4).
    func testTwoRankQATTrainsLikeOneProcessAndOnlyRankZeroWrites() throws {
        let one = tempDir(), two = tempDir(), elsewhere = tempDir()
        let (θ1, s1, _) = try setup(mode: .kd).run(outDir: one, teacherPath: "t", teacherDevMetric: nil)
        let out = try ranks(2) { comm in
            var run = self.setup(mode: .kd)
            run.communicator = comm
            return try run.run(outDir: comm.isRoot ? two : elsewhere, teacherPath: "t", teacherDevMetric: nil)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere.path), "rank 1 wrote nothing")
        XCTAssertEqual(out[0].student.map(\.bitPattern), out[1].student.map(\.bitPattern), "both ranks end with the same student")
        XCTAssertEqual(out[0].summary.finalDevMetric, out[1].summary.finalDevMetric)
        XCTAssertEqual(try metadata(two).ranks, 2)
        XCTAssertEqual(try metadata(one).ranks, 1)
        XCTAssertEqual(try rows("steps.csv", in: two).count, try rows("steps.csv", in: one).count, "each step logged once")
        for (file, name) in [("steps.csv", "loss"), ("steps.csv", "train_ce"), ("evals.csv", "dev_loss"), ("evals.csv", "probe_kd_loss"),
                             ("layers.csv", "out_mse")] {
            assertClose(try column(name, of: file, in: two), try column(name, of: file, in: one), relative: 1e-5, "\(file) \(name)")
        }
        XCTAssertEqual(s1.finalDevMetric, out[0].summary.finalDevMetric, accuracy: 1.0 / 32 + 1e-9)
        let drift = zip(θ1, out[0].student).map { abs(Double($0) - Double($1)) }.max()!
        XCTAssertLessThan(drift, 1e-4, "the student after 8 steps differs by float rounding only")
    }

    /// Fine-tuning under 2 ranks: the same history as one process to Float rounding, on both ranks.
    func testTwoRankFineTuningEqualsOneProcess() throws {
        let data = SyntheticTaskGenerator(task: .count).make(train: 48, dev: 24)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = FineTuneConfig()
        cfg.epochs = 2; cfg.batchSize = 12; cfg.evalEvery = 2
        let (θ1, r1) = try FineTune.run(model: model, task: data, config: cfg)
        let out = try ranks(2) { [cfg] comm in try FineTune.run(model: model, task: data, config: cfg, communicator: comm) }
        XCTAssertEqual(out[0].0.map(\.bitPattern), out[1].0.map(\.bitPattern))
        assertClose(out[0].1.history.map(\.trainLoss), r1.history.map(\.trainLoss), relative: 1e-5, "train loss")
        assertClose(out[0].1.history.map(\.devLoss), r1.history.map(\.devLoss), relative: 1e-4, "dev loss")
        XCTAssertLessThan(zip(θ1, out[0].0).map { abs(Double($0) - Double($1)) }.max()!, 1e-4)
    }

    /// A regression task with one NaN target: the rank whose share holds it has a NaN loss; every rank
    /// stops at the same step with the same line, and none waits for good.
    func testNaNOnOneRanksShareStopsEveryRankWithTheSameLine() throws {
        var data = SyntheticTaskGenerator(task: .pairDistance).make(train: 64, dev: 16)
        data.train[37].target = .nan
        let qat = try ranks(2) { [data] comm -> String in
            var run = self.setup(mode: .kd, task: data, includeTaskLoss: true)
            run.communicator = comm
            do { _ = try run.run(outDir: self.tempDir(), teacherPath: "t", teacherDevMetric: nil); return "finished" } catch { return "\(error)" }
        }
        XCTAssertEqual(qat[0], qat[1])
        XCTAssertTrue(qat[0].contains("not finite") || qat[0].contains("non-finite"), qat[0])

        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 1, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: 1))
        var cfg = FineTuneConfig()
        cfg.epochs = 1; cfg.batchSize = 16
        let ft = try ranks(2) { [data, cfg] comm -> String in
            do { _ = try FineTune.run(model: model, task: data, config: cfg, communicator: comm); return "finished" } catch { return "\(error)" }
        }
        XCTAssertEqual(ft[0], ft[1])
        XCTAssertTrue(ft[0].contains("not finite"), ft[0])
    }

    /// A 2-rank TI-G run killed after its state at step 4 and resumed under 2 ranks equals the
    /// uninterrupted 2-rank run bit for bit.
    func testKilledTwoRankRunResumesUnderTwoRanksToTheSameBits() throws {
        let whole = tempDir(), split = tempDir()
        let a = try students(ranks: 2, mode: .tiG, outDir: whole)
        XCTAssertThrowsError(try students(ranks: 2, mode: .tiG, outDir: split, interruptAfter: 4))
        XCTAssertTrue(FileManager.default.fileExists(atPath: split.appendingPathComponent("resume-state.safetensors").path))
        let b = try students(ranks: 2, mode: .tiG, outDir: split)
        XCTAssertEqual(a[0].map(\.bitPattern), b[0].map(\.bitPattern))
        XCTAssertEqual(b[0].map(\.bitPattern), b[1].map(\.bitPattern))
        // Run again: every rank finds the finished run and returns its student.
        let again = try students(ranks: 2, mode: .tiG, outDir: split)
        XCTAssertEqual(again[1].map(\.bitPattern), b[0].map(\.bitPattern))
        func noSeconds(_ r: [[String]]) -> [[String]] {
            guard let i = r.first?.firstIndex(of: "seconds") else { return r }
            return r.map { var x = $0; x.remove(at: i); return x }
        }
        XCTAssertEqual(noSeconds(try rows("steps.csv", in: whole)), noSeconds(try rows("steps.csv", in: split)))
        XCTAssertEqual(try rows("evals.csv", in: whole), try rows("evals.csv", in: split))
    }
}

final class Box<V>: @unchecked Sendable { var value: V? }

extension DataParallelRunTests {
    /// The students a run of `mode` leaves on every rank (or the error it ends with).
    func students(ranks r: Int, mode: QATMode, outDir: URL, interruptAfter: Int? = nil) throws -> [[Float]] {
        try ranks(r) { comm in
            var run = self.setup(mode: mode)
            run.communicator = comm
            run.interruptAfterStep = interruptAfter
            return try run.run(outDir: outDir, teacherPath: "t", teacherDevMetric: nil).student
        }
    }
}

extension DataParallelRunTests {
    /// The resumable state does not depend on the rank count: a 2-rank run killed at step 4 and
    /// resumed by one process ends within Float rounding of the uninterrupted 2-rank run.
    func testTwoRankRunResumesUnderOneProcess() throws {
        let whole = tempDir(), split = tempDir()
        let a = try students(ranks: 2, mode: .kd, outDir: whole)
        XCTAssertThrowsError(try students(ranks: 2, mode: .kd, outDir: split, interruptAfter: 4))
        let b = try setup(mode: .kd).run(outDir: split, teacherPath: "t", teacherDevMetric: nil).student
        XCTAssertLessThan(zip(a[0], b).map { abs(Double($0) - Double($1)) }.max()!, 1e-4)
        XCTAssertEqual(try metadata(split).ranks, 1, "the metadata records the ranks of the run that finished it")
        assertClose(try column("loss", of: "steps.csv", in: split), try column("loss", of: "steps.csv", in: whole), relative: 1e-5, "loss")
    }
}

extension DataParallelRunTests {
    /// A damaged resumable state is read by rank 0 alone: its one line reaches every rank, none hangs.
    func testBadStateUnderTwoRanksGivesEveryRankTheSameLine() throws {
        let dir = tempDir()
        XCTAssertThrowsError(try students(ranks: 2, mode: .kd, outDir: dir, interruptAfter: 2))
        let state = dir.appendingPathComponent("resume-state.safetensors")
        var bytes = try Data(contentsOf: state)
        bytes.removeLast(bytes.count / 2)
        try bytes.write(to: state)
        let lines = try ranks(2) { comm -> String in
            var run = self.setup(mode: .kd)
            run.communicator = comm
            do { _ = try run.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil); return "finished" } catch { return "\(error)" }
        }
        XCTAssertEqual(lines[0], lines[1])
        XCTAssertTrue(lines[0].contains("resume-state.safetensors"), lines[0])
    }
}
