import ArgumentParser
import Foundation
import TICore
import TIData
import TIPlots
import TIStudies

struct FiguresCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Collect the runs of a task into a study folder and render every figure with gnuplot (PNG and SVG).",
        discussion: "Landscape and Hessian runs are taken from <runs>/landscape-<task>-* and <runs>/hessian-<task>-*.")

    @OptionGroup var common: CommonOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "QAT modes whose convergence and per-layer error are drawn (runs of --seed).") var modes: String = "KD,MI,OI,TI-G"
    @Option(help: "Render an existing study/run directory as it is instead of collecting.") var dir: String?
    @Option(help: "Folder for the PNG and SVG files.") var out: String = "figures"
    @Option(help: "Dev metric a run must reach (Figs. 1 and 3c); default 0.99 × the FP teacher's.") var target: Double?
    @Option(help: "Run whose budget is Figure 1's x unit and whose iterations to the target the others are compared with.")
    var baseline: String = "KD"
    @Option(help: "Training-loss curve (Fig. 4a): ce = task loss of the student's logits (cross-entropy; MSE for regression), total = the objective.")
    var loss: ConvergenceFigureOptions.TrainingLoss = .crossEntropy

    func validate() throws {
        try PathChecks.inputFolder(dir, "--dir")
        try PathChecks.outputFolder(out, "--out")
    }

    func run() throws {
        let ws = common.workspace
        let task = try taskOptions.source()
        let study: URL
        if let dir {
            study = URL(fileURLWithPath: dir)
        } else {
            study = ws.root.appendingPathComponent("study-\(task.name)")
            let teacher = try ws.teacher(task)
            let info = try InputFile.decodeJSON(FineTuneResult.self, from: teacher.dir.appendingPathComponent("teacher.json"))
            let runs = try parseList(modes, QATMode.init(rawValue:))
                .map { (mode: $0.rawValue, dir: ws.studentDir(task, $0, seed: common.seed)) }
                .filter { FileManager.default.fileExists(atPath: $0.dir.appendingPathComponent("evals.csv").path) }
            if !runs.isEmpty {
                let options = ConvergenceFigureOptions(trainingLoss: loss, taskLossName: teacher.model.config.isRegression
                                                       ? "training MSE (task loss)" : "training cross-entropy", target: target, baseline: baseline)
                let found = try FigureAssembly.collectQAT(runs: runs, into: study, teacherMetric: info.dev.metric,
                                                          metricName: info.dev.metricName, options: options)
                if !found.relativeTime.isEmpty {
                    print(RelativeTime.table(found.relativeTime, target: found.target, targetSource: target == nil ? "0.99 × FP teacher" : "--target",
                                             baseline: baseline, metricName: info.dev.metricName))
                    print("→ \(study.appendingPathComponent("convergence/" + FigureAssembly.relativeTimeFile).path)")
                }
                for note in found.notes { print(note) }
                try FigureAssembly.collectCurvature(runs: runs, into: study)
            }
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: ws.root.path)) ?? []
            let hessians = entries.filter { $0.hasPrefix("hessian-\(task.name)-") }.sorted().map { ws.root.appendingPathComponent($0) }
            try FigureAssembly.collectHessian(dirs: hessians, into: study)
            for name in entries where name.hasPrefix("landscape-\(task.name)-") || name.hasPrefix("intervention-map-\(task.name)-")
                || name.hasPrefix("sensitivity-\(task.name)-") {
                let link = study.appendingPathComponent(name)
                try? FileManager.default.removeItem(at: link)
                try FileManager.default.createSymbolicLink(at: link, withDestinationURL: ws.root.appendingPathComponent(name).standardizedFileURL.absoluteURL)
            }
        }
        let report = try FigureSet().renderAll(runDir: study, figuresDir: URL(fileURLWithPath: out))
        for url in report.rendered where url.pathExtension == "png" { print("rendered \(url.path) (+ .svg)") }
        for s in report.skipped { print("skipped \(s)") }
    }
}

extension ConvergenceFigureOptions.TrainingLoss: ExpressibleByArgument {}
