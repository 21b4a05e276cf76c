// CSV and JSON outputs for the plotting scripts. Numbers are written in Swift's shortest
// round-trip form, so a CSV read back reproduces the exact Doubles.
import Foundation
import TIData

extension DensityResult {
    /// `x,density` per grid point.
    public var densityCSV: String {
        var s = "x,density\n"
        for (x, d) in zip(grid, density) { s += "\(x),\(d)\n" }
        return s
    }

    /// `run,node,weight` per quadrature node (run counts from 0).
    public var quadratureCSV: String {
        var s = "run,node,weight\n"
        for (run, (ns, ws)) in zip(nodes, weights).enumerated() {
            for (x, w) in zip(ns, ws) { s += "\(run),\(x),\(w)\n" }
        }
        return s
    }

    public func writeDensityCSV(to url: URL) throws { try AtomicFile.write(densityCSV, to: url) }
    public func writeQuadratureCSV(to url: URL) throws { try AtomicFile.write(quadratureCSV, to: url) }
}

extension PerExampleSpectrumRow {
    public static let csvHeader =
        "example,label,largest_eigenvalue,smallest_eigenvalue,largest_residual,smallest_residual,largest_converged,smallest_converged,hvp_count"

    public var csvLine: String {
        [String(exampleIndex), csvField(label), "\(largestEigenvalue)", "\(smallestEigenvalue)",
         "\(largestResidual)", "\(smallestResidual)", String(largestConverged), String(smallestConverged),
         String(hvpCount)].joined(separator: ",")
    }

    public static func csv(_ rows: [PerExampleSpectrumRow]) -> String {
        ([csvHeader] + rows.map(\.csvLine)).joined(separator: "\n") + "\n"
    }

    public static func writeCSV(_ rows: [PerExampleSpectrumRow], to url: URL) throws {
        try AtomicFile.write(csv(rows), to: url)
    }
}

/// RFC 4180 quoting for a text field that may hold commas, quotes or newlines.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// The analysis part of hessian.json; every section is optional so a run can compute any subset.
public struct HessianReport: Codable, Equatable, Sendable {
    /// Top-k by power iteration (largest |λ|, signed).
    public var topEigenvalues: EigenResult?
    /// Largest and smallest algebraic eigenvalues from Lanczos.
    public var largestEigenvalues: EigenResult?
    public var smallestEigenvalues: EigenResult?
    public var trace: TraceResult?
    public var density: DensityResult?

    public init(topEigenvalues: EigenResult? = nil, largestEigenvalues: EigenResult? = nil,
                smallestEigenvalues: EigenResult? = nil, trace: TraceResult? = nil, density: DensityResult? = nil) {
        self.topEigenvalues = topEigenvalues
        self.largestEigenvalues = largestEigenvalues
        self.smallestEigenvalues = smallestEigenvalues
        self.trace = trace
        self.density = density
    }

    public func write(to url: URL) throws { try AtomicFile.writeJSON(self, to: url) }
}
