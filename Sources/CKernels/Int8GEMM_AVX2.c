// Int8 GEMM with AVX2 (vpmaddubsw + vpmaddwd) for CPUs without VNNI, e.g. AMD Zen 2/3.
//
// vpmaddubsw multiplies unsigned by signed bytes and adds adjacent pairs into int16 with signed
// saturation. The activations are made unsigned by u = a + 128 (the column sums take the 128·Σw
// back out in the epilogue), so each pair sum is at most 2·255·max|w|: exact for |w| ≤ 64, which
// tia_i8_gemm_f32 checks from the packed trailer before calling here. For small |w| (ternary:
// 510 per pair) several pair sums are added in int16 before one vpmaddwd widens them to int32,
// which halves the instructions per multiply-add; `chunk` is how many stay below 2^15.
#include "Int8Internal.h"
#include <stdlib.h>
#include <string.h>

#ifdef TIA_I8_X86
#include <immintrin.h>

#define TIA_AVX2 __attribute__((target("avx2")))
#define ROWS 4

// acc[r][x] += Σ over `groups` k groups of 4 of u[r][4g + t]·w[column 8x + ·][4g + t], for one
// 16-column tile (wt: its 64-byte rows) and 4 rows of u (stride apart).
TIA_AVX2 static inline void step_tile(const uint8_t *u, long stride, const int8_t *wt, int groups, int chunk,
                                      __m256i acc[ROWS][2]) {
    const __m256i ones = _mm256_set1_epi16(1);
    for (int g0 = 0; g0 < groups; g0 += chunk) {
        int g1 = g0 + chunk < groups ? g0 + chunk : groups;
        __m256i s[ROWS][2];
        for (int r = 0; r < ROWS; r++) s[r][0] = s[r][1] = _mm256_setzero_si256();
        for (int g = g0; g < g1; g++) {
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(const void *)(wt + 64 * g));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(const void *)(wt + 64 * g + 32));
            for (int r = 0; r < ROWS; r++) {
                int32_t quad;
                memcpy(&quad, u + r * stride + 4 * g, 4);
                __m256i av = _mm256_set1_epi32(quad);
                s[r][0] = _mm256_add_epi16(s[r][0], _mm256_maddubs_epi16(av, w0));
                s[r][1] = _mm256_add_epi16(s[r][1], _mm256_maddubs_epi16(av, w1));
            }
        }
        for (int r = 0; r < ROWS; r++)
            for (int x = 0; x < 2; x++) acc[r][x] = _mm256_add_epi32(acc[r][x], _mm256_madd_epi16(s[r][x], ones));
    }
}

// One 4-row × 16-column block over the whole k range, then the shared epilogue.
TIA_AVX2 static void tia_i8_avx2_block(const tia_i8_biased *A, long i0, long m, tia_i8_weight w, long jb, int h, int chunk,
                           float scale, const float *bias, float *c, long ldc) {
    __m256i acc[ROWS][2];
    for (int r = 0; r < ROWS; r++) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
    const uint8_t *u = A->u + i0 * A->stride;
    for (long s = 0; s < w.kb; s++) {
        long left = (w.k - 64 * s + 3) / 4;
        step_tile(u + 64 * s, A->stride, w.tiles + (jb * w.kb + s) * 2048 + h * 1024, left < 16 ? (int)left : 16,
                  chunk, acc);
    }
    _Alignas(32) int32_t out[ROWS * 16];
    for (int r = 0; r < ROWS; r++) {
        _mm256_store_si256((__m256i *)(void *)(out + 16 * r), acc[r][0]);
        _mm256_store_si256((__m256i *)(void *)(out + 16 * r + 8), acc[r][1]);
    }
    long j0 = jb * 32 + h * 16, rows = m - i0 < ROWS ? m - i0 : ROWS;
    tia_i8_store_block(out, rows, 16, j0, w, scale, bias, c + i0 * ldc + j0, ldc);
}

void tia_i8_gemm_avx2(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                      long ldc) {
    // Pair sums reach 510·max|w|; `chunk` of them must stay ≤ 32767 in int16 (at least 1 for |w| ≤ 64).
    int chunk = w.maxAbs == 0 ? 16 : (int)(32767 / (510 * w.maxAbs));
    if (chunk > 16) chunk = 16;
    tia_i8_biased A = tia_i8_bias_activations(m, w.k, a, lda, ROWS);
    long panel = tia_i8_panel_blocks(w.kb);
    for (long jp = 0; jp < w.nb; jp += panel) {
        long jpEnd = jp + panel < w.nb ? jp + panel : w.nb;
        for (long i0 = 0; i0 < m; i0 += ROWS)
            for (long jb = jp; jb < jpEnd; jb++)
                for (int h = 0; h < 2 && jb * 32 + h * 16 < w.n; h++)
                    tia_i8_avx2_block(&A, i0, m, w, jb, h, chunk, scale, bias, c, ldc);
    }
    free(A.u);
}

#else

void tia_i8_gemm_avx2(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                      long ldc) {
    (void)m, (void)a, (void)lda, (void)w, (void)scale, (void)bias, (void)c, (void)ldc;
    abort();  // never reached: tia_i8_kernel_available(TIA_I8_AVX2) is 0 off x86-64
}

#endif
