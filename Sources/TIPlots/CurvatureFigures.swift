// The curvature figures of a run directory (conventions in FigureSet.swift): curvature along QAT
// runs with TI's step 1 shaded (curvature.gp) and per-phase histograms of the per-minibatch top
// eigenvalues (minibatch-eigs.gp).
import Foundation

extension FigureSpec {
    /// One file per run and objective (`step,…,lambda_max,lambda_max_err,lanczos_min,trace,trace_se`);
    /// `colors[i]`: the run of file i, so that a run's objectives share a colour.
    public static func curvature(name: String = "curvature", files: [URL], titles: [String], colors: [Int], step1: Int? = nil,
                                 title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: files, titles: titles)
        guard colors.count == files.count else { throw PlotError.noData(figure: name, reason: "\(files.count) files but \(colors.count) colours") }
        v["colors"] = colors.map(String.init).joined(separator: " ")
        if let step1 { v["step1"] = String(step1) }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "curvature.gp", variables: v)
    }

    /// One file per run (`step,phase,lambda_max,…`); one panel per phase number in `phases`.
    public static func minibatchEigenvalues(name: String = "minibatch-eigs", files: [URL], titles: [String], phases: [Int],
                                            bins: Int = 20, title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: files, titles: titles)
        guard !phases.isEmpty else { throw PlotError.noData(figure: name, reason: "no phases") }
        v["phases"] = phases.map(String.init).joined(separator: " ")
        v["bins"] = String(bins)
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "minibatch-eigs.gp", variables: v)
    }
}

extension RunDirectoryScan {
    func curvatureFigures(step1: Int?) -> [Result<FigureSpec, SkippedFigure>] {
        [
            catching("curvature") {
                let files = try listing("curvature", prefix: "curvature-", suffix: ".csv")
                guard !files.isEmpty else { throw SkippedFigure(reason: "curvature: no curvature/curvature-<run>-<objective>.csv") }
                var runs: [String] = []
                let colors = files.map { f -> Int in
                    let run = Self.run(ofSeries: f.title)
                    if !runs.contains(run) { runs.append(run) }
                    return runs.firstIndex(of: run)! + 1
                }
                return try FigureSpec.curvature(files: files.map(\.url), titles: files.map(\.title), colors: colors, step1: step1)
            },
            catching("minibatch-eigs") {
                let files = try listing("curvature", prefix: "minibatch-", suffix: ".csv")
                guard !files.isEmpty else { throw SkippedFigure(reason: "minibatch-eigs: no curvature/minibatch-<run>.csv") }
                var phases = Set<Int>()
                for f in files { phases.formUnion(try CSVColumn.distinct("phase", in: f.url).compactMap { Int($0) }) }
                return try FigureSpec.minibatchEigenvalues(files: files.map(\.url), titles: files.map(\.title), phases: phases.sorted())
            },
        ]
    }

    /// "TI-G-train" → "TI-G": a series is its run and, after the last '-', its objective.
    static func run(ofSeries title: String) -> String {
        guard let dash = title.lastIndex(of: "-") else { return title }
        return String(title[..<dash])
    }
}
