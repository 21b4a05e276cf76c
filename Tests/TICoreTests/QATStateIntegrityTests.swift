// What a QAT run reads back is checked: a resume state changed after it was written (checksum) or
// holding NaN is refused, the temporaries of a killed writer are removed when the run resumes (and
// the resumed run still equals an uninterrupted one), and a run folder is held by one process.
import XCTest
import Foundation
import TICore
import TIData
import TILinalg

final class QATStateIntegrityTests: XCTestCase {
    func setup() -> QATRun {
        let data = SyntheticTaskGenerator(task: .count).make(train: 64, dev: 32)
        let model = BertModel(config: BertConfig(vocabSize: data.vocabSize, hiddenSize: 16, numLayers: 2, numHeads: 2,
                                                 intermediateSize: 32, maxPositions: 32, numLabels: data.numLabels))
        var cfg = QATConfig(mode: QATMode(rawValue: "KD")!)
        cfg.epochs = 2; cfg.batchSize = 16; cfg.evalEvery = 2; cfg.devProbeSize = 16
        return QATRun(model: model, task: data, teacher: model.initialParameters(seed: 5, std: 0.3), config: cfg)
    }

    func interrupted() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-state-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var r = setup()
        r.interruptAfterStep = 2
        XCTAssertThrowsError(try r.run(outDir: dir, teacherPath: "t", teacherDevMetric: nil))
        return dir
    }

    /// Rewrites the resume state with `edit` applied to θ; `reseal` recomputes the checksum.
    func editState(_ dir: URL, reseal: Bool, _ edit: (inout [Float]) -> Void) throws {
        let url = dir.appendingPathComponent("resume-state.safetensors")
        let f = try SafeTensorsFile.read(url: url)
        var theta = try f.values("theta", as: Float.self)
        edit(&theta)
        let m = try f.values("adam_m", as: Float.self), v = try f.values("adam_v", as: Float.self)
        var meta = f.metadata
        if reseal { meta[StateChecksum.key] = StateChecksum.of([("theta", theta), ("adam_m", m), ("adam_v", v)]) }
        try SafeTensorsWriter.write(tensors: [("theta", [theta.count], theta), ("adam_m", [m.count], m), ("adam_v", [v.count], v)],
                                    metadata: meta, to: url)
    }

    func resumeError(_ dir: URL) -> String {
        do { _ = try setup().run(outDir: dir, teacherPath: "t", teacherDevMetric: nil); return "accepted" } catch { return "\(error)" }
    }

    func testAChangedValueIsRefusedByTheChecksum() throws {
        let dir = try interrupted()
        try editState(dir, reseal: false) { $0[7] += 0.5 }
        let e = resumeError(dir)
        XCTAssertTrue(e.contains("resume-state.safetensors") && e.contains("checksum mismatch in theta"), e)
    }

    func testPlantedNaNIsRefusedEvenWithAMatchingChecksum() throws {
        let dir = try interrupted()
        try editState(dir, reseal: true) { $0[3] = .nan }
        let e = resumeError(dir)
        XCTAssertTrue(e.contains("non-finite values in 'theta'"), e)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("student").path), "nothing trained from it")
    }

    func testStaleTemporariesAreRemovedAndTheResumedRunIsUnchanged() throws {
        let dir = try interrupted()
        let stale = [".steps.csv.tmp-99999", ".metadata.json.tmp-4242"]
        for name in stale { try Data("half".utf8).write(to: dir.appendingPathComponent(name)) }
        let (resumed, _, _) = try setup().run(outDir: dir, teacherPath: "t", teacherDevMetric: nil)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(Set(names).intersection(stale), [])
        let whole = dir.deletingLastPathComponent().appendingPathComponent("tia-state-whole-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: whole) }
        let (reference, _, _) = try setup().run(outDir: whole, teacherPath: "t", teacherDevMetric: nil)
        XCTAssertEqual(resumed.map(\.bitPattern), reference.map(\.bitPattern))
    }

    func testTheTemporaryNamePatternIsAtomicFilesOwn() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-tmp-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        try AtomicFile.write("x", to: dir.appendingPathComponent("keep.json"))
        let names = [".a.json.tmp-123", "sub/.b.csv.tmp-9", ".tmp-12", "c.tmp-5", ".d.tmp-", ".e.tmp-12x", "sub/deeper/.f.tmp-1"]
        for n in names {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(n).deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: dir.appendingPathComponent(n))
        }
        XCTAssertEqual(Set(AtomicFile.removeStaleTemporaries(in: dir)), [".a.json.tmp-123", ".b.csv.tmp-9"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("keep.json").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("sub/deeper/.f.tmp-1").path), "one level only")
    }

    func testARunFolderIsLockedAgainstASecondHolder() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tia-lock-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        var first: RunDirectoryLock? = try RunDirectoryLock(dir, file: RunDirectoryLock.qatFile, what: "QAT run")
        // A second open file description on the same lock file conflicts, as another process's would.
        XCTAssertThrowsError(try RunDirectoryLock(dir, file: RunDirectoryLock.qatFile, what: "QAT run")) {
            XCTAssertEqual("\($0)", "\(dir.path)/qat.lock: another process is already running this QAT run directory")
        }
        XCTAssertNotNil(first)
        first = nil
        XCTAssertNoThrow(try RunDirectoryLock(dir, file: RunDirectoryLock.qatFile, what: "QAT run"), "released with its holder")
        // Process-wide holds: a second hold by the same process is a no-op, release frees the file.
        try RunDirectoryLock.hold(dir, file: RunDirectoryLock.qatFile, what: "QAT run")
        XCTAssertNoThrow(try RunDirectoryLock.hold(dir, file: RunDirectoryLock.qatFile, what: "QAT run"))
        XCTAssertThrowsError(try RunDirectoryLock(dir, file: RunDirectoryLock.qatFile, what: "QAT run"))
        RunDirectoryLock.release(dir)
        XCTAssertNoThrow(try RunDirectoryLock(dir, file: RunDirectoryLock.qatFile, what: "QAT run"))
    }
}
