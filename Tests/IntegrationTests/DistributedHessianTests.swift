// The Hessian study over R ranks (threads standing in for MPI processes) against one process: the
// same eigenvalues, Lanczos extremes, trace and density to 1e-10 relative in f64, the same
// per-example rows bit for bit, and files from rank 0 only.
//
// Only the grouping of the rank sums differs, by about u·‖∇L̃‖ in each gradient; a finite-difference
// H·v divides that by ε, so the products differ by u·‖∇L̃‖/ε ≈ 4e-10·‖∇L̃‖ with the forward scheme's
// ε = 3e-7 (30 times less with central's 1e-5). That is the scheme's own rounding error, present in
// one process too (its truncation error, 6e-8 to 7e-7, is larger still). With central products
// every quantity is held to 1e-10. With the default forward products the converged power-iteration
// eigenvalues are too, while unconverged Krylov quantities (Lanczos extremes after 10 steps, SLQ
// nodes) and the trace move by up to 2e-9 here and are held to 1e-8.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TIAnalysis
import TILinalg

final class DistributedHessianTests: XCTestCase {
    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-dist-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    /// 12 dev examples in batches of 4 (three batches: split 2+1 over two ranks, 1+1+1 over three),
    /// every estimate the study makes, and per-example spectra for 5 examples (3+2, 2+2+1).
    var options: HessianOptions {
        var o = HessianOptions()
        o.mode = .kd; o.objective = .train; o.batchSize = 4; o.precision = .f64
        o.topK = 2; o.tolerance = 1e-5; o.maxIterations = 30; o.lanczosSteps = 10
        o.traceMinProbes = 4; o.traceMaxProbes = 4; o.density = true; o.densitySteps = 6; o.perExample = 5
        return o
    }

    func assertClose(_ a: [Double], _ b: [Double], _ what: String, ranks: Int, tolerance: Double = 1e-10, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, line: line)
        for (x, y) in zip(a, b) {
            XCTAssertLessThanOrEqual(abs(x - y), tolerance * max(abs(x), abs(y)), "\(what) over \(ranks) ranks: \(x) vs \(y)", line: line)
        }
    }

    func testRanksGiveTheSingleProcessSpectrumWithCentralProducts() throws {
        var o = options
        o.hvpDifference = .central
        try compareRanks(o, unrefinedTolerance: 1e-10)
    }

    func testRanksGiveTheSingleProcessSpectrumWithTheDefaultForwardProducts() throws {
        try compareRanks(options, unrefinedTolerance: 1e-8)
    }

    func compareRanks(_ o: HessianOptions, unrefinedTolerance: Double) throws {
        let target = TinyAnalysisTarget.make(train: 32, studentNoise: 0.05)
        let singleOut = tempDir()
        let single = try HessianStudy.run(target: target, options: o, outDir: singleOut)
        let reference = try String(contentsOf: singleOut.appendingPathComponent("eigs-KD.csv"), encoding: .utf8)
        for ranks in [1, 2, 3] {
            let out = tempDir()
            let results = try ThreadGroup.run(ranks: ranks) { comm in
                try HessianStudy.run(target: target, options: o, outDir: out, communicator: comm)
            }
            for r in results {
                XCTAssertEqual(r.eigenvalues, results[0].eigenvalues, "every rank holds the same result")
                XCTAssertEqual(r.hvpCount, single.hvpCount, "the same iterations over \(ranks) ranks")
                assertClose(r.eigenvalues, single.eigenvalues, "top eigenvalues", ranks: ranks)
                assertClose(r.report.largestEigenvalues!.values + r.report.smallestEigenvalues!.values,
                            single.report.largestEigenvalues!.values + single.report.smallestEigenvalues!.values, "Lanczos extremes", ranks: ranks,
                            tolerance: unrefinedTolerance)
                assertClose([r.report.trace!.mean], [single.report.trace!.mean], "trace", ranks: ranks, tolerance: unrefinedTolerance)
                assertClose(r.report.density!.nodes.flatMap { $0 }, single.report.density!.nodes.flatMap { $0 }, "SLQ nodes", ranks: ranks,
                            tolerance: unrefinedTolerance)
            }
            // Per-example rows come from whole examples on one rank each: identical bytes.
            XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("eigs-KD.csv"), encoding: .utf8), reference)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("hessian.json").path))
        }
    }

    /// Over 2, 3 and 4 ranks (batches of 5+5+2 examples; with 4 ranks one rank has none) the objective
    /// is the example-weighted mean of the batches' losses and gradients, each batch evaluated alone
    /// as the reference, in Double and in Float; the same bits on every rank.
    func testObjectiveOverRanksIsTheSampleWeightedMean() throws {
        try checkWeightedMean(Double.self, tolerance: 1e-14)
        try checkWeightedMean(Float.self, tolerance: 1e-6)
    }

    func checkWeightedMean<T: BLASScalar>(_: T.Type, tolerance: Double) throws {
        let target = TinyAnalysisTarget.make(train: 32, studentNoise: 0.05)
        let spec = target.spec(mode: .kd, objective: .train, phase: nil)
        let batches = Batching.batches(Array(target.task.dev), batchSize: 5, seqLen: target.task.seqLen, regression: false)
        let θ = target.parameters.map { T($0) }
        let teacher = target.teacher.map { T($0) }
        // Independent reference: each batch's loss and gradient alone, weighted by its examples.
        var loss = 0.0
        var grad = [Double](repeating: 0, count: θ.count)
        for b in batches {
            let one = DatasetObjective<T>(objective: BertObjective(model: target.model, spec: spec), batches: [b], teacher: teacher)
            let r = one.evaluate(θ, gradient: true)
            loss += Double(b.size) / 12 * r.loss
            for i in grad.indices { grad[i] += Double(b.size) / 12 * Double(r.gradient![i]) }
        }
        let scale = grad.map(abs).max()!
        for ranks in [2, 3, 4] {
            let results = try ThreadGroup.run(ranks: ranks) { comm -> (Double, [T]) in
                let obj = DatasetObjective<T>(objective: BertObjective(model: target.model, spec: spec), batches: batches,
                                              teacher: teacher, communicator: comm)
                XCTAssertEqual(obj.ownBatches, comm.share(of: batches.count))
                let r = obj.evaluate(θ, gradient: true)
                return (r.loss, r.gradient!)
            }
            for (l, g) in results {
                XCTAssertEqual(l, loss, accuracy: tolerance * abs(loss), "\(T.self), \(ranks) ranks")
                let err = zip(g, grad).map { abs(Double($0) - $1) }.max()!
                XCTAssertLessThanOrEqual(err, tolerance * scale, "\(T.self), \(ranks) ranks")
                XCTAssertEqual(g, results[0].1, "same bits on every rank")
            }
        }
    }
}
