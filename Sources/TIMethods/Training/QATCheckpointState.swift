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

    func save(_ dir: URL, hash: String) throws {
        var meta = ["config_hash": hash, "step": String(step), "phase": String(phase), "elapsed": String(elapsed)]
        if let l = lastStepOneLoss { meta["last_step_one_loss"] = String(l) }
        if let j = stepOneJump { meta["step_one_jump"] = String(j) }
        try SafeTensorsWriter.write(tensors: [("theta", [parameters.count], parameters), ("adam_m", [m.count], m), ("adam_v", [v.count], v)],
                                    metadata: meta, to: dir.appendingPathComponent(Self.file))
    }

    /// The saved state if present. A state written for another configuration is refused.
    static func load(_ dir: URL, expectedHash: String) throws -> QATCheckpointState? {
        let url = dir.appendingPathComponent(file)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let f = try SafeTensorsFile.read(url: url)
        guard f.metadata["config_hash"] == expectedHash else {
            throw DataError.mismatch(file: url.path, reason: "saved for configuration \(f.metadata["config_hash"] ?? "?"), this run is \(expectedHash); use another output directory or remove it")
        }
        guard let step = f.metadata["step"].flatMap(Int.init), let phase = f.metadata["phase"].flatMap(Int.init) else {
            throw DataError.malformed(file: url.path, reason: "metadata lacks step/phase")
        }
        return QATCheckpointState(step: step, phase: phase, parameters: try f.values("theta", as: Float.self),
                                  m: try f.values("adam_m", as: Float.self), v: try f.values("adam_v", as: Float.self),
                                  elapsed: f.metadata["elapsed"].flatMap(Double.init) ?? 0,
                                  lastStepOneLoss: f.metadata["last_step_one_loss"].flatMap(Double.init),
                                  stepOneJump: f.metadata["step_one_jump"].flatMap(Double.init))
    }

    static func remove(_ dir: URL) { try? FileManager.default.removeItem(at: dir.appendingPathComponent(file)) }
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
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").dropFirst().map { line in
            let f = line.split(separator: ",").map(String.init)
            // The first five columns are fixed; the GLUE scores after them are not read back.
            guard f.count >= 5, let step = Int(f[0]), let phase = Int(f[1]), let metric = Double(f[2]), let loss = Double(f[3]), let kd = Double(f[4]) else {
                throw DataError.malformed(file: url.path, reason: "bad row '\(line)'")
            }
            return QATEval(step: step, phase: phase, devMetric: metric, devLoss: loss, probeDistillationLoss: kd, attentionBlockMSE: [], layerOutputMSE: [])
        }
    }
}
