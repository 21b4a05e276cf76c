// The files curvature tracking keeps in a QAT run directory: curvature.csv and minibatch-eigs.csv
// (one row per measurement, streamed), and the warm-start state saved with the run's resumable
// state, so that a resumed run continues the power iterations from the same vectors and writes the
// same rows as an uninterrupted one.
import Foundation
import TIData
import TICore

public enum CurvatureFiles {
    public static let curvature = "curvature.csv"
    public static let minibatch = "minibatch-eigs.csv"
    public static let warmStart = "curvature-warm-start.safetensors"

    public static let curvatureColumns = ["step", "phase", "objective", "lambda_max", "lambda_max_err", "lanczos_min", "lanczos_max",
                                          "trace", "trace_se", "seconds", "start"]
    public static let minibatchColumns = ["step", "phase", "lambda_max", "iterations"]

    /// A resumed run's curvature.csv without the rows measured after its saved step: rows past the
    /// step, and rows at the step that open a later phase (measured when that phase's first step
    /// ran). A fresh run starts the file anew.
    static func openCurvatureLog(_ dir: URL, resumedAt: Int?, phaseEndingAt: (Int) -> Int) throws -> CSVLog {
        let url = dir.appendingPathComponent(curvature)
        if let r = resumedAt, FileManager.default.fileExists(atPath: url.path) {
            let lines = InputFile.lines(try InputFile.text(url), omittingEmpty: true)
            var kept = [curvatureColumns.joined(separator: ",")]
            for line in lines.dropFirst() {
                let f = line.split(separator: ",", omittingEmptySubsequences: false)
                guard f.count == curvatureColumns.count, let step = Int(f[0]), let phase = Int(f[1]) else {
                    throw DataError.malformed(file: url.path, reason: "bad row '\(line)': expected \(curvatureColumns.joined(separator: ","))")
                }
                if step < r || (step == r && phase <= phaseEndingAt(r)) { kept.append(String(line)) }
            }
            try AtomicFile.write(kept.joined(separator: "\n") + "\n", to: url)
        }
        return try CSVLog(url, header: curvatureColumns, truncateAfter: resumedAt)
    }

    static func openMinibatchLog(_ dir: URL, resumedAt: Int?) throws -> CSVLog {
        try CSVLog(dir.appendingPathComponent(minibatch), header: minibatchColumns, truncateAfter: resumedAt)
    }

    /// Saves the last top eigenvector of each objective as of `step` (with the options it was tracked under).
    static func saveWarmStart(_ vectors: [String: [Double]], step: Int, options: CurvatureTrackingOptions, dir: URL) throws {
        var meta = ["step": String(step), "options": try optionsKey(options)]
        meta["objectives"] = vectors.keys.sorted().joined(separator: ",")
        let tensors = vectors.keys.sorted().map { SafeTensorsWriter.Tensor.float64($0, shape: [vectors[$0]!.count], values: vectors[$0]!) }
        try SafeTensorsWriter.write(tensors, metadata: meta, to: dir.appendingPathComponent(warmStart))
    }

    /// The vectors saved at `step`; empty when none were saved there (a run that tracked nothing yet,
    /// or was killed between saving its state and this file: its power iterations then start cold).
    /// Tracking options different from the saved ones are refused: the rows would not continue the file.
    static func loadWarmStart(_ dir: URL, step: Int, options: CurvatureTrackingOptions, dimension: Int) throws -> [String: [Double]] {
        let url = dir.appendingPathComponent(warmStart)
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        let f = try SafeTensorsFile.read(url: url)
        let saved = f.metadata["options"] ?? ""
        guard saved == (try optionsKey(options)) else {
            throw DataError.mismatch(file: url.path, reason: "the run was tracked with other curvature options (\(saved)); resume with the same --track-curvature/--probe-examples/--track-minibatch-eigs, or remove \(curvature) and this file")
        }
        guard f.metadata["step"] == String(step) else { return [:] }
        var out: [String: [Double]] = [:]
        for name in f.tensorNames {
            let v = try f.values(name, as: Double.self)
            guard v.count == dimension, v.allSatisfy(\.isFinite) else {
                throw DataError.malformed(file: url.path, reason: "tensor '\(name)' holds \(v.count) values (expected \(dimension), finite)")
            }
            out[name] = v
        }
        return out
    }

    static func removeWarmStart(_ dir: URL) {
        try? FileManager.default.removeItem(at: dir.appendingPathComponent(warmStart))
    }

    private static func optionsKey(_ o: CurvatureTrackingOptions) throws -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return String(decoding: try enc.encode(o), as: UTF8.self)
    }
}
