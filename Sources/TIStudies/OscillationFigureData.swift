// The oscillation figures' data: a run's oscillation.csv (one row per quantized tensor and step)
// reduced to one row per step, each quantity the plain mean over the run's quantized tensors, into
// the study's oscillation/osc-<run>.csv, with the last step of TI's step 1 (for the shaded phase).
import Foundation
import TIData
import TICore

public enum OscillationFigureData {
    public static let folder = "oscillation"
    static let quantities = ["changed_fraction", "oscillation_frequency", "near_threshold_share"]

    /// oscillation/osc-<mode>.csv (`step,phase,changed_fraction,oscillation_frequency,near_threshold_share`);
    /// nothing when the run was not tracked (a stale file from an earlier collection is removed).
    public static func write(_ dir: URL, mode: String, into study: URL) throws {
        let out = study.appendingPathComponent(folder).appendingPathComponent("osc-\(mode).csv")
        let url = dir.appendingPathComponent(OscillationTracker.file)
        guard FileManager.default.fileExists(atPath: url.path) else {
            try? FileManager.default.removeItem(at: out)
            return
        }
        try AtomicFile.write(try perStepMeans(CSVTable.read(url)).joined(separator: "\n") + "\n", to: out)
    }

    /// The CSV lines (header first) of the per-step means, in step order.
    static func perStepMeans(_ t: CSVTable) throws -> [String] {
        let steps = try t.column("step").map { Int($0) }, phases = try t.strings("phase")
        let values = try quantities.map { try t.column($0) }
        var order: [Int] = [], sums: [Int: (phase: String, n: Int, sums: [Double])] = [:]
        for i in steps.indices {
            if sums[steps[i]] == nil { order.append(steps[i]); sums[steps[i]] = (phases[i], 0, [0, 0, 0]) }
            sums[steps[i]]!.n += 1
            for q in 0..<3 { sums[steps[i]]!.sums[q] += values[q][i] }
        }
        return ["step,phase," + quantities.joined(separator: ",")] + order.map { s in
            let e = sums[s]!
            return "\(s),\(e.phase)," + e.sums.map { Fmt.g($0 / Double(e.n)) }.joined(separator: ",")
        }
    }
}
