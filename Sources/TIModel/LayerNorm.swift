// LayerNorm over the last dimension: y = γ·(x − μ)/√(σ² + ε) + β (biased variance, as PyTorch).
import TILinalg
import TIQuant

/// What backward needs: the normalized input and the reciprocal standard deviation per row.
public struct LayerNormCache<T: BLASScalar> {
    public let normalized: Buffer<T>  // [n, h]
    public let rstd: Buffer<T>        // [n]
}

public enum LayerNorm {
    public static func forward<T: BLASScalar>(
        x: UnsafePointer<T>, rows n: Int, width h: Int, gain: UnsafePointer<T>, bias: UnsafePointer<T>,
        eps: T, y: UnsafeMutablePointer<T>
    ) -> LayerNormCache<T> {
        let xhat = Buffer<T>(uninitialized: n * h), rstd = Buffer<T>(uninitialized: n)
        Parallel.rows(n, width: h) { range in
            let o = range.lowerBound * h
            forwardRows(x + o, rows: range.count, width: h, gain: gain, bias: bias, eps: eps, y: y + o,
                        normalized: xhat.p + o, rstd: rstd.p + range.lowerBound)
        }
        return LayerNormCache(normalized: xhat, rstd: rstd)
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    private static func forwardRows<T: BLASScalar>(
        _ x: UnsafePointer<T>, rows n: Int, width h: Int, gain: UnsafePointer<T>, bias: UnsafePointer<T>, eps: T,
        y: UnsafeMutablePointer<T>, normalized: UnsafeMutablePointer<T>, rstd: UnsafeMutablePointer<T>
    ) {
        if T.self == Float.self {  // the same formula in C, with vectorized row reductions
            FloatKernels.layerNorm(x, rows: n, width: h, gain: gain, bias: bias, eps: eps, y: y, normalized: normalized, rstd: rstd)
            return
        }
        let invH = 1 / T(h)
        for r in 0..<n {
            let xr = x + r * h, yr = y + r * h, xh = normalized + r * h
            var mean: T = 0
            for j in 0..<h { mean += xr[j] }
            mean *= invH
            var variance: T = 0
            for j in 0..<h { let d = xr[j] - mean; variance += d * d }
            variance *= invH
            let rs = 1 / (variance + eps).squareRoot()
            rstd[r] = rs
            for j in 0..<h {
                let v = (xr[j] - mean) * rs
                xh[j] = v
                yr[j] = v * gain[j] + bias[j]
            }
        }
    }

    /// dx += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ;  dγ += Σ dy·x̂;  dβ += Σ dy.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func backward<T: BLASScalar>(
        dy: UnsafePointer<T>, cache: LayerNormCache<T>, rows n: Int, width h: Int, gain: UnsafePointer<T>,
        dx: UnsafeMutablePointer<T>, dGain: UnsafeMutablePointer<T>, dBias: UnsafeMutablePointer<T>
    ) {
        let invH = 1 / T(h)
        Parallel.rows(n, width: h) { range in
            for r in range {
                let dyr = dy + r * h, xh = cache.normalized.p + r * h, dxr = dx + r * h
                var meanD: T = 0, meanDX: T = 0
                for j in 0..<h {
                    let d = dyr[j] * gain[j]
                    meanD += d
                    meanDX += d * xh[j]
                }
                meanD *= invH; meanDX *= invH
                let rs = cache.rstd.p[r]
                for j in 0..<h {
                    let d = dyr[j] * gain[j]
                    dxr[j] += rs * (d - meanD - xh[j] * meanDX)
                }
            }
        }
        // dγ and dβ sum over rows: by column blocks, each column in row order (bits independent of threads).
        let products = Buffer<T>(uninitialized: n * h)
        for i in 0..<(n * h) { products.p[i] = dy[i] * cache.normalized.p[i] }
        Linear.columnSums(products.p, rows: n, width: h, into: dGain)
        Linear.columnSums(dy, rows: n, width: h, into: dBias)
    }
}
