// The convergence figures of a run directory (conventions in FigureSet.swift): training loss
// (Fig. 4a), dev metric with the intervened step-1 evaluation overlaid (Fig. 3c), and the dev metric
// against iterations relative to the baseline's budget (Fig. 1).
import Foundation

extension RunDirectoryScan {
    /// convergence/figure.json: what the curves alone do not say.
    struct ConvergenceInfo: Decodable {
        var teacher: Double?
        var target: Double?
        var step1: Int?
        var metricName: String?
        var runs: [String]?
        /// The training-loss curve's y label (the task cross-entropy or the objective's total).
        var lossName: String?
        /// Figure 1's reference run.
        var baseline: String?
    }

    func convergence() -> [Result<FigureSpec, SkippedFigure>] {
        let info = try? JSONDecoder().decode(ConvergenceInfo.self, from: Data(contentsOf: runDir.appendingPathComponent("convergence/figure.json")))
        return [
            catching("convergence-loss") {
                let runs = try runFiles(prefix: "train-", order: info?.runs)
                return try FigureSpec.convergenceLoss(runs: runs.map(\.url), titles: runs.map(\.title), step1: info?.step1,
                                                      ylabel: info?.lossName)
            },
            catching("convergence-metric") {
                let runs = try runFiles(prefix: "dev-", order: info?.runs)
                guard let teacher = info?.teacher else { throw SkippedFigure(reason: "convergence-metric: convergence/figure.json has no \"teacher\"") }
                return try FigureSpec.convergenceMetric(runs: runs.map(\.url), titles: runs.map(\.title), teacher: teacher,
                                                        target: info?.target, step1: info?.step1,
                                                        metricName: info?.metricName ?? "dev metric", stepOne: stepOneSeries(runs))
            },
            catching("fig1-relative-time") { try relativeTime(info) },
        ] + curvatureFigures(step1: info?.step1)
    }

    /// convergence/step1-<run>.csv of the runs that have one.
    private func stepOneSeries(_ runs: [(url: URL, title: String)]) -> [FigureSpec.StepOneSeries] {
        runs.enumerated().compactMap { i, run in
            let url = runDir.appendingPathComponent("convergence/step1-\(run.title).csv")
            guard fm.fileExists(atPath: url.path) else { return nil }
            return FigureSpec.StepOneSeries(file: url, title: "\(run.title) step 1 (intervened)", run: i)
        }
    }

    /// Figure 1 from the dev curves of the runs listed in fig1-relative-time.csv.
    private func relativeTime(_ info: ConvergenceInfo?) throws -> FigureSpec {
        let table = try file("convergence/fig1-relative-time.csv")
        guard let teacher = info?.teacher, let target = info?.target else {
            throw SkippedFigure(reason: "fig1-relative-time: convergence/figure.json has no \"teacher\" or \"target\"")
        }
        let reach = try CSVColumn.firstValues("relative_time", keyedBy: "mode", in: table)
        let ratio = try CSVColumn.firstValues("ratio_vs_kd", keyedBy: "mode", in: table)
        let runs = try runFiles(prefix: "dev-", order: info?.runs).filter { reach[$0.title] != nil }
        guard !runs.isEmpty else { throw SkippedFigure(reason: "fig1-relative-time: no run of fig1-relative-time.csv has a convergence/dev-<run>.csv") }
        return try FigureSpec.relativeTime(runs: runs.map(\.url), titles: runs.map(\.title), teacher: teacher, target: target,
                                           reach: runs.map { Double(reach[$0.title] ?? "") }, ratios: runs.map { Double(ratio[$0.title] ?? "") },
                                           baseline: info?.baseline ?? "KD", metricName: info?.metricName ?? "dev metric")
    }
}
