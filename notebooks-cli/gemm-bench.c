// sgemm throughput of OpenBLAS, BLIS and oneDNN at the model's Linear and attention shapes.
// Every library is dlopen()ed, so a missing one is reported rather than failing the build; the
// back-ends are interleaved within each repetition (rotating which goes first) so that load from
// other processes on a shared machine falls on all of them alike. Prints a Markdown table:
// median GFLOP/s per back-end, the ratio to OpenBLAS, and the worst disagreement with OpenBLAS
// in units of (K+1)·u·(|A|·|B| + |beta·C0|)_ij (u = 2^-24), which float rounding bounds by about 2.
// Single-threaded GFLOP/s use process CPU time, multi-threaded ones wall time (see now()).
// Build and run: notebooks-cli/gemm-bench.sh (see docs/gemm-backends.md).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { NB = 3, MAXREPS = 99 };

// One row-major sgemm entry point per back-end: C = alpha·op(A)·op(B) + beta·C.
typedef void (*gemm_fn)(int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc);
typedef struct {
    const char *name;
    void *lib;
    void *sym;          // the library's own gemm symbol
    void *threads_sym;  // its thread-count setter
    gemm_fn gemm;
} Backend;

// ---- the three libraries, called row-major ----
typedef void (*cblas_sgemm_t)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                              float *, int);
typedef void (*bli_sgemm_t)(int, int, int64_t, int64_t, int64_t, float *, float *, int64_t, int64_t, float *,
                            int64_t, int64_t, float *, float *, int64_t, int64_t);
typedef int (*dnnl_sgemm_t)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t, const float *,
                            int64_t, float, float *, int64_t);
static Backend backends[NB];

static void openblas_gemm(int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                          const float *b, long ldb, float beta, float *c, long ldc) {
    // CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
    ((cblas_sgemm_t)backends[0].sym)(101, ta ? 112 : 111, tb ? 112 : 111, (int)m, (int)n, (int)k, alpha, a, (int)lda,
                                     b, (int)ldb, beta, c, (int)ldc);
}
static void blis_gemm(int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                      const float *b, long ldb, float beta, float *c, long ldc) {
    // BLIS's typed API takes strides of the stored matrix: row stride = ld, column stride = 1 is row-major.
    // BLIS_NO_TRANSPOSE = 0, BLIS_TRANSPOSE = 8 (blis.h).
    ((bli_sgemm_t)backends[1].sym)(ta ? 8 : 0, tb ? 8 : 0, m, n, k, &alpha, (float *)a, lda, 1, (float *)b, ldb, 1,
                                   &beta, c, ldc, 1);
}
static void onednn_gemm(int ta, int tb, long m, long n, long k, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc) {
    int st = ((dnnl_sgemm_t)backends[2].sym)(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c,
                                             ldc);
    if (st != 0) { fprintf(stderr, "dnnl_sgemm failed with status %d\n", st); exit(1); }
}

static void load(Backend *be, const char *name, const char *soname, const char *sym, const char *tsym, gemm_fn f) {
    be->name = name; be->gemm = f;
    be->lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (be->lib) { be->sym = dlsym(be->lib, sym); be->threads_sym = tsym ? dlsym(be->lib, tsym) : NULL; }
    if (!be->lib || !be->sym) {
        fprintf(stderr, "gemm-bench: %s not available (%s: %s)\n", name, soname, dlerror());
        be->lib = NULL;
    }
}

static void (*omp_set_threads)(int);
static void set_threads(int n) {
    if (backends[0].lib && backends[0].threads_sym) ((void (*)(int))backends[0].threads_sym)(n);
    if (backends[1].lib && backends[1].threads_sym) ((void (*)(int64_t))backends[1].threads_sym)(n);
    // oneDNN (Debian's build) threads through OpenMP: its team size is omp's nthreads.
    if (omp_set_threads) omp_set_threads(n);
}

static void load_all(void) {
    load(&backends[0], "OpenBLAS", "libopenblas.so.0", "cblas_sgemm", "openblas_set_num_threads", openblas_gemm);
    load(&backends[1], "BLIS", "libblis.so.4", "bli_sgemm", "bli_thread_set_num_threads", blis_gemm);
    load(&backends[2], "oneDNN", "libdnnl.so.2", "dnnl_sgemm", NULL, onednn_gemm);
    if (!backends[0].lib) { fprintf(stderr, "gemm-bench: OpenBLAS is the reference and must load\n"); exit(1); }
    void *gomp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_LOCAL);
    if (gomp) omp_set_threads = (void (*)(int))dlsym(gomp, "omp_set_num_threads");
}

// ---- shapes ----
typedef struct {
    char model[16], layer[16], op[8];
    int ta, tb;
    long m, n, k, lda, ldb, ldc;
    float beta;
} Shape;

static Shape make(const char *model, const char *layer, const char *op, int ta, int tb, long m, long n, long k,
                  long lda, long ldb, long ldc, float beta) {
    Shape s = {.ta = ta, .tb = tb, .m = m, .n = n, .k = k, .lda = lda, .ldb = ldb, .ldc = ldc, .beta = beta};
    snprintf(s.model, sizeof s.model, "%s", model); snprintf(s.layer, sizeof s.layer, "%s", layer);
    snprintf(s.op, sizeof s.op, "%s", op);
    return s;
}

// Linear (Linear.swift), x [rows × in], W [out × in]: forward y = x·Wᵀ, dX = dY·W, dW = dYᵀ·x; all accumulate (beta 1).
static int linear_shapes(Shape *out, const char *model, const char *layer, long in, long o, long rows) {
    out[0] = make(model, layer, "fwd", 0, 1, rows, o, in, in, in, o, 1);
    out[1] = make(model, layer, "dX", 0, 0, rows, in, o, o, in, in, 1);
    out[2] = make(model, layer, "dW", 1, 0, o, in, rows, o, in, in, 1);
    return 3;
}

// Attention per head (SelfAttention.swift): head slices of [T × H] buffers have leading dimension H.
static int attention_shapes(Shape *out, const char *model, long t, long hd, long h) {
    out[0] = make(model, "attn", "QKt", 0, 1, t, t, hd, h, h, t, 0);   // scores, dP
    out[1] = make(model, "attn", "PV", 0, 0, t, hd, t, t, h, h, 0);    // context, dQ
    out[2] = make(model, "attn", "PtdC", 1, 0, t, hd, t, t, h, h, 0);  // dV, dK
    return 3;
}

typedef struct { const char *name; long h, ffn, heads, seq, batch; } Model;
static const Model models[] = {
    {"embedded", 128, 512, 4, 26, 32},   // BertConfig.small, the default task's length, the embedded recipe's batch
    {"MiniLM-L6", 384, 1536, 12, 128, 32},
    {"BERT-base", 768, 3072, 12, 128, 32},
};
static const long chunk_rows[] = {64, 128, 256, 512};

// Single-threaded: every Linear at the chunk sizes and the whole batch, and attention per head.
// Multi-threaded: the whole-batch Linear shapes only (per-head attention is too small to split).
static const char *only_model;  // --model: one of models[].name, or NULL for all
static int all_shapes(Shape *s, int multi) {
    int n = 0;
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        const Model *md = &models[i];
        if (only_model && strcmp(only_model, md->name)) continue;
        long whole = md->batch * md->seq;
        long layers[3][2] = {{md->h, md->h}, {md->h, md->ffn}, {md->ffn, md->h}};
        const char *names[3] = {"H->H", "H->FFN", "FFN->H"};
        for (int l = 0; l < 3; l++) {
            for (size_t c = 0; !multi && c < sizeof chunk_rows / sizeof *chunk_rows; c++)
                if (chunk_rows[c] < whole) n += linear_shapes(s + n, md->name, names[l], layers[l][0], layers[l][1], chunk_rows[c]);
            n += linear_shapes(s + n, md->name, names[l], layers[l][0], layers[l][1], whole);
        }
        if (!multi) n += attention_shapes(s + n, md->name, md->seq, md->h / md->heads, md->h);
    }
    return n;
}

// ---- data and checks ----
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float uniform(void) {  // xorshift64*, values in [-1, 1)
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (float)((rng_state * 0x2545F4914F6CDD1Dull) >> 40) / 8388608.0f - 1.0f;
}
static float *matrix(long count, int fill) {
    float *p = aligned_alloc(64, ((size_t)count * sizeof(float) + 63) / 64 * 64);
    if (!p) { fprintf(stderr, "gemm-bench: out of memory\n"); exit(1); }
    for (long i = 0; i < count; i++) p[i] = fill ? uniform() : 0.0f;
    return p;
}
static long stored(long rows, long cols, int trans, long ld) { return (trans ? cols : rows) * ld; }

// Worst |C_x − C_ref| / (K·u·(|A|·|B|)_ij) over C, both computed from the same C0 with the shape's beta.
static double disagreement(const Shape *s, const Backend *be, const float *a, const float *b, const float *c0) {
    long na = stored(s->m, s->k, s->ta, s->lda), nb = stored(s->k, s->n, s->tb, s->ldb), nc = s->m * s->ldc;
    float *ref = matrix(nc, 0), *got = matrix(nc, 0), *bound = matrix(nc, 0), *aa = matrix(na, 0), *ab = matrix(nb, 0);
    memcpy(ref, c0, nc * sizeof(float)); memcpy(got, c0, nc * sizeof(float));
    for (long i = 0; i < na; i++) aa[i] = fabsf(a[i]);
    for (long i = 0; i < nb; i++) ab[i] = fabsf(b[i]);
    for (long i = 0; i < nc; i++) bound[i] = fabsf(c0[i]) * s->beta;
    backends[0].gemm(s->ta, s->tb, s->m, s->n, s->k, 1, a, s->lda, b, s->ldb, s->beta, ref, s->ldc);
    be->gemm(s->ta, s->tb, s->m, s->n, s->k, 1, a, s->lda, b, s->ldb, s->beta, got, s->ldc);
    backends[0].gemm(s->ta, s->tb, s->m, s->n, s->k, 1, aa, s->lda, ab, s->ldb, 1, bound, s->ldc);
    double worst = 0, unit = (double)(s->k + 1) * ldexp(1.0, -24);
    for (long i = 0; i < s->m; i++)
        for (long j = 0; j < s->n; j++) {
            long x = i * s->ldc + j;
            double e = fabs((double)got[x] - ref[x]) / (unit * bound[x] + 1e-30);
            if (e > worst) worst = e;
        }
    free(ref); free(got); free(bound); free(aa); free(ab);
    return worst;
}

// ---- timing ----
// Single-threaded runs are timed in process CPU time, so time slices lost to other processes on a
// shared machine do not count (work a library hands to helper threads still would); multi-threaded
// runs in wall time, since their point is how much two threads shorten a call.
static clockid_t timing_clock = CLOCK_PROCESS_CPUTIME_ID;
static double now(void) {
    struct timespec t; clock_gettime(timing_clock, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
static double seconds_per_call(const Shape *s, const Backend *be, const float *a, const float *b, float *c, int iters) {
    be->gemm(s->ta, s->tb, s->m, s->n, s->k, 1, a, s->lda, b, s->ldb, s->beta, c, s->ldc);  // warm
    double t0 = now();
    for (int i = 0; i < iters; i++) be->gemm(s->ta, s->tb, s->m, s->n, s->k, 1, a, s->lda, b, s->ldb, s->beta, c, s->ldc);
    return (now() - t0) / iters;
}
static int cmp_double(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

typedef struct { int reps, gap_us; double block; } Timing;

static void bench(const Shape *s, int threads, Timing tm) {
    long na = stored(s->m, s->k, s->ta, s->lda), nb = stored(s->k, s->n, s->tb, s->ldb), nc = s->m * s->ldc;
    float *a = matrix(na, 1), *b = matrix(nb, 1), *c0 = matrix(nc, 1), *c = matrix(nc, 0);
    double flops = 2.0 * s->m * s->n * s->k, gf[NB][MAXREPS];
    memcpy(c, c0, nc * sizeof(float));
    int iters = (int)(tm.block / seconds_per_call(s, &backends[0], a, b, c, 1));
    iters = iters < 1 ? 1 : iters;
    for (int r = 0; r < tm.reps; r++)
        for (int j = 0; j < NB; j++) {
            int x = (r + j) % NB;
            if (!backends[x].lib) continue;
            if (tm.gap_us) usleep(tm.gap_us);  // lets the previous library's spinning workers go idle
            memcpy(c, c0, nc * sizeof(float));
            gf[x][r] = flops / seconds_per_call(s, &backends[x], a, b, c, iters) * 1e-9;
        }
    printf("| %s | %s | %s | %ld×%ld×%ld | %d |", s->model, s->layer, s->op, s->m, s->n, s->k, threads);
    double base = 0;
    for (int x = 0; x < NB; x++) {
        if (!backends[x].lib) { printf(" — |"); continue; }
        qsort(gf[x], tm.reps, sizeof(double), cmp_double);
        double med = gf[x][tm.reps / 2];
        if (x == 0) { base = med; printf(" %.1f |", med); }
        else printf(" %.1f (%.2f) |", med, med / base);
    }
    for (int x = 1; x < NB; x++) {
        if (backends[x].lib) printf(" %.2f |", disagreement(s, &backends[x], a, b, c0));
        else printf(" — |");
    }
    printf("\n");
    fflush(stdout);
    free(a); free(b); free(c0); free(c);
}

static void header(void) {
    printf("| model | layer | op | M×N×K | threads | OpenBLAS GF/s | BLIS GF/s (×) | oneDNN GF/s (×) | BLIS err | oneDNN err |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
}

int main(int argc, char **argv) {
    Timing tm = {.reps = 7, .gap_us = 0, .block = 0.02};
    int threads = 2, only_single = 0, only_multi = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc) tm.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--block-ms") && i + 1 < argc) tm.block = atof(argv[++i]) * 1e-3;
        else if (!strcmp(argv[i], "--single-only")) only_single = 1;
        else if (!strcmp(argv[i], "--multi-only")) only_multi = 1;
        else if (!strcmp(argv[i], "--model") && i + 1 < argc) only_model = argv[++i];
        else {
            fprintf(stderr, "usage: gemm-bench [--reps N (1..%d)] [--threads N] [--block-ms MS] [--single-only | --multi-only]"
                            " [--model embedded|MiniLM-L6|BERT-base]\n", MAXREPS);
            return 2;
        }
    }
    if (tm.reps < 1 || tm.reps > MAXREPS || threads < 1) { fprintf(stderr, "gemm-bench: --reps must be 1..%d, --threads ≥ 1\n", MAXREPS); return 2; }
    load_all();
    static Shape shapes[512];
    header();
    set_threads(1);
    int n = only_multi ? 0 : all_shapes(shapes, 0);
    for (int i = 0; i < n; i++) bench(&shapes[i], 1, tm);
    if (only_single || threads == 1) return 0;
    set_threads(threads);
    tm.gap_us = 150000;
    timing_clock = CLOCK_MONOTONIC;
    n = all_shapes(shapes, 1);
    for (int i = 0; i < n; i++) bench(&shapes[i], threads, tm);
    return 0;
}
