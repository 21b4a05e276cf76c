import Foundation
import XCTest
import TIAnalysis
import TILinalg

final class ResultWriterTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tianalysis-\(UUID().uuidString)")
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testDensityAndQuadratureCSVRoundTrip() throws {
        var rng = SeededRandom(seed: 61)
        let r = try SpectralDensityEstimator(runs: 2, steps: 3, bins: 50, sigmaSquared: 1e-2)
            .estimate(DiagonalOperator([1, 2, 3]), rng: &rng)
        let densityURL = dir.appendingPathComponent("density.csv")
        let nodesURL = dir.appendingPathComponent("nodes.csv")
        try r.writeDensityCSV(to: densityURL)
        try r.writeQuadratureCSV(to: nodesURL)

        let lines = try String(contentsOf: densityURL, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.first, "x,density")
        XCTAssertEqual(lines.count, 51)
        let fields = lines[10].split(separator: ",").map { Double($0)! }
        XCTAssertEqual(fields, [r.grid[9], r.density[9]], "values must round-trip exactly")

        let nodeLines = try String(contentsOf: nodesURL, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(nodeLines.first, "run,node,weight")
        XCTAssertEqual(nodeLines.count, 1 + 6)
        XCTAssertTrue(nodeLines[4].hasPrefix("1,"))
    }

    func testPerExampleRowsFromLanczosAndCSV() throws {
        var rng = SeededRandom(seed: 62)
        let row = try perExampleSpectrum(DiagonalOperator([-0.5, 0.25, 3, 1]), exampleIndex: 7, label: "a,\"b\"",
                                         steps: 4, rng: &rng)
        XCTAssertEqual(row.largestEigenvalue, 3, accuracy: 1e-12)
        XCTAssertEqual(row.smallestEigenvalue, -0.5, accuracy: 1e-12)
        XCTAssertTrue(row.largestConverged && row.smallestConverged)
        let url = dir.appendingPathComponent("per_example.csv")
        try PerExampleSpectrumRow.writeCSV([row, row], to: url)
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], Substring(PerExampleSpectrumRow.csvHeader))
        XCTAssertTrue(lines[1].hasPrefix("7,\"a,\"\"b\"\"\","), String(lines[1]))
        XCTAssertEqual(lines[1].split(separator: ",").count, PerExampleSpectrumRow.csvHeader.split(separator: ",").count + 1,
                       "one extra split from the quoted comma in the label")
    }

    func testReportJSONRoundTrip() throws {
        let report = HessianReport(
            topEigenvalues: EigenResult(values: [2, -1], residuals: [1e-4, 2e-4], iterations: [10, 20],
                                        converged: [true, false], hvpCount: 30),
            trace: TraceResult(mean: 5, stderr: 0.1, probes: 30, converged: true, dimension: 9))
        let url = dir.appendingPathComponent("hessian.json")
        try report.write(to: url)
        let back = try JSONDecoder().decode(HessianReport.self, from: Data(contentsOf: url))
        XCTAssertEqual(back, report)
    }
}
