// The numbers the PyTorch/PyHessian comparison (notebooks-cli/compare-peers.sh, issue 9) checks
// tianalyze against, for one checkpoint, one objective and one fixed set of batches: the batches
// themselves (so the peer feeds exactly the same tokens), loss and its terms, logits, the flat
// latent gradient, one HVP along a seeded vector, top-k eigenvalues and a Hutchinson trace, each
// with its wall time. Binary vectors are raw little-endian Float64 in parameter-layout order, the
// layout (HF names, shapes, offsets) goes into result.json, so the peer maps them by name.
//
// Also the train-step timing at a given shape (`PeerBench`), measured the same way as the peer
// measures itself: median of repeats after a warm-up, in-process, without start-up costs.
import Foundation
import TILinalg
import TIData
import TICore
import TIAnalysis

public struct PeerProbeOptions: Codable, Sendable {
    public var mode: QATMode = .fp
    public var objective: ObjectiveChoice = .task
    public var phase: InterventionPoint? = nil
    /// The first `samples` dev examples, as `tianalyze hessian --samples` takes them.
    public var samples = 64
    public var batchSize = 64
    public var precision: Precision = .f64
    public var seed: UInt64 = 1
    public var hvp = true
    public var topK = 0
    public var tolerance = 1e-3
    public var maxIterations = 100
    /// Hutchinson probes (exactly this many; 0 skips the trace).
    public var traceProbes = 0
    /// Timed repetitions of one gradient and one HVP (median reported).
    public var repeats = 3
    /// > 0: also export the landscape evaluation set of that size (seeded as `tianalyze landscape`).
    public var landscapeEvalSize = 0
    /// Batched as `tianalyze landscape` batches it: dynamic activation ranges are per batch.
    public var landscapeBatchSize = LandscapeOptions().batchSize
    /// nil: the precision's default scheme and step (see DatasetObjective).
    public var hvpDifference: HVPDifference? = nil
    public var hvpStep: Double? = nil
    public init() {}
}

/// A batch as the peer reads it (Batch itself carries no Codable conformance on purpose: it is a
/// hot-path value type of TICore).
public struct PeerBatch: Codable, Equatable, Sendable {
    public var size: Int
    public var seqLen: Int
    public var tokens: [Int]
    public var tokenTypes: [Int]
    public var attentionMask: [Int]
    public var labels: [Int]
    public var targets: [Double]

    public init(_ b: Batch) {
        size = b.size; seqLen = b.seqLen; tokens = b.tokens; tokenTypes = b.tokenTypes
        attentionMask = b.attentionMask; labels = b.labels; targets = b.targets
    }

    public var batch: Batch {
        Batch(size: size, seqLen: seqLen, tokens: tokens, tokenTypes: tokenTypes, attentionMask: attentionMask,
              labels: labels, targets: targets)
    }
}

public struct PeerProbeResult: Codable, Sendable {
    public var tool = "tianalyze probe"
    public var options: PeerProbeOptions
    public var objective: ObjectiveSpec
    public var checkpointHash: String
    public var parameterCount: Int
    public var layout: [ParameterSlot]
    public var config: BertConfig
    public var samples: Int
    public var loss: Double
    public var terms: LossTerms
    /// One row per example, batches in order.
    public var logits: [[Double]]
    public var gradientNorm: Double
    public var hvpNorm: Double?
    /// ε of the finite-difference HVP (relative step) and its scheme; see DatasetObjective.
    public var hvpRelativeStep: Double
    public var hvpDifference: HVPDifference
    public var eigenvalues: [Double]?
    /// Estimated truncation error of each eigenvalue (see `EigenResult.errors`).
    public var eigenvalueErrors: [Double]?
    /// The Rayleigh quotient of each reported eigenvector from one central product at the default
    /// step (how eigenvalues were refined before extrapolation): a peer sees what the extrapolation
    /// changed, against its double-backward quotient along `eigenvectorFile`.
    public var centralRayleighQuotients: [Double]?
    public var residuals: [Double]?
    public var iterations: [Int]?
    public var converged: [Bool]?
    public var trace: TraceResult?
    public var traceSamples: [Double]?
    /// Seconds: "gradient" and "hvp" (medians), "topK" and "trace" (one run each).
    public var seconds: [String: Double]
    public var hvpCount: Int
}

public enum PeerProbe {
    public static let batchesFile = "batches.json", resultFile = "result.json"
    public static let gradientFile = "gradient.f64", vectorFile = "v.f64", hvpFile = "hv.f64", eigenvectorFile = "eigenvector.f64"
    public static let landscapeBatchesFile = "landscape-batches.json"

    /// `threads` cores: batches split across workers when there are enough of them, each step's
    /// kernels split otherwise (Parallel shares the budget); BLAS itself stays single-threaded, so
    /// the results are those of any other thread count.
    public static func configureThreads(_ threads: Int, batches: Int) {
        BLAS.setThreads(1); Parallel.workers = max(1, threads)
    }

    public static func batches(target: AnalysisTarget, options o: PeerProbeOptions) -> [Batch] {
        let examples = Array(target.task.dev.prefix(o.samples))
        return Batching.batches(examples, batchSize: o.batchSize, seqLen: target.task.seqLen, regression: target.task.isRegression)
    }

    public static func run(target: AnalysisTarget, options o: PeerProbeOptions, outDir: URL, threads: Int = 1) throws -> PeerProbeResult {
        try o.validate()
        // Concrete types, not `o.precision.scalarType`: an opened existential runs the generic code
        // unspecialized (value-witness calls per element), several times slower.
        switch o.precision {
        case .f32: return try run(Float.self, target: target, options: o, outDir: outDir, threads: threads)
        case .f64: return try run(Double.self, target: target, options: o, outDir: outDir, threads: threads)
        }
    }

    static func run<T: BLASScalar>(_: T.Type, target: AnalysisTarget, options o: PeerProbeOptions, outDir: URL, threads: Int) throws -> PeerProbeResult {
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let spec = target.spec(mode: o.mode, objective: o.objective, phase: o.phase)
        let bs = batches(target: target, options: o)
        guard !bs.isEmpty else { throw OptionValueError(option: .samples, value: "\(o.samples)", reason: "selects no dev examples") }
        configureThreads(threads, batches: bs.count)
        try AtomicFile.writeJSON(bs.map(PeerBatch.init), to: outDir.appendingPathComponent(batchesFile))
        if o.landscapeEvalSize > 0 {
            let ex = LandscapeStudy.evaluationExamples(task: target.task, size: o.landscapeEvalSize, seed: o.seed)
            let lb = Batching.batches(ex, batchSize: o.landscapeBatchSize, seqLen: target.task.seqLen, regression: target.task.isRegression)
            try AtomicFile.writeJSON(lb.map(PeerBatch.init), to: outDir.appendingPathComponent(landscapeBatchesFile))
        }

        let θ = target.parameters.map { T($0) }
        let teacher: [T]? = spec.needsTeacher ? target.teacher.map { T($0) } : nil
        let bert = BertObjective<T>(model: target.model, spec: spec)
        let objective = DatasetObjective<T>(objective: bert, batches: bs, teacher: teacher)
        objective.useHVP(difference: o.hvpDifference, relativeStep: o.hvpStep)
        var seconds: [String: Double] = [:]

        let value = objective.evaluate(θ, gradient: true)
        let gradient = value.gradient!
        try writeVector(gradient, to: outDir.appendingPathComponent(gradientFile))
        seconds["gradient"] = ModelBenchmark.time(repeats: o.repeats) { _ = objective.evaluate(θ, gradient: true) }

        // Logits per batch from the same objective (the teacher's trace is needed under an intervention).
        var logits: [[Double]] = []
        let c = target.model.config.numLabels
        for b in bs {
            let tt = teacher.map { bert.teacherTrace(teacher: $0, batch: b) }
            let l = bert.evaluate(θ, batch: b, teacher: tt, gradient: false).logits
            for i in 0..<b.size { logits.append((0..<c).map { Double(l[i * c + $0]) }) }
        }

        var hvpNorm: Double? = nil
        if o.hvp {
            var rng = SeededRandom(seed: o.seed).derived("peer-probe/v")
            let v: [T] = rng.normalVector(θ.count)
            let hv = objective.hessianVectorProduct(at: θ, along: v)
            try writeVector(v, to: outDir.appendingPathComponent(vectorFile))
            try writeVector(hv, to: outDir.appendingPathComponent(hvpFile))
            hvpNorm = Double(BLAS.norm(hv))
            seconds["hvp"] = ModelBenchmark.time(repeats: o.repeats) { _ = objective.hessianVectorProduct(at: θ, along: v) }
        }

        let op = objective.hessianOperator(at: θ)
        let (eig, central) = try topEigenpairs(objective, op: op, at: θ, options: o, outDir: outDir, seconds: &seconds)
        var trace: TraceResult? = nil, traceSamples: [Double]? = nil
        if o.traceProbes > 0 {
            var rng = SeededRandom(seed: o.seed).derived("peer-probe/trace")
            let recorder = SampleRecorder(op)
            let start = DispatchTime.now().uptimeNanoseconds
            trace = try HutchinsonTrace(minProbes: max(3, o.traceProbes), maxProbes: max(3, o.traceProbes), tolerance: 0).estimate(recorder, rng: &rng)
            seconds["trace"] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            traceSamples = recorder.box.samples
        }

        let result = PeerProbeResult(
            options: o, objective: spec, checkpointHash: target.checkpointHash, parameterCount: θ.count,
            layout: target.model.layout.slots, config: target.model.config, samples: objective.exampleCount,
            loss: value.loss, terms: value.terms, logits: logits, gradientNorm: Double(BLAS.norm(gradient)), hvpNorm: hvpNorm,
            hvpRelativeStep: objective.relativeStep, hvpDifference: objective.difference, eigenvalues: eig?.values, eigenvalueErrors: eig?.errors,
            centralRayleighQuotients: central, residuals: eig?.residuals,
            iterations: eig?.iterations, converged: eig?.converged, trace: trace, traceSamples: traceSamples,
            seconds: seconds, hvpCount: objective.hvpCount)
        try AtomicFile.writeJSON(result, to: outDir.appendingPathComponent(resultFile))
        return result
    }

    /// The top-k eigenpairs as `tianalyze hessian` finds them (same generator stream), the first
    /// eigenvector written for a peer, and each vector's Rayleigh quotient from one central product.
    static func topEigenpairs<T: BLASScalar>(_ objective: DatasetObjective<T>, op: FunctionOperator, at θ: [T], options o: PeerProbeOptions,
                                             outDir: URL, seconds: inout [String: Double]) throws -> (EigenResult?, [Double]?) {
        guard o.topK > 0 else { return (nil, nil) }
        var rng = SeededRandom(seed: o.seed).derived("hessian")
        let start = DispatchTime.now().uptimeNanoseconds
        let pairs = try PowerIteration(count: o.topK, tolerance: o.tolerance, maxIterations: o.maxIterations).topEigenpairs(of: op, rng: &rng)
        seconds["topK"] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        try writeVector(pairs.vectors[0], to: outDir.appendingPathComponent(eigenvectorFile))
        let central = pairs.vectors.map { y in
            let hy = objective.hessianVectorProduct(at: θ, along: y.map { T($0) }, scheme: .central)
            return BLAS.dot(y, hy.map { Double($0) }) / BLAS.dot(y, y)
        }
        return (pairs.result, central)
    }

    public static func writeVector<T: BLASScalar>(_ v: [T], to url: URL) throws {
        var data = Data(capacity: v.count * 8)
        for x in v {
            var bits = Double(x).bitPattern.littleEndian
            withUnsafeBytes(of: &bits) { data.append(contentsOf: $0) }
        }
        try AtomicFile.write(data, to: url)
    }

    public static func readVector(_ url: URL) throws -> [Double] {
        let data = try Data(contentsOf: url)
        guard data.count % 8 == 0 else {
            throw DataError.malformed(file: url.path, reason: "\(data.count) bytes is not a whole number of Float64 values")
        }
        return stride(from: 0, to: data.count, by: 8).map { i in
            var bits: UInt64 = 0
            _ = withUnsafeMutableBytes(of: &bits) { data.copyBytes(to: $0, from: i..<(i + 8)) }
            return Double(bitPattern: UInt64(littleEndian: bits))
        }
    }
}

/// Keeps every zᵀHz so the peer can compare spreads, not only the means (HutchinsonTrace keeps
/// only the running moments).
final class SampleRecorder<Base: SymmetricOperator>: SymmetricOperator {
    final class Box { var samples: [Double] = [] }
    let base: Base
    let box = Box()
    init(_ base: Base) { self.base = base }
    var dimension: Int { base.dimension }
    var domainDimension: Int { base.domainDimension }
    func projectToDomain(_ v: inout [Double]) { base.projectToDomain(&v) }
    func apply(_ v: [Double]) throws -> [Double] {
        let hv = try base.apply(v)
        box.samples.append(BLAS.dot(v, hv))
        return hv
    }
    func refinedProduct(_ v: [Double]) throws -> RefinedProduct? { try base.refinedProduct(v) }
}

/// One train step (forward + backward; for KD also the teacher's forward) at a given shape on
/// random weights and tokens, timed like the peer times itself.
public struct PeerBenchResult: Codable, Sendable {
    public var shape: String
    public var mode: String
    public var precision: Precision
    public var config: BertConfig
    public var batch: Int
    public var seq: Int
    public var threads: Int
    public var seconds: Double
    public var gflops: Double
    /// sgemm GFLOP/s at the model's Linear shapes, measured in the same process right before.
    public var sgemmGflops: Double
    public var shareOfSgemm: Double
}

public enum PeerBench {
    /// The shapes compared: the embedded default model, MiniLM-L6 and two BERT-base layers.
    public static func shape(_ name: String) throws -> (BertConfig, batch: Int, seq: Int) {
        switch name {
        case "default": return (BertConfig.small(vocabSize: SymbolVocabulary.size, maxPositions: 64, numLabels: 8), 32, 26)
        case "minilm": return (BertConfig(vocabSize: 30522, hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536,
                                          maxPositions: 512, numLabels: 2), 8, 128)
        case "base": return (BertConfig(vocabSize: 1000, hiddenSize: 768, numLayers: 2, numHeads: 12, intermediateSize: 3072,
                                        maxPositions: 128, numLabels: 2), 8, 128)
        default: throw OptionValueError(option: .benchShape, value: name, reason: "expected default, minilm or base")
        }
    }

    /// Matmul FLOPs of a train step: forward + backward (2× forward), plus the teacher's forward under KD.
    public static func stepFlops(_ c: BertConfig, batch: Int, seq: Int, distillation: Bool) -> Double {
        (distillation ? 4 : 3) * ModelBenchmark.forwardFlops(c, batch: batch, seq: seq)
    }

    /// `measureSgemm: false` skips the reference sgemm rate (reported as 0), so that a profile of
    /// the process (BLAS share) sees the train steps only.
    public static func trainStep(shape name: String, mode: QATMode, threads: Int, repeats: Int, measureSgemm: Bool = true) throws -> PeerBenchResult {
        let (c, b, t) = try shape(name)
        BLAS.setThreads(1); Parallel.workers = max(1, threads)
        let sgemm = measureSgemm ? ModelBenchmark.sgemmRate(c, rows: b * t) : 0
        let model = BertModel(config: c)
        let θ: [Float] = model.initialParameters(seed: 1)
        var rng = SeededRandom(seed: 2)
        let batch = Batch(size: b, seqLen: t, tokens: (0..<(b * t)).map { _ in rng.below(c.vocabSize) },
                          tokenTypes: [Int](repeating: 0, count: b * t), attentionMask: [Int](repeating: 1, count: b * t),
                          labels: (0..<b).map { _ in rng.below(c.numLabels) })
        let spec = mode.method.objective(intervention: nil, quantization: mode.method.defaultQuantization)
        let obj = BertObjective<Float>(model: model, spec: spec)
        let distill = spec.needsTeacher
        let student = distill ? θ.map { $0 + Float(0.01 * rng.normal()) } : θ
        let s = ModelBenchmark.time(repeats: repeats) {
            let teacher = distill ? obj.teacherTrace(teacher: θ, batch: batch) : nil
            _ = obj.evaluate(student, batch: batch, teacher: teacher, gradient: true)
        }
        let g = stepFlops(c, batch: b, seq: t, distillation: distill) / s / 1e9
        return PeerBenchResult(shape: name, mode: mode.rawValue, precision: .f32, config: c, batch: b, seq: t, threads: threads,
                               seconds: s, gflops: g, sgemmGflops: sgemm, shareOfSgemm: sgemm > 0 ? g / sgemm : 0)
    }
}
