import ArgumentParser
import Foundation
import TICore
import TIData
import TIStudies

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Convergence of QAT methods on one task over seeds: final metric, steps to 99 % of FP, probe-loss thresholds, step-1 jump.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var taskOptions: TaskOptions
    @OptionGroup var runSet: RunSetOptions
    @Option(help: "Dev metric for Figure 1's iterations to target; default 0.99 × the FP teacher's.") var target: Double?
    @Option(help: "Run whose budget is Figure 1's x unit (needed for every seed).") var baseline: String = "KD"

    func run() throws {
        common.apply()
        let task = try taskOptions.source()
        let ws = common.workspace
        let teacher = try ws.teacher(task)
        let info = try InputFile.decodeJSON(FineTuneResult.self, from: teacher.dir.appendingPathComponent("teacher.json"))
        var rows: [ConvergenceRow] = [], curves: [RelativeTimeRun] = []
        for seed in try runSet.seedList(default: "1") {
            for mode in try runSet.modeList() {
                var cfg = QATConfig(mode: mode)
                cfg.epochs = runSet.epochs; cfg.learningRate = runSet.lr
                _ = try ws.student(task, mode: mode, seed: seed, config: cfg)
                rows.append(try ConvergenceReport.row(runDir: ws.studentDir(task, mode, seed: seed), teacherMetric: info.dev.metric))
                curves.append(try RelativeTimeRun.read(runDir: ws.studentDir(task, mode, seed: seed)))
            }
        }
        print(ConvergenceReport.table(rows, teacherMetric: info.dev.metric, ternaryMetric: info.devTernaryNoQAT.metric, metricName: info.dev.metricName))
        let spread = SeedSpread.rows(rows)
        if spread.contains(where: { $0.seeds > 1 }) { print(SeedSpread.table(spread, metricName: info.dev.metricName)) }
        let csv = ws.root.appendingPathComponent("compare-\(task.name).csv")
        try ConvergenceReport.writeCSV(rows, to: csv)
        print("→ \(csv.path)")
        let goal = target ?? ConvergenceReport.defaultTarget(teacherMetric: info.dev.metric)
        let relative: [RelativeTimeRow]
        do { relative = try RelativeTime.rows(curves, baseline: baseline, target: goal) } catch let e as MissingBaselineError {
            print("Figure 1 left out: \(e)")
            return
        }
        print(RelativeTime.table(relative, target: goal, targetSource: target == nil ? "0.99 × FP teacher" : "--target", baseline: baseline,
                                 metricName: info.dev.metricName))
        let fig1 = ws.root.appendingPathComponent("fig1-relative-time-\(task.name).csv")
        try RelativeTime.writeCSV(relative, to: fig1)
        print("→ \(fig1.path)")
    }
}

func parseList<T>(_ text: String, _ make: (String) -> T?) throws -> [T] {
    try text.split(separator: ",").map { s in
        let item = s.trimmingCharacters(in: .whitespaces)
        guard let v = make(item) else { throw ValidationError("unknown value '\(item)' in '\(text)'") }
        return v
    }
}
