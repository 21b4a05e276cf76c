// The Hessian study's memory estimate, by hand on the tiny target: parameter-sized vectors, the
// Lanczos basis capped at the dimension, per-worker activations; and a study whose Krylov basis
// cannot fit is refused with the estimate before any product is taken.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TIData
import TILinalg

final class StudyMemoryTests: XCTestCase {
    func testTheEstimateByHand() {
        let t = TinyAnalysisTarget.make(train: 16)
        var o = HessianOptions()
        o.topK = 3; o.lanczosSteps = 10_000; o.batchSize = 4; o.precision = .f64
        let n = t.model.layout.count
        let workers = Double(Parallel.workers)
        // 8 parameter-sized vectors, top-k + 2 power-iteration vectors, the basis capped at n (+1),
        // and two batches of activations per worker.
        let activations = ModelSize(t.model.config).activations(batch: 4, seqLen: 26)
        let expected = 8 * (8 * Double(n) + 5 * Double(n) + Double(n + 1) * Double(n) + 2 * workers * activations)
        XCTAssertEqual(StudyMemory.hessianBytes(o, target: t, dimension: n), expected)
        o.precision = .f32
        XCTAssertEqual(StudyMemory.hessianBytes(o, target: t, dimension: n), expected / 2)
    }

    func testABasisThatCannotFitIsRefusedBeforeAnyProduct() throws {
        let t = TinyAnalysisTarget.make(train: 16)
        var o = HessianOptions()
        o.lanczosSteps = 10_000; o.perExample = 1
        // The check runs before the study: ask it at the smallest dimension whose 10^4 basis vectors of
        // Doubles exceed this machine (a model far larger than the tiny one).
        let dimension = Int(MemoryBudget.machineBytes / 8 / 10_000) + 1
        XCTAssertThrowsError(try StudyMemory.checkHessian(o, target: t, dimension: dimension)) { e in
            XCTAssertTrue("\(e)".hasPrefix("memory: too large: the Hessian study (\(dimension) parameters, 10000 Lanczos steps kept"), "\(e)")
            XCTAssertTrue("\(e)".contains("; fewer Lanczos steps, a smaller batch or a parameter restriction"), "\(e)")
        }
        XCTAssertNoThrow(try StudyMemory.checkHessian(o, target: t, dimension: t.model.layout.count))
    }
}
