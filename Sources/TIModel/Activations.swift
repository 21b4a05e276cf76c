// Pointwise and row-wise nonlinearities with their derivatives side by side.
import TILinalg
import TIQuant

public enum GELU {
    /// The exact (erf) form used by BERT: y = x·Φ(x). Writes Φ(x) into `cdf` when given, so the
    /// backward pass need not evaluate erf again.
    public static func forward<T: BLASScalar>(_ x: UnsafePointer<T>, count: Int, y: UnsafeMutablePointer<T>,
                                              cdf: UnsafeMutablePointer<T>? = nil) {
        Parallel.rows(count, width: 1, minimumRows: 4096) { r in
            T.gelu(x + r.lowerBound, count: r.count, y: y + r.lowerBound, cdf: cdf.map { $0 + r.lowerBound })
        }
    }

    /// dx += dy·(Φ(x) + x·φ(x)); Φ(x) from the forward pass when given.
    public static func backward<T: BLASScalar>(dy: UnsafePointer<T>, x: UnsafePointer<T>, count: Int, dx: UnsafeMutablePointer<T>,
                                               cdf: UnsafePointer<T>? = nil) {
        Parallel.rows(count, width: 1, minimumRows: 4096) { r in
            T.geluBackward(dy: dy + r.lowerBound, x: x + r.lowerBound, cdf: cdf.map { $0 + r.lowerBound }, count: r.count,
                           dx: dx + r.lowerBound)
        }
    }
}

public enum Tanh {
    public static func forward<T: BLASScalar>(_ x: UnsafePointer<T>, count: Int, y: UnsafeMutablePointer<T>) {
        for i in 0..<count { y[i] = T.tanhm(x[i]) }
    }
    /// dx += dy·(1 − y²), from the output y.
    public static func backward<T: BLASScalar>(dy: UnsafePointer<T>, y: UnsafePointer<T>, count: Int, dx: UnsafeMutablePointer<T>) {
        for i in 0..<count { dx[i] += dy[i] * (1 - y[i] * y[i]) }
    }
}

public enum Softmax {
    /// Row-wise softmax of `rows` rows of width `width`, in place safe (x may equal y).
    public static func forward<T: BLASScalar>(_ x: UnsafePointer<T>, rows: Int, width: Int, y: UnsafeMutablePointer<T>) {
        Parallel.rows(rows, width: width) { range in
            forwardRows(x + range.lowerBound * width, rows: range.count, width: width, y: y + range.lowerBound * width)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func forwardRows<T: BLASScalar>(_ x: UnsafePointer<T>, rows: Int, width: Int, y: UnsafeMutablePointer<T>) {
        if T.self == Float.self, UnsafeRawPointer(x) != UnsafeRawPointer(y) {
            FloatKernels.softmaxRows(x, rows: rows, width: width, y: y)  // vectorized exp (5 % of a landscape point)
            return
        }
        for r in 0..<rows {
            let xr = x + r * width, yr = y + r * width
            var m = xr[0]
            for j in 1..<width where xr[j] > m { m = xr[j] }
            var s: T = 0
            for j in 0..<width { let e = T.expm(xr[j] - m); yr[j] = e; s += e }
            let inv = 1 / s
            for j in 0..<width { yr[j] *= inv }
        }
    }

    /// dx += y ⊙ (dy − Σ dy⊙y) per row.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func backward<T: BLASScalar>(dy: UnsafePointer<T>, y: UnsafePointer<T>, rows: Int, width: Int, dx: UnsafeMutablePointer<T>) {
        Parallel.rows(rows, width: width) { range in
            for r in range {
                let dyr = dy + r * width, yr = y + r * width, dxr = dx + r * width
                var dotp: T = 0
                for j in 0..<width { dotp += dyr[j] * yr[j] }
                for j in 0..<width { dxr[j] += yr[j] * (dyr[j] - dotp) }
            }
        }
    }

    /// log-softmax of one row into out (used by the losses).
    public static func logSoftmaxRow<T: BLASScalar>(_ x: UnsafePointer<T>, width: Int, out: UnsafeMutablePointer<T>) {
        var m = x[0]
        for j in 1..<width where x[j] > m { m = x[j] }
        var s: T = 0
        for j in 0..<width { s += T.expm(x[j] - m) }
        let lse = m + T.logm(s)
        for j in 0..<width { out[j] = x[j] - lse }
    }
}

/// Inverted dropout: kept units are scaled by 1/(1−p) so evaluation needs no rescaling.
public enum Dropout {
    /// Returns the scaled keep-mask of a [batch, …] tensor of `count` entries, or nil when dropout is
    /// inactive (p = 0 or not training). One draw of the pass's stream keys the mask; entry i is then a
    /// function of (key, i + firstExample·count/batch) alone (SplitMix64 at that counter): the entry's
    /// index in the global batch, so the mask is filled across threads, and across ranks or chunks
    /// each holding some rows of the batch, with the same bits as one pass over the whole batch.
    public static func mask<T: BLASScalar>(count: Int, p: Double, rng: inout SeededRandom?, dims d: Dims) -> Buffer<T>? {
        guard p > 0, rng != nil else { return nil }
        let m = Buffer<T>(uninitialized: count)
        let keep = T(1 / (1 - p)), key = rng!.next()
        let first = d.batch > 0 ? d.firstExample * (count / d.batch) : 0
        Parallel.rows(count, width: 1, minimumRows: 1 << 14) { r in
            for i in r { m.p[i] = uniform(key: key, counter: first + i) < p ? 0 : keep }
        }
        return m
    }

    /// Uniform in [0, 1) with 53 bits: the SplitMix64 output for state key + (i + 1)·γ.
    @inline(__always) static func uniform(key: UInt64, counter i: Int) -> Double {
        var z = key &+ (UInt64(i) &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) * 0x1.0p-53
    }

    /// y = x ⊙ mask (copy when mask is nil).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func apply<T: BLASScalar>(_ x: UnsafePointer<T>, mask: Buffer<T>?, count: Int, y: UnsafeMutablePointer<T>) {
        guard let mask else { y.update(from: x, count: count); return }
        Parallel.rows(count, width: 1, minimumRows: 1 << 15) { r in
            for i in r { y[i] = x[i] * mask.p[i] }
        }
    }
}
