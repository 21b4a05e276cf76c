// Exact int8 GEMM on Intel AMX tiles, for the forward pass of Linear layers whose weights and
// activations are integer codes (ternary or 8-bit weights × 8-bit activations):
//     c[i][j] = (float)acc[i][j] · scale (+ bias[j]),   acc[i][j] = Σ_p a[i][p]·w[j][p] in int32.
// The integer sum is exact (wrap-around is impossible while k·max|a|·max|w| < 2^31, e.g. any
// k ≤ 131072 for int8 codes), so the only roundings are int32 → float (exact while |acc| ≤ 2^24,
// which ternary weights with |a| ≤ 127 keep up to k = 132104), the multiply by scale and the
// bias add: one float multiply and one float add, never fused.
#ifndef TIANALYZE_INT8GEMM_H
#define TIANALYZE_INT8GEMM_H

#include <stdint.h>

/// 1 when this CPU has AMX-TILE, AMX-INT8 and AVX-512F and the kernel granted this process the
/// AMX tile data state (Linux arch_prctl), else 0. The request is made once per process; safe to
/// call from any thread and on any x86-64 or other CPU.
int tia_i8_amx_available(void);

/// Bytes of the packed form of an n × k weight matrix (n rounded up to 32, k up to 64).
long tia_i8_packed_weight_size(long n, long k);

/// Packs w, row-major n × k with row stride ldw ≥ k (PyTorch Linear: out × in), into `packed`
/// (tia_i8_packed_weight_size(n, k) bytes; 64-byte aligned keeps each tile row in one cache line,
/// which a and its lda can rarely promise, and measured 1.4× faster with both misaligned). Layout: blocks of 32 output columns,
/// within each block the k range in steps of 64, and per step two 1 KiB tiles (columns 0–15 and
/// 16–31 of the block) in VNNI order: byte 64·r + 4·c + t is w[column c][4·r + t], r < 16.
/// Columns ≥ n and k positions ≥ k are zero. Runs anywhere; AVX-512 where tia_i8_amx_available().
void tia_i8_pack_weight(const int8_t *w, long n, long k, long ldw, int8_t *packed);

/// c[i][j] = (float)acc · scale, plus bias[j] when bias is not NULL, for i < m, j < n, with acc the
/// exact int32 Σ_p a[i][p]·w[j][p] over p < k and w packed by tia_i8_pack_weight(·, n, k, ·).
/// a is m × k row-major with row stride lda ≥ k; only those m·k bytes are read (the last row's k
/// bytes are its end). c has row stride ldc ≥ n; only its m × n entries are written.
/// Requires tia_i8_amx_available() == 1 (the tile instructions fault otherwise) and m ≥ 0, n ≥ 1,
/// k ≥ 1 (k = 0 gives 0·scale + bias). Reentrant: the tile configuration is loaded and released
/// within each call, so threads may call it concurrently on their own outputs. Allocates
/// (calloc, ≤ 32·k bytes rounded up) only for m < 32. When m is not a multiple of 32, some
/// entries of c are stored twice with the same value.
void tia_i8_gemm_f32(long m, long n, long k, const int8_t *a, long lda, const int8_t *packed, float scale,
                     const float *bias, float *c, long ldc);

/// The same result by plain loops over the unpacked w (row stride ldw), on any CPU: the definition
/// the AMX kernel is tested against bit for bit.
void tia_i8_gemm_f32_reference(long m, long n, long k, const int8_t *a, long lda, const int8_t *w, long ldw,
                               float scale, const float *bias, float *c, long ldc);

#endif
