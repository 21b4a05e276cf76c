// See CKernels.h for why these few loops are in C.
#include "CKernels.h"
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define TIA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TIA_CLONES
#endif

// e^y for y ≤ 0 as 2^k·e^r, k = round(y/ln 2), |r| ≤ ln2/2. ln 2 is split so that k·ln2_hi is
// exact; e^r is its degree-7 Taylor polynomial (truncation < 6e-9 relative). k comes from the
// 1.5·2^23 rounding trick, which is branch-free and cannot overflow. Below −87 the scale would
// leave the normal range, so the result is selected to 0 there (libm's expf underflows to 0 a
// little later, at −103, through subnormals no caller here resolves). NaN propagates.
static inline float exp_nonpositive(float y) {
    const float magic = 12582912.0f;
    float yc = y < -87.0f ? -87.0f : y;
    float shifted = yc * 1.44269504088896341f + magic;
    float k = shifted - magic;
    float r = (yc - k * 0.693145751953125f) - k * 1.42860682030941723e-6f;
    float e = 1.0f / 5040;
    e = e * r + 1.0f / 720;
    e = e * r + 1.0f / 120;
    e = e * r + 1.0f / 24;
    e = e * r + 1.0f / 6;
    e = e * r + 0.5f;
    e = e * r + 1;
    e = e * r + 1;
    uint32_t sb, mb;
    memcpy(&sb, &shifted, 4);
    memcpy(&mb, &magic, 4);
    uint32_t scaleBits = (uint32_t)((int32_t)(sb - mb) + 127) << 23;
    float scale;
    memcpy(&scale, &scaleBits, 4);
    return y < -87.0f ? 0.0f : e * scale;
}

// e^(−a²/2) for a ∈ [0, 12.7]. Rounding −a²/2 in float costs relative error ≤ a²·3e-8 (5e-7 at
// a = 4, where Φ ≈ 3e-5), below what the float sums downstream resolve.
static inline float exp_minus_half_square(float a) { return exp_nonpositive(-0.5f * a * a); }

// Φ(x) = ½·erfc(|x|/√2) for x < 0 and 1 − ½·erfc(|x|/√2) otherwise, so the lower tail keeps
// relative accuracy instead of losing it to 1 + erf(x) cancellation. erfc(z) = e^(−z²)·R(t) with
// t = 1/(1 + p·z); R is a degree-9 polynomial we fitted (iteratively reweighted least squares in
// double against mpmath's erfc on z ∈ [0, 9]; max relative error 6.2e-9 before float rounding).
// Beyond |x| = 12.7 the exponential would leave the normal range; Φ is 0 or 1 there to far better
// than float resolution. Only selects, no branches, so loops over it vectorize. NaN propagates.
static inline float phi(float x) {
    float a = fabsf(x);
    a = a > 12.7f ? 12.7f : a;
    float z = a * 0.707106781186547524f;
    float t = 1 / (1 + 0.47047f * z);
    float r = -0.05531419567914375f;
    r = r * t + 0.30967812229108793f;
    r = r * t - 0.6554295602740974f;
    r = r * t + 0.5789384540597833f;
    r = r * t - 0.2119188629249771f;
    r = r * t + 0.2903418933539428f;
    r = r * t + 0.20911531720080756f;
    r = r * t + 0.26949098602878635f;
    r = r * t + 0.2650847271663145f;
    r = r * t + 1.311262209427204e-05f;
    float half = 0.5f * exp_minus_half_square(a) * r;
    return x < 0 ? half : 1 - half;
}

float tia_normal_cdf_f32(float x) { return phi(x); }

TIA_CLONES
void tia_gelu_f32(const float *restrict x, long n, float *restrict y, float *restrict cdf) {
    if (cdf) {
        for (long i = 0; i < n; i++) {
            float p = phi(x[i]);
            cdf[i] = p;
            y[i] = x[i] * p;
        }
    } else {
        for (long i = 0; i < n; i++) y[i] = x[i] * phi(x[i]);
    }
}

// dx += dy·(Φ(x) + x·φ(x)) with φ(x) = e^(−x²/2)/√(2π), Φ from the forward pass when cdf is not
// NULL. The exponential is the polynomial above, so the loop vectorizes (libm's expf did not).
TIA_CLONES
void tia_gelu_backward_f32(const float *restrict dy, const float *restrict x, const float *restrict cdf, long n,
                           float *restrict dx) {
    const float invSqrt2Pi = 0.398942280401432678f;
    if (cdf) {
        for (long i = 0; i < n; i++) {
            float a = fabsf(x[i]);
            a = a > 12.7f ? 12.7f : a;
            dx[i] += dy[i] * (cdf[i] + x[i] * (invSqrt2Pi * exp_minus_half_square(a)));
        }
    } else {
        for (long i = 0; i < n; i++) {
            float a = fabsf(x[i]);
            a = a > 12.7f ? 12.7f : a;
            dx[i] += dy[i] * (phi(x[i]) + x[i] * (invSqrt2Pi * exp_minus_half_square(a)));
        }
    }
}

// Round half to even by adding and removing 1.5·2^23 (|v| < 2^22): the default rounding mode does
// the work, the same in every instruction set.
static inline float round_even_small(float v) {
    const float magic = 12582912.0f;
    return (v + magic) - magic;
}

TIA_CLONES
void tia_quantize_symmetric_f32(const float *restrict x, long n, float c, float s, float step,
                                float *restrict out, float *restrict mask) {
    if (mask) {
        for (long i = 0; i < n; i++) {
            float v = x[i];
            mask[i] = fabsf(v) < c ? 1.0f : 0.0f;
            v = v < -c ? -c : v;
            v = v > c ? c : v;
            out[i] = round_even_small(v * s) * step;
        }
    } else {
        for (long i = 0; i < n; i++) {
            float v = x[i];
            v = v < -c ? -c : v;
            v = v > c ? c : v;
            out[i] = round_even_small(v * s) * step;
        }
    }
}

// The same rounding as tia_quantize_symmetric_f32, also keeping the integers: the int8 GEMM
// multiplies those exactly where a float GEMM would multiply their rounded products with step.
// Two loops, as there: a mask test inside the loop keeps it from vectorizing. A NaN has no code:
// it is reported, and the caller keeps the float route, where it propagates.
TIA_CLONES
int tia_quantize_symmetric_codes_f32(const float *restrict x, long n, float c, float s, float step,
                                     float *restrict out, float *restrict mask, signed char *restrict codes) {
    if (mask) {
        for (long i = 0; i < n; i++) mask[i] = fabsf(x[i]) < c ? 1.0f : 0.0f;
    }
    int nan = 0;
    for (long i = 0; i < n; i++) {
        float v = x[i];
        nan |= v != v;
        v = v < -c ? -c : v;
        v = v > c ? c : v;
        float r = round_even_small(v * s);
        codes[i] = (signed char)(r == r ? (int)r : 0);
        out[i] = r * step;
    }
    return nan;
}

// Sixteen independent running maxima: a single select-based max reduction is not vectorized
// without fast-math (NaN ordering), sixteen lanes written out are.
TIA_CLONES
float tia_abs_max_f32(const float *restrict x, long n) {
    float lane[16] = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        for (int j = 0; j < 16; j++) {
            float a = fabsf(x[i + j]);
            lane[j] = a > lane[j] ? a : lane[j];
        }
    }
    float m = 0;
    for (int j = 0; j < 16; j++) m = lane[j] > m ? lane[j] : m;
    for (; i < n; i++) {
        float a = fabsf(x[i]);
        m = a > m ? a : m;
    }
    return m;
}

TIA_CLONES
double tia_sum_squared_difference_f32(const float *restrict a, const float *restrict b, long n) {
    double lane[8] = {0};
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; j++) {
            double d = (double)a[i + j] - (double)b[i + j];
            lane[j] += d * d;
        }
    }
    double s = 0;
    for (int j = 0; j < 8; j++) s += lane[j];
    for (; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return s;
}

// Sixteen running sums per row for the mean and the variance, so the reductions vectorize.
static inline float row_sum(const float *restrict v, long w, float shift) {
    float lane[16] = {0};
    long j = 0;
    for (; j + 16 <= w; j += 16)
        for (int k = 0; k < 16; k++) lane[k] += v[j + k] - shift;
    float s = 0;
    for (int k = 0; k < 16; k++) s += lane[k];
    for (; j < w; j++) s += v[j] - shift;
    return s;
}

static inline float row_sum_squares(const float *restrict v, long w, float shift) {
    float lane[16] = {0};
    long j = 0;
    for (; j + 16 <= w; j += 16)
        for (int k = 0; k < 16; k++) { float d = v[j + k] - shift; lane[k] += d * d; }
    float s = 0;
    for (int k = 0; k < 16; k++) s += lane[k];
    for (; j < w; j++) { float d = v[j] - shift; s += d * d; }
    return s;
}

TIA_CLONES
void tia_layer_norm_f32(const float *restrict x, long rows, long width, const float *restrict gain,
                        const float *restrict bias, float eps, float *restrict y, float *restrict xhat,
                        float *restrict rstd) {
    float invW = 1.0f / (float)width;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * width;
        float *yr = y + r * width, *xh = xhat + r * width;
        float mean = row_sum(xr, width, 0) * invW;
        float var = row_sum_squares(xr, width, mean) * invW;
        float rs = 1.0f / sqrtf(var + eps);
        rstd[r] = rs;
        for (long j = 0; j < width; j++) {
            float v = (xr[j] - mean) * rs;
            xh[j] = v;
            yr[j] = v * gain[j] + bias[j];
        }
    }
}

// Row-wise softmax with the exponential above: the row maximum and the row sum each over sixteen
// running lanes so that both reductions vectorize; the exponentials are one vector loop.
TIA_CLONES
void tia_softmax_rows_f32(const float *restrict x, long rows, long width, float *restrict y) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * width;
        float *yr = y + r * width;
        float lane[16];
        for (int k = 0; k < 16; k++) lane[k] = -INFINITY;
        long j = 0;
        for (; j + 16 <= width; j += 16)
            for (int k = 0; k < 16; k++) lane[k] = xr[j + k] > lane[k] ? xr[j + k] : lane[k];
        float m = -INFINITY;
        for (int k = 0; k < 16; k++) m = lane[k] > m ? lane[k] : m;
        for (; j < width; j++) m = xr[j] > m ? xr[j] : m;
        for (j = 0; j < width; j++) yr[j] = exp_nonpositive(xr[j] - m);
        float inv = 1.0f / row_sum(yr, width, 0);
        for (j = 0; j < width; j++) yr[j] *= inv;
    }
}

// TWN ternarization of one group: the two means over |clamp(w)| are summed in eight double lanes
// (vectorizable, and closer to the exact mean than a running float sum), then rounded to float.
static inline float ternary_delta(const float *restrict w, long n, float clip) {
    double lane[8] = {0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            float c = fabsf(w[i + k]);
            lane[k] += c < clip ? c : clip;
        }
    double total = 0;
    for (int k = 0; k < 8; k++) total += lane[k];
    for (; i < n; i++) { float c = fabsf(w[i]); total += c < clip ? c : clip; }
    return 0.7f * (float)(total / (double)n);
}

// The threshold Δ tia_ternarize_f32 uses for the same group (oscillation telemetry reads it).
TIA_CLONES
float tia_ternary_delta_f32(const float *restrict w, long n, float clip) { return ternary_delta(w, n, clip); }

TIA_CLONES
void tia_ternarize_f32(const float *restrict w, long n, float clip, float *restrict out, float *restrict mask) {
    long i;
    float delta = ternary_delta(w, n, clip);
    double kept[8] = {0}, sum[8] = {0};
    for (i = 0; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            float c = fabsf(w[i + k]);
            c = c < clip ? c : clip;
            int in = c > delta;
            sum[k] += in ? c : 0;
            kept[k] += in;
        }
    double s = 0, m = 0;
    for (int k = 0; k < 8; k++) { s += sum[k]; m += kept[k]; }
    for (; i < n; i++) {
        float c = fabsf(w[i]);
        c = c < clip ? c : clip;
        if (c > delta) { s += c; m += 1; }
    }
    float alpha = m > 0 ? (float)(s / m) : 0.0f;
    for (i = 0; i < n; i++) {
        float v = w[i];
        float c = v < -clip ? -clip : (v > clip ? clip : v);
        mask[i] = fabsf(v) < clip ? 1.0f : 0.0f;
        out[i] = c > delta ? alpha : (c < -delta ? -alpha : 0.0f);
    }
}

// A weight matrix is ternary when every nonzero entry has one magnitude α; then W = α·codes
// exactly. Anything else (a latent FP matrix, n-bit grids) reports 0 and keeps the float GEMM.
// α is max|w|, and one branch-free pass flags any nonzero of another magnitude (NaN included),
// so that the check vectorizes: it runs on every weight matrix of every forward pass.
TIA_CLONES
int tia_ternary_codes_f32(const float *restrict w, long n, signed char *restrict codes, float *alpha) {
    float a = tia_abs_max_f32(w, n);
    int bad = 0;
    for (long i = 0; i < n; i++) {
        float v = w[i], m = fabsf(v);
        codes[i] = (signed char)((v > 0.0f) - (v < 0.0f));
        bad |= (m != 0.0f) & (m != a);
    }
    *alpha = a;
    return !bad;
}

// The elementwise products of the STE backward (gradient ⊙ mask) and of the frozen-noise replay
// (mask·x + offset) run on every activation of every Hessian-vector product; Swift's baseline
// build does them two Doubles at a time.
TIA_CLONES
void tia_multiply_f32(float *restrict x, const float *restrict m, long n) {
    for (long i = 0; i < n; i++) x[i] *= m[i];
}

TIA_CLONES
void tia_multiply_f64(double *restrict x, const double *restrict m, long n) {
    for (long i = 0; i < n; i++) x[i] *= m[i];
}

TIA_CLONES
void tia_masked_affine_f32(const float *restrict mask, const float *restrict x, const float *restrict offset, long n,
                           float *restrict out) {
    for (long i = 0; i < n; i++) out[i] = mask[i] * x[i] + offset[i];
}

TIA_CLONES
void tia_masked_affine_f64(const double *restrict mask, const double *restrict x, const double *restrict offset, long n,
                           double *restrict out) {
    for (long i = 0; i < n; i++) out[i] = mask[i] * x[i] + offset[i];
}
