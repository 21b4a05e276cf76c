// The objective's Hessian as the operator the analysis algorithms take (they never see a model).
import TICore
import TIAnalysis
import TILinalg

extension DatasetObjective {
    /// H at θ in Double: the objective's own difference scheme while iterating, and for the reported
    /// Ritz pairs (refinedProduct) central differences extrapolated in the step (`rombergProduct`),
    /// so that reported eigenvalues carry no visible truncation bias, with an estimate of what is left.
    /// In Float, where rounding rather than truncation limits a product, the reported pairs take one
    /// central product when the iteration is one-sided, as before, and no estimate.
    ///
    /// Over several ranks every rank runs the same algorithm from the same seed, so the vectors agree
    /// already; each product still takes rank 0's v, so that the ranks cannot drift apart on rounding
    /// (one broadcast of v per product, against the sum of a gradient of the same length).
    public func hessianOperator(at θ: [T]) -> FunctionOperator {
        let comm = communicator
        func product(_ scheme: HVPDifference?, step: Double? = nil) -> ([Double]) throws -> [Double] {
            { input in
                var v = input
                if comm.isDistributed { comm.broadcast(&v, from: 0) }
                let hv = self.hessianVectorProduct(at: θ, along: v.map { T($0) }, scheme: scheme, relativeStep: step)
                guard Vec.isFinite(hv) else { throw ModelError.nonFinite("Hessian-vector product") }
                return hv.map { Double($0) }
            }
        }
        let refined: (([Double]) throws -> RefinedProduct)?
        if T.self == Double.self {
            let h = HVPDifference.central.defaultRelativeStep(Double.self)
            refined = { v in try Self.rombergProduct(steps: [h, h / 2, h / 4].map { s in try product(.central, step: s)(v) }) }
        } else if difference == .forward {
            refined = { v in RefinedProduct(product: try product(.central)(v)) }
        } else {
            refined = nil
        }
        return FunctionOperator(dimension: θ.count, refined: refined, product(nil))
    }

    /// Central differences D(h), D(h/2), D(h/4) of one product extrapolated twice (Romberg). A central
    /// difference's truncation error is even in the step, c₂h² + c₄h⁴ + …, so R(h) = (4D(h/2) − D(h))/3
    /// removes c₂ and (16R(h/2) − R(h))/15 removes c₄ as well. R(h/2) is the lower order whose distance
    /// estimates the error; rounding grows by the weights' sum, (64·4 + 20·2 + 1)/45 ≈ 6.6 times that of
    /// D(h/4)'s u·‖∇L‖/(h/4), about 1e-10 relative in Double at the default central step (1e-5).
    static func rombergProduct(steps d: [[Double]]) -> RefinedProduct {
        precondition(d.count == 3, "rombergProduct: central differences at h, h/2 and h/4")
        let n = d[0].count
        var once = [Double](repeating: 0, count: n), twice = once
        for i in 0..<n {
            let r1 = (4 * d[1][i] - d[0][i]) / 3
            let r2 = (4 * d[2][i] - d[1][i]) / 3
            once[i] = r2
            twice[i] = (16 * r2 - r1) / 15
        }
        return RefinedProduct(product: twice, lowerOrder: once, applications: 3)
    }
}
