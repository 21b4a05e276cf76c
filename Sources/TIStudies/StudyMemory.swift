// What a Hessian study holds at once, estimated before it starts: Lanczos keeps its whole Krylov
// basis (steps × dimension Doubles) for full reorthogonalization, per-example spectra run one
// Lanczos per worker, and every worker keeps a batch's activations. Too many steps for the model
// (10^8 was never capped) are refused with the estimate instead of growing until the kernel kills
// the process.
import Foundation
import TILinalg
import TIData
import TICore

enum StudyMemory {
    /// Bytes of the Hessian study `o` on `target`, restricted to `dimension` parameters.
    static func hessianBytes(_ o: HessianOptions, target: AnalysisTarget, dimension n: Int) -> Double {
        let scalar = Double(o.precision == .f64 ? 8 : 4)
        let parameters = Double(target.model.layout.count)
        let krylov = Double(min(o.lanczosSteps, n)) + 1
        var vectors = 8 * parameters + Double(o.topK + 2) * Double(n) + krylov * Double(n)
        if o.density { vectors += Double(min(o.densitySteps, n) + 1) * Double(n) }
        if o.perExample > 0 { vectors += Double(Parallel.workers) * (krylov * Double(n) + 8 * parameters) }
        let activations = ModelSize(target.model.config).activations(batch: o.batchSize, seqLen: target.task.seqLen)
        return scalar * (vectors + 2 * Double(Parallel.workers) * activations)
    }

    static func checkHessian(_ o: HessianOptions, target: AnalysisTarget, dimension: Int) throws {
        try MemoryBudget.require(hessianBytes(o, target: target, dimension: dimension),
                                 for: "the Hessian study (\(dimension) parameters, \(min(o.lanczosSteps, dimension)) Lanczos steps kept, top \(o.topK), batches of \(o.batchSize))",
                                 file: target.checkpointPath, advice: "fewer Lanczos steps, a smaller batch or a parameter restriction")
    }
}
