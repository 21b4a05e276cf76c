// Roughness of a finished landscape per mode, and over repeated direction seeds: each metric's
// mean with its 95 % interval per mode, and the paired difference between modes (the same
// directions under both, so the pairing removes the spread the direction draw causes).
//
//   roughness.csv         mode,metric,n,mean,ci95_low,ci95_high   (n = 1: the interval is empty)
//   roughness-paired.csv  mode_a,mode_b,metric,n,mean_difference,ci95_low,ci95_high   (b − a)
//   roughness-bars.dat    gnuplot blocks, one per metric: "mode mean low high"
import Foundation
import TIData

public struct ModeRoughness: Sendable, Equatable {
    public var mode: String
    public var metrics: RoughnessMetrics
    public init(mode: String, metrics: RoughnessMetrics) { self.mode = mode; self.metrics = metrics }
}

public struct RoughnessSummary: Sendable {
    public var modes: [String]
    /// [mode][metric] over the seeds.
    public var intervals: [[MeanInterval]]
    /// (a, b, [metric]) for every later mode b against the first mode a.
    public var paired: [(a: String, b: String, differences: [MeanInterval])]

    /// `surfaces[s]` holds every mode's metrics of direction seed s (modes in the same order).
    public init(surfaces: [[ModeRoughness]]) {
        precondition(!surfaces.isEmpty, "RoughnessSummary: no surfaces")
        let modes = surfaces[0].map(\.mode)
        self.modes = modes
        let metricCount = RoughnessMetrics.names.count
        let values: [[[Double]]] = modes.indices.map { m in (0..<metricCount).map { k in surfaces.map { $0[m].metrics.values[k] } } }
        intervals = values.map { $0.map { MeanInterval($0) } }
        paired = modes.indices.dropFirst().map { b in
            (modes[0], modes[b], (0..<metricCount).map { MeanInterval.pairedDifference(values[0][$0], values[b][$0]) })
        }
    }

    public var csv: String {
        var rows = ["mode,metric,n,mean,ci95_low,ci95_high"]
        for (m, mode) in modes.enumerated() {
            for (k, name) in RoughnessMetrics.names.enumerated() { rows.append("\(mode),\(name),\(Self.cells(intervals[m][k]))") }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    public var pairedCSV: String {
        var rows = ["mode_a,mode_b,metric,n,mean_difference,ci95_low,ci95_high"]
        for p in paired {
            for (k, name) in RoughnessMetrics.names.enumerated() { rows.append("\(p.a),\(p.b),\(name),\(Self.cells(p.differences[k]))") }
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// One gnuplot block per metric (blocks separated by two blank lines, `index k` selects one).
    public var barsData: String {
        var text = "# roughness per mode: mode mean low high (low = high = mean with one seed); blocks: \(RoughnessMetrics.names.joined(separator: " "))\n"
        for (k, name) in RoughnessMetrics.names.enumerated() {
            text += "# \(name)\n"
            for (m, mode) in modes.enumerated() {
                let i = intervals[m][k]
                let (lo, hi) = i.halfWidth.isFinite ? (i.low, i.high) : (i.mean, i.mean)
                text += "\(mode) \(i.mean) \(lo) \(hi)\n"
            }
            text += "\n\n"
        }
        return text
    }

    /// Lines for the terminal: every metric of every mode, and each paired difference.
    public var lines: [String] {
        var out: [String] = []
        for (k, name) in RoughnessMetrics.names.enumerated() {
            let cells = modes.indices.map { "\(modes[$0]) \(Self.text(intervals[$0][k]))" }
            out.append("  \(name): " + cells.joined(separator: ", "))
            for p in paired { out.append("    \(p.b) − \(p.a): \(Self.text(p.differences[k]))" + (p.differences[k].excludes(0) ? " (interval excludes 0)" : "")) }
        }
        return out
    }

    public func write(to dir: URL) throws {
        try AtomicFile.write(csv, to: dir.appendingPathComponent("roughness.csv"))
        try AtomicFile.write(barsData, to: dir.appendingPathComponent("roughness-bars.dat"))
        if !paired.isEmpty { try AtomicFile.write(pairedCSV, to: dir.appendingPathComponent("roughness-paired.csv")) }
    }

    static func cells(_ i: MeanInterval) -> String {
        i.halfWidth.isFinite ? "\(i.count),\(i.mean),\(i.low),\(i.high)" : "\(i.count),\(i.mean),,"
    }

    static func text(_ i: MeanInterval) -> String {
        i.halfWidth.isFinite ? String(format: "%.4g [%.4g, %.4g]", i.mean, i.low, i.high) : String(format: "%.4g", i.mean)
    }
}

extension Roughness {
    /// Each mode's metrics of one quantity (default the loss) of a finished landscape's points.
    public static func measure(config: LandscapeConfig, points: [LandscapePoint], quantity: String = "loss") -> [ModeRoughness] {
        guard let q = config.quantities.firstIndex(of: quantity) else { return [] }
        var byIndex = [Double](repeating: .nan, count: config.grid.pointCount)
        return config.modes.enumerated().map { m, mode in
            for p in points { byIndex[p.index] = p.values[m][q] }
            return ModeRoughness(mode: mode, metrics: measure(byIndex, on: config.grid))
        }
    }
}
