// The objective's Hessian as the operator the analysis algorithms take (they never see a model).
import TICore
import TIAnalysis
import TILinalg

extension DatasetObjective {
    /// H at θ in Double: the objective's own difference scheme while iterating, and, when that is
    /// the one-sided forward scheme, central products for the reported Ritz pairs (refinedProduct),
    /// so that reported eigenvalues carry no O(ε) bias for two more gradients per value.
    ///
    /// Over several ranks every rank runs the same algorithm from the same seed, so the vectors agree
    /// already; each product still takes rank 0's v, so that the ranks cannot drift apart on rounding
    /// (one broadcast of v per product, against the sum of a gradient of the same length).
    public func hessianOperator(at θ: [T]) -> FunctionOperator {
        let comm = communicator
        func product(_ scheme: HVPDifference?) -> ([Double]) throws -> [Double] {
            { input in
                var v = input
                if comm.isDistributed { comm.broadcast(&v, from: 0) }
                let hv = self.hessianVectorProduct(at: θ, along: v.map { T($0) }, scheme: scheme)
                guard Vec.isFinite(hv) else { throw ModelError.nonFinite("Hessian-vector product") }
                return hv.map { Double($0) }
            }
        }
        return FunctionOperator(dimension: θ.count, refined: difference == .forward ? product(.central) : nil, product(nil))
    }
}
