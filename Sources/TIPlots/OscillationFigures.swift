// Figures of weight oscillation (oscillation.gp) and of the per-layer intervention map
// (intervention-map.gp), and where a run directory keeps their data:
//
//   oscillation/osc-<run>.csv            → oscillation-<run> (one per run) and, with two runs or more,
//                                          oscillation-compare (every run on one set of axes);
//                                          TI's step 1 is shaded up to the last step whose phase is 1
//   intervention-map.csv                 → intervention-map (layer × point heatmaps of the ratios to no intervention)
//   intervention-map*/intervention-map.csv → <folder> (maps linked into a study folder)
import Foundation
import TIData

extension FigureSpec {
    /// Changed fraction, oscillation frequency and near-threshold share against the step, one line per
    /// file; `step1` shades TI's step 1.
    public static func oscillation(name: String, files: [URL], titles: [String], step1: Int?, title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: files, titles: titles)
        if let step1 { v["step1"] = String(step1) }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "oscillation.gp", variables: v)
    }

    /// Layer × point heatmaps of intervention-map.csv's ratios.
    public static func interventionMap(name: String = "intervention-map", csv: URL, title: String? = nil) throws -> FigureSpec {
        var v = ["datafile": try path(csv, figure: name)]
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "intervention-map.gp", variables: v)
    }
}

extension RunDirectoryScan {
    func oscillationAndMapFigures() throws -> [Result<FigureSpec, SkippedFigure>] {
        var out: [Result<FigureSpec, SkippedFigure>] = []
        let runs = try listing("oscillation", prefix: "osc-", suffix: ".csv")
        if runs.isEmpty { out.append(.failure(SkippedFigure(reason: "oscillation: no oscillation/osc-<run>.csv (qat --track-oscillation)"))) }
        let ends = runs.map { Self.lastStepOne(in: $0.url) }
        for (run, end) in zip(runs, ends) {
            out.append(catching("oscillation-\(run.title)") {
                try FigureSpec.oscillation(name: "oscillation-\(run.title)", files: [run.url], titles: [run.title], step1: end)
            })
        }
        if runs.count > 1 {
            out.append(catching("oscillation-compare") {
                try FigureSpec.oscillation(name: "oscillation-compare", files: runs.map(\.url), titles: runs.map(\.title),
                                           step1: ends.compactMap { $0 }.first)
            })
        }
        let names = ((try? fm.contentsOfDirectory(atPath: runDir.path)) ?? []).filter { $0.hasPrefix("intervention-map") }.sorted()
        for name in names {
            let csv = name == "intervention-map.csv" ? runDir.appendingPathComponent(name)
                : runDir.appendingPathComponent(name).appendingPathComponent("intervention-map.csv")
            guard fm.fileExists(atPath: csv.path) else { continue }
            out.append(catching(name) { try FigureSpec.interventionMap(name: name == "intervention-map.csv" ? "intervention-map" : name, csv: csv) })
        }
        return out
    }

    /// The last step of a per-step file whose phase is 1 (TI's step 1), nil without one.
    static func lastStepOne(in url: URL) -> Int? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return nil }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.split(separator: ",").map(String.init) }
        guard let header = lines.first, let s = header.firstIndex(of: "step"), let p = header.firstIndex(of: "phase") else { return nil }
        return lines.dropFirst().filter { $0.count > max(s, p) && $0[p] == "1" }.compactMap { Int($0[s]) }.max()
    }
}
