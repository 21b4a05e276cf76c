// Small vector helpers on flat buffers used by the optimizer and the analysis code.

public enum Vec {
    @inlinable public static func zeros<T: BLASScalar>(_ n: Int) -> [T] { [T](repeating: 0, count: n) }

    /// a + s·b
    @inlinable public static func adding<T: BLASScalar>(_ a: [T], _ b: [T], scaledBy s: T) -> [T] {
        var r = a
        BLAS.axpy(s, b, &r)
        return r
    }

    @inlinable public static func convert<S: BLASScalar, T: BLASScalar>(_ x: [S], to: T.Type) -> [T] {
        x.map { T($0) }
    }

    @inlinable public static func isFinite<T: BLASScalar>(_ x: [T]) -> Bool {
        for v in x where !v.isFinite { return false }
        return true
    }
}
