// Int8 GEMM on AMX tiles (signed × signed bytes, no offset needed), and the AVX-512 tile transpose
// the packing uses wherever AVX-512F is. The AMX and AVX-512 code is compiled per function (target
// attributes), so the rest of CKernels keeps its baseline flags and the package builds on CPUs and
// compilers without AMX; only tia_i8_amx_available() decides at run time.
#include "Int8Internal.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__linux__)
#define TIA_HAVE_AMX_BUILD 1
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#ifdef TIA_HAVE_AMX_BUILD

#define ARCH_GET_XCOMP_PERM 0x1022
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int amxAvailable;  // written once under pthread_once, read-only afterwards
static pthread_once_t amxOnce = PTHREAD_ONCE_INIT;

static unsigned long long read_xcr0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

// CPUID says what the silicon has; XCR0 says which of that state the OS saves (AVX-512: bits 1,
// 2, 5–7; tiles: 17, 18); and Linux additionally keeps tile data disabled per process until it
// is requested, so the permission is asked for and then read back.
static void detect_amx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return;  // OSXSAVE
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    int tile = (d >> 24) & 1, int8 = (d >> 25) & 1, avx512f = (b >> 16) & 1;
    if (!tile || !int8 || !avx512f) return;
    const unsigned long long needed = (1ull << 1) | (1ull << 2) | (7ull << 5) | (3ull << 17);
    if ((read_xcr0() & needed) != needed) return;
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return;
    unsigned long long perm = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) != 0) return;
    amxAvailable = (perm >> XFEATURE_XTILEDATA) & 1;
}

int tia_i8_amx_available(void) {
    pthread_once(&amxOnce, detect_amx);
    return amxAvailable;
}

// The full-tile case of pack_tile as a 16 × 16 transpose of 4-byte groups in registers: the
// weights are repacked on every forward call, and at the BERT-base shapes the scalar moves took
// 20–40 % as long as the GEMM itself; this is 2–4× faster, close to memory speed.
__attribute__((target("avx512f"))) void tia_i8_transpose_tile_avx512(const int8_t *src, long ldw, int8_t *dst) {
    __m512i x[16], y[16];
    for (int i = 0; i < 16; i++) x[i] = _mm512_loadu_si512(src + i * ldw);
    // Pairs of columns interleaved by dword, then by qword: each 128-bit lane of x[4q + j] then
    // holds one k group (4 bytes) of four consecutive columns 4q…4q+3.
    for (int i = 0; i < 16; i += 2) {
        y[i] = _mm512_unpacklo_epi32(x[i], x[i + 1]);
        y[i + 1] = _mm512_unpackhi_epi32(x[i], x[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        x[i] = _mm512_unpacklo_epi64(y[i], y[i + 2]);
        x[i + 1] = _mm512_unpackhi_epi64(y[i], y[i + 2]);
        x[i + 2] = _mm512_unpacklo_epi64(y[i + 1], y[i + 3]);
        x[i + 3] = _mm512_unpackhi_epi64(y[i + 1], y[i + 3]);
    }
    // Two rounds of 128-bit lane shuffles gather the four column quads of each k group.
    for (int i = 0; i < 16; i += 8)
        for (int j = 0; j < 4; j++) {
            y[i + j] = _mm512_shuffle_i32x4(x[i + j], x[i + 4 + j], 0x88);
            y[i + 4 + j] = _mm512_shuffle_i32x4(x[i + j], x[i + 4 + j], 0xDD);
        }
    for (int j = 0; j < 8; j++) {
        x[j] = _mm512_shuffle_i32x4(y[j], y[j + 8], 0x88);
        x[j + 8] = _mm512_shuffle_i32x4(y[j], y[j + 8], 0xDD);
    }
    for (int i = 0; i < 16; i++) _mm512_storeu_si512(dst + 64 * i, x[i]);
}

#define TIA_AMX __attribute__((target("amx-tile,amx-int8,avx512f")))

// Palette 1: tiles 0–3 hold the 2 × 2 int32 accumulators (16 rows × 16 columns each), 4–5 the
// two 16-row slices of A, 6–7 the two 16-column slices of packed W; every tile 16 rows × 64 bytes.
struct tile_config {
    uint8_t palette;
    uint8_t startRow;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

// Accumulates one 32 × 32 block of a · wᵀ: nkb 64-wide k steps with A rows read in place from a0
// and a1 (row stride sa), then, when tail is not NULL, one more step from a zero-padded 32 × 64
// copy. b points at the column block's packed k steps, 2 KiB each.
TIA_AMX static inline void block_2x2(const int8_t *a0, const int8_t *a1, long sa, long nkb, const int8_t *tail,
                                     const int8_t *b) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (long s = 0; s < nkb; s++) {
        _tile_loadd(4, a0 + 64 * s, sa);
        _tile_loadd(6, b, 64);
        _tile_loadd(7, b + 1024, 64);
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(1, 4, 7);
        _tile_loadd(5, a1 + 64 * s, sa);
        _tile_dpbssd(2, 5, 6);
        _tile_dpbssd(3, 5, 7);
        b += 2048;
    }
    if (tail) {
        _tile_loadd(4, tail, 64);
        _tile_loadd(6, b, 64);
        _tile_loadd(7, b + 1024, 64);
        _tile_dpbssd(0, 4, 6);
        _tile_dpbssd(1, 4, 7);
        _tile_loadd(5, tail + 1024, 64);
        _tile_dpbssd(2, 5, 6);
        _tile_dpbssd(3, 5, 7);
    }
}

// int32 → float, · scale, + bias, over rows × cols of a 16 × 16 accumulator tile stored at acc;
// cols < 16 only at the right edge of c, where the mask keeps the stores inside the row.
TIA_AMX static inline void convert_tile(const int32_t *acc, int rows, int cols, float scale, const float *bias,
                                        float *c, long ldc) {
    __mmask16 mask = (__mmask16)((1u << cols) - 1);
    __m512 s = _mm512_set1_ps(scale);
    __m512 bv = bias ? _mm512_maskz_loadu_ps(mask, bias) : _mm512_setzero_ps();
    for (int r = 0; r < rows; r++) {
        __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_loadu_si512(acc + 16 * r)), s);
        if (bias) v = _mm512_add_ps(v, bv);
        _mm512_mask_storeu_ps(c + r * ldc, mask, v);
    }
}

TIA_AMX void tia_i8_gemm_amx(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias,
                             float *c, long ldc) {
    long n = w.n, k = w.k;
    const int8_t *packed = w.tiles;
    struct tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    _tile_loadconfig(&cfg);

    long kb = (k + 63) / 64, kfull = k / 64, nb = (n + 31) / 32;
    // With fewer than 32 rows, A is copied into a zero-padded 32 × kb·64 block. Otherwise rows are
    // read in place, and a ragged last block is shifted up to end at row m − 1: it recomputes a
    // few rows of the block before it and stores the same values again, but needs no copy.
    int8_t *small = NULL;
    if (m < 32) {
        small = calloc(32 * kb * 64, 1);
        if (!small) abort();
        for (long i = 0; i < m; i++) memcpy(small + i * kb * 64, a + i * lda, k);
    }
    _Alignas(64) int8_t tail[32 * 64];
    _Alignas(64) int32_t acc[4][256];

    // Column panels of packed W of at most ~768 KiB stay in L2 (2 MiB here) while every row
    // block passes over them; only the BERT-base shapes have more than one panel. Measured
    // about 5–10 % faster there, no change where W fits whole.
    long panelBlocks = 786432 / (kb * 2048);
    if (panelBlocks < 1) panelBlocks = 1;
    for (long jp = 0; jp < nb; jp += panelBlocks) {
        long jpEnd = jp + panelBlocks < nb ? jp + panelBlocks : nb;
        for (long next = 0; next < m; next += 32) {
            const int8_t *a0, *a1, *tp = NULL;
            long sa, nkb, i0 = next;
            int rows = 32;
            if (small) {
                a0 = small;
                a1 = small + 16 * kb * 64;
                sa = kb * 64;
                nkb = kb;
                rows = (int)m;
            } else {
                if (i0 + 32 > m) i0 = m - 32;
                a0 = a + i0 * lda;
                a1 = a0 + 16 * lda;
                sa = lda;
                nkb = kfull;
                if (kfull < kb) {
                    // The k tail of these 32 rows, zero-padded to one 64-wide step (the packed
                    // weights are zero there too; the padding keeps the reads defined).
                    memset(tail, 0, sizeof tail);
                    for (int r = 0; r < 32; r++)
                        memcpy(tail + 64 * r, a + (i0 + r) * lda + kfull * 64, k - kfull * 64);
                    tp = tail;
                }
            }
            for (long jb = jp; jb < jpEnd; jb++) {
                block_2x2(a0, a1, sa, nkb, tp, packed + jb * kb * 2048);
                _tile_stored(0, acc[0], 64);
                _tile_stored(1, acc[1], 64);
                _tile_stored(2, acc[2], 64);
                _tile_stored(3, acc[3], 64);
                long j0 = jb * 32;
                for (int t = 0; t < 4; t++) {
                    int r0 = (t / 2) * 16, c0 = (t % 2) * 16;
                    int tr = rows - r0 > 16 ? 16 : rows - r0;
                    long tc = n - j0 - c0 > 16 ? 16 : n - j0 - c0;
                    if (tr <= 0 || tc <= 0) continue;
                    convert_tile(acc[t], tr, (int)tc, scale, bias ? bias + j0 + c0 : NULL,
                                 c + (i0 + r0) * ldc + j0 + c0, ldc);
                }
            }
        }
    }
    free(small);
    _tile_release();
}

#else

int tia_i8_amx_available(void) { return 0; }

// Never reached: tia_i8_kernel_available() is 0 for AMX and AVX-512F here.
void tia_i8_gemm_amx(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                     long ldc) {
    (void)m, (void)a, (void)lda, (void)w, (void)scale, (void)bias, (void)c, (void)ldc;
    abort();
}

void tia_i8_transpose_tile_avx512(const int8_t *src, long ldw, int8_t *dst) {
    (void)src, (void)ldw, (void)dst;
    abort();
}

#endif
