// Step 1 of two-step TI as the seeds run it: which step-1 model step 2 starts from, which part of
// the pipeline a run covers (the seeds' `training_type qat_step1 / qat_step2`), and the evaluation
// with the intervention still active every few steps of step 1.
import Foundation
import TIData
import TIQuant
import TIModel

/// Which step-1 model is handed to step 2 (the seeds' `step1_option`).
public enum StepOneSelection: String, Codable, CaseIterable, Sendable {
    case last   // the model after step 1's last step (the seeds' default)
    case best   // the one with the best intervened dev metric among step 1's evaluations
}

/// Which phases a run covers. A `step2` run starts from a finished `step1` run's student and
/// replays the data order up to it, so step1 + step2 equal the joined run bit for bit.
public enum QATPhaseSelection: String, Codable, CaseIterable, Sendable {
    case all, step1, step2
}

/// One evaluation of step 1 with its intervention active, as the seeds evaluate step 1.
public struct StepOneEval: Codable, Equatable, Sendable {
    public var step: Int
    public var intervention: InterventionPoint
    public var devMetric: Double
    public var devLoss: Double
}

/// What a `step2` run takes from the `step1` run it continues.
struct StepOneHandOff {
    let parameters: [Float]
    let steps: Int
    let lastLoss: Double?
    let run: URL

    /// Reads a finished step-1 run; its configuration must equal this one but for the phase selection.
    static func load(_ run: URL, expecting config: QATConfig) throws -> StepOneHandOff {
        let url = run.appendingPathComponent("metadata.json")
        guard let data = try? Data(contentsOf: url) else {
            throw DataError.io(file: url.path, reason: "not found: a step-2 run continues a finished step-1 run directory")
        }
        let meta = try JSONDecoder().decode(QATRunMetadata.self, from: data)
        var expected = config
        expected.phase = .step1
        guard meta.config == expected else {
            throw DataError.mismatch(file: url.path, reason: "the step-1 run was made with another configuration (mode, seed, budget or options differ)")
        }
        guard let summary = meta.summary, let s = summary.stepOneLength else {
            throw DataError.mismatch(file: url.path, reason: "the step-1 run is not finished")
        }
        let student = try config.mode.method.loadStudent(run, config: meta.config)
        return StepOneHandOff(parameters: student.parameters, steps: s, lastLoss: summary.lastStepOneLoss, run: run)
    }

    /// The resumable state a step-2 run starts from: step 1 done, step 2's optimizer fresh (the
    /// state names phase 2, so no step-1 optimizer moments are looked for).
    var state: QATCheckpointState {
        QATCheckpointState(step: steps, phase: 2, parameters: parameters, m: [], v: [], elapsed: 0, lastStepOneLoss: lastLoss, stepOneJump: nil)
    }

    /// The step-1 run's logs, so the step-2 run directory holds the whole history.
    func copyLogs(to dir: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in ["steps.csv", "evals.csv", "layers.csv", StepOneEvalLog.file] {
            let src = run.appendingPathComponent(name), dst = dir.appendingPathComponent(name)
            guard fm.fileExists(atPath: src.path), !fm.fileExists(atPath: dst.path) else { continue }
            try fm.copyItem(at: src, to: dst)
        }
    }
}

/// step1-evals.csv: step, intervention, dev metric and loss of step 1's intervened evaluations.
/// With `keepsBest`, the best step-1 model so far is kept next to it (step1-best.safetensors), so a
/// run resumed within step 1 still hands the best one to step 2.
final class StepOneEvalLog {
    static let file = "step1-evals.csv"
    static let bestFile = "step1-best.safetensors"
    /// The seeds evaluate step 1 every 10 steps.
    static let every = 10
    /// nil on ranks other than 0, which keep the best model in memory but write nothing.
    let log: CSVLog?
    let bestURL: URL?
    private(set) var best: (metric: Double, parameters: [Float])?

    init(dir: URL, resumedAt: Int?, keepsBest: Bool, writes: Bool = true) throws {
        log = writes ? try CSVLog(dir.appendingPathComponent(Self.file), header: ["step", "intervention", "dev_metric", "dev_loss"],
                                  truncateAfter: resumedAt) : nil
        bestURL = keepsBest ? dir.appendingPathComponent(Self.bestFile) : nil
        if let url = bestURL, resumedAt != nil, FileManager.default.fileExists(atPath: url.path) {
            let f = try SafeTensorsFile.read(url: url)
            guard let m = f.metadata["dev_metric"].flatMap(Double.init) else {
                throw DataError.malformed(file: url.path, reason: "metadata lacks dev_metric")
            }
            best = (m, try f.values("theta", as: Float.self))
        }
    }

    func record(_ e: StepOneEval, parameters: [Float]) throws {
        try log?.append([String(e.step), e.intervention.rawValue, Fmt.g(e.devMetric), Fmt.g(e.devLoss)])
        guard let url = bestURL, best == nil || e.devMetric > best!.metric else { return }
        best = (e.devMetric, parameters)
        guard log != nil else { return }
        try SafeTensorsWriter.write(tensors: [("theta", [parameters.count], parameters)],
                                    metadata: ["dev_metric": String(e.devMetric), "step": String(e.step)], to: url)
    }
}
