// What an interrupted QAT run needs to continue exactly: θ and the optimizer moments at the last
// evaluation, the step and phase, and the step-1 loss bookkeeping. The data order, dropout and
// TI-S draws are replayed from the seed, so a resumed run equals an uninterrupted one bit for bit.
import Foundation
import TILinalg
import TIQuant
import TIModel
import TIData

public struct QATCheckpointState {
    public var step: Int
    public var phase: Int
    public var parameters: [Float]
    public var m: [Float]
    public var v: [Float]
    public var elapsed: Double
    public var lastStepOneLoss: Double?
    public var stepOneJump: Double?

    static let file = "resume-state.safetensors"

    static let tensorNames = ["theta", "adam_m", "adam_v"]

    func save(_ dir: URL, hash: String) throws {
        var meta = ["config_hash": hash, "step": String(step), "phase": String(phase), "elapsed": String(elapsed)]
        if let l = lastStepOneLoss { meta["last_step_one_loss"] = String(l) }
        if let j = stepOneJump { meta["step_one_jump"] = String(j) }
        meta[StateChecksum.key] = StateChecksum.of(zip(Self.tensorNames, [parameters, m, v]).map { (name: $0, values: $1) })
        try SafeTensorsWriter.write(tensors: [("theta", [parameters.count], parameters), ("adam_m", [m.count], m), ("adam_v", [v.count], v)],
                                    metadata: meta, to: dir.appendingPathComponent(Self.file))
    }

    /// Opens a run folder for (re)writing and returns its saved state if present. The run loop calls
    /// this first, before it writes anything, so this is where the folder is claimed: the QAT run lock
    /// is taken for the rest of the run (a second process on the folder is refused; `remove` releases
    /// it), and the temporary files of a killed writer are deleted. A state written for another
    /// configuration, changed after it was written (checksum), or holding non-finite values is refused.
    static func load(_ dir: URL, expectedHash: String) throws -> QATCheckpointState? {
        try RunDirectoryLock.hold(dir, file: RunDirectoryLock.qatFile, what: "QAT run")
        AtomicFile.removeStaleTemporaries(in: dir)
        return try read(dir, expectedHash: expectedHash)
    }

    /// The saved state, read without claiming the folder (ranks other than 0, after rank 0 claimed it).
    static func read(_ dir: URL, expectedHash: String) throws -> QATCheckpointState? {
        let url = dir.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let f = try SafeTensorsFile.read(url: url)
        guard f.metadata["config_hash"] == expectedHash else {
            throw DataError.mismatch(file: url.path, reason: "saved for configuration \(f.metadata["config_hash"] ?? "?"), this run is \(expectedHash); use another output directory or remove it")
        }
        guard let step = f.metadata["step"].flatMap(Int.init), let phase = f.metadata["phase"].flatMap(Int.init), step >= 0 else {
            throw DataError.malformed(file: url.path, reason: "metadata lacks step/phase")
        }
        try StateChecksum.verify(f, names: tensorNames, required: false)
        let tensors = try tensorNames.map { try f.values($0, as: Float.self) }
        if let bad = zip(tensorNames, tensors).first(where: { !Vec.isFinite($0.1) }) {
            throw DataError.malformed(file: url.path, reason: "non-finite values in '\(bad.0)': resuming would train from a broken state; remove the file to restart the run")
        }
        return QATCheckpointState(step: step, phase: phase, parameters: tensors[0], m: tensors[1], v: tensors[2],
                                  elapsed: f.metadata["elapsed"].flatMap(Double.init) ?? 0,
                                  lastStepOneLoss: f.metadata["last_step_one_loss"].flatMap(Double.init),
                                  stepOneJump: f.metadata["step_one_jump"].flatMap(Double.init))
    }

    /// The run finished: its state is no longer needed, and the folder's lock is released.
    static func remove(_ dir: URL) {
        try? FileManager.default.removeItem(at: dir.appendingPathComponent(file))
        RunDirectoryLock.release(dir)
    }
}

extension QATRun {
    static func configHash(config: QATConfig, teacher: [Float], task: TaskData) -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        var h = StableHash()
        h.add(String(decoding: (try? enc.encode(config)) ?? Data(), as: UTF8.self))
        h.add(Checkpoint.hash(teacher))
        h.add(task.hash)
        return h.hex
    }

    /// The evaluations already in evals.csv/layers.csv (for the summary of a resumed run).
    static func readEvals(_ dir: URL) throws -> [QATEval] {
        let url = dir.appendingPathComponent("evals.csv")
        return try InputFile.lines(try InputFile.text(url), omittingEmpty: true).dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            // The first five columns are fixed; the GLUE scores after them are not read back.
            guard f.count >= 5, let step = Int(f[0]), let phase = Int(f[1]), let metric = Double(f[2]), let loss = Double(f[3]), let kd = Double(f[4]) else {
                throw DataError.malformed(file: url.path, reason: "bad row '\(line)'")
            }
            return QATEval(step: step, phase: phase, devMetric: metric, devLoss: loss, probeDistillationLoss: kd, attentionBlockMSE: [], layerOutputMSE: [])
        }
    }
}
