// y = x·Wᵀ + b over rows, W stored [out, in] as in PyTorch. Backward accumulates (+=) into
// dx, dW and db: one place (the objective) zeroes gradients, every layer only adds.
import TILinalg
import TIQuant

public enum Linear {
    /// y[n, out] = x[n, in] · W[out, in]ᵀ + b[out]. With the codes of a quantized x and a ternary W
    /// (Float), the product runs as an exact int8 GEMM (see Int8Lattice); with codes carrying integer
    /// layers (IntegerLinears) and W one of them, as that layer's int8 × int8 + int32 bias; otherwise
    /// as a float GEMM.
    public static func forward<T: BLASScalar>(
        x: UnsafePointer<T>, codes: Int8Lattice? = nil, rows n: Int, inFeatures k: Int, outFeatures m: Int,
        weight w: UnsafePointer<T>, bias b: UnsafePointer<T>?, y: UnsafeMutablePointer<T>
    ) {
        if let codes, T.self == Float.self, let table = codes.linears {
            // Integer inference: this layer's int8 weights and int32 bias when it has them, else float.
            if let layer = table.linear(weight: FloatKernels.f(w)) {
                precondition(layer.inFeatures == k && layer.outFeatures == m && layer.inputStep == codes.step,
                             "Linear: integer layer \(layer.outFeatures) × \(layer.inFeatures) on step \(layer.inputStep) given \(m) × \(k) on \(codes.step)")
                codes.codes.withUnsafeBufferPointer { layer.forward($0.baseAddress!, rows: n, y: FloatKernels.f(y)) }
                return
            }
        } else if let codes, T.self == Float.self,
           forwardInt8(codes, rows: n, inFeatures: k, outFeatures: m, weight: FloatKernels.f(w),
                       bias: b.map { FloatKernels.f($0) }, y: FloatKernels.f(y)) { return }
        if let b {
            for r in 0..<n { (y + r * m).update(from: b, count: m) }
        }
        Parallel.gemm(transA: false, transB: true, m: n, n: m, k: k, alpha: 1, a: x, lda: k, b: w, ldb: k,
                      beta: b == nil ? 0 : 1, c: y, ldc: m)
    }

    /// y = (step·α)·(codes·Tᵀ) + b when W = α·T is ternary; false (nothing written) otherwise. The
    /// packed codes of W come from TernaryWeightCache, which re-packs whenever W has changed.
    static func forwardInt8(_ x: Int8Lattice, rows n: Int, inFeatures k: Int, outFeatures m: Int,
                            weight w: UnsafePointer<Float>, bias b: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) -> Bool {
        precondition(x.codes.count == n * k, "Linear: \(x.codes.count) input codes for \(n) × \(k)")
        guard let (packed, alpha) = TernaryWeightCache.shared.packed(w, n: m, k: k) else { return false }
        // Row blocks across the thread budget (whole 32-row tiles): every entry is an exact integer sum
        // with the same epilogue, so any split gives the same bits.
        let size = (GEMMBlocks.blockSize(extent: n, work: n * m * k) + 31) / 32 * 32
        x.codes.withUnsafeBufferPointer { a in
            Parallel.forEach((n + size - 1) / size) { i in
                let start = i * size, rows = min(size, n - start)
                Int8GEMM.gemm(m: rows, a: a.baseAddress! + start * k, lda: k, weight: packed, scale: x.step * alpha, bias: b,
                              c: y + start * m, ldc: m)
            }
        }
        return true
    }

    /// dx[n, in] += dy·W;  dW[out, in] += dyᵀ·x;  db[out] += Σ_rows dy. Pass nil to skip a term.
    public static func backward<T: BLASScalar>(
        dy: UnsafePointer<T>, x: UnsafePointer<T>, rows n: Int, inFeatures k: Int, outFeatures m: Int,
        weight w: UnsafePointer<T>, dx: UnsafeMutablePointer<T>?, dWeight: UnsafeMutablePointer<T>?,
        dBias: UnsafeMutablePointer<T>?
    ) {
        if let dx {
            Parallel.gemm(transA: false, transB: false, m: n, n: k, k: m, alpha: 1, a: dy, lda: m, b: w, ldb: k,
                          beta: 1, c: dx, ldc: k)
        }
        if let dWeight {
            Parallel.gemm(transA: true, transB: false, m: m, n: k, k: n, alpha: 1, a: dy, lda: m, b: x, ldb: k,
                          beta: 1, c: dWeight, ldc: k)
        }
        if let dBias { columnSums(dy, rows: n, width: m, into: dBias) }
    }

    /// into[j] += Σ_r x[r, j], each column summed over the rows in order (so the same bits on any
    /// number of threads); column blocks run in parallel.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func columnSums<T: BLASScalar>(_ x: UnsafePointer<T>, rows n: Int, width m: Int, into: UnsafeMutablePointer<T>) {
        let block = 64, blocks = (m + block - 1) / block
        Parallel.forEach(blocks, costPerItem: Double(n * block), minimumWork: Double(1 << 17)) { bi in
            let lo = bi * block, hi = min(m, lo + block)
            for r in 0..<n {
                let row = x + r * m
                for j in lo..<hi { into[j] += row[j] }
            }
        }
    }
}
