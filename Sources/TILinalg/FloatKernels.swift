// Float-only entry points to the C kernels (CKernels) for generic code that takes a faster route
// when T is Float; Double keeps its Swift loops. Callers check `T.self == Float.self` first, which
// specialization folds away.
// The split with BLASScalar: a kernel whose Double form is a layer's own loop (LayerNorm, softmax,
// TWN, the MSE sums) is reached from here, so that loop stays beside the layer's backward pass;
// math primitives with a Double form of their own (Φ, GELU and its derivative, the 8-bit quantizer,
// max|x|) are BLASScalar requirements.
import CKernels

public enum FloatKernels {
    @inline(__always) public static func f<T>(_ p: UnsafePointer<T>) -> UnsafePointer<Float> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
    }
    @inline(__always) public static func f<T>(_ p: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }

    /// Row-wise LayerNorm (see tia_layer_norm_f32); T must be Float.
    public static func layerNorm<T: BLASScalar>(_ x: UnsafePointer<T>, rows: Int, width: Int, gain: UnsafePointer<T>, bias: UnsafePointer<T>,
                                                eps: T, y: UnsafeMutablePointer<T>, normalized: UnsafeMutablePointer<T>,
                                                rstd: UnsafeMutablePointer<T>) {
        precondition(T.self == Float.self, "FloatKernels: Float only")
        tia_layer_norm_f32(f(x), rows, width, f(gain), f(bias), Float(eps), f(y), f(normalized), f(rstd))
    }

    /// Σ (a_i − b_i)², accumulated in double; T must be Float.
    public static func sumSquaredDifference<T: BLASScalar>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, count: Int) -> Double {
        precondition(T.self == Float.self, "FloatKernels: Float only")
        return tia_sum_squared_difference_f32(f(a), f(b), count)
    }

    /// Row-wise softmax (see tia_softmax_rows_f32); T must be Float, x and y must not overlap.
    public static func softmaxRows<T: BLASScalar>(_ x: UnsafePointer<T>, rows: Int, width: Int, y: UnsafeMutablePointer<T>) {
        precondition(T.self == Float.self, "FloatKernels: Float only")
        tia_softmax_rows_f32(f(x), rows, width, f(y))
    }

    /// The 8-bit symmetric quantizer keeping its integers (see tia_quantize_symmetric_codes_f32);
    /// false when x holds a NaN, which has no code.
    public static func quantizeSymmetricCodes(_ x: UnsafePointer<Float>, count: Int, clip: Float, scale: Float, step: Float,
                                              out: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>?,
                                              codes: UnsafeMutablePointer<Int8>) -> Bool {
        tia_quantize_symmetric_codes_f32(x, count, clip, scale, step, out, mask, codes) == 0
    }

    /// α with w = α·codes when w is ternary (every nonzero of one magnitude), else nil.
    public static func ternaryCodes(_ w: UnsafePointer<Float>, count: Int, codes: UnsafeMutablePointer<Int8>) -> Float? {
        var alpha: Float = 0
        return tia_ternary_codes_f32(w, count, codes, &alpha) == 1 ? alpha : nil
    }

    /// TWN ternarization of one group (see tia_ternarize_f32); T must be Float.
    public static func ternarize<T: BLASScalar>(_ w: UnsafePointer<T>, count: Int, clip: T, out: UnsafeMutablePointer<T>,
                                                mask: UnsafeMutablePointer<T>) {
        precondition(T.self == Float.self, "FloatKernels: Float only")
        tia_ternarize_f32(f(w), count, Float(clip), f(out), f(mask))
    }

    /// The threshold Δ `ternarize` uses for the same group (bit for bit); T must be Float.
    public static func ternaryThreshold<T: BLASScalar>(_ w: UnsafePointer<T>, count: Int, clip: T) -> T {
        precondition(T.self == Float.self, "FloatKernels: Float only")
        return T(tia_ternary_delta_f32(f(w), count, Float(clip)))
    }
}
