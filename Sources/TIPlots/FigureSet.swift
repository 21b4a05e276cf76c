// Renders every figure whose data exists in a run directory. File conventions (paths relative to
// the run directory; CSV columns as documented in each plots/*.gp header):
//
//   landscape*/landscape.json + grid-<mode>-<q>.dat → <dir>-<q>      (landscape.gp, or landscape1d.gp for 1-D grids)
//   landscape*/trajectory-path.dat (or trajectory-panels.txt) → <dir>-trajectory (landscape-trajectory.gp)
//   landscape*/roughness-bars.dat                   → <dir>-roughness (roughness.gp)
//   layer-mse.csv                                   → layer-mse      (layer,mode,attn_mse,out_mse)
//   convergence/train-<run>.csv                     → convergence-loss   (step,phase,…,loss)
//   convergence/dev-<run>.csv                       → convergence-metric (step,phase,metric; needs "teacher")
//   convergence/step1-<run>.csv                     → on convergence-metric, dashed (step,intervention,metric)
//   convergence/fig1-relative-time.csv + dev-<run>.csv with relative_time
//                                                   → fig1-relative-time (mode,…,relative_time,ratio_vs_kd;
//                                                     needs "teacher" and "target")
//   convergence/figure.json                         → optional {"teacher": 0.66, "target": 0.65, "step1": 2000,
//                                                       "metricName": "dev accuracy", "runs": ["KD", "TI-G"],
//                                                       "lossName": "training cross-entropy", "baseline": "KD"}
//   curvature/curvature-<run>-<objective>.csv       → curvature      (step,…,lambda_max,lambda_max_err,lanczos_min,trace,trace_se;
//                                                     step 1 shaded from convergence/figure.json's "step1")
//   curvature/minibatch-<run>.csv                   → minibatch-eigs (step,phase,lambda_max; one panel per phase)
//   hessian/eigs.csv                                → hessian-hist   (mode,example,lambda_pos,lambda_neg)
//   hessian/density-<mode>.csv                      → hessian-density (x,density)
//   speed-ratios.csv                                → speed-ratios   (quantity,ratio)
//   quant-report/quant-dims.csv + quant-sites.csv   → quant-ranges   (site,dim,lo,hi,range; kind,name,…,sqnr_db),
//                                                     highlighting the site with the widest dimension
//   [sensitivity*/]sensitivity.csv                  → <folder>-blocks (block,kind,…,trace_per_param,…,allocated)
//   [sensitivity*/]pareto.csv + uniform.csv         → <folder>-pareto (bytes,megabytes,avg_bits,omega; precision,…)
//
// Each figure is written as <figuresDir>/<name>.png and .svg. Missing data skips a figure (with
// the reason in the report); a gnuplot failure is an error.
import Foundation
import TIData

public struct FigureReport: Sendable, Equatable {
    public var rendered: [URL] = []
    /// "figure: reason" for figures whose data was absent or incomplete.
    public var skipped: [String] = []
}

public struct FigureSet {
    public let plotsDir: URL
    public let gnuplot: Gnuplot
    public var formats: [String] = ["png", "svg"]

    public init(plotsDir: URL, gnuplot: Gnuplot) {
        self.plotsDir = plotsDir
        self.gnuplot = gnuplot
    }

    /// Uses `TIANALYZE_PLOTS_DIR`, else the first `plots/` holding landscape.gp found walking up
    /// from the current directory and from the executable; gnuplot from PATH.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.init(plotsDir: try Self.locatePlots(environment: environment), gnuplot: try Gnuplot.locate(environment: environment))
    }

    public static func locatePlots(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let dir = environment["TIANALYZE_PLOTS_DIR"], !dir.isEmpty {
            let url = URL(fileURLWithPath: dir)
            guard FileManager.default.fileExists(atPath: url.appendingPathComponent("landscape.gp").path) else {
                throw PlotError.scriptMissing("TIANALYZE_PLOTS_DIR=\(dir) has no landscape.gp")
            }
            return url
        }
        let starts = [URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                      URL(fileURLWithPath: CommandLine.arguments.first ?? ".").deletingLastPathComponent()]
        for start in starts {
            var dir = start.standardizedFileURL
            for _ in 0..<8 {
                let candidate = dir.appendingPathComponent("plots")
                if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("landscape.gp").path) { return candidate }
                dir = dir.deletingLastPathComponent()
            }
        }
        throw PlotError.scriptMissing("plots/landscape.gp (set TIANALYZE_PLOTS_DIR)")
    }

    /// Renders one figure in every format; returns the written files.
    @discardableResult
    public func render(_ figure: FigureSpec, into figuresDir: URL) throws -> [URL] {
        let outputs = formats.map { figuresDir.appendingPathComponent("\(figure.name).\($0)") }
        try gnuplot.render(script: plotsDir.appendingPathComponent(figure.script), variables: figure.variables, outputs: outputs)
        return outputs
    }

    /// Renders every figure whose data is present in `runDir` (conventions above).
    @discardableResult
    public func renderAll(runDir: URL, figuresDir: URL) throws -> FigureReport {
        var report = FigureReport()
        for item in try RunDirectoryScan(runDir: runDir).figures() {
            switch item {
            case .success(let figure): report.rendered += try render(figure, into: figuresDir)
            case .failure(let skip): report.skipped.append(skip.reason)
            }
        }
        return report
    }
}

/// A figure that cannot be drawn from the data present (not an error: runs produce data piecemeal).
struct SkippedFigure: Error { let reason: String }

/// Finds data files in a run directory and turns them into FigureSpecs.
struct RunDirectoryScan {
    let runDir: URL
    let fm = FileManager.default

    /// Just the parts of landscape.json the figures need (TIPlots does not depend on TILandscape).
    private struct LandscapeInfo: Decodable {
        struct Axis: Decodable { var num: Int }
        struct Grid: Decodable { var kind: String; var x: Axis; var y: Axis? }
        struct Config: Decodable { var modes: [String]; var quantities: [String]; var grid: Grid }
        var config: Config
        var complete: Bool
    }

    func figures() throws -> [Result<FigureSpec, SkippedFigure>] {
        var out: [Result<FigureSpec, SkippedFigure>] = []
        out += try landscapes()
        out.append(catching("layer-mse") {
            let csv = try file("layer-mse.csv")
            return try FigureSpec.layerMSE(csv: csv, modes: try CSVColumn.distinct("mode", in: csv))
        })
        out += convergence()
        out.append(catching("hessian-hist") {
            let csv = try file("hessian/eigs.csv")
            return try FigureSpec.hessianHistogram(csv: csv, modes: try CSVColumn.distinct("mode", in: csv))
        })
        out.append(catching("hessian-density") {
            let files = try listing("hessian", prefix: "density-", suffix: ".csv")
            guard !files.isEmpty else { throw SkippedFigure(reason: "hessian-density: no hessian/density-<mode>.csv") }
            return try FigureSpec.hessianDensity(files: files.map(\.url), titles: files.map(\.title))
        })
        out += try oscillationAndMapFigures()  // OscillationFigures.swift
        out.append(catching("speed-ratios") { try FigureSpec.speedRatios(csv: try file("speed-ratios.csv")) })
        out.append(catching("quant-ranges") {
            let dims = try file("quant-report/quant-dims.csv"), sites = try file("quant-report/quant-sites.csv")
            return try FigureSpec.quantRanges(dims: dims, sites: sites, site: try CSVColumn.argmax("range", label: "site", in: dims))
        })
        out += sensitivity()
        return out
    }

    /// sensitivity.csv, pareto.csv and uniform.csv of a sensitivity run: the run directory itself, or
    /// each `sensitivity*` folder in a study (figures named after the folder).
    private func sensitivity() -> [Result<FigureSpec, SkippedFigure>] {
        let folders = ((try? fm.contentsOfDirectory(atPath: runDir.path)) ?? []).filter { $0.hasPrefix("sensitivity") }.sorted()
        let dirs = [(runDir, "sensitivity")] + folders.map { (runDir.appendingPathComponent($0), $0) }
        return dirs.filter { fm.fileExists(atPath: $0.0.appendingPathComponent("sensitivity.csv").path) }.flatMap { dir, name in
            [catching("\(name)-blocks") { try FigureSpec.sensitivityBlocks(name: "\(name)-blocks", csv: dir.appendingPathComponent("sensitivity.csv")) },
             catching("\(name)-pareto") {
                 try FigureSpec.sensitivityPareto(name: "\(name)-pareto", frontier: try file(dir, "pareto.csv"), uniform: try file(dir, "uniform.csv"))
             }]
        }
    }

    func file(_ dir: URL, _ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        guard fm.fileExists(atPath: url.path) else { throw SkippedFigure(reason: "\(url.path) not found") }
        return url
    }

    func catching(_ name: String, _ body: () throws -> FigureSpec) -> Result<FigureSpec, SkippedFigure> {
        do { return .success(try body()) } catch let s as SkippedFigure { return .failure(s) } catch {
            return .failure(SkippedFigure(reason: "\(name): \(error)"))
        }
    }

    func file(_ relative: String) throws -> URL {
        let url = runDir.appendingPathComponent(relative)
        guard fm.fileExists(atPath: url.path) else { throw SkippedFigure(reason: "\(relative) not found") }
        return url
    }

    /// Files `<dir>/<prefix><title><suffix>`, sorted by title.
    func listing(_ dir: String, prefix: String, suffix: String) throws -> [(url: URL, title: String)] {
        let base = runDir.appendingPathComponent(dir)
        let names = (try? fm.contentsOfDirectory(atPath: base.path)) ?? []
        return names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) && $0.count > prefix.count + suffix.count }
            .sorted()
            .map { (base.appendingPathComponent($0), String($0.dropFirst(prefix.count).dropLast(suffix.count))) }
    }

    func runFiles(prefix: String, order: [String]?) throws -> [(url: URL, title: String)] {
        var runs = try listing("convergence", prefix: prefix, suffix: ".csv")
        guard !runs.isEmpty else { throw SkippedFigure(reason: "no convergence/\(prefix)<run>.csv") }
        if let order {
            let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
            runs.sort { (rank[$0.title] ?? Int.max, $0.title) < (rank[$1.title] ?? Int.max, $1.title) }
        }
        return runs
    }

    private func landscapes() throws -> [Result<FigureSpec, SkippedFigure>] {
        let names = ((try? fm.contentsOfDirectory(atPath: runDir.path)) ?? []).filter { $0.hasPrefix("landscape") }.sorted()
        var out: [Result<FigureSpec, SkippedFigure>] = []
        for name in names {
            let dir = runDir.appendingPathComponent(name)
            let json = dir.appendingPathComponent("landscape.json")
            out += landscapeExtras(name, dir: dir, modes: nil)
            guard fm.fileExists(atPath: json.path) else {
                let entries = (try? fm.contentsOfDirectory(atPath: dir.path)) ?? []
                if entries.contains(where: { $0.hasPrefix("shard-") }) {
                    out.append(.failure(SkippedFigure(reason: "\(name): shards not merged yet (LandscapeMerge.merge(shardsIn:))")))
                }
                continue
            }
            let info: LandscapeInfo
            do { info = try JSONDecoder().decode(LandscapeInfo.self, from: Data(contentsOf: json)) } catch {
                out.append(.failure(SkippedFigure(reason: "\(name): unreadable landscape.json (\(error.localizedDescription))")))
                continue
            }
            for q in info.config.quantities {
                out.append(catching("\(name)-\(q)") {
                    let files = info.config.modes.map { dir.appendingPathComponent("grid-\($0)-\(q).dat") }
                    guard info.complete, files.allSatisfy({ fm.fileExists(atPath: $0.path) }) else {
                        throw SkippedFigure(reason: "\(name)-\(q): landscape incomplete (no grid files yet)")
                    }
                    if let y = info.config.grid.y {
                        guard y.num > 1, info.config.grid.x.num > 1 else {
                            throw SkippedFigure(reason: "\(name)-\(q): a \(info.config.grid.x.num)×\(y.num) grid has no area to draw")
                        }
                        return try FigureSpec.landscape(name: "\(name)-\(q)", gridFiles: files, titles: info.config.modes, zlabel: q)
                    }
                    return try FigureSpec.landscape1D(name: "\(name)-\(q)", gridFiles: files, titles: info.config.modes,
                                                      xlabel: info.config.grid.kind == "interpolation" ? "t" : "α", ylabel: q)
                })
            }
        }
        return out
    }
}

/// Minimal CSV reading for picking legend entries out of long-format files.
enum CSVColumn {
    /// The `label` column of the row with the largest numeric `column` (e.g. the site of the widest
    /// dimension, which the quant-ranges figure highlights).
    static func argmax(_ column: String, label: String, in url: URL) throws -> String {
        let (names, rows) = try read(url)
        guard let vi = names.firstIndex(of: column), let li = names.firstIndex(of: label) else {
            throw DataError.malformed(file: url.path, reason: "no '\(column)' or '\(label)' column in header '\(names.joined(separator: ","))'")
        }
        var best: (value: Double, label: String)? = nil
        for fields in rows {
            guard max(vi, li) < fields.count, let v = Double(fields[vi]), v.isFinite else { continue }
            if best == nil || v > best!.value { best = (v, fields[li]) }
        }
        guard let best else { throw DataError.malformed(file: url.path, reason: "column '\(column)' has no numeric values") }
        return best.label
    }

    /// Distinct values of a named column, in order of first appearance.
    static func distinct(_ column: String, in url: URL) throws -> [String] {
        let (names, rows) = try read(url)
        guard let index = names.firstIndex(of: column) else {
            throw DataError.malformed(file: url.path, reason: "no '\(column)' column in header '\(names.joined(separator: ","))'")
        }
        var seen = Set<String>(), ordered: [String] = []
        for fields in rows where index < fields.count {
            let v = fields[index]
            if !v.isEmpty, seen.insert(v).inserted { ordered.append(v) }
        }
        guard !ordered.isEmpty else { throw DataError.malformed(file: url.path, reason: "column '\(column)' has no values") }
        return ordered
    }

    /// The `column` value of the first row of each distinct `key` (e.g. a run's Figure 1 crossing by mode).
    static func firstValues(_ column: String, keyedBy key: String, in url: URL) throws -> [String: String] {
        let (names, rows) = try read(url)
        guard let vi = names.firstIndex(of: column), let ki = names.firstIndex(of: key) else {
            throw DataError.malformed(file: url.path, reason: "no '\(column)' or '\(key)' column in header '\(names.joined(separator: ","))'")
        }
        var out: [String: String] = [:]
        for fields in rows where max(vi, ki) < fields.count && out[fields[ki]] == nil { out[fields[ki]] = fields[vi] }
        return out
    }

    /// Header names and rows, every field trimmed (no quoting: the files read here have none).
    private static func read(_ url: URL) throws -> (names: [String], rows: [[String]]) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw DataError.io(file: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        let split = text.split(whereSeparator: \.isNewline).map { line in
            line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        guard let header = split.first else { throw DataError.malformed(file: url.path, reason: "empty file") }
        return (header, Array(split.dropFirst()))
    }
}
