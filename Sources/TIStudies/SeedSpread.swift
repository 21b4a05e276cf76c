// Median and spread over seeds of each mode's final dev metric, as Qualcomm reports PTQ results
// (the median over seeds): the summary `compare` prints under its per-run table.
import Foundation
import TIData

public struct SeedSpreadRow: Codable, Equatable, Sendable {
    public var mode: String
    public var seeds: Int
    public var median: Double
    public var min: Double
    public var max: Double
    /// max − min over the seeds.
    public var spread: Double { max - min }
}

public enum SeedSpread {
    /// One row per mode, in the order modes first appear among the runs.
    public static func rows(_ runs: [ConvergenceRow]) -> [SeedSpreadRow] {
        var order: [String] = [], metrics: [String: [Double]] = [:]
        for r in runs {
            if metrics[r.mode] == nil { order.append(r.mode) }
            metrics[r.mode, default: []].append(r.finalMetric)
        }
        return order.map { m in
            let xs = metrics[m]!
            return SeedSpreadRow(mode: m, seeds: xs.count, median: median(xs), min: xs.min()!, max: xs.max()!)
        }
    }

    /// The middle value, or the mean of the two middle values of an even count.
    public static func median(_ xs: [Double]) -> Double {
        let s = xs.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }

    public static func table(_ rows: [SeedSpreadRow], metricName: String) -> String {
        var lines = ["final dev \(metricName) over seeds: mode, seeds, median, min, max, spread (max − min)"]
        for r in rows {
            lines.append(String(format: "%8@ %3d %8.4f %8.4f %8.4f %8.4f", r.mode, r.seeds, r.median, r.min, r.max, r.spread))
        }
        return lines.joined(separator: "\n")
    }
}
