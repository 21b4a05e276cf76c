// Per-example extreme eigenvalues for the paper's Figure 5 histograms: for each dev example, the
// Hessian of that example's loss is probed for its largest and its most negative eigenvalue.
// One Lanczos run gives both ends, which is cheaper than two power iterations with a shift.
import TILinalg

/// Largest and smallest algebraic eigenvalue of one example's Hessian `op`.
public func perExampleSpectrum(_ op: some SymmetricOperator, exampleIndex: Int, label: String,
                               steps: Int = 30, tol: Double = 1e-3, rng: inout SeededRandom,
                               progress: ProgressHandler? = nil) throws -> PerExampleSpectrumRow {
    let ext = try lanczosExtremes(op, k: 1, steps: steps, tol: tol, rng: &rng, progress: progress)
    return PerExampleSpectrumRow(
        exampleIndex: exampleIndex, label: label,
        largestEigenvalue: ext.largest.values[0], smallestEigenvalue: ext.smallest.values[0],
        largestResidual: ext.largest.residuals[0], smallestResidual: ext.smallest.residuals[0],
        largestConverged: ext.largest.converged[0], smallestConverged: ext.smallest.converged[0],
        hvpCount: max(ext.largest.hvpCount, ext.smallest.hvpCount))  // the later summary counts both refinements
}
