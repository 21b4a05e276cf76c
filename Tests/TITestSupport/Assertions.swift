// Shared numeric test helpers: closeness with a relative tolerance that names the quantity.
import TILinalg

/// Relative error |a-b| / max(|a|, |b|, floor).
public func relativeError<T: BLASScalar>(_ a: T, _ b: T, floor: T = 1e-12) -> T {
    abs(a - b) / max(max(abs(a), abs(b)), floor)
}

/// Largest elementwise difference divided by the largest magnitude (a scale-aware vector error).
public func relativeVectorError<T: BLASScalar>(_ a: [T], _ b: [T]) -> T {
    precondition(a.count == b.count)
    var diff: T = 0, scale: T = 0
    for i in a.indices {
        diff = max(diff, abs(a[i] - b[i]))
        scale = max(scale, max(abs(a[i]), abs(b[i])))
    }
    return scale == 0 ? diff : diff / scale
}

/// Central finite-difference derivative of f at x along direction d.
public func centralDifference(step h: Double, _ f: (Double) -> Double) -> Double {
    (f(h) - f(-h)) / (2 * h)
}

/// A seeded random direction of unit Euclidean norm (for directional finite-difference checks).
public func randomUnitVector(_ n: Int, seed: UInt64) -> [Double] {
    var rng = SeededRandom(seed: seed)
    var v: [Double] = rng.normalVector(n)
    BLAS.scale(&v, by: 1 / BLAS.norm(v))
    return v
}
