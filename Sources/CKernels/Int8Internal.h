// What the int8 kernel files share (not part of the public header): the view of a packed weight,
// the converted activations the u8 × s8 kernels read, and each kernel's entry point.
#ifndef TIANALYZE_INT8INTERNAL_H
#define TIANALYZE_INT8INTERNAL_H

#include "include/Int8GEMM.h"

#if defined(__x86_64__)
#define TIA_I8_X86 1
#endif

/// A packed weight (layout in Int8GEMM.h): nb blocks of 32 columns, kb steps of 64 along k, each
/// step 2 KiB; colsum and maxAbs from the trailer.
typedef struct {
    long n, k, nb, kb;
    const int8_t *tiles;
    const int32_t *colsum;
    int32_t maxAbs;
} tia_i8_weight;

static inline tia_i8_weight tia_i8_view(const int8_t *packed, long n, long k) {
    tia_i8_weight w;
    w.n = n;
    w.k = k;
    w.nb = (n + 31) / 32;
    w.kb = (k + 63) / 64;
    w.tiles = packed;
    w.colsum = (const int32_t *)(const void *)(packed + w.nb * w.kb * 2048);
    w.maxAbs = w.colsum[w.nb * 32];
    return w;
}

/// The activations as the unsigned operand of vpmaddubsw/vpdpbusd: u = a + 128 (a ^ 0x80), rows
/// padded with zeros of a to a multiple of rowBlock and each row to kb·64 bytes, so that kernels
/// read whole blocks without bounds checks (the packed weights are zero over the padding).
typedef struct {
    uint8_t *u;
    long rows, stride;
} tia_i8_biased;

tia_i8_biased tia_i8_bias_activations(long m, long k, const int8_t *a, long lda, int rowBlock);

/// Column blocks (32 columns) per panel: a panel of packed weights stays in L2 while every row
/// block of a passes over it.
long tia_i8_panel_blocks(long kb);

/// The epilogue of the u8 × s8 kernels: c[r][j0 + j] = (float)(acc[r·cols + j] − 128·colsum[j0 + j])·scale
/// (+ bias) for r < rows and j < cols ≤ 32 with j0 + j < n; c points at row r = 0, column j0.
void tia_i8_store_block(const int32_t *acc, long rows, long cols, long j0, tia_i8_weight w, float scale,
                        const float *bias, float *c, long ldc);

/// Per-kernel entry points: m ≥ 1, n ≥ 1, k ≥ 1, the CPU checked by the caller.
void tia_i8_gemm_scalar(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                        long ldc);
void tia_i8_gemm_avx2(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                      long ldc);
void tia_i8_gemm_avxvnni(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                         long ldc);
void tia_i8_gemm_avx512vnni(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias,
                            float *c, long ldc);
void tia_i8_gemm_amx(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                     long ldc);

/// The AVX-512 16 × 16 dword transpose of one full tile, in the AMX file; callable where AVX-512F is.
void tia_i8_transpose_tile_avx512(const int8_t *src, long ldw, int8_t *dst);
int tia_i8_avx512f_available(void);

#endif
