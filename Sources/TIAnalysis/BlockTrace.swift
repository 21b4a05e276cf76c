// Traces of the diagonal blocks of H (one per parameter group) from the same Rademacher probes as
// the full trace. For a probe z, E[z_i·(Hz)_i] = Σ_j H_ij·E[z_i z_j] = H_ii, so summing z_i·(Hz)_i
// over a block's coordinates estimates that block's trace without bias, and the block estimates of
// every probe add up to zᵀHz: one H·z per probe serves every block and the full trace at once
// (instead of one product per block and probe). The price is variance: a block's estimate also
// carries its rows' couplings to the other blocks (Σ_{i∈b} Σ_{j≠i} H_ij²), so each comes with its
// own standard error.
import TILinalg

/// A block's Hutchinson trace: mean over probes and its standard error.
public struct BlockTraceEstimate: Codable, Equatable, Sendable {
    public var mean: Double
    public var stderr: Double
    public var probes: Int
    /// Coordinates in the block.
    public var dimension: Int
}

public struct BlockHutchinsonTrace: Sendable {
    public var probes: Int

    public init(probes: Int) {
        precondition(probes >= 2, "BlockHutchinsonTrace: at least 2 probes (a standard error needs two)")
        self.probes = probes
    }

    /// The trace of each block of `op` (blocks: coordinate lists of op's full-length vectors; they may
    /// overlap, e.g. a sub-layer and its tensors) and the full trace, all from the same probes.
    public func estimate(_ op: some SymmetricOperator, blocks: [[Int]], rng: inout SeededRandom,
                         progress: ProgressHandler? = nil) throws -> (blocks: [BlockTraceEstimate], full: BlockTraceEstimate) {
        for b in blocks { precondition(b.allSatisfy { $0 >= 0 && $0 < op.dimension }, "BlockHutchinsonTrace: coordinate outside the operator") }
        var stats = [RunningMean](repeating: RunningMean(), count: blocks.count)
        var total = RunningMean()
        for k in 1...probes {
            let z = rademacherProbe(for: op, rng: &rng)
            let hz = try checkedApply(op, z, application: k)
            for (i, block) in blocks.enumerated() {
                var s = 0.0
                for c in block { s += z[c] * hz[c] }
                stats[i].add(s)
            }
            total.add(BLAS.dot(z, hz))
            progress?(k, probes, "block trace probe \(k)/\(probes), full trace ≈ \(total.mean) ± \(total.standardError)")
        }
        let rows = zip(stats, blocks).map { BlockTraceEstimate(mean: $0.mean, stderr: $0.standardError, probes: probes, dimension: $1.count) }
        return (rows, BlockTraceEstimate(mean: total.mean, stderr: total.standardError, probes: probes, dimension: op.domainDimension))
    }
}
