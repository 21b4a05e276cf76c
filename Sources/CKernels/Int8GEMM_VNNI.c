// Int8 GEMM with vpdpbusd: AVX-512 VNNI (512-bit, Intel Ice Lake and later, AMD Zen 4 and later)
// and AVX-VNNI (the same instruction VEX-encoded on 256-bit registers, Intel Alder Lake and later).
//
// vpdpbusd adds four unsigned × signed byte products to each int32 lane without saturation, so any
// int8 weight is exact. The activations are made unsigned by u = a + 128 and the epilogue takes
// 128·Σ_p w[j][p] back out; the packed tile rows (16 columns × 4 k values, 64 bytes) are exactly
// what one zmm or two ymm multiply against a broadcast quad of u.
#include "Int8Internal.h"
#include <stdlib.h>

#ifdef TIA_I8_X86
#include <immintrin.h>
#include <string.h>

#define TIA_VNNI512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define TIA_VNNI256 __attribute__((target("avx2,avxvnni")))

static inline int groups_in_step(tia_i8_weight w, long s) {
    long left = (w.k - 64 * s + 3) / 4;
    return left < 16 ? (int)left : 16;
}

// MARK: - AVX-512 VNNI: 8 rows × 32 columns (both tiles of a column block) per block

#define ROWS512 8

TIA_VNNI512 static void tia_i8_vnni512_block(const tia_i8_biased *A, long i0, long m, tia_i8_weight w, long jb, float scale,
                                 const float *bias, float *c, long ldc) {
    __m512i acc[ROWS512][2];
    for (int r = 0; r < ROWS512; r++) acc[r][0] = acc[r][1] = _mm512_setzero_si512();
    const uint8_t *u = A->u + i0 * A->stride;
    for (long s = 0; s < w.kb; s++) {
        const int8_t *wt = w.tiles + (jb * w.kb + s) * 2048;
        int groups = groups_in_step(w, s);
        for (int g = 0; g < groups; g++) {
            __m512i w0 = _mm512_loadu_si512(wt + 64 * g), w1 = _mm512_loadu_si512(wt + 1024 + 64 * g);
            for (int r = 0; r < ROWS512; r++) {
                int32_t quad;
                memcpy(&quad, u + r * A->stride + 64 * s + 4 * g, 4);
                __m512i av = _mm512_set1_epi32(quad);
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], av, w0);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], av, w1);
            }
        }
    }
    _Alignas(64) int32_t out[ROWS512 * 32];
    for (int r = 0; r < ROWS512; r++) {
        _mm512_store_si512(out + 32 * r, acc[r][0]);
        _mm512_store_si512(out + 32 * r + 16, acc[r][1]);
    }
    long j0 = jb * 32, rows = m - i0 < ROWS512 ? m - i0 : ROWS512;
    tia_i8_store_block(out, rows, 32, j0, w, scale, bias, c + i0 * ldc + j0, ldc);
}

void tia_i8_gemm_avx512vnni(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias,
                            float *c, long ldc) {
    tia_i8_biased A = tia_i8_bias_activations(m, w.k, a, lda, ROWS512);
    long panel = tia_i8_panel_blocks(w.kb);
    for (long jp = 0; jp < w.nb; jp += panel) {
        long jpEnd = jp + panel < w.nb ? jp + panel : w.nb;
        for (long i0 = 0; i0 < m; i0 += ROWS512)
            for (long jb = jp; jb < jpEnd; jb++) tia_i8_vnni512_block(&A, i0, m, w, jb, scale, bias, c, ldc);
    }
    free(A.u);
}

// MARK: - AVX-VNNI: 4 rows × 16 columns (one tile) per block, 8 ymm accumulators

#define ROWS256 4

TIA_VNNI256 static void tia_i8_vnni256_block(const tia_i8_biased *A, long i0, long m, tia_i8_weight w, long jb, int h,
                                 float scale, const float *bias, float *c, long ldc) {
    __m256i acc[ROWS256][2];
    for (int r = 0; r < ROWS256; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    const uint8_t *u = A->u + i0 * A->stride;
    for (long s = 0; s < w.kb; s++) {
        const int8_t *wt = w.tiles + (jb * w.kb + s) * 2048 + h * 1024;
        int groups = groups_in_step(w, s);
        for (int g = 0; g < groups; g++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(wt + 64 * g));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(wt + 64 * g + 32));
            for (int r = 0; r < ROWS256; r++) {
                int32_t quad;
                memcpy(&quad, u + r * A->stride + 64 * s + 4 * g, 4);
                __m256i av = _mm256_set1_epi32(quad);
                acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], av, w0);
                acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], av, w1);
            }
        }
    }
    _Alignas(32) int32_t out[ROWS256 * 16];
    for (int r = 0; r < ROWS256; r++) {
        _mm256_store_si256((__m256i *)(void *)(out + 16 * r), acc[r][0]);
        _mm256_store_si256((__m256i *)(void *)(out + 16 * r + 8), acc[r][1]);
    }
    long j0 = jb * 32 + h * 16, rows = m - i0 < ROWS256 ? m - i0 : ROWS256;
    tia_i8_store_block(out, rows, 16, j0, w, scale, bias, c + i0 * ldc + j0, ldc);
}

void tia_i8_gemm_avxvnni(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                         long ldc) {
    tia_i8_biased A = tia_i8_bias_activations(m, w.k, a, lda, ROWS256);
    long panel = tia_i8_panel_blocks(w.kb);
    for (long jp = 0; jp < w.nb; jp += panel) {
        long jpEnd = jp + panel < w.nb ? jp + panel : w.nb;
        for (long i0 = 0; i0 < m; i0 += ROWS256)
            for (long jb = jp; jb < jpEnd; jb++)
                for (int h = 0; h < 2 && jb * 32 + h * 16 < w.n; h++)
                    tia_i8_vnni256_block(&A, i0, m, w, jb, h, scale, bias, c, ldc);
    }
    free(A.u);
}

#else

// Never reached: tia_i8_kernel_available() is 0 for both off x86-64.
void tia_i8_gemm_avx512vnni(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias,
                            float *c, long ldc) {
    (void)m, (void)a, (void)lda, (void)w, (void)scale, (void)bias, (void)c, (void)ldc;
    abort();
}

void tia_i8_gemm_avxvnni(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                         long ldc) {
    (void)m, (void)a, (void)lda, (void)w, (void)scale, (void)bias, (void)c, (void)ldc;
    abort();
}

#endif
