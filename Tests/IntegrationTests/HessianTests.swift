// Hessian-vector products of the real objectives on a tiny model in Double: a dense Hessian built
// from HVPs checked for symmetry and against LAPACK, the iterative algorithms checked against it,
// and the HVP checked against an independent route (second differences of the loss alone).
import XCTest
import TILinalg
import TICore
import TIAnalysis
import TITestSupport
import TIStudies

final class HessianTests: XCTestCase {
    static let config = BertConfig(vocabSize: 9, hiddenSize: 8, numLayers: 1, numHeads: 2, intermediateSize: 8,
                                   maxPositions: 6, typeVocabSize: 2, layerNormEps: 1e-12, numLabels: 3)
    static let batch = Batch(size: 3, seqLen: 5, tokens: [2, 4, 7, 1, 3, 2, 5, 5, 3, 0, 2, 8, 6, 3, 0],
                             tokenTypes: [0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0],
                             attentionMask: [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 0], labels: [0, 2, 1])

    func objective(_ spec: ObjectiveSpec, seed: UInt64 = 3) -> (DatasetObjective<Double>, [Double]) {
        let model = BertModel(config: Self.config)
        var rng = SeededRandom(seed: seed)
        var teacher: [Double] = model.initialParameters(seed: seed, std: 0.6)
        for s in model.layout.slots where s.role.isOneDimensional { for i in s.range { teacher[i] += 0.2 * rng.normal() } }
        var θ = teacher
        for i in θ.indices { θ[i] += 0.3 * rng.normal() }
        let obj = DatasetObjective<Double>(objective: BertObjective(model: model, spec: spec), batches: [Self.batch],
                                           teacher: spec.needsTeacher ? teacher : nil)
        return (obj, θ)
    }

    func denseHessian(_ obj: DatasetObjective<Double>, at θ: [Double]) throws -> [Double] {
        let op = FunctionOperator(dimension: θ.count) { v in obj.hessianVectorProduct(at: θ, along: v) }
        return try denseMatrix(of: op)
    }

    /// Central differences here: their 1e-9 accuracy lets the symmetry check be tight. The forward
    /// scheme is checked against them in `testForwardAndCentralDifferencesAgree`.
    func testDenseHessianSymmetricAndAlgorithmsMatchLAPACK() throws {
        let (obj, θ) = objective(ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation))
        obj.difference = .central
        let n = θ.count
        let h = try denseHessian(obj, at: θ)
        XCTAssertLessThan(symmetryError(h, n: n), 1e-8, "HVP-built Hessian must be symmetric")
        let hs = symmetrized(h, n: n)
        let (values, _) = try BLAS.symmetricEigen(hs, n: n, wantVectors: false)
        let op = DenseSymmetricOperator(matrix: hs, n: n)
        var rng = SeededRandom(seed: 1)
        let top = try PowerIteration(count: 3, tolerance: 1e-10, maxIterations: 5000).topEigenpairs(of: op, rng: &rng)
        let byMagnitude = values.sorted { abs($0) > abs($1) }
        for k in 0..<3 { XCTAssertLessThan(relativeError(top.result.values[k], byMagnitude[k]), 1e-6, "eigenvalue \(k)") }
        let ext = try lanczosExtremes(op, k: 1, steps: n, tol: 1e-10, rng: &rng)
        XCTAssertLessThan(relativeError(ext.smallest.values[0], values.first!), 1e-6)
        XCTAssertLessThan(relativeError(ext.largest.values[0], values.last!), 1e-6)
        XCTAssertLessThan(values.first!, 0, "a quantized KD objective away from the optimum has negative curvature")
        // The study's operator: forward-difference iterations, central products for the reported pair.
        obj.difference = .forward
        var frng = SeededRandom(seed: 2)
        let studied = try PowerIteration(count: 1, tolerance: 1e-10, maxIterations: 5000).topEigenpairs(of: obj.hessianOperator(at: θ), rng: &frng)
        frng = SeededRandom(seed: 2)
        let unrefined = try PowerIteration(count: 1, tolerance: 1e-10, maxIterations: 5000)
            .topEigenpairs(of: FunctionOperator(dimension: n) { v in obj.hessianVectorProduct(at: θ, along: v) }, rng: &frng)
        // Measured: 8e-6 from forward products alone, 1.3e-7 with the central Ritz value.
        let refinedError = relativeError(studied.result.values[0], byMagnitude[0])
        XCTAssertLessThan(refinedError, 1e-6, "forward iteration, central Ritz value")
        XCTAssertLessThan(refinedError, relativeError(unrefined.result.values[0], byMagnitude[0]) / 10)
        obj.difference = .central
        let exactTrace = (0..<n).reduce(0.0) { $0 + hs[$1 * n + $1] }
        let tr = try HutchinsonTrace(minProbes: 60, maxProbes: 60).estimate(op, rng: &rng)
        XCTAssertLessThan(abs(tr.mean - exactTrace), 4 * tr.stderr, "Hutchinson \(tr.mean) ± \(tr.stderr) vs \(exactTrace)")
        let density = try SpectralDensityEstimator(runs: 8, steps: 40).estimate(op, rng: &rng)
        for w in density.weights { XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-10) }
        let firstMoments = zip(density.nodes, density.weights).map { zip($0, $1).reduce(0.0) { $0 + $1.0 * $1.1 } }
        let mean = firstMoments.reduce(0, +) / Double(firstMoments.count)
        let sd = (firstMoments.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(firstMoments.count - 1)).squareRoot()
        XCTAssertLessThan(abs(mean - exactTrace / Double(n)), 4 * sd / Double(firstMoments.count).squareRoot() + 1e-12)
    }

    static let objectiveSpecs: [(String, ObjectiveSpec)] = [
        ("FP task", ObjectiveSpec(quantization: .fullPrecision, loss: .task)),
        ("KD ternary", ObjectiveSpec(quantization: .ternaryW8A8, loss: .distillation)),
        ("TI-G (MI phase)", QATMode.tiG.method.objective(intervention: .map, quantization: QATMode.tiG.method.defaultQuantization)),
        ("TI-G (OI phase)", QATMode.tiG.method.objective(intervention: .output, quantization: QATMode.tiG.method.defaultQuantization)),
    ]

    /// uᵀ(H·v) against second differences of the frozen stand-in loss (no gradients involved),
    /// and the symmetry u·Hv = v·Hu, for the FP, KD and TI objectives and both difference schemes.
    func testHVPMatchesSecondDifferencesOfTheLoss() {
        for (name, spec) in Self.objectiveSpecs {
            for (difference, symmetry) in [(HVPDifference.central, 1e-8), (.forward, 3e-6)] {
                let (obj, θ) = objective(spec)
                obj.difference = difference
                let n = θ.count
                let u = randomUnitVector(n, seed: 5), v = randomUnitVector(n, seed: 6)
                let hv = obj.hessianVectorProduct(at: θ, along: v), hu = obj.hessianVectorProduct(at: θ, along: u)
                let h = 1e-4
                func L(_ a: Double, _ b: Double) -> Double {
                    var x = θ
                    for i in 0..<n { x[i] += a * u[i] + b * v[i] }
                    return obj.standInLoss(at: θ, point: x)
                }
                let second = (L(h, h) - L(h, -h) - L(-h, h) + L(-h, -h)) / (4 * h * h)
                XCTAssertLessThan(relativeError(BLAS.dot(u, hv), second), 1e-4, "\(name) \(difference): uᵀHv \(BLAS.dot(u, hv)) vs \(second)")
                XCTAssertLessThan(relativeError(BLAS.dot(u, hv), BLAS.dot(v, hu)), symmetry, "\(name) \(difference): symmetry")
            }
        }
    }

    /// The forward scheme against the central one (1e-9 accurate) at the default steps: the
    /// accuracy the README states, and the cost model: one gradient per product after one at θ₀,
    /// with the cached gradient dropped when the base point moves.
    func testForwardAndCentralDifferencesAgree() {
        for (name, spec) in Self.objectiveSpecs {
            let (forward, θ) = objective(spec)
            let (central, _) = objective(spec)
            central.difference = .central
            XCTAssertEqual(forward.difference, .forward, "Double defaults to forward differences")
            let v = randomUnitVector(θ.count, seed: 6), u = randomUnitVector(θ.count, seed: 7)
            let exact = central.hessianVectorProduct(at: θ, along: v)
            XCTAssertLessThan(relativeVectorError(forward.hessianVectorProduct(at: θ, along: v), exact), 2e-6, name)
            _ = forward.hessianVectorProduct(at: θ, along: u)
            _ = forward.hessianVectorProduct(at: θ, along: v)
            XCTAssertEqual(forward.gradientCount, 4, "\(name): 3 forward products = 1 base gradient + 3")
            XCTAssertEqual(central.gradientCount, 2, "\(name): 1 central product = 2 gradients")
            var moved = θ
            for i in moved.indices { moved[i] += 0.05 * u[i] }
            let (fresh, _) = objective(spec)
            XCTAssertEqual(forward.hessianVectorProduct(at: moved, along: v), fresh.hessianVectorProduct(at: moved, along: v),
                           "\(name): a moved base point recomputes the cached gradient")
        }
    }

    /// Sample weighting: the HVP over two batches is the size-weighted mean of their HVPs.
    func testHVPIsSampleWeightedOverBatches() {
        let model = BertModel(config: Self.config)
        let θ: [Double] = model.initialParameters(seed: 4, std: 0.5)
        let spec = ObjectiveSpec(quantization: .fullPrecision, loss: .task)
        let a = Self.batch.slice(0..<1), b = Self.batch.slice(1..<3)
        let both = DatasetObjective<Double>(objective: BertObjective(model: model, spec: spec), batches: [a, b], teacher: nil)
        let first = DatasetObjective<Double>(objective: BertObjective(model: model, spec: spec), batches: [a], teacher: nil)
        let second = DatasetObjective<Double>(objective: BertObjective(model: model, spec: spec), batches: [b], teacher: nil)
        let v = randomUnitVector(θ.count, seed: 9)
        let expected = zip(first.hessianVectorProduct(at: θ, along: v), second.hessianVectorProduct(at: θ, along: v)).map { ($0 + 2 * $1) / 3 }
        XCTAssertLessThan(relativeVectorError(both.hessianVectorProduct(at: θ, along: v), expected), 1e-7)
    }
}
