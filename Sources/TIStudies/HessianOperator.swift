// The objective's Hessian as the operator the analysis algorithms take (they never see a model).
import TICore
import TIAnalysis
import TILinalg

extension DatasetObjective {
    /// H at θ in Double: the objective's own difference scheme while iterating, and, when that is
    /// the one-sided forward scheme, central products for the reported Ritz pairs (refinedProduct),
    /// so that reported eigenvalues carry no O(ε) bias for two more gradients per value.
    public func hessianOperator(at θ: [T]) -> FunctionOperator {
        func product(_ scheme: HVPDifference?) -> ([Double]) throws -> [Double] {
            { v in
                let hv = self.hessianVectorProduct(at: θ, along: v.map { T($0) }, scheme: scheme)
                guard Vec.isFinite(hv) else { throw ModelError.nonFinite("Hessian-vector product") }
                return hv.map { Double($0) }
            }
        }
        return FunctionOperator(dimension: θ.count, refined: difference == .forward ? product(.central) : nil, product(nil))
    }
}
