// Exact int8 GEMM for the forward pass of Linear layers whose weights and activations are integer
// codes (ternary or 8-bit weights × 8-bit activations):
//     c[i][j] = (float)acc[i][j] · scale (+ bias[j]),   acc[i][j] = Σ_p a[i][p]·w[j][p] in int32.
// The integer sum is exact (wrap-around is impossible while k·max|a|·max|w| < 2^31, e.g. any
// k ≤ 131072 for int8 codes), so the only roundings are int32 → float (exact while |acc| ≤ 2^24,
// which ternary weights with |a| ≤ 127 keep up to k = 132104), the multiply by scale and the
// bias add: one float multiply and one float add, never fused.
//
// tia_i8_gemm_f32_reference is the definition; every kernel below gives the same bits. The
// kernels are compiled per function for their instruction set (target attributes), so one binary
// runs on any x86-64 and tia_i8_kernel_available() decides at run time which may be called.
#ifndef TIANALYZE_INT8GEMM_H
#define TIANALYZE_INT8GEMM_H

#include <stdint.h>

/// The kernels, slowest first. AVX-512 VNNI and AVX-VNNI use vpdpbusd (unsigned × signed bytes):
/// they add 128 to every activation code and subtract 128·Σ_p w[j][p] again, exact in int32. AVX2
/// uses vpmaddubsw, whose int16 pair sums saturate: it takes weights with |w| ≤ 64 (ternary and
/// 7-bit codes); wider weights given to it are computed by the scalar kernel instead.
enum {
    TIA_I8_SCALAR = 0,
    TIA_I8_AVX2 = 1,
    TIA_I8_AVXVNNI = 2,
    TIA_I8_AVX512VNNI = 3,
    TIA_I8_AMX = 4,
    TIA_I8_KERNEL_COUNT = 5
};

/// 1 when `kernel` may run on this CPU and OS (CPUID, the state XCR0 says the OS saves, and for AMX
/// the Linux tile-data permission, requested once per process), else 0. The scalar kernel always
/// may. Safe to call from any thread; detection runs once.
int tia_i8_kernel_available(int kernel);

/// "scalar", "avx2", "avxvnni", "avx512vnni", "amx"; NULL for an unknown number.
const char *tia_i8_kernel_name(int kernel);

/// 1 when this CPU has AMX-TILE, AMX-INT8 and AVX-512F and the tile data state was granted.
int tia_i8_amx_available(void);

/// Bytes of the packed form of an n × k weight matrix: the tiles (n rounded up to 32 times k
/// rounded up to 64) and a trailer of 4·(n rounded up to 32) + 64 bytes.
long tia_i8_packed_weight_size(long n, long k);

/// Packs w, row-major n × k with row stride ldw ≥ k (PyTorch Linear: out × in), into `packed`
/// (tia_i8_packed_weight_size(n, k) bytes; 64-byte aligned keeps each tile row in one cache line).
/// Layout, shared by every kernel: blocks of 32 output columns, within each block the k range in
/// steps of 64, and per step two 1 KiB tiles (columns 0–15 and 16–31 of the block) in VNNI order:
/// byte 64·r + 4·c + t is w[column c][4·r + t], r < 16. Columns ≥ n and k positions ≥ k are zero.
/// Then the trailer: int32 Σ_p w[j][p] for each of the rounded-up columns (0 past n), and the
/// int32 max_j,p |w[j][p]| followed by 60 zero bytes.
void tia_i8_pack_weight(const int8_t *w, long n, long k, long ldw, int8_t *packed);

/// c[i][j] = (float)acc · scale, plus bias[j] when bias is not NULL, for i < m, j < n, with acc the
/// exact int32 Σ_p a[i][p]·w[j][p] over p < k and w packed by tia_i8_pack_weight(·, n, k, ·).
/// a is m × k row-major with row stride lda ≥ k; only those m·k bytes are read (the last row's k
/// bytes are its end). c has row stride ldc ≥ n; only its m × n entries are written.
/// Requires tia_i8_kernel_available(kernel) == 1 (the instructions fault otherwise), m ≥ 0, n ≥ 1,
/// k ≥ 0 (k = 0 gives 0·scale + bias). Reentrant, so threads may call it concurrently on their own
/// outputs. Allocates (malloc) a converted copy of a for all but the scalar kernel, and for AMX
/// with m < 32. When m is not a multiple of 32, AMX stores some entries of c twice, same value.
void tia_i8_gemm_f32(int kernel, long m, long n, long k, const int8_t *a, long lda, const int8_t *packed,
                     float scale, const float *bias, float *c, long ldc);

/// The same result by plain loops over the unpacked w (row stride ldw), on any CPU: the definition
/// every kernel is tested against bit for bit.
void tia_i8_gemm_f32_reference(long m, long n, long k, const int8_t *a, long lda, const int8_t *w, long ldw,
                               float scale, const float *bias, float *c, long ldc);

/// 1 when w[i] == alpha·codes[i] for every i < n (float comparison: −0 equals 0, a NaN never
/// matches), else 0. The exact check that a ternary matrix still has the codes it was packed from.
int tia_ternary_codes_match_f32(const float *w, long n, const int8_t *codes, float alpha);

#endif
