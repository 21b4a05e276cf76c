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
    @Option(help: "Comma-separated modes.") var modes: String = "KD,TI-G"
    @Option(help: "Comma-separated seeds.") var seeds: String = "1"
    @Option(help: "Budget N in epochs for runs trained now (the same for every mode).") var epochs: Int = QATConfig.defaults.epochs
    @Option(parsing: .unconditional, help: "Peak learning rate for runs trained now (the same for every mode), in (0, 1].")
    var lr: Double = QATConfig.defaults.learningRate

    func validate() throws {
        try Domain.count(epochs, "--epochs", Domain.epochs)
        try Domain.learningRate(lr)
    }

    func run() throws {
        common.apply()
        let task = try taskOptions.source()
        let ws = common.workspace
        let teacher = try ws.teacher(task)
        let info = try InputFile.decodeJSON(FineTuneResult.self, from: teacher.dir.appendingPathComponent("teacher.json"))
        var rows: [ConvergenceRow] = []
        for seed in try parseList(seeds, UInt64.init) {
            for mode in try parseList(modes, QATMode.init(rawValue:)) {
                var cfg = QATConfig(mode: mode)
                cfg.epochs = epochs; cfg.learningRate = lr
                _ = try ws.student(task, mode: mode, seed: seed, config: cfg)
                rows.append(try ConvergenceReport.row(runDir: ws.studentDir(task, mode, seed: seed), teacherMetric: info.dev.metric))
            }
        }
        print(ConvergenceReport.table(rows, teacherMetric: info.dev.metric, ternaryMetric: info.devTernaryNoQAT.metric, metricName: info.dev.metricName))
        let csv = ws.root.appendingPathComponent("compare-\(task.name).csv")
        try ConvergenceReport.writeCSV(rows, to: csv)
        print("→ \(csv.path)")
    }
}

func parseList<T>(_ text: String, _ make: (String) -> T?) throws -> [T] {
    try text.split(separator: ",").map { s in
        let item = s.trimmingCharacters(in: .whitespaces)
        guard let v = make(item) else { throw ValidationError("unknown value '\(item)' in '\(text)'") }
        return v
    }
}
