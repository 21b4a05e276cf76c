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
        if T.self == Float.self {  // the same formula in C, with vectorized row reductions
            FloatKernels.layerNorm(x, rows: n, width: h, gain: gain, bias: bias, eps: eps, y: y, normalized: xhat.p, rstd: rstd.p)
            return LayerNormCache(normalized: xhat, rstd: rstd)
        }
        let invH = 1 / T(h)
        for r in 0..<n {
            let xr = x + r * h, yr = y + r * h, xh = xhat.p + r * h
            var mean: T = 0
            for j in 0..<h { mean += xr[j] }
            mean *= invH
            var variance: T = 0
            for j in 0..<h { let d = xr[j] - mean; variance += d * d }
            variance *= invH
            let rs = 1 / (variance + eps).squareRoot()
            rstd.p[r] = rs
            for j in 0..<h {
                let v = (xr[j] - mean) * rs
                xh[j] = v
                yr[j] = v * gain[j] + bias[j]
            }
        }
        return LayerNormCache(normalized: xhat, rstd: rstd)
    }

    /// dx += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ;  dγ += Σ dy·x̂;  dβ += Σ dy.
    public static func backward<T: BLASScalar>(
        dy: UnsafePointer<T>, cache: LayerNormCache<T>, rows n: Int, width h: Int, gain: UnsafePointer<T>,
        dx: UnsafeMutablePointer<T>, dGain: UnsafeMutablePointer<T>, dBias: UnsafeMutablePointer<T>
    ) {
        let invH = 1 / T(h)
        for r in 0..<n {
            let dyr = dy + r * h, xh = cache.normalized.p + r * h, dxr = dx + r * h
            var meanD: T = 0, meanDX: T = 0
            for j in 0..<h {
                let d = dyr[j] * gain[j]
                meanD += d
                meanDX += d * xh[j]
                dGain[j] += dyr[j] * xh[j]
                dBias[j] += dyr[j]
            }
            meanD *= invH; meanDX *= invH
            let rs = cache.rstd.p[r]
            for j in 0..<h {
                let d = dyr[j] * gain[j]
                dxr[j] += rs * (d - meanD - xh[j] * meanDX)
            }
        }
    }
}
