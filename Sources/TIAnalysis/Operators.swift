// The analysis never sees a model, only a symmetric linear operator over a flat Double buffer, so
// the same algorithms run on a test matrix, a diagonal, or BERT's Hessian-vector product.
import TILinalg

/// A symmetric linear operator H on ℝⁿ, e.g. a Hessian over the flat parameter buffer.
public protocol SymmetricOperator {
    var dimension: Int { get }
    /// H·v. `v.count == dimension`; the result must have the same length.
    func apply(_ v: [Double]) throws -> [Double]

    /// Dimension of the subspace the operator acts on (the number of unmasked coordinates).
    /// Densities and trace-per-dimension use this, not `dimension`.
    var domainDimension: Int { get }
    /// Moves a vector into the operator's domain in place (zeroes masked-out coordinates).
    /// Random start vectors and probes pass through here so restricted operators never see
    /// the spurious zero eigenvalues of the masked-out coordinates.
    func projectToDomain(_ v: inout [Double])

    /// H·v to the operator's best accuracy when that costs more than `apply` (nil: `apply` is
    /// already its best). A finite-difference Hessian iterates with cheap one-sided products and
    /// computes the few products whose values are reported (the final Ritz pairs) by an extrapolated
    /// difference scheme, so the reported eigenvalues carry no visible truncation bias: a Rayleigh
    /// quotient's error is second order in its vector's error but first order in the product's.
    func refinedProduct(_ v: [Double]) throws -> RefinedProduct?
}

extension SymmetricOperator {
    public var domainDimension: Int { dimension }
    public func projectToDomain(_ v: inout [Double]) {}
    public func refinedProduct(_ v: [Double]) throws -> RefinedProduct? { nil }
}

/// A product at the operator's best accuracy and, when the operator can tell, the same product by
/// the scheme one order less accurate. Where the schemes are in their asymptotic range the lower
/// order's error dominates their difference, so |Rayleigh quotient of `product` − that of
/// `lowerOrder`| bounds the reported value's truncation error from above: the estimate
/// `EigenResult.errors` reports.
public struct RefinedProduct {
    public var product: [Double]
    public var lowerOrder: [Double]?
    /// What it cost, in applications of the operator's cheap product (the HVP count).
    public var applications: Int

    public init(product: [Double], lowerOrder: [Double]? = nil, applications: Int = 1) {
        self.product = product; self.lowerOrder = lowerOrder; self.applications = applications
    }

    /// Both products through the same linear map (a restriction's gather, a mask).
    public func map(_ f: ([Double]) throws -> [Double]) rethrows -> RefinedProduct {
        RefinedProduct(product: try f(product), lowerOrder: try lowerOrder.map(f), applications: applications)
    }
}

/// Estimated errors of Ritz values computed from refined products, `values[i]` against
/// `lowerOrderValues`, each paired with its nearest lower-order value (an order of near-equal values
/// can differ between the two sets). nil when no product came with a lower-order estimate.
func refinementErrors(_ values: [Double], lowerOrderValues: [Double]?) -> [Double]? {
    guard let lower = lowerOrderValues, !lower.isEmpty else { return nil }
    return values.map { v in lower.map { abs($0 - v) }.min()! }
}

public enum AnalysisError: Error, CustomStringConvertible, Equatable {
    /// The operator returned a vector of the wrong length.
    case dimensionMismatch(expected: Int, got: Int)
    /// The operator returned NaN or ±∞ (e.g. a diverged loss); the whole result would be garbage.
    case nonFiniteProduct(application: Int)
    /// A start vector or probe vanished after projection (e.g. an all-zero mask).
    case emptyDomain

    public var description: String {
        switch self {
        case .dimensionMismatch(let e, let g): return "operator returned \(g) entries, expected \(e)"
        case .nonFiniteProduct(let k): return "operator application #\(k) returned a non-finite value"
        case .emptyDomain: return "operator domain is empty (mask selects no coordinates?)"
        }
    }
}

/// Reported by long-running algorithms so a CLI can print progress and ETA lines.
/// `done`/`total` count operator applications; `total` is the worst-case budget, so an ETA
/// from it is an upper bound when convergence stops early.
public typealias ProgressHandler = (_ done: Int, _ total: Int, _ message: String) -> Void

/// Applies `op` and checks length and finiteness; every algorithm goes through this so a bad
/// Hessian-vector product fails loudly instead of poisoning a whole spectrum.
@usableFromInline
func checkedApply(_ op: some SymmetricOperator, _ v: [Double], application: Int) throws -> [Double] {
    let hv = try op.apply(v)
    try checkProduct(hv, dimension: op.dimension, application: application)
    return hv
}

/// `checkedApply`'s checks, for products obtained otherwise (refinedProduct).
func checkProduct(_ hv: [Double], dimension: Int, application: Int) throws {
    guard hv.count == dimension else { throw AnalysisError.dimensionMismatch(expected: dimension, got: hv.count) }
    for x in hv where !x.isFinite { throw AnalysisError.nonFiniteProduct(application: application) }
}

// MARK: - Concrete operators

/// A dense symmetric matrix (row-major n×n); mainly for tests and small exact references.
public struct DenseSymmetricOperator: SymmetricOperator {
    public let matrix: [Double]
    public let dimension: Int

    public init(matrix: [Double], n: Int) {
        precondition(matrix.count == n * n, "DenseSymmetricOperator: expected \(n * n) entries, got \(matrix.count)")
        self.matrix = matrix
        self.dimension = n
    }

    public func apply(_ v: [Double]) throws -> [Double] {
        guard v.count == dimension else { throw AnalysisError.dimensionMismatch(expected: dimension, got: v.count) }
        let n = dimension
        var out = [Double](repeating: 0, count: n)
        // Row-major gemm with a single column gives a matrix-vector product through the one BLAS wrapper.
        matrix.withUnsafeBufferPointer { a in
            v.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in
                    Double.gemm(transA: false, transB: false, m: n, n: 1, k: n, alpha: 1,
                                a: a.baseAddress!, lda: n, b: x.baseAddress!, ldb: 1,
                                beta: 0, c: y.baseAddress!, ldc: 1)
                }
            }
        }
        return out
    }
}

/// diag(d); exact spectrum known, useful for density tests and as a preconditioner stand-in.
public struct DiagonalOperator: SymmetricOperator {
    public let diagonal: [Double]
    public var dimension: Int { diagonal.count }
    public init(_ diagonal: [Double]) { self.diagonal = diagonal }

    public func apply(_ v: [Double]) throws -> [Double] {
        guard v.count == dimension else { throw AnalysisError.dimensionMismatch(expected: dimension, got: v.count) }
        var out = v
        for i in out.indices { out[i] *= diagonal[i] }
        return out
    }
}

/// An operator given by a closure, e.g. the model's Hessian-vector product at fixed weights and batch.
public struct FunctionOperator: SymmetricOperator {
    public let dimension: Int
    private let product: ([Double]) throws -> [Double]
    private let refined: (([Double]) throws -> RefinedProduct)?

    /// `refined`: the more accurate (dearer) form of the product, if there is one.
    public init(dimension: Int, refined: (([Double]) throws -> RefinedProduct)? = nil, _ product: @escaping ([Double]) throws -> [Double]) {
        self.dimension = dimension
        self.product = product
        self.refined = refined
    }

    public func apply(_ v: [Double]) throws -> [Double] { try product(v) }
    public func refinedProduct(_ v: [Double]) throws -> RefinedProduct? { try refined?(v) }
}

/// Counts applications of the wrapped operator (the HVP count reported in hessian.json).
/// The counter is a shared reference so copies of the wrapper (which algorithms take by value)
/// all add to the same total.
public struct CountingOperator<Base: SymmetricOperator>: SymmetricOperator {
    public final class Counter { public fileprivate(set) var value = 0 }

    public let base: Base
    public let counter = Counter()
    public init(base: Base) { self.base = base }

    public var applications: Int { counter.value }
    public var dimension: Int { base.dimension }
    public var domainDimension: Int { base.domainDimension }
    public func projectToDomain(_ v: inout [Double]) { base.projectToDomain(&v) }

    public func apply(_ v: [Double]) throws -> [Double] {
        counter.value += 1
        return try base.apply(v)
    }

    public func refinedProduct(_ v: [Double]) throws -> RefinedProduct? {
        guard let hv = try base.refinedProduct(v) else { return nil }
        counter.value += hv.applications
        return hv
    }
}
