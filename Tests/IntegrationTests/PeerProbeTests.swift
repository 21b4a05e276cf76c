// The files `tianalyze probe` hands to the PyTorch comparison must be what they claim: the batches
// the numbers were computed on, the gradient of the loss (checked by finite differences, so a
// layout or byte-order slip fails), the HVP along the written vector, and consistent spectra.
import XCTest
import Foundation
@testable import TIStudies
import TICore
import TIAnalysis
import TILinalg

final class PeerProbeTests: XCTestCase {
    func tinyTarget() -> AnalysisTarget { TinyAnalysisTarget.make(train: 16) }

    func tempDir() -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("tia-probe-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: d) }
        return d
    }

    func testWrittenGradientAndHVPAreThoseOfTheWrittenBatches() throws {
        let target = tinyTarget()
        var o = PeerProbeOptions()
        o.mode = .fp; o.objective = .task; o.samples = 10; o.batchSize = 4; o.topK = 1; o.tolerance = 1e-6; o.maxIterations = 300
        o.traceProbes = 5; o.repeats = 1; o.landscapeEvalSize = 6; o.landscapeBatchSize = 4
        let out = tempDir()
        let r = try PeerProbe.run(target: target, options: o, outDir: out)

        let written = try JSONDecoder().decode([PeerBatch].self, from: Data(contentsOf: out.appendingPathComponent(PeerProbe.batchesFile)))
        XCTAssertEqual(written.map(\.batch), PeerProbe.batches(target: target, options: o))
        XCTAssertEqual(written.map(\.size), [4, 4, 2])
        XCTAssertEqual(r.logits.count, 10)
        let landscape = try JSONDecoder().decode([PeerBatch].self, from: Data(contentsOf: out.appendingPathComponent(PeerProbe.landscapeBatchesFile)))
        XCTAssertEqual(landscape.flatMap(\.tokens), Batching.batches(LandscapeStudy.evaluationExamples(task: target.task, size: 6, seed: 1),
                                                                     batchSize: 4, seqLen: 26, regression: false).flatMap(\.tokens))

        // An independent objective over the decoded batches, in Double, where FP is smooth.
        let θ = target.parameters.map(Double.init)
        let obj = DatasetObjective<Double>(objective: BertObjective(model: target.model, spec: ObjectiveSpec(quantization: .fullPrecision, loss: .task)),
                                           batches: written.map(\.batch), teacher: nil)
        XCTAssertEqual(r.loss, obj.evaluate(θ, gradient: false).loss, accuracy: 1e-12)
        let g = try PeerProbe.readVector(out.appendingPathComponent(PeerProbe.gradientFile))
        XCTAssertEqual(g.count, target.model.layout.count)
        var rng = SeededRandom(seed: 7)
        let u: [Double] = rng.normalVector(θ.count)
        let h = 1e-5
        let fd = (obj.evaluate(Vec.adding(θ, u, scaledBy: h), gradient: false).loss - obj.evaluate(Vec.adding(θ, u, scaledBy: -h), gradient: false).loss) / (2 * h)
        XCTAssertEqual(BLAS.dot(g, u), fd, accuracy: 1e-6 * max(1, abs(fd)))

        // H·v from gradients of the decoded objective, with a different step than the probe's.
        let v = try PeerProbe.readVector(out.appendingPathComponent(PeerProbe.vectorFile))
        let hv = try PeerProbe.readVector(out.appendingPathComponent(PeerProbe.hvpFile))
        let e = 1e-4
        var ref = obj.evaluate(Vec.adding(θ, v, scaledBy: e), gradient: true).gradient!
        BLAS.axpy(-1, obj.evaluate(Vec.adding(θ, v, scaledBy: -e), gradient: true).gradient!, &ref)
        BLAS.scale(&ref, by: 1 / (2 * e))
        var diff = hv
        BLAS.axpy(-1, ref, &diff)
        XCTAssertLessThan(BLAS.norm(diff) / BLAS.norm(ref), 1e-5)

        // The top eigenvalue bounds every Rayleigh quotient in magnitude; the trace keeps its samples.
        let lambda = try XCTUnwrap(r.eigenvalues?.first)
        XCTAssertGreaterThanOrEqual(abs(lambda) * (1 + 1e-6), abs(BLAS.dot(v, hv)) / BLAS.dot(v, v))
        let samples = try XCTUnwrap(r.traceSamples)
        XCTAssertEqual(samples.count, 5)
        XCTAssertEqual(try XCTUnwrap(r.trace).mean, samples.reduce(0, +) / 5, accuracy: 1e-9 * max(1, abs(r.trace!.mean)))
    }

    func testVectorFilesRoundTripAndRefuseTruncation() throws {
        let dir = tempDir()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("x.f64")
        let x: [Float] = [1.5, -0.25, 3e-8, 0]
        try PeerProbe.writeVector(x, to: url)
        XCTAssertEqual(try PeerProbe.readVector(url), x.map(Double.init))
        try Data(try Data(contentsOf: url).prefix(20)).write(to: url)
        XCTAssertThrowsError(try PeerProbe.readVector(url))
        XCTAssertThrowsError(try PeerBench.shape("bert-large"))
    }
}
