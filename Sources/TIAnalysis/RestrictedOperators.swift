// Hessians of a parameter subset (one layer, the quantizer scales, ...). Two forms with the same
// spectrum: MaskedOperator keeps full-length vectors (simple to combine with full-model code),
// SubspaceOperator works on the k selected coordinates only, so Lanczos bases and eigenvectors
// cost k instead of n Doubles each — the difference between megabytes and tens of gigabytes
// for one BERT layer.
import TILinalg

/// P·H·P with P = diag(mask), mask entries 0 or 1: H restricted to a parameter subset
/// (e.g. one layer's weights). Eigenvalues and traces computed through it are those of the
/// selected sub-block because all start vectors are projected into the selected coordinates.
public struct MaskedOperator<Base: SymmetricOperator>: SymmetricOperator {
    public let base: Base
    public let mask: [Double]
    /// Indices of selected coordinates, ascending.
    public let coordinates: [Int]

    public init(base: Base, mask: [Double]) {
        precondition(mask.count == base.dimension, "MaskedOperator: mask has \(mask.count) entries, operator \(base.dimension)")
        precondition(mask.allSatisfy { $0 == 0 || $0 == 1 }, "MaskedOperator: mask entries must be 0 or 1")
        self.base = base
        self.mask = mask
        self.coordinates = mask.indices.filter { mask[$0] != 0 }
    }

    public var dimension: Int { base.dimension }
    public var domainDimension: Int { coordinates.count }

    public func projectToDomain(_ v: inout [Double]) {
        for i in v.indices { v[i] *= mask[i] }
    }

    public func apply(_ v: [Double]) throws -> [Double] { try output(base.apply(masked(v))) }

    public func refinedProduct(_ v: [Double]) throws -> RefinedProduct? { try base.refinedProduct(masked(v))?.map(output) }

    private func masked(_ v: [Double]) -> [Double] {
        var x = v
        projectToDomain(&x)
        return x
    }

    private func output(_ hx: [Double]) throws -> [Double] {
        guard hx.count == dimension else { throw AnalysisError.dimensionMismatch(expected: dimension, got: hx.count) }
        return masked(hx)
    }
}

/// H restricted to `coordinates`: the k×k sub-block S·H·Sᵀ acting on ℝᵏ, where S selects the
/// coordinates. Each application scatters into a full-length vector, applies the base operator
/// and gathers the result, so only the base operator ever touches n-length vectors.
public struct SubspaceOperator<Base: SymmetricOperator>: SymmetricOperator {
    public let base: Base
    /// Selected coordinates of the base operator, ascending and distinct.
    public let coordinates: [Int]

    public init(base: Base, coordinates: [Int]) {
        precondition(zip(coordinates, coordinates.dropFirst()).allSatisfy { $0 < $1 },
                     "SubspaceOperator: coordinates must be ascending and distinct")
        precondition(coordinates.allSatisfy { $0 >= 0 && $0 < base.dimension },
                     "SubspaceOperator: coordinate outside 0..<\(base.dimension)")
        self.base = base
        self.coordinates = coordinates
    }

    /// The coordinates where `mask` is non-zero (e.g. `ParameterLayout.mask(for:)`).
    public init(base: Base, mask: [Double]) {
        precondition(mask.count == base.dimension, "SubspaceOperator: mask has \(mask.count) entries, operator \(base.dimension)")
        self.init(base: base, coordinates: mask.indices.filter { mask[$0] != 0 })
    }

    /// The coordinates of the given parameter slots.
    public init(base: Base, slots: [ParameterSlot]) {
        self.init(base: base, coordinates: slots.sorted { $0.offset < $1.offset }.flatMap { Array($0.range) })
    }

    public var dimension: Int { coordinates.count }

    public func apply(_ x: [Double]) throws -> [Double] {
        guard x.count == dimension else { throw AnalysisError.dimensionMismatch(expected: dimension, got: x.count) }
        return try gathered(base.apply(expand(x)))
    }

    public func refinedProduct(_ x: [Double]) throws -> RefinedProduct? {
        guard x.count == dimension else { throw AnalysisError.dimensionMismatch(expected: dimension, got: x.count) }
        return try base.refinedProduct(expand(x))?.map(gathered)
    }

    private func gathered(_ full: [Double]) throws -> [Double] {
        guard full.count == base.dimension else {
            throw AnalysisError.dimensionMismatch(expected: base.dimension, got: full.count)
        }
        return coordinates.map { full[$0] }
    }

    /// A subspace vector (e.g. an eigenvector) as a full-length parameter-space vector.
    public func expand(_ x: [Double]) -> [Double] {
        precondition(x.count == dimension, "SubspaceOperator.expand: expected \(dimension) entries, got \(x.count)")
        var full = [Double](repeating: 0, count: base.dimension)
        for (value, c) in zip(x, coordinates) { full[c] = value }
        return full
    }
}
