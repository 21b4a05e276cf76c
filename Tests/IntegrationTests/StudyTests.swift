// The analysis commands' library entry points on a tiny target: every output is written and
// consistent (what the CLI prints comes from these files).
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TIAnalysis
import TILandscape
import TILinalg

final class StudyTests: XCTestCase {
    func tinyTarget() -> AnalysisTarget { TinyAnalysisTarget.make(train: 32, studentNoise: 0.05) }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-study-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testHessianStudyWritesEverything() throws {
        var o = HessianOptions()
        o.mode = .kd; o.objective = .train; o.topK = 3; o.tolerance = 1e-4; o.maxIterations = 200; o.lanczosSteps = 30
        o.traceMinProbes = 4; o.traceMaxProbes = 4; o.density = true; o.densitySteps = 12; o.perLayer = true; o.perExample = 2
        let out = tempDir()
        let r = try HessianStudy.run(target: tinyTarget(), options: o, outDir: out)
        XCTAssertEqual(r.eigenvalues.count, 3)
        XCTAssertTrue(zip(r.eigenvalues, r.eigenvalues.dropFirst()).allSatisfy { abs($0) >= abs($1) * (1 - 1e-3) }, "\(r.eigenvalues)")
        XCTAssertEqual(r.perLayer.map(\.group), ["embeddings", "layer.0", "head"])
        XCTAssertEqual(r.samples, 12)
        // Lanczos' largest algebraic eigenvalue is at least the largest positive power-iteration value.
        if let l = r.report.largestEigenvalues?.values.first, let p = r.eigenvalues.filter({ $0 > 0 }).max() {
            XCTAssertGreaterThanOrEqual(l, p * (1 - 1e-3))
        }
        for f in ["hessian.json", "density-KD.csv", "eigs-KD.csv", "per-example-KD.csv", "eigenvectors-KD.dir"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(f).path), f)
        }
        let dirs = try DirectionFile.read(out.appendingPathComponent("eigenvectors-KD.dir"))
        XCTAssertEqual(dirs.count, 2)
        XCTAssertEqual(Double(BLAS.norm(dirs.vectors[0])), 1, accuracy: 1e-5)
    }

    func testLandscapeStudyOnEigenDirectionsAndResume() throws {
        let target = tinyTarget()
        var h = HessianOptions()
        h.mode = .kd; h.topK = 2; h.lanczosSteps = 0; h.traceMinProbes = 0
        let hdir = tempDir()
        _ = try HessianStudy.run(target: target, options: h, outDir: hdir)
        var o = LandscapeOptions()
        o.modes = [try LandscapeMode(parsing: "KD"), try LandscapeMode(parsing: "TI-G:MI")]
        o.grid = "-0.5:0.5:3"; o.evalSize = 8; o.batchSize = 4
        o.eigenDirections = hdir.appendingPathComponent("eigenvectors-KD.dir").path
        let out = tempDir()
        let (p, config) = try LandscapeStudy.run(target: target, options: o, outDir: out)
        XCTAssertEqual(p.done, 9)
        XCTAssertEqual(config.modes, ["KD", "TI-G_MI"])
        let csv = try String(contentsOf: out.appendingPathComponent("landscape.csv"), encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 1 + 9 * 2)
        // The centre point's KD loss equals the objective at θ (no perturbation).
        let centre = csv.split(separator: "\n").first { $0.hasPrefix("0,0,KD,") || $0.hasPrefix("0.0,0.0,KD,") }
        XCTAssertNotNil(centre, csv)
        let again = try LandscapeStudy.run(target: target, options: o, outDir: out).0
        XCTAssertEqual(again.resumed, 9, "a rerun finds every point done")
        if Int8GEMM.isAvailable {
            let saved = Int8Path.enabled
            Int8Path.enabled.toggle()
            defer { Int8Path.enabled = saved }
            XCTAssertThrowsError(try LandscapeStudy.run(target: target, options: o, outDir: out),
                                 "the other GEMM route rounds differently: it must not resume this run")
        }
    }
}
