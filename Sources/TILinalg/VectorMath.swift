// Small vector helpers on flat buffers used by the optimizer and the analysis code.

public enum Vec {
    /// a + s·b
    @inlinable public static func adding<T: BLASScalar>(_ a: [T], _ b: [T], scaledBy s: T) -> [T] {
        var r = a
        BLAS.axpy(s, b, &r)
        return r
    }

    @inlinable public static func isFinite<T: BLASScalar>(_ x: [T]) -> Bool {
        for v in x where !v.isFinite { return false }
        return true
    }
}
