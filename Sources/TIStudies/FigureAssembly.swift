// Gathers what the runs wrote into the layout the figure scripts read (see TIPlots/FigureSet):
// convergence curves per mode (training loss, dev metric, the intervened step-1 evaluation),
// Figure 1's relative fine-tuning time, per-layer MSE at the end of QAT, per-example Hessian
// extremes and densities. Landscape runs write their own folder inside the study directory.
import Foundation
import TIData
import TICore

/// What the convergence figures draw besides the runs themselves.
public struct ConvergenceFigureOptions: Sendable {
    /// Fig. 4a's curve: the task loss of the student's logits on each training batch (steps.csv
    /// `train_ce`, what the paper plots) or the objective's total (`loss`; for KD without the task term).
    public enum TrainingLoss: String, CaseIterable, Sendable { case crossEntropy = "ce", total }
    public var trainingLoss: TrainingLoss = .crossEntropy
    /// The y label of the task-loss curve (regression tasks log the MSE there).
    public var taskLossName = "training cross-entropy"
    /// The dev metric a run must reach (Figs. 1 and 3c); nil: ConvergenceReport.defaultTarget.
    public var target: Double? = nil
    /// The run whose budget is Figure 1's x unit and whose iterations to the target the others are divided by.
    public var baseline = "KD"

    public init(trainingLoss: TrainingLoss = .crossEntropy, taskLossName: String = "training cross-entropy", target: Double? = nil,
                baseline: String = "KD") {
        self.trainingLoss = trainingLoss; self.taskLossName = taskLossName; self.target = target; self.baseline = baseline
    }
}

/// What collecting the QAT runs found: Figure 1's rows (empty when it was left out) and why not.
public struct QATCollection: Sendable {
    public var target: Double
    public var relativeTime: [RelativeTimeRow] = []
    public var notes: [String] = []
}

public enum FigureAssembly {
    /// Convergence, Figure 1 and per-layer files from QAT run directories, keyed by mode name.
    /// Figure 1 needs every run finished and a baseline run of each seed; without them it is left
    /// out (the returned notes say why) and the other figures are still collected.
    @discardableResult
    public static func collectQAT(runs: [(mode: String, dir: URL)], into study: URL, teacherMetric: Double, metricName: String,
                                  options: ConvergenceFigureOptions = .init()) throws -> QATCollection {
        let conv = study.appendingPathComponent("convergence")
        let target = options.target ?? ConvergenceReport.defaultTarget(teacherMetric: teacherMetric)
        var collection = QATCollection(target: target)
        var budgets: [UInt64: Int] = [:]
        do {
            let curves = try runs.map { try RelativeTimeRun.read(runDir: $0.dir) }
            collection.relativeTime = try RelativeTime.rows(curves, baseline: options.baseline, target: target)
            for c in curves where c.mode == options.baseline && budgets[c.seed] == nil { budgets[c.seed] = c.totalSteps }
            try RelativeTime.writeCSV(collection.relativeTime, to: conv.appendingPathComponent(relativeTimeFile))
        } catch {
            try? FileManager.default.removeItem(at: conv.appendingPathComponent(relativeTimeFile))
            collection.notes.append("Figure 1 left out: \(error)")
        }
        var layerRows = ["layer,mode,attn_mse,out_mse"]
        var step1: Int? = nil
        for (i, (mode, dir)) in runs.enumerated() {
            let budget = collection.relativeTime.isEmpty ? nil : budgets[collection.relativeTime[i].seed]
            let lastStepOne = try writeTrainingCurve(dir, mode: mode, loss: options.trainingLoss, into: conv)
            if step1 == nil { step1 = lastStepOne }
            try writeDevCurve(dir, mode: mode, baselineTotal: budget, into: conv)
            try writeStepOneCurve(dir, mode: mode, into: conv)
            try OscillationFigureData.write(dir, mode: mode, into: study)
            layerRows += try lastLayerRows(dir, mode: mode)
        }
        var info: [String: Any] = ["teacher": teacherMetric, "target": target, "metricName": "dev " + metricName,
                                   "runs": runs.map(\.mode), "baseline": options.baseline,
                                   "lossName": options.trainingLoss == .crossEntropy ? options.taskLossName : "training loss (objective total)"]
        if let step1 { info["step1"] = step1 }
        try AtomicFile.write(JSONSerialization.data(withJSONObject: info, options: [.sortedKeys, .prettyPrinted]),
                             to: conv.appendingPathComponent("figure.json"))
        try AtomicFile.write(layerRows.joined(separator: "\n") + "\n", to: study.appendingPathComponent("layer-mse.csv"))
        return collection
    }

    /// Figure 1's table inside the study's convergence folder.
    public static let relativeTimeFile = "fig1-relative-time.csv"

    /// convergence/train-<mode>.csv (`step,phase,loss`); returns the last step-1 step, if the run has a step 1.
    static func writeTrainingCurve(_ dir: URL, mode: String, loss: ConvergenceFigureOptions.TrainingLoss, into conv: URL) throws -> Int? {
        let steps = try CSVTable.read(dir.appendingPathComponent("steps.csv"))
        let s = try steps.strings("step"), p = try steps.strings("phase")
        guard loss == .total || steps.header.contains("train_ce") else {
            throw DataError.malformed(file: steps.file, reason: "no column 'train_ce' (logged before the task cross-entropy was): rerun the run, or plot the objective's total loss")
        }
        let l = try steps.strings(loss == .crossEntropy ? "train_ce" : "loss")
        var train = ["step,phase,loss"]
        for i in s.indices { train.append("\(s[i]),\(p[i]),\(l[i])") }
        try AtomicFile.write(train.joined(separator: "\n") + "\n", to: conv.appendingPathComponent("train-\(mode).csv"))
        return p.lastIndex(of: "1").flatMap { Int(s[$0]) }
    }

    /// convergence/dev-<mode>.csv (`step,phase,metric`, plus Figure 1's `relative_time` = step / the baseline's total steps).
    static func writeDevCurve(_ dir: URL, mode: String, baselineTotal: Int?, into conv: URL) throws {
        let evals = try CSVTable.read(dir.appendingPathComponent("evals.csv"))
        let es = try evals.strings("step"), ep = try evals.strings("phase"), em = try evals.strings("dev_metric")
        let relative = try baselineTotal.map { RelativeTime.relativeSteps(try evals.column("step").map { Int($0) }, baselineTotal: $0) }
        var dev = ["step,phase,metric" + (relative == nil ? "" : ",relative_time")]
        for i in es.indices { dev.append("\(es[i]),\(ep[i]),\(em[i])" + (relative.map { "," + Fmt.g($0[i]) } ?? "")) }
        try AtomicFile.write(dev.joined(separator: "\n") + "\n", to: conv.appendingPathComponent("dev-\(mode).csv"))
    }

    /// convergence/step1-<mode>.csv (`step,intervention,metric`) from the run's step1-evals.csv: the
    /// dev metric evaluated during step 1 with the intervention active (the seeds' step-1 evaluation).
    static func writeStepOneCurve(_ dir: URL, mode: String, into conv: URL) throws {
        let out = conv.appendingPathComponent("step1-\(mode).csv")
        let url = dir.appendingPathComponent("step1-evals.csv")
        guard FileManager.default.fileExists(atPath: url.path) else {
            try? FileManager.default.removeItem(at: out)  // a stale curve from an earlier collection
            return
        }
        let t = try CSVTable.read(url)
        let s = try t.strings("step"), v = try t.strings("intervention"), m = try t.strings("dev_metric")
        var rows = ["step,intervention,metric"]
        for i in s.indices { rows.append("\(s[i]),\(v[i]),\(m[i])") }
        try AtomicFile.write(rows.joined(separator: "\n") + "\n", to: out)
    }

    /// The per-layer MSE rows of the run's last evaluation.
    static func lastLayerRows(_ dir: URL, mode: String) throws -> [String] {
        let layers = try CSVTable.read(dir.appendingPathComponent("layers.csv"))
        let ls = try layers.strings("step"), ll = try layers.strings("layer"), la = try layers.strings("attn_mse"), lo = try layers.strings("out_mse")
        guard let lastStep = ls.last else { return [] }
        return ls.indices.filter { ls[$0] == lastStep }.map { "\(ll[$0]),\(mode),\(la[$0]),\(lo[$0])" }
    }

    /// Per-example extremes (eigs-<mode>.csv) and densities (density-<mode>.csv) from Hessian runs.
    public static func collectHessian(dirs: [URL], into study: URL) throws {
        let out = study.appendingPathComponent("hessian")
        var rows = ["mode,example,lambda_pos,lambda_neg"]
        for dir in dirs {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for name in names.sorted() {
                let url = dir.appendingPathComponent(name)
                if name.hasPrefix("eigs-") && name.hasSuffix(".csv") {
                    let t = try CSVTable.read(url)
                    rows += t.rows.map { $0.joined(separator: ",") }
                } else if name.hasPrefix("density-") && name.hasSuffix(".csv") {
                    try AtomicFile.write(Data(contentsOf: url), to: out.appendingPathComponent(name))
                }
            }
        }
        if rows.count > 1 { try AtomicFile.write(rows.joined(separator: "\n") + "\n", to: out.appendingPathComponent("eigs.csv")) }
    }
}
