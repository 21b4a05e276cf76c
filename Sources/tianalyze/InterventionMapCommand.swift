import ArgumentParser
import Foundation
import TICore
import TILinalg
import TIStudies

struct InterventionMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intervention-map",
        abstract: "Per layer and point (MI, CI, OI): KD loss, top Hessian eigenvalue and per-layer MSE vs the teacher with the intervention at that layer alone, relative to none.",
        discussion: "Writes intervention-map.csv, intervention-map-layers.csv and intervention-map.json (a rerun with the same options continues); `tianalyze plot --dir` draws the heatmap.")

    @OptionGroup var common: CommonOptions
    @Option(help: "QAT method whose student is mapped (its quantization): \(QATMode.allCases.map(\.rawValue).joined(separator: ", ")).") var mode: QATMode = .tiG
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "Map this checkpoint directory instead of the method's student.") var checkpoint: String?
    @Option(help: "trained (the method's student) or init (freshly quantized teacher).") var at: AnalysisPointChoice = .trained
    @Option(help: "Dev examples the loss, MSE and Hessian average over.") var samples = 64
    @Option(help: "Batch size of the averaged HVP.") var batchSize = 32
    @Option(help: "Floating-point precision of the Hessian products.") var precision: Precision = .f64
    @Option(parsing: .unconditional, help: "Relative tolerance of the power iteration, in (0, 1).") var tol = 1e-3
    @Option(help: "Power-iteration limit per entry.") var maxIter = 50
    @Option(help: "Output directory (default <runs>/intervention-map-<task>-<mode>[-init]).") var out: String?

    func validate() throws {
        try PathChecks.inputFolder(checkpoint, "--checkpoint")
        try Domain.count(samples, "--samples", Domain.examples, "examples")
        try Domain.count(batchSize, "--batch-size", Domain.batch, "examples")
        try Domain.tolerance(tol)
        try Domain.count(maxIter, "--max-iter", Domain.iterations, "iterations")
        if let out {
            try PathChecks.outputFolder(out, "--out")
            try PathChecks.notOverwriting(out, "--out", inputs: [("--checkpoint", checkpoint)])
        }
    }

    func run() throws {
        let task = try taskOptions.source()
        let ws = common.workspace
        var o = InterventionMapOptions()
        o.mode = mode; o.at = at; o.samples = samples; o.batchSize = batchSize; o.precision = precision
        o.seed = common.seed; o.tolerance = tol; o.maxIterations = maxIter
        let target = try AnalysisTarget.resolve(workspace: ws, task: task, mode: mode, at: at, checkpoint: checkpoint, seed: common.seed)
        let dir = out.map { URL(fileURLWithPath: $0) }
            ?? ws.root.appendingPathComponent("intervention-map-\(task.name)-\(mode.rawValue)" + (at == .initial ? "-init" : ""))
        let entries = try InterventionMap.run(target: target, options: o, outDir: dir, events: common.events)
        guard let ref = entries.first else { return }
        print(String(format: "no intervention: loss %.5g, λmax %.5g, last-layer MSE %.4g", ref.loss, ref.topEigenvalue, ref.layerOutputMSE.last ?? .nan))
        print("layer  point  loss/none  λmax/none  last-layer MSE/none")
        for e in entries.dropFirst() {
            print(String(format: "%5d  %5@  %9.4f  %9.4f  %9.4f%@", e.layer ?? -1, e.point?.rawValue ?? "-", e.loss / ref.loss,
                         e.topEigenvalue / ref.topEigenvalue, (e.layerOutputMSE.last ?? .nan) / (ref.layerOutputMSE.last ?? .nan),
                         e.converged ? "" : "  (λ not converged)"))
        }
        print("→ \(dir.appendingPathComponent(InterventionMap.file).path)")
    }
}
