// What `tianalyze sensitivity` writes: sensitivity.csv (one row per block), pareto.csv (the exact
// frontier of model bytes against Σ Ω), uniform.csv (every tensor at one precision), and
// allocation.json (the allocation within the budget, read back by `--quant-config`).
import Foundation
import TILinalg
import TIData
import TICore
import TIAnalysis

/// One block's sensitivity; the candidate columns only for quantized tensors.
public struct SensitivityRow: Codable, Sendable {
    public var name: String
    public var kind: SensitivityBlock.Kind
    public var shape: [Int]?
    public var parameters: Int
    public var trace: BlockTraceEstimate
    public var lambdaMax: Double?
    public var lambdaResidual: Double?
    public var lambdaConverged: Bool?
    /// By precision ("ternary", "2", …): ‖Q(W) − W‖², Ω = Tr/n·‖Q(W) − W‖², stored bytes.
    public var perturbation: [String: Double]? = nil
    public var omega: [String: Double]? = nil
    public var bytes: [String: Int]? = nil
    public var allocated: String? = nil

    init(block b: SensitivityBlock, trace: BlockTraceEstimate, eigen: EigenResult?) {
        name = b.name; kind = b.kind; parameters = b.parameters; self.trace = trace
        shape = b.kind == .tensor ? b.slots[0].shape : nil
        lambdaMax = eigen?.values[0]; lambdaResidual = eigen?.residuals[0]; lambdaConverged = eigen?.converged[0]
    }

    /// HAWQ-V2's Ω = Tr(H_b)/n_b · ‖Q(W) − W‖², with a negative trace estimate counted as 0: Ω presumes a
    /// positive semi-definite block, and a negative Ω would reward the coarsest grid for a block whose
    /// estimate is noise around zero. Ties (Ω = 0 at every width) go to the smallest size, ternary first.
    public static func omega(trace: Double, parameters: Int, perturbation: Double) -> Double {
        max(trace, 0) / Double(parameters) * perturbation
    }

    mutating func addCandidates(_ candidates: [WeightPrecision], parameters θ: [Float], slot: ParameterSlot) {
        var p: [String: Double] = [:], w: [String: Double] = [:], s: [String: Int] = [:]
        for c in candidates {
            let e = SensitivityBlocks.perturbation(θ, slot: slot, precision: c)
            p[c.description] = e
            w[c.description] = SensitivityRow.omega(trace: trace.mean, parameters: parameters, perturbation: e)
            s[c.description] = ModelSize.storedBytes(slot, precision: c)
        }
        perturbation = p; omega = w; bytes = s
    }
}

public struct SensitivityResult: Codable, Sendable {
    public var tool = "tianalyze sensitivity"
    public var options: SensitivityOptions
    public var task: String
    public var checkpoint: String
    public var checkpointHash: String
    public var samples: Int
    public var hvpStep: Double
    public var hvpDifference: HVPDifference
    public var definition = "Hessian of the stand-in loss w.r.t. the latent parameters (as tianalyze hessian); block traces by Hutchinson from the same Rademacher probes (Σ_{i∈b} z_i(Hz)_i); Ω_b = max(Tr(H_b), 0)/n_b · ‖Q_b(W) − W‖²; sizes: codes at their bits (ternary 2) rounded up to bytes + one f32 scale per tensor (per row for word embeddings), other tensors f32; MB = 10⁶ bytes"
    public var fullTrace: BlockTraceEstimate
    public var rows: [SensitivityRow]
    public var budgetBytes: Int
    public var bytes: Int
    public var averageBits: Double
    public var totalOmega: Double
    public var frontierPoints: Int
    public var hvpCount: Int
    public var wallSeconds: Double
    public var gitRevision = Provenance.gitRevision()
    /// Not encoded: the frontier goes to pareto.csv, the references to uniform.csv.
    var frontier: [ParetoPoint] = []
    var uniform: [(precision: WeightPrecision, bytes: Int, omega: Double)] = []
    var tensorAverageBits: [Double] = []

    enum CodingKeys: String, CodingKey {
        case tool, options, task, checkpoint, checkpointHash, samples, hvpStep, hvpDifference, definition, fullTrace, rows
        case budgetBytes, bytes, averageBits, totalOmega, frontierPoints, hvpCount, wallSeconds, gitRevision
    }

    init(options: SensitivityOptions, task: String, checkpoint: String, checkpointHash: String, samples: Int, hvpStep: Double,
         hvpDifference: HVPDifference, fullTrace: BlockTraceEstimate, rows: [SensitivityRow], budgetBytes: Int, sizes: AllocationSizes,
         best: ParetoPoint, frontier: [ParetoPoint], hvpCount: Int, wallSeconds: Double) {
        self.options = options; self.task = task; self.checkpoint = checkpoint; self.checkpointHash = checkpointHash
        self.samples = samples; self.hvpStep = hvpStep; self.hvpDifference = hvpDifference; self.fullTrace = fullTrace
        self.rows = rows; self.budgetBytes = budgetBytes; bytes = best.size; totalOmega = best.cost
        let c = SensitivityStudy.candidates
        averageBits = sizes.averageBits(best.choice.map { c[$0] })
        frontierPoints = frontier.count; self.frontier = frontier
        tensorAverageBits = frontier.map { p in sizes.averageBits(p.choice.map { c[$0] }) }
        let tensorRows = rows.filter { $0.kind == .tensor }
        uniform = c.map { p in
            (p, sizes.rest + tensorRows.reduce(0) { $0 + $1.bytes![p.description]! }, tensorRows.reduce(0.0) { $0 + $1.omega![p.description]! })
        }
        self.hvpCount = hvpCount; self.wallSeconds = wallSeconds
    }

    /// allocation.json, sensitivity.csv, pareto.csv, uniform.csv and sensitivity.json into `dir`.
    func write(to dir: URL) throws {
        let c = SensitivityStudy.candidates.map(\.description)
        var csv = ["block,kind,parameters,lambda_max,lambda_residual,lambda_converged,trace,trace_stderr,trace_per_param,"
                   + (c.map { "pert_\($0)" } + c.map { "omega_\($0)" } + c.map { "bytes_\($0)" }).joined(separator: ",") + ",allocated"]
        for r in rows {
            let opt = { (v: Double?) in v.map(Fmt.g) ?? "" }
            var f = [r.name, r.kind.rawValue, String(r.parameters), opt(r.lambdaMax), opt(r.lambdaResidual), r.lambdaConverged.map { $0 ? "1" : "0" } ?? "",
                     Fmt.g(r.trace.mean), Fmt.g(r.trace.stderr), Fmt.g(r.trace.mean / Double(r.parameters))]
            f += c.map { opt(r.perturbation?[$0]) } + c.map { opt(r.omega?[$0]) } + c.map { r.bytes?[$0].map(String.init) ?? "" }
            csv.append((f + [r.allocated ?? ""]).joined(separator: ","))
        }
        try AtomicFile.write(csv.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("sensitivity.csv"))
        var pareto = ["bytes,megabytes,avg_bits,omega"]
        for (p, bits) in zip(frontier, tensorAverageBits) { pareto.append("\(p.size),\(Fmt.g(Double(p.size) / 1e6)),\(Fmt.g(bits)),\(Fmt.g(p.cost))") }
        try AtomicFile.write(pareto.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("pareto.csv"))
        var uni = ["precision,bytes,megabytes,omega,allocated_bytes,allocated_omega"]
        for u in uniform { uni.append("\(u.precision),\(u.bytes),\(Fmt.g(Double(u.bytes) / 1e6)),\(Fmt.g(u.omega)),\(bytes),\(Fmt.g(totalOmega))") }
        try AtomicFile.write(uni.joined(separator: "\n") + "\n", to: dir.appendingPathComponent("uniform.csv"))
        try AtomicFile.writeJSON(self, to: dir.appendingPathComponent("sensitivity.json"))
        try AtomicFile.writeJSON(allocation, to: dir.appendingPathComponent("allocation.json"))
    }

    /// The document `--quant-config` reads: one entry per quantized tensor with its precision.
    public var allocation: AllocationDocument {
        AllocationDocument(task: task, checkpoint: checkpoint, budget: options.budget, budgetBytes: budgetBytes, bytes: bytes,
                           megabytes: Double(bytes) / 1e6, averageBits: averageBits, totalOmega: totalOmega,
                           uniform: uniform.map { .init(precision: $0.precision, bytes: $0.bytes, omega: $0.omega, fits: $0.bytes <= budgetBytes) },
                           blocks: rows.filter { $0.kind == .tensor }.map {
                               .init(name: $0.name, shape: $0.shape!, precision: WeightPrecision($0.allocated!)!, omega: $0.omega![$0.allocated!]!,
                                     bytes: $0.bytes![$0.allocated!]!)
                           })
    }
}

public struct AllocationDocument: Codable, Sendable {
    public struct Block: Codable, Sendable { public var name: String; public var shape: [Int]; public var precision: WeightPrecision; public var omega: Double; public var bytes: Int }
    public struct Uniform: Codable, Sendable { public var precision: WeightPrecision; public var bytes: Int; public var omega: Double; public var fits: Bool }
    public var tool = "tianalyze sensitivity"
    public var task: String
    public var checkpoint: String
    public var budget: SizeBudget
    public var budgetBytes: Int
    public var bytes: Int
    public var megabytes: Double
    public var averageBits: Double
    public var totalOmega: Double
    /// Every tensor at one precision: its size, its Σ Ω, and whether it fits the budget.
    public var uniform: [Uniform]
    public var blocks: [Block]
}
