// Gathers what the runs wrote into the layout the figure scripts read (see TIPlots/FigureSet):
// convergence curves per mode, per-layer MSE at the end of QAT, per-example Hessian extremes and
// densities. Landscape runs write their own folder inside the study directory.
import Foundation
import TIData
import TICore

public enum FigureAssembly {
    /// Convergence and per-layer files from QAT run directories, keyed by mode name.
    public static func collectQAT(runs: [(mode: String, dir: URL)], into study: URL, teacherMetric: Double, metricName: String) throws {
        let conv = study.appendingPathComponent("convergence")
        var layerRows = ["layer,mode,attn_mse,out_mse"]
        var step1: Int? = nil
        for (mode, dir) in runs {
            let steps = try CSVTable.read(dir.appendingPathComponent("steps.csv"))
            var train = ["step,phase,loss"]
            let s = try steps.strings("step"), p = try steps.strings("phase"), l = try steps.strings("loss")
            for i in s.indices { train.append("\(s[i]),\(p[i]),\(l[i])") }
            try AtomicFile.write(train.joined(separator: "\n") + "\n", to: conv.appendingPathComponent("train-\(mode).csv"))
            if step1 == nil, let i = p.lastIndex(of: "1") { step1 = Int(s[i]) }

            let evals = try CSVTable.read(dir.appendingPathComponent("evals.csv"))
            let es = try evals.strings("step"), ep = try evals.strings("phase"), em = try evals.strings("dev_metric")
            var dev = ["step,phase,metric"]
            for i in es.indices { dev.append("\(es[i]),\(ep[i]),\(em[i])") }
            try AtomicFile.write(dev.joined(separator: "\n") + "\n", to: conv.appendingPathComponent("dev-\(mode).csv"))

            let layers = try CSVTable.read(dir.appendingPathComponent("layers.csv"))
            let ls = try layers.strings("step"), ll = try layers.strings("layer"), la = try layers.strings("attn_mse"), lo = try layers.strings("out_mse")
            if let lastStep = ls.last {
                for i in ls.indices where ls[i] == lastStep { layerRows.append("\(ll[i]),\(mode),\(la[i]),\(lo[i])") }
            }
        }
        let info: [String: Any] = ["teacher": teacherMetric, "target": 0.99 * teacherMetric, "metricName": "dev " + metricName,
                                   "runs": runs.map(\.mode)].merging(step1.map { ["step1": $0] } ?? [:]) { a, _ in a }
        try AtomicFile.write(JSONSerialization.data(withJSONObject: info, options: [.sortedKeys, .prettyPrinted]),
                             to: conv.appendingPathComponent("figure.json"))
        try AtomicFile.write(layerRows.joined(separator: "\n") + "\n", to: study.appendingPathComponent("layer-mse.csv"))
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
