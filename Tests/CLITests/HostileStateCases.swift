// Corpus, part 3: run state a killed, failed or tampered run leaves behind. An unfinished student,
// a finished landscape record changed afterwards, a QAT resume state with NaN planted in it, and a
// second process on a run folder another one holds.
import Foundation
import TICore
import TIData

extension HostileCase {
    static let stateCases: [HostileCase] = [
        HostileCase("hessian of an unfinished student", cli("hessian", "--mode", "KD", "--samples", "4", "--top-k", "1", "--max-iter", "2",
                                                           "--lanczos-steps", "0", "--trace-probes", "0"),
                    .refused(["qat-count-KD-seed1", "unfinished"]), maxSeconds: 5) {
            try $0.teacher(); try $0.unfinishedStudent(mode: "KD")
        },
        HostileCase("finished landscape with a changed number", landscape, .refused(["landscape.csv", "checksum"]), maxSeconds: 10) {
            try finishedLandscape($0) { text in
                // The first loss of the first point, one digit changed.
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                var fields = lines[1].split(separator: ",").map(String.init)
                fields[3] = fields[3].hasPrefix("1") ? "2" + fields[3].dropFirst() : "1" + fields[3].dropFirst()
                lines[1] = fields.joined(separator: ",")
                return lines.joined(separator: "\n")
            }
        },
        HostileCase("finished landscape with a planted NaN", landscape, .refused(["landscape.csv", "checksum"]), maxSeconds: 10) {
            try finishedLandscape($0) { text in
                var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
                lines[2] = lines[2].split(separator: ",").prefix(3).joined(separator: ",") + ",nan,nan,nan"
                return lines.joined(separator: "\n")
            }
        },
        HostileCase("finished landscape claims more points than its CSV holds", landscape, .refused(["landscape.csv"]), maxSeconds: 10) {
            try finishedLandscape($0) { text in
                let lines = text.split(separator: "\n").map(String.init)
                return lines.dropLast().joined(separator: "\n") + "\n"
            }
        },
        HostileCase("finished landscape saved with CRLF line ends", landscape, .accepted, maxSeconds: 10, mayWrite: ["{S}/land"]) {
            try finishedLandscape($0) { $0.replacingOccurrences(of: "\n", with: "\r\n") }
        },
        HostileCase("QAT resume state truncated", cli("qat", "--mode", "KD"), .refused(["resume-state.safetensors"]), maxSeconds: 10) {
            try interruptedQAT($0)
            let url = $0.url("runs/qat-count-KD-seed1/resume-state.safetensors")
            try Data(try Data(contentsOf: url).prefix(1000)).write(to: url)
        },
        // The tiny model's loss grows about tenfold at this rate: the threshold is lowered to see it stop.
        HostileCase("qat at a learning rate that diverges", cli("qat", "--mode", "KD", "--lr", "1", "--epochs", "1", "--divergence-factor", "5"),
                    .refused(["diverged", "--lr", "--divergence-factor"]), maxSeconds: 30, mayWrite: ["{R}/qat-count-KD-seed1"]) {
            try $0.teacher()
        },
        HostileCase("QAT resume state with NaN planted", cli("qat", "--mode", "KD"), .refused(["resume-state.safetensors"]),
                    maxSeconds: 10) {
            try interruptedQAT($0)
            try plantNaN($0, resealed: false)
        },
        HostileCase("QAT resume state with NaN planted and a matching checksum", cli("qat", "--mode", "KD"),
                    .refused(["resume-state.safetensors", "non-finite"]), maxSeconds: 10) {
            try interruptedQAT($0)
            try plantNaN($0, resealed: true)
        },
        HostileCase("qat on a run folder another process holds", cli("qat", "--mode", "KD"), .refused(["another process"]), maxSeconds: 10) {
            try $0.teacher()
            try holdLock($0.url("runs/qat-count-KD-seed1/\(RunDirectoryLock.qatFile)"))
        },
    ]

    static let landscape = cli("landscape", "--at", "init", "--mode", "KD", "--objective", "task", "--grid", "3", "--eval-size", "8",
                               "--batch-size", "8", "--out", "{S}/land")

    /// The small landscape run to completion (once, then copied), its CSV then edited with `tamper`.
    static func finishedLandscape(_ s: HostileSandbox, tamper: (String) -> String) throws {
        try HostileTemplates.copy("finished landscape", into: s) { t in
            try t.teacher()
            let r = try HostileRunner.run(HostileCase("", landscape, .refused([])).expand(landscape, t), in: t.root, timeout: 120)
            guard r.status == 0 else { throw DataError.io(file: "landscape", reason: "setup run failed: \(r.stderr)") }
        }
        let csv = s.url("land/landscape.csv")
        try tamper(try String(contentsOf: csv, encoding: .utf8)).write(to: csv, atomically: false, encoding: .utf8)
    }

    /// The CLI's default KD run on the embedded task, stopped (as a kill would) after its first saved
    /// state (made once, then copied).
    static func interruptedQAT(_ s: HostileSandbox) throws {
        try HostileTemplates.copy("interrupted QAT", into: s, make: makeInterruptedQAT)
    }

    static func makeInterruptedQAT(_ s: HostileSandbox) throws {
        try s.teacher()
        let teacher = try Checkpoint.load(s.teacherDir)
        let data = SyntheticTaskGenerator(task: .count).make(train: Workspace.defaultTrainSize, dev: Workspace.defaultDevSize)
        var run = QATRun(model: BertModel(config: teacher.config), task: data, teacher: teacher.parameters, config: QATConfig(mode: QATMode(rawValue: "KD")!))
        run.interruptAfterStep = 1
        do {
            _ = try run.run(outDir: s.url("runs/qat-count-KD-seed1"), teacherPath: s.teacherDir.path, teacherDevMetric: nil)
        } catch is CancellationError {}
        RunDirectoryLock.release(s.url("runs/qat-count-KD-seed1"))
    }

    /// NaN in the saved parameters; `resealed` also rewrites the state's checksum to match (a
    /// deliberate edit rather than corruption), so only the finiteness check can catch it.
    static func plantNaN(_ s: HostileSandbox, resealed: Bool) throws {
        let url = s.url("runs/qat-count-KD-seed1/resume-state.safetensors")
        let f = try SafeTensorsFile.read(url: url)
        var theta = try f.values("theta", as: Float.self)
        for i in stride(from: 0, to: theta.count, by: 97) { theta[i] = .nan }
        let tensors = [("theta", [theta.count], theta), ("adam_m", [theta.count], try f.values("adam_m", as: Float.self)),
                       ("adam_v", [theta.count], try f.values("adam_v", as: Float.self))]
        var meta = f.metadata
        if resealed { meta[StateChecksum.key] = StateChecksum.of(tensors.map { ($0.0, $0.2) }) }
        try SafeTensorsWriter.write(tensors: tensors, metadata: meta, to: url)
    }

    /// Holds an exclusive lock on `url` for the rest of the test process (as a running job would).
    static func holdLock(_ url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(url.path, O_RDWR | O_CREAT, 0o644)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw DataError.io(file: url.path, reason: "cannot lock") }
    }
}
