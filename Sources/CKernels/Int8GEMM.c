// The int8 GEMM's definition, its packed weight layout, the scalar kernel and the entry point that
// hands a call to the kernel asked for; see Int8GEMM.h for the contract. The vector kernels live
// in Int8GEMM_AVX2.c, Int8GEMM_VNNI.c and Int8GEMM_AMX.c, CPU detection in Int8Dispatch.c.
#include "Int8Internal.h"
#include <stdlib.h>
#include <string.h>

#if defined(TIA_I8_X86) && defined(__linux__)
#define TIA_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TIA_CLONES
#endif

long tia_i8_packed_weight_size(long n, long k) {
    long n32 = (n + 31) / 32 * 32;
    return n32 * ((k + 63) / 64 * 64) + 4 * n32 + 64;
}

// The semantics spelled out: exact int32 sum, one conversion, one multiply, one add (no fp
// contraction in this target, see Package.swift), the same operations each kernel's epilogue
// performs in vector registers with the default round-to-nearest-even.
void tia_i8_gemm_f32_reference(long m, long n, long k, const int8_t *a, long lda, const int8_t *w, long ldw,
                               float scale, const float *bias, float *c, long ldc) {
    for (long i = 0; i < m; i++)
        for (long j = 0; j < n; j++) {
            int32_t acc = 0;
            for (long p = 0; p < k; p++) acc += (int32_t)a[i * lda + p] * (int32_t)w[j * ldw + p];
            float v = (float)acc * scale;
            c[i * ldc + j] = bias ? v + bias[j] : v;
        }
}

// One 16-column × 64-k tile in VNNI order (byte 64·r + 4·c + t is column c, k 4·r + t) from
// `cols` rows of w and `len` values of each; the rest of the 1 KiB is zero.
static void pack_tile(const int8_t *restrict src, long ldw, long cols, long len, int8_t *restrict dst) {
    if (cols == 16 && len == 64) {
        for (int c = 0; c < 16; c++)
            for (int r = 0; r < 16; r++) memcpy(dst + 64 * r + 4 * c, src + c * ldw + 4 * r, 4);
        return;
    }
    memset(dst, 0, 1024);
    for (long c = 0; c < cols; c++)
        for (long p = 0; p < len; p++) dst[64 * (p / 4) + 4 * c + p % 4] = src[c * ldw + p];
}

// The column sums (for the +128 offset of the u8 × s8 kernels) and max |w| (for the AVX2 kernel's
// saturation bound), after the tiles.
static void pack_trailer(const int8_t *w, long n, long k, long ldw, int32_t *trailer) {
    long n32 = (n + 31) / 32 * 32;
    int32_t maxAbs = 0;
    for (long j = 0; j < n32; j++) {
        int32_t sum = 0;
        for (long p = 0; j < n && p < k; p++) {
            int32_t v = w[j * ldw + p];
            sum += v;
            if ((v < 0 ? -v : v) > maxAbs) maxAbs = v < 0 ? -v : v;
        }
        trailer[j] = sum;
    }
    memset(trailer + n32, 0, 64);
    trailer[n32] = maxAbs;
}

// Step by step (2 KiB of output at a time) so that the destination stays in L1 while 32 rows of
// w are read; every byte of the packed buffer is written, zeros included.
void tia_i8_pack_weight(const int8_t *restrict w, long n, long k, long ldw, int8_t *restrict packed) {
    int vector = tia_i8_avx512f_available();
    long nb = (n + 31) / 32, kb = (k + 63) / 64;
    for (long jb = 0; jb < nb; jb++)
        for (long s = 0; s < kb; s++)
            for (int h = 0; h < 2; h++) {
                long col = jb * 32 + h * 16, cols = n - col < 16 ? n - col : 16;
                long len = k - s * 64 < 64 ? k - s * 64 : 64;
                int8_t *dst = packed + (jb * kb + s) * 2048 + h * 1024;
                if (cols <= 0) {
                    memset(dst, 0, 1024);
                    continue;
                }
                const int8_t *src = w + col * ldw + s * 64;
                if (vector && cols == 16 && len == 64)
                    tia_i8_transpose_tile_avx512(src, ldw, dst);
                else
                    pack_tile(src, ldw, cols, len, dst);
            }
    pack_trailer(w, n, k, ldw, (int32_t *)(void *)(packed + nb * kb * 2048));
}

// The definition read through the packed layout: a check of the layout as much as a fallback.
void tia_i8_gemm_scalar(long m, const int8_t *a, long lda, tia_i8_weight w, float scale, const float *bias, float *c,
                        long ldc) {
    for (long j = 0; j < w.n; j++) {
        const int8_t *col = w.tiles + (j / 32) * w.kb * 2048 + ((j % 32) / 16) * 1024 + 4 * (j % 16);
        for (long i = 0; i < m; i++) {
            const int8_t *row = a + i * lda;
            int32_t acc = 0;
            for (long p = 0; p < w.k; p++) acc += (int32_t)row[p] * (int32_t)col[(p / 64) * 2048 + 64 * ((p % 64) / 4) + p % 4];
            float v = (float)acc * scale;
            c[i * ldc + j] = bias ? v + bias[j] : v;
        }
    }
}

tia_i8_biased tia_i8_bias_activations(long m, long k, const int8_t *a, long lda, int rowBlock) {
    tia_i8_biased b;
    b.stride = (k + 63) / 64 * 64;
    b.rows = (m + rowBlock - 1) / rowBlock * rowBlock;
    b.u = malloc((size_t)(b.rows * b.stride));
    if (!b.u) abort();
    for (long i = 0; i < b.rows; i++) {
        uint8_t *dst = b.u + i * b.stride;
        long len = i < m ? k : 0;
        for (long p = 0; p < len; p++) dst[p] = (uint8_t)a[i * lda + p] ^ 0x80;
        memset(dst + len, 0x80, (size_t)(b.stride - len));
    }
    return b;
}

// At most 256 KiB of packed weights per panel: half the L2 of the smallest core measured on.
long tia_i8_panel_blocks(long kb) {
    long blocks = 262144 / (kb * 2048);
    return blocks < 1 ? 1 : blocks;
}

void tia_i8_gemm_f32(int kernel, long m, long n, long k, const int8_t *a, long lda, const int8_t *packed,
                     float scale, const float *bias, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {  // an empty sum: c = 0·scale (+ bias), as the reference has it
        tia_i8_gemm_f32_reference(m, n, 0, a, lda, NULL, 0, scale, bias, c, ldc);
        return;
    }
    if (!tia_i8_kernel_available(kernel)) abort();  // the header's precondition; Swift checks first
    tia_i8_weight w = tia_i8_view(packed, n, k);
    switch (kernel) {
    case TIA_I8_AMX: tia_i8_gemm_amx(m, a, lda, w, scale, bias, c, ldc); return;
    case TIA_I8_AVX512VNNI: tia_i8_gemm_avx512vnni(m, a, lda, w, scale, bias, c, ldc); return;
    case TIA_I8_AVXVNNI: tia_i8_gemm_avxvnni(m, a, lda, w, scale, bias, c, ldc); return;
    case TIA_I8_AVX2:
        // vpmaddubsw's int16 pair sums (≤ 2·255·|w|) stay exact only for |w| ≤ 64.
        if (w.maxAbs <= 64) {
            tia_i8_gemm_avx2(m, a, lda, w, scale, bias, c, ldc);
            return;
        }
        break;
    default: break;
    }
    tia_i8_gemm_scalar(m, a, lda, w, scale, bias, c, ldc);
}

// Chunks of 4096, so that a changed matrix (the usual reason to call this) is found out early.
TIA_CLONES
int tia_ternary_codes_match_f32(const float *restrict w, long n, const int8_t *restrict codes, float alpha) {
    for (long start = 0; start < n; start += 4096) {
        long end = n - start < 4096 ? n : start + 4096;
        int bad = 0;
        for (long i = start; i < end; i++) bad |= w[i] != (float)codes[i] * alpha;
        if (bad) return 0;
    }
    return 1;
}

// Built per instruction set like the pointwise kernels: at the default model's k = 128 this
// epilogue took a fifth as long as the integer products themselves in its baseline (SSE2) form.
TIA_CLONES
void tia_i8_store_block(const int32_t *restrict acc, long rows, long cols, long j0, tia_i8_weight w, float scale,
                        const float *restrict bias, float *restrict c, long ldc) {
    long width = w.n - j0 < cols ? w.n - j0 : cols;
    uint32_t offset[32];  // 128·Σw per column; unsigned, so that the wrap-around of a huge biased sum is defined
    for (long j = 0; j < width; j++) offset[j] = 128u * (uint32_t)w.colsum[j0 + j];
    for (long r = 0; r < rows; r++) {
        const int32_t *row = acc + r * cols;
        float *out = c + r * ldc;
        if (bias)
            for (long j = 0; j < width; j++) out[j] = (float)(int32_t)((uint32_t)row[j] - offset[j]) * scale + bias[j0 + j];
        else
            for (long j = 0; j < width; j++) out[j] = (float)(int32_t)((uint32_t)row[j] - offset[j]) * scale;
    }
}
