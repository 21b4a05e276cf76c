// `tianalyze intervention-map`: where does the intervention act? For each layer l and each point
// (MI, CI, OI), the KD objective with the teacher's tensor substituted at layer l alone: its loss,
// the top eigenvalue of its Hessian (power iteration on the same operator `hessian` uses) and the
// per-layer MSE of the student's layer outputs against the teacher's, each beside the same quantity
// without intervention. Every finished entry is saved (intervention-map.json), so a rerun with the
// same options continues where the last one stopped.
import Foundation
import TILinalg
import TIData
import TICore
import TIAnalysis

public struct InterventionMapOptions: Codable, Equatable, Sendable {
    /// The method whose student (and quantization) is mapped.
    public var mode: QATMode = .tiG
    public var at: AnalysisPointChoice = .trained
    /// Dev examples the loss, the MSE and the Hessian average over.
    public var samples = 64
    public var batchSize = 32
    public var precision: Precision = .f64
    public var seed: UInt64 = 1
    public var tolerance = 1e-3
    public var maxIterations = 50
    public init() {}
}

/// One cell of the map: `layer` and `point` nil for the reference without intervention.
public struct InterventionMapEntry: Codable, Equatable, Sendable {
    public var layer: Int?
    public var point: InterventionPoint?
    /// KD loss (TernaryBERT's terms) with the intervention active, over the Hessian's batches and precision.
    public var loss: Double
    public var topEigenvalue: Double
    public var converged: Bool
    /// MSE of each layer's output hidden states against the teacher's (Float, batches of 64 as `qat`'s probe).
    public var layerOutputMSE: [Double]
}

/// What intervention-map.json holds: the options, the point mapped, and the entries finished so far.
struct InterventionMapState: Codable, Equatable {
    var tool = "tianalyze intervention-map"
    var options: InterventionMapOptions
    var checkpointHash: String
    var entries: [InterventionMapEntry]
}

public enum InterventionMap {
    public static let file = "intervention-map.csv", layersFile = "intervention-map-layers.csv", stateFile = "intervention-map.json"

    /// The reference first, then layer by layer MI, CI, OI; resumes the entries of a matching earlier run in `outDir`.
    public static func run(target: AnalysisTarget, options o: InterventionMapOptions, outDir: URL,
                           events: RunEvents = .silent) throws -> [InterventionMapEntry] {
        let cells: [(Int?, InterventionPoint?)] = [(nil, nil)]
            + (0..<target.model.config.numLayers).flatMap { l in InterventionPoint.allCases.map { (Optional(l), Optional($0)) } }
        let stateURL = outDir.appendingPathComponent(stateFile)
        var state = InterventionMapState(options: o, checkpointHash: target.checkpointHash, entries: [])
        if let old = try? JSONDecoder().decode(InterventionMapState.self, from: Data(contentsOf: stateURL)),
           old.options == o, old.checkpointHash == target.checkpointHash, old.entries.count <= cells.count {
            state.entries = old.entries
            if !old.entries.isEmpty { events.note("intervention-map: continuing after \(old.entries.count) of \(cells.count) entries") }
        }
        try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
        let bar = ProgressReporter("intervention-map \(o.mode.rawValue)", total: cells.count, events: events)
        for (layer, point) in cells.dropFirst(state.entries.count) {
            let e = try entry(target: target, options: o, point: point, layers: layer.map { [$0] })
            state.entries.append(e)
            try AtomicFile.writeJSON(state, to: stateURL)
            try writeCSVs(state.entries, to: outDir)
            bar.update(state.entries.count, String(format: "%@ at layer %@: loss %.4g, λmax %.4g", point?.rawValue ?? "none",
                                                   layer.map(String.init) ?? "-", e.loss, e.topEigenvalue))
        }
        return state.entries
    }

    /// The loss, top eigenvalue and per-layer MSE of the KD objective with `point` in `layers` only (nil: none).
    public static func entry(target: AnalysisTarget, options o: InterventionMapOptions, point: InterventionPoint?,
                             layers: [Int]?) throws -> InterventionMapEntry {
        let q = target.quantization ?? o.mode.method.defaultQuantization
        let examples = Array(target.task.dev.prefix(o.samples))
        var sample = target.task
        sample.dev = examples
        let probe = DistillationProbe(model: target.model, task: sample, teacher: target.teacher, size: examples.count)
        let output = probe.measure(target.parameters, quantization: q, intervention: point.map { ($0, layers) }).output
        var spec = ObjectiveSpec(quantization: q, loss: .distillation, intervention: point)
        spec.interventionLayers = layers
        let (loss, λ, converged): (Double, Double, Bool)
        switch o.precision {
        case .f32: (loss, λ, converged) = try lossAndTopEigenvalue(Float.self, target: target, spec: spec, examples: examples, options: o, point: point, layers: layers)
        case .f64: (loss, λ, converged) = try lossAndTopEigenvalue(Double.self, target: target, spec: spec, examples: examples, options: o, point: point, layers: layers)
        }
        return InterventionMapEntry(layer: layers?.first, point: point, loss: loss, topEigenvalue: λ, converged: converged,
                                    layerOutputMSE: output)
    }

    /// The loss of `spec` over `examples` and power iteration on its Hessian, from a start drawn for this cell alone.
    static func lossAndTopEigenvalue<T: BLASScalar>(_: T.Type, target: AnalysisTarget, spec: ObjectiveSpec, examples: [Example],
                                                    options o: InterventionMapOptions, point: InterventionPoint?,
                                                    layers: [Int]?) throws -> (Double, Double, Bool) {
        let batches = Batching.batches(examples, batchSize: o.batchSize, seqLen: target.task.seqLen, regression: target.task.isRegression)
        let objective = DatasetObjective<T>(objective: BertObjective(model: target.model, spec: spec), batches: batches,
                                            teacher: target.teacher.map { T($0) })
        let θ = target.parameters.map { T($0) }
        let op = objective.hessianOperator(at: θ)
        var rng = SeededRandom(seed: o.seed).derived("intervention-map/\(point?.rawValue ?? "none")/\(layers?.map(String.init).joined(separator: ",") ?? "-")")
        let top = try PowerIteration(count: 1, tolerance: o.tolerance, maxIterations: o.maxIterations).topEigenpairs(of: op, rng: &rng)
        return (objective.evaluate(θ, gradient: false).loss, top.result.values[0], top.result.converged[0])
    }

    /// intervention-map.csv (one row per cell, each quantity beside its ratio to the reference; output_mse
    /// is the last layer's) and intervention-map-layers.csv (every cell's MSE at every layer).
    static func writeCSVs(_ entries: [InterventionMapEntry], to dir: URL) throws {
        guard let ref = entries.first else { return }
        func ratio(_ a: Double, _ b: Double) -> String { Fmt.g(b == 0 ? .nan : a / b) }
        var rows = ["layer,point,loss,loss_relative,top_eigenvalue,top_eigenvalue_relative,output_mse,output_mse_relative,converged"]
        var layerRows = ["layer,point,measured_layer,mse,mse_relative"]
        for e in entries {
            let l = e.layer.map(String.init) ?? "none", p = e.point?.rawValue ?? "none"
            let out = e.layerOutputMSE.last ?? .nan, refOut = ref.layerOutputMSE.last ?? .nan
            rows.append([l, p, Fmt.g(e.loss), ratio(e.loss, ref.loss), Fmt.g(e.topEigenvalue), ratio(e.topEigenvalue, ref.topEigenvalue),
                         Fmt.g(out), ratio(out, refOut), e.converged ? "1" : "0"].joined(separator: ","))
            for (k, m) in e.layerOutputMSE.enumerated() {
                layerRows.append([l, p, String(k), Fmt.g(m), ratio(m, ref.layerOutputMSE[k])].joined(separator: ","))
            }
        }
        try AtomicFile.write(rows.joined(separator: "\n") + "\n", to: dir.appendingPathComponent(file))
        try AtomicFile.write(layerRows.joined(separator: "\n") + "\n", to: dir.appendingPathComponent(layersFile))
    }
}
