// Which int8 kernels this CPU and OS can run, asked once per process. CPUID says what the silicon
// has; XCR0 (xgetbv) says which register state the OS saves on a context switch, without which the
// wider registers fault or are silently lost: bits 1–2 for SSE/AVX, 5–7 for AVX-512.
#include "Int8Internal.h"
#include <stddef.h>

static const char *const kernelNames[TIA_I8_KERNEL_COUNT] = {"scalar", "avx2", "avxvnni", "avx512vnni", "amx"};

const char *tia_i8_kernel_name(int kernel) {
    return kernel >= 0 && kernel < TIA_I8_KERNEL_COUNT ? kernelNames[kernel] : NULL;
}

#if defined(TIA_I8_X86) && defined(__linux__)
#include <cpuid.h>
#include <pthread.h>

static int available[TIA_I8_KERNEL_COUNT];  // written once under pthread_once, read-only afterwards
static int avx512f;
static pthread_once_t detectOnce = PTHREAD_ONCE_INIT;

static unsigned long long read_xcr0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(void) {
    available[TIA_I8_SCALAR] = 1;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return;  // OSXSAVE: xgetbv allowed
    unsigned long long xcr0 = read_xcr0();
    int avxState = (xcr0 & 6) == 6, avx512State = avxState && (xcr0 & 0xE0) == 0xE0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    int avx2 = (b >> 5) & 1, f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
    unsigned a1 = 0, b1, c1, d1;
    if (a >= 1) __get_cpuid_count(7, 1, &a1, &b1, &c1, &d1);
    int avxvnni = (a1 >> 4) & 1;
    available[TIA_I8_AVX2] = avxState && avx2;
    available[TIA_I8_AVXVNNI] = avxState && avx2 && avxvnni;
    avx512f = avx512State && f;
    available[TIA_I8_AVX512VNNI] = avx512State && f && bw && vl && vnni;
    available[TIA_I8_AMX] = tia_i8_amx_available();
}

int tia_i8_kernel_available(int kernel) {
    if (kernel < 0 || kernel >= TIA_I8_KERNEL_COUNT) return 0;
    pthread_once(&detectOnce, detect);
    return available[kernel];
}

int tia_i8_avx512f_available(void) {
    pthread_once(&detectOnce, detect);
    return avx512f;
}

#else

int tia_i8_kernel_available(int kernel) { return kernel == TIA_I8_SCALAR; }
int tia_i8_avx512f_available(void) { return 0; }

#endif
