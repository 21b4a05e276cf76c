// The one file that talks to OpenBLAS (CBLAS) and LAPACKE. Everything numeric above this layer
// calls these generic entry points, so Float training and Double analysis share one code path.
import CBLAS
import CKernels
import CLAPACKE
import Foundation

/// A floating-point type with BLAS kernels and the scalar math the model needs.
/// Generic code over `BLASScalar` is specialized for Float and Double in release builds.
public protocol BLASScalar: BinaryFloatingPoint, Codable, Sendable
where Self.RawSignificand: FixedWidthInteger {
    static var typeName: String { get }
    /// C = alpha·op(A)·op(B) + beta·C, row-major.
    static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
        a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func dot(_ n: Int, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self
    /// y += alpha·x
    static func axpy(_ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
    static func scal(_ n: Int, _ alpha: Self, _ x: UnsafeMutablePointer<Self>)
    static func nrm2(_ n: Int, _ x: UnsafePointer<Self>) -> Self
    /// max |x_i|, vectorized (CKernels for Float, i?amax for Double); 0 for n = 0.
    static func absMax(_ n: Int, _ x: UnsafePointer<Self>) -> Self
    static func expm(_ x: Self) -> Self
    static func logm(_ x: Self) -> Self
    static func tanhm(_ x: Self) -> Self
    /// Φ(x), the standard normal CDF (GELU's gate).
    static func normalCDF(_ x: Self) -> Self
    /// y = x·Φ(x) over `count` values, Φ(x) also into `cdf` when given.
    static func gelu(_ x: UnsafePointer<Self>, count: Int, y: UnsafeMutablePointer<Self>, cdf: UnsafeMutablePointer<Self>?)
    /// dx += dy·(Φ(x) + x·φ(x)) over `count` values, Φ(x) read from `cdf` when given.
    static func geluBackward(dy: UnsafePointer<Self>, x: UnsafePointer<Self>, cdf: UnsafePointer<Self>?, count: Int,
                             dx: UnsafeMutablePointer<Self>)
    /// out = roundHalfEven(clamp(x, −c, c)·s)·step, mask = 1[|x| < c] when given; |clamp(x)·s| < 2^22.
    static func quantizeSymmetric(_ x: UnsafePointer<Self>, count: Int, clip c: Self, scale s: Self, step: Self,
                                  out: UnsafeMutablePointer<Self>, mask: UnsafeMutablePointer<Self>?)
    /// x *= m elementwise.
    static func multiply(_ x: UnsafeMutablePointer<Self>, by m: UnsafePointer<Self>, count: Int)
    /// out = mask·x + offset elementwise (the STE's linearization, replayed).
    static func maskedAffine(mask: UnsafePointer<Self>, x: UnsafePointer<Self>, offset: UnsafePointer<Self>, count: Int,
                             out: UnsafeMutablePointer<Self>)
}

@inline(__always) private func blasTrans(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

extension Float: BLASScalar {
    public static var typeName: String { "f32" }
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, blasTrans(transA), blasTrans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always) public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(n), x, 1, y, 1)
    }
    @inline(__always) public static func axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }
    @inline(__always) public static func scal(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) {
        cblas_sscal(Int32(n), alpha, x, 1)
    }
    @inline(__always) public static func nrm2(_ n: Int, _ x: UnsafePointer<Float>) -> Float { cblas_snrm2(Int32(n), x, 1) }
    @inline(__always) public static func absMax(_ n: Int, _ x: UnsafePointer<Float>) -> Float { tia_abs_max_f32(x, n) }
    @inline(__always) public static func expm(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) public static func logm(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) public static func tanhm(_ x: Float) -> Float { Foundation.tanhf(x) }
    // The pointwise kernels are C (CKernels): built per instruction set, unlike Swift code here.
    @inline(__always) public static func normalCDF(_ x: Float) -> Float { tia_normal_cdf_f32(x) }
    @inline(__always) public static func gelu(_ x: UnsafePointer<Float>, count: Int, y: UnsafeMutablePointer<Float>,
                                              cdf: UnsafeMutablePointer<Float>?) {
        tia_gelu_f32(x, count, y, cdf)
    }
    @inline(__always) public static func geluBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, cdf: UnsafePointer<Float>?,
                                                      count: Int, dx: UnsafeMutablePointer<Float>) {
        tia_gelu_backward_f32(dy, x, cdf, count, dx)
    }
    @inline(__always) public static func quantizeSymmetric(_ x: UnsafePointer<Float>, count: Int, clip c: Float, scale s: Float,
                                                           step: Float, out: UnsafeMutablePointer<Float>,
                                                           mask: UnsafeMutablePointer<Float>?) {
        tia_quantize_symmetric_f32(x, count, c, s, step, out, mask)
    }
    @inline(__always) public static func multiply(_ x: UnsafeMutablePointer<Float>, by m: UnsafePointer<Float>, count: Int) {
        tia_multiply_f32(x, m, count)
    }
    @inline(__always) public static func maskedAffine(mask: UnsafePointer<Float>, x: UnsafePointer<Float>, offset: UnsafePointer<Float>,
                                                      count: Int, out: UnsafeMutablePointer<Float>) {
        tia_masked_affine_f32(mask, x, offset, count, out)
    }
}

extension Double: BLASScalar {
    public static var typeName: String { "f64" }
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, blasTrans(transA), blasTrans(transB), Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
    @inline(__always) public static func dot(_ n: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
        cblas_ddot(Int32(n), x, 1, y, 1)
    }
    @inline(__always) public static func axpy(_ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(n), alpha, x, 1, y, 1)
    }
    @inline(__always) public static func scal(_ n: Int, _ alpha: Double, _ x: UnsafeMutablePointer<Double>) {
        cblas_dscal(Int32(n), alpha, x, 1)
    }
    @inline(__always) public static func nrm2(_ n: Int, _ x: UnsafePointer<Double>) -> Double { cblas_dnrm2(Int32(n), x, 1) }
    @inline(__always) public static func absMax(_ n: Int, _ x: UnsafePointer<Double>) -> Double {
        n > 0 ? abs(x[Int(cblas_idamax(Int32(n), x, 1))]) : 0
    }
    @inline(__always) public static func expm(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func logm(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func tanhm(_ x: Double) -> Double { Foundation.tanh(x) }
    /// ½·erfc(−x/√2) rather than ½·(1 + erf(x/√2)): no cancellation in the lower tail.
    @inline(__always) public static func normalCDF(_ x: Double) -> Double { 0.5 * Foundation.erfc(-x * 0.7071067811865476) }
    public static func gelu(_ x: UnsafePointer<Double>, count: Int, y: UnsafeMutablePointer<Double>, cdf: UnsafeMutablePointer<Double>?) {
        for i in 0..<count {
            let phi = normalCDF(x[i])
            cdf?[i] = phi
            y[i] = x[i] * phi
        }
    }
    public static func geluBackward(dy: UnsafePointer<Double>, x: UnsafePointer<Double>, cdf: UnsafePointer<Double>?, count: Int,
                                    dx: UnsafeMutablePointer<Double>) {
        let invSqrt2Pi = 0.3989422804014327
        for i in 0..<count {
            let v = x[i]
            dx[i] += dy[i] * ((cdf?[i] ?? normalCDF(v)) + v * invSqrt2Pi * Foundation.exp(-0.5 * v * v))
        }
    }
    public static func quantizeSymmetric(_ x: UnsafePointer<Double>, count: Int, clip c: Double, scale s: Double, step: Double,
                                         out: UnsafeMutablePointer<Double>, mask: UnsafeMutablePointer<Double>?) {
        let magic = 6_755_399_441_055_744.0  // 1.5·2^52: adding and removing it rounds half to even
        for i in 0..<count {
            let v = x[i]
            mask?[i] = abs(v) < c ? 1 : 0
            out[i] = ((min(max(v, -c), c) * s + magic) - magic) * step
        }
    }
    @inline(__always) public static func multiply(_ x: UnsafeMutablePointer<Double>, by m: UnsafePointer<Double>, count: Int) {
        tia_multiply_f64(x, m, count)
    }
    @inline(__always) public static func maskedAffine(mask: UnsafePointer<Double>, x: UnsafePointer<Double>, offset: UnsafePointer<Double>,
                                                      count: Int, out: UnsafeMutablePointer<Double>) {
        tia_masked_affine_f64(mask, x, offset, count, out)
    }
}

// MARK: - Array-level conveniences (all BLAS traffic goes through here)

public enum BLAS {
    /// Number of threads OpenBLAS uses; set once from the CLI (`--threads`).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }
    public static var threads: Int { Int(openblas_get_num_threads()) }
    /// The kernel family OpenBLAS selected at load time (e.g. "SkylakeX", "Prescott").
    public static var coreName: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    @inlinable public static func dot<T: BLASScalar>(_ x: [T], _ y: [T]) -> T {
        precondition(x.count == y.count, "dot: length mismatch \(x.count) vs \(y.count)")
        return x.withUnsafeBufferPointer { xp in
            y.withUnsafeBufferPointer { yp in T.dot(x.count, xp.baseAddress!, yp.baseAddress!) }
        }
    }
    /// y += alpha·x
    @inlinable public static func axpy<T: BLASScalar>(_ alpha: T, _ x: [T], _ y: inout [T]) {
        precondition(x.count == y.count, "axpy: length mismatch \(x.count) vs \(y.count)")
        let n = x.count
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in T.axpy(n, alpha, xp.baseAddress!, yp.baseAddress!) }
        }
    }
    @inlinable public static func scale<T: BLASScalar>(_ x: inout [T], by alpha: T) {
        let n = x.count
        x.withUnsafeMutableBufferPointer { T.scal(n, alpha, $0.baseAddress!) }
    }
    @inlinable public static func norm<T: BLASScalar>(_ x: [T]) -> T {
        x.withUnsafeBufferPointer { T.nrm2(x.count, $0.baseAddress!) }
    }

    /// Eigen-decomposition of a dense symmetric matrix (row-major n×n) with LAPACKE dsyev.
    /// Returns ascending eigenvalues and the eigenvectors as rows (vectors[i*n ..< (i+1)*n] belongs to values[i]).
    public static func symmetricEigen(_ matrix: [Double], n: Int, wantVectors: Bool = true) throws -> (values: [Double], vectors: [Double]) {
        precondition(matrix.count == n * n, "symmetricEigen: expected \(n*n) entries, got \(matrix.count)")
        var a = matrix
        var w = [Double](repeating: 0, count: n)
        let info = a.withUnsafeMutableBufferPointer { ap in
            w.withUnsafeMutableBufferPointer { wp in
                LAPACKE_dsyev(LAPACK_ROW_MAJOR, wantVectors ? 86 /* V */ : 78 /* N */, 85 /* U */,
                              Int32(n), ap.baseAddress, Int32(n), wp.baseAddress)
            }
        }
        guard info == 0 else { throw LinalgError.lapack(routine: "dsyev", info: Int(info)) }
        guard wantVectors else { return (w, []) }
        // Row-major output holds eigenvectors in columns; transpose so each vector is contiguous.
        var vt = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { vt[j * n + i] = a[i * n + j] } }
        return (w, vt)
    }

    /// Eigen-decomposition of a symmetric tridiagonal matrix (LAPACKE dstev).
    /// Returns ascending eigenvalues and eigenvectors as rows.
    public static func tridiagonalEigen(diagonal: [Double], offDiagonal: [Double]) throws -> (values: [Double], vectors: [Double]) {
        let n = diagonal.count
        precondition(offDiagonal.count == max(0, n - 1), "tridiagonalEigen: off-diagonal must have n-1 entries")
        if n == 0 { return ([], []) }
        var d = diagonal
        var e = offDiagonal + [0]
        var z = [Double](repeating: 0, count: n * n)
        let info = d.withUnsafeMutableBufferPointer { dp in
            e.withUnsafeMutableBufferPointer { ep in
                z.withUnsafeMutableBufferPointer { zp in
                    LAPACKE_dstev(LAPACK_ROW_MAJOR, 86 /* V */, Int32(n), dp.baseAddress, ep.baseAddress,
                                  zp.baseAddress, Int32(n))
                }
            }
        }
        guard info == 0 else { throw LinalgError.lapack(routine: "dstev", info: Int(info)) }
        var vt = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { vt[j * n + i] = z[i * n + j] } }
        return (d, vt)
    }
}

public enum LinalgError: Error, CustomStringConvertible {
    case lapack(routine: String, info: Int)
    public var description: String {
        switch self {
        case .lapack(let r, let info): return "LAPACK \(r) failed (info = \(info))"
        }
    }
}
