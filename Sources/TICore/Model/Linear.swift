// y = x·Wᵀ + b over rows, W stored [out, in] as in PyTorch. Backward accumulates (+=) into
// dx, dW and db: one place (the objective) zeroes gradients, every layer only adds.
import TILinalg

public enum Linear {
    /// y[n, out] = x[n, in] · W[out, in]ᵀ + b[out]
    public static func forward<T: BLASScalar>(
        x: UnsafePointer<T>, rows n: Int, inFeatures k: Int, outFeatures m: Int,
        weight w: UnsafePointer<T>, bias b: UnsafePointer<T>?, y: UnsafeMutablePointer<T>
    ) {
        if let b {
            for r in 0..<n { (y + r * m).update(from: b, count: m) }
        }
        T.gemm(transA: false, transB: true, m: n, n: m, k: k, alpha: 1, a: x, lda: k, b: w, ldb: k,
               beta: b == nil ? 0 : 1, c: y, ldc: m)
    }

    /// dx[n, in] += dy·W;  dW[out, in] += dyᵀ·x;  db[out] += Σ_rows dy. Pass nil to skip a term.
    public static func backward<T: BLASScalar>(
        dy: UnsafePointer<T>, x: UnsafePointer<T>, rows n: Int, inFeatures k: Int, outFeatures m: Int,
        weight w: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?, dWeight: UnsafeMutablePointer<T>?,
        dBias: UnsafeMutablePointer<T>?
    ) {
        if let dx {
            T.gemm(transA: false, transB: false, m: n, n: k, k: m, alpha: 1, a: dy, lda: m, b: w, ldb: k,
                   beta: 1, c: dx, ldc: k)
        }
        if let dWeight {
            T.gemm(transA: true, transB: false, m: m, n: k, k: n, alpha: 1, a: dy, lda: m, b: x, ldb: k,
                   beta: 1, c: dWeight, ldc: k)
        }
        if let dBias {
            for r in 0..<n {
                let row = dy + r * m
                for j in 0..<m { dBias[j] += row[j] }
            }
        }
    }
}
