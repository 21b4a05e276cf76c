// Float pointwise kernels that the Swift side cannot make fast on baseline x86-64: Swift code is
// compiled for SSE2 only, while these are built per instruction set (AVX-512, AVX2, baseline) and
// picked at load time. Results are identical across the variants: no fp contraction (see
// Package.swift), round-to-even by the 1.5·2^23 trick, no instruction-set specific math.
#ifndef TIANALYZE_CKERNELS_H
#define TIANALYZE_CKERNELS_H

// The int8 GEMM (AMX, VNNI, AVX2 and scalar kernels) has its own header and comment.
#include "Int8GEMM.h"
#include "ThreadBudget.h"

/// Φ(x), the standard normal CDF, in float (absolute error < 2e-7, relative tail accuracy).
float tia_normal_cdf_f32(float x);

/// GELU y = x·Φ(x) over n values; Φ(x) also stored into cdf when cdf is not NULL.
void tia_gelu_f32(const float *x, long n, float *y, float *cdf);

/// GELU backward: dx += dy·(Φ(x) + x·φ(x)); Φ read from cdf when not NULL, else computed.
/// φ uses the same polynomial exponential (relative error < 2e-7; beyond |x| = 12.7 x·φ(x) < 1e-33).
void tia_gelu_backward_f32(const float *dy, const float *x, const float *cdf, long n, float *dx);

/// Symmetric fake quantization with a given clip c, scale s and step 1/s:
/// out = round_half_even(clamp(x, −c, c)·s)·step; mask (when not NULL) = 1 where |x| < c, else 0.
/// |clamp(x)·s| must stay below 2^22.
void tia_quantize_symmetric_f32(const float *x, long n, float c, float s, float step, float *out, float *mask);

/// tia_quantize_symmetric_f32 that also stores the integers round_half_even(clamp(x)·s) into
/// codes (out = codes·step); |c·s| ≤ 127 so they fit. mask may be NULL. Returns 1 when x holds a
/// NaN (its code is 0 and out is NaN), else 0.
int tia_quantize_symmetric_codes_f32(const float *x, long n, float c, float s, float step, float *out, float *mask,
                                      signed char *codes);

/// 1 when every nonzero w_i has the same magnitude α (a ternary matrix): codes = sign(w), *alpha = α
/// (0 for an all-zero matrix). 0 otherwise, codes and alpha then unspecified.
int tia_ternary_codes_f32(const float *w, long n, signed char *codes, float *alpha);

/// max |x_i| over n values (0 for n = 0; NaN entries are skipped, they propagate through the
/// quantized values instead). A plain reduction: OpenBLAS's i?amax also tracks the index.
float tia_abs_max_f32(const float *x, long n);

/// Σ (a_i − b_i)², accumulated in double (eight running sums, so it vectorizes).
double tia_sum_squared_difference_f32(const float *a, const float *b, long n);

/// Row-wise LayerNorm of rows × width: y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε), biased σ² as
/// PyTorch. x̂ and 1/√(σ² + ε) are also stored (for the backward pass).
void tia_layer_norm_f32(const float *x, long rows, long width, const float *gain, const float *bias, float eps,
                        float *y, float *xhat, float *rstd);

/// Row-wise softmax of rows × width into y (x and y must not overlap); e^x by our own polynomial
/// (relative error < 2e-7), masked scores (−10000 below the row maximum) give exactly 0.
void tia_softmax_rows_f32(const float *x, long rows, long width, float *y);

/// TernaryBERT's TWN over one group of n weights: c = clamp(w, ±clip), Δ = 0.7·mean|c|,
/// α = mean |c| over |c| > Δ, out = α·sign(c)·1[|c| > Δ], mask = 1[|w| < clip]. Means summed in double.
void tia_ternarize_f32(const float *w, long n, float clip, float *out, float *mask);

/// The Δ = 0.7·mean|clamp(w, ±clip)| tia_ternarize_f32 computes for the same group, bit for bit.
float tia_ternary_delta_f32(const float *w, long n, float clip);

/// x_i *= m_i over n values.
void tia_multiply_f32(float *x, const float *m, long n);
void tia_multiply_f64(double *x, const double *m, long n);

/// out_i = mask_i·x_i + offset_i over n values (a product, then a sum: never fused).
void tia_masked_affine_f32(const float *mask, const float *x, const float *offset, long n, float *out);
void tia_masked_affine_f64(const double *mask, const double *x, const double *offset, long n, double *out);

#endif
