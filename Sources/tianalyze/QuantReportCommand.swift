// tianalyze quant-report: every weight's and activation site's range, bits and SQNR on calibration
// batches, and per-hidden-dimension activation ranges, as CSV (quant-sites.csv, quant-dims.csv).
import ArgumentParser
import Foundation
import TICore
import TILinalg

struct QuantReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quant-report",
        abstract: "Per-site ranges, bits and SQNR of a mode's quantizers on calibration batches, and per-dimension activation ranges (CSV).")

    @OptionGroup var common: CommonOptions
    @OptionGroup var quant: QuantizationOptions
    @Option(help: "Method whose student is reported (FP: the teacher, unquantized ranges).") var mode: QATMode = .ptqW8A8
    @OptionGroup var taskOptions: TaskOptions
    @Option(name: .customLong("run"), help: "A finished run directory (default: the mode's student in <runs>, trained or calibrated now if missing).")
    var runDir: String?
    @Option(help: "Report batches drawn (seeded) from the training set.") var batches: Int = 1
    @Option(help: "Examples per report batch.") var batchSize: Int = 32
    @Option(help: "Output directory (default <run dir>/quant-report).") var out: String?

    func validate() throws {
        try Domain.count(batches, "--batches", Domain.calibration, "batches")
        try Domain.count(batchSize, "--batch-size", Domain.batch, "examples")
        try PathChecks.inputFolder(runDir, "--run")
        if let out { try PathChecks.outputFolder(out, "--out") }
        try quant.check(mode: mode)
    }

    func run() throws {
        common.apply()
        let task = try taskOptions.source()
        let ws = common.workspace
        let data = try ws.taskData(task)
        let model: BertModel, θ: [Float], quantization: QuantConfig, dir: URL
        if let r = runDir {
            dir = URL(fileURLWithPath: r)
            (model, θ, quantization) = try QATRun.loadStudent(dir)
        } else if mode.method.studentIsTeacher {
            let t = try ws.teacher(task)
            (model, θ, quantization, dir) = (t.model, t.parameters, .fullPrecision, t.dir)
        } else {
            var cfg = QATConfig(mode: mode)
            cfg.seed = common.seed
            try quant.apply(to: &cfg)
            let s = try ws.student(task, mode: mode, seed: common.seed, config: cfg)
            dir = s.dir
            (model, θ, quantization) = try QATRun.loadStudent(dir)
        }
        var stream = BatchStream(examples: data.train, batchSize: batchSize, seqLen: data.seqLen, regression: data.isRegression,
                                 rng: SeededRandom(seed: common.seed).derived("quant-report"))
        let report = QuantReport.measure(model: model, parameters: θ, quantization: quantization,
                                         batches: (0..<batches).map { _ in stream.next() })
        let outDir = out.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("quant-report")
        try QuantReport.write(sites: report.sites, dims: report.dims, to: outDir)

        print("\(mode.rawValue) (\(quantization.name)) on \(task.name), \(batches)×\(batchSize) examples, seed \(common.seed)")
        print(pad("kind", 10) + pad("site", 52) + pad("quantizer", 28) + pad("bits", 5) + pad("range", 24) + "SQNR dB")
        for r in report.sites {
            print(pad(r.kind, 10) + pad(r.name, 52) + pad(r.quantizer, 28) + pad(r.bits.map(String.init) ?? "-", 5)
                  + pad(String(format: "[%.3g, %.3g]", r.lo, r.hi), 24) + (r.sqnrDB.isInfinite ? "inf" : String(format: "%.1f", r.sqnrDB)))
        }
        // Structured outliers: per site, the widest dimensions against the median width.
        print("\nwidest hidden dimensions per site (range / median range):")
        for site in Array(Set(report.dims.map(\.site))).sorted() {
            let d = report.dims.filter { $0.site == site }.sorted { $0.hi - $0.lo > $1.hi - $1.lo }
            let median = d[d.count / 2].hi - d[d.count / 2].lo
            let top = d.prefix(3).map { String(format: "%d (%.1f×)", $0.dim, ($0.hi - $0.lo) / max(median, 1e-12)) }
            print(pad(site, 28) + top.joined(separator: ", "))
        }
        print("→ \(outDir.path)/quant-sites.csv, quant-dims.csv")
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}
