// One figure = one script in plots/ + the variables naming its data. The constructors encode each
// script's interface (documented in the script headers) so callers pass URLs and titles instead
// of hand-written gnuplot strings.
import Foundation

public struct FigureSpec: Sendable, Equatable {
    /// Base name of the rendered files (without extension), e.g. "landscape-loss".
    public var name: String
    /// Script file name inside the plots directory, e.g. "landscape.gp".
    public var script: String
    public var variables: [String: String]

    public init(name: String, script: String, variables: [String: String]) {
        self.name = name
        self.script = script
        self.variables = variables
    }

    /// Contour maps + 3-D surfaces on one colour scale (`grid-<mode>-<quantity>.dat`, 2-D grids).
    /// `zRange` is in log10 units when `logZ` is set.
    public static func landscape(name: String, gridFiles: [URL], titles: [String], zlabel: String = "loss",
                                 levels: Int = 15, zRange: ClosedRange<Double>? = nil, logZ: Bool = false,
                                 title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: gridFiles, titles: titles)
        v["zlabel"] = zlabel
        v["levels"] = String(levels)
        if logZ { v["logz"] = "1" }
        if let zRange { v["zmin"] = plain(zRange.lowerBound); v["zmax"] = plain(zRange.upperBound) }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "landscape.gp", variables: v)
    }

    /// Loss along one direction or an interpolation path (1-D grid files).
    public static func landscape1D(name: String, gridFiles: [URL], titles: [String], xlabel: String = "α",
                                   ylabel: String = "loss", logY: Bool = false, title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: gridFiles, titles: titles)
        v["xlabel"] = xlabel
        v["ylabel"] = ylabel
        if logY { v["logy"] = "1" }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "landscape1d.gp", variables: v)
    }

    /// Per-layer MSE vs the teacher; CSV `layer,mode,attn_mse,out_mse`.
    public static func layerMSE(name: String = "layer-mse", csv: URL, modes: [String], logY: Bool = false,
                                title: String? = nil) throws -> FigureSpec {
        var v = ["datafile": try path(csv, figure: name), "modes": try words(modes, figure: name)]
        if logY { v["logy"] = "1" }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "layer-mse.gp", variables: v)
    }

    /// Training loss per run; CSVs with `step` and `loss` columns; `step1` marks the end of stage 1.
    public static func convergenceLoss(name: String = "convergence-loss", runs: [URL], titles: [String],
                                       step1: Int? = nil, ema: Double? = nil, logY: Bool = false, ylabel: String? = nil,
                                       title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: runs, titles: titles)
        if let step1 { v["step1"] = String(step1) }
        if let ylabel { v["ylabel"] = ylabel }
        if let ema { v["ema"] = plain(ema) }
        if logY { v["logy"] = "1" }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "convergence-loss.gp", variables: v)
    }

    /// A run's dev metric evaluated during step 1 with the intervention active, drawn dashed in
    /// the colour of `files[run]` (0-based).
    public struct StepOneSeries: Sendable, Equatable {
        public var file: URL
        public var title: String
        public var run: Int
        public init(file: URL, title: String, run: Int) { self.file = file; self.title = title; self.run = run }
    }

    /// Dev metric per run; CSVs with `step` and `metric`; teacher line and steps-to-target; optional
    /// step-1 series (CSVs with `step` and `metric`).
    public static func convergenceMetric(name: String = "convergence-metric", runs: [URL], titles: [String],
                                         teacher: Double, target: Double? = nil, step1: Int? = nil,
                                         metricName: String = "dev metric", stepOne: [StepOneSeries] = [],
                                         title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: runs, titles: titles)
        if !stepOne.isEmpty {
            guard stepOne.allSatisfy({ runs.indices.contains($0.run) }) else {
                throw PlotError.noData(figure: name, reason: "a step-1 series names a run outside the \(runs.count) files")
            }
            let s = try listVariables(name: name, files: stepOne.map(\.file), titles: stepOne.map(\.title))
            v["step1files"] = s["files"]; v["step1titles"] = s["titles"]
            v["step1colors"] = stepOne.map { String($0.run + 1) }.joined(separator: " ")
        }
        v["teacher"] = plain(teacher)
        if let target { v["target"] = plain(target) }
        if let step1 { v["step1"] = String(step1) }
        v["metricname"] = metricName
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "convergence-metric.gp", variables: v)
    }

    /// Figure 1: dev metric against iterations relative to the baseline's budget; CSVs with
    /// `relative_time` and `metric`. `reach` and `ratios` (per run, nil: not reached / undefined) are
    /// the crossings of `target` computed by TIStudies.RelativeTime.
    public static func relativeTime(name: String = "fig1-relative-time", runs: [URL], titles: [String], teacher: Double,
                                    target: Double, reach: [Double?], ratios: [Double?], baseline: String = "KD",
                                    metricName: String = "dev metric", logX: Bool = false, title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: runs, titles: titles)
        guard reach.count == runs.count, ratios.count == runs.count else {
            throw PlotError.noData(figure: name, reason: "\(runs.count) files but \(reach.count) crossings and \(ratios.count) ratios")
        }
        v["teacher"] = plain(teacher)
        v["target"] = plain(target)
        v["reach"] = reach.map { $0.map(plain) ?? "-" }.joined(separator: " ")
        v["ratios"] = ratios.map { $0.map(plain) ?? "-" }.joined(separator: " ")
        v["baseline"] = try words([baseline], figure: name)
        v["metricname"] = metricName
        if logX { v["logx"] = "1" }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "fig1-relative-time.gp", variables: v)
    }

    /// Histograms of per-example extreme eigenvalues; CSV `mode,example,lambda_pos,lambda_neg`.
    public static func hessianHistogram(name: String = "hessian-hist", csv: URL, modes: [String], bins: Int = 30,
                                        title: String? = nil) throws -> FigureSpec {
        var v = ["datafile": try path(csv, figure: name), "modes": try words(modes, figure: name), "bins": String(bins)]
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "hessian-hist.gp", variables: v)
    }

    /// Spectral densities on a log axis; CSVs `x,density`.
    public static func hessianDensity(name: String = "hessian-density", files: [URL], titles: [String],
                                      yMin: Double = 1e-8, title: String? = nil) throws -> FigureSpec {
        var v = try listVariables(name: name, files: files, titles: titles)
        v["ymin"] = plain(yMin)
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "hessian-density.gp", variables: v)
    }

    /// Bar chart; CSV `quantity,ratio`.
    public static func speedRatios(name: String = "speed-ratios", csv: URL, ylabel: String = "speed ratio",
                                   logY: Bool = false, title: String? = nil) throws -> FigureSpec {
        var v = ["datafile": try path(csv, figure: name), "ylabel": ylabel]
        if logY { v["logy"] = "1" }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "speed-ratios.gp", variables: v)
    }

    /// Quantizer ranges from `tianalyze quant-report`: per-dimension activation ranges
    /// (`site,dim,lo,hi,range`; `site` highlighted) over per-site SQNR bars (`kind,name,…,sqnr_db`).
    public static func quantRanges(name: String = "quant-ranges", dims: URL, sites: URL, site: String? = nil,
                                   kind: String = "activation", logY: Bool = false, title: String? = nil) throws -> FigureSpec {
        guard ["activation", "weight", "all"].contains(kind) else {
            throw PlotError.noData(figure: name, reason: "kind '\(kind)': expected activation, weight or all")
        }
        var v = ["dims": try path(dims, figure: name), "sites": try path(sites, figure: name), "kind": kind]
        if let site { v["site"] = site }
        if logY { v["logy"] = "1" }
        if let title { v["title"] = title }
        return FigureSpec(name: name, script: "quant-ranges.gp", variables: v)
    }

    /// `tianalyze sensitivity`'s per-tensor Tr(H_b)/n_b and allocated bits (`sensitivity.csv`).
    public static func sensitivityBlocks(name: String = "sensitivity-blocks", csv: URL) throws -> FigureSpec {
        FigureSpec(name: name, script: "sensitivity-blocks.gp", variables: ["datafile": try path(csv, figure: name)])
    }

    /// The size/Σ Ω Pareto frontier (`pareto.csv`) with the uniform precisions and the allocation (`uniform.csv`).
    public static func sensitivityPareto(name: String = "sensitivity-pareto", frontier: URL, uniform: URL) throws -> FigureSpec {
        FigureSpec(name: name, script: "sensitivity-pareto.gp",
                   variables: ["frontier": try path(frontier, figure: name), "uniform": try path(uniform, figure: name)])
    }

    // MARK: - Encoding lists for gnuplot's words()/word()

    static func listVariables(name: String, files: [URL], titles: [String]) throws -> [String: String] {
        guard !files.isEmpty else { throw PlotError.noData(figure: name, reason: "no data files") }
        guard files.count == titles.count else {
            throw PlotError.noData(figure: name, reason: "\(files.count) files but \(titles.count) titles")
        }
        return ["files": try files.map { try path($0, figure: name) }.joined(separator: " "),
                "titles": try words(titles, figure: name)]
    }

    /// Paths are split on whitespace by the scripts, so they must not contain any.
    static func path(_ url: URL, figure: String) throws -> String {
        guard !url.path.contains(where: \.isWhitespace) else {
            throw PlotError.noData(figure: figure, reason: "path '\(url.path)' contains whitespace, which the gnuplot scripts cannot take")
        }
        return url.path
    }

    /// Titles become gnuplot words: spaces turn into no-break spaces so they survive words().
    static func words(_ items: [String], figure: String) throws -> String {
        guard !items.isEmpty else { throw PlotError.noData(figure: figure, reason: "empty list") }
        return items.map { $0.isEmpty ? "-" : String($0.map { $0.isWhitespace ? "\u{00A0}" : $0 }) }.joined(separator: " ")
    }

    /// Plain decimal text for numbers; the scripts eval it, so it must be a gnuplot literal.
    static func plain(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(format: "%.1f", x) : String(format: "%.17g", x)
    }
}
