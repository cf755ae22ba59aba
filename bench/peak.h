/* The single-core fp32 FMA peak the benchmarks report percentages of:
   independent FMA chains, enough to cover latency x ports (4 x 2 on current
   cores), accumulators in registers. Compiled for each ISA by target
   attributes and chosen at run time, so it does not depend on CFLAGS.
   Included by bench.c, onednn.c and layers.c. */
#ifndef SPGEN_BENCH_PEAK_H
#define SPGEN_BENCH_PEAK_H
#include <stdio.h>
#include <string.h>

#include "timing.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

static volatile float fma_sink;
static volatile float fma_m = 0.999999f, fma_a = 1e-6f;
#define FMA_ITERS 200000L
#define FMA_RUNS 101

#define FMA_BODY(T, SET1, FMADD, ADD, NACC)                                                            \
    T m = SET1(fma_m), a = SET1(fma_a), acc[NACC];                                                     \
    for (int i = 0; i < NACC; i++)                                                                     \
        acc[i] = SET1((float)i);                                                                       \
    for (long it = 0; it < iters; it++) {                                                              \
        _Pragma("GCC unroll 32") for (int i = 0; i < NACC; i++) acc[i] = FMADD(acc[i], m, a);          \
    }                                                                                                  \
    T s = acc[0];                                                                                      \
    for (int i = 1; i < NACC; i++)                                                                     \
        s = ADD(s, acc[i]);                                                                            \
    float f[sizeof(T) / 4];                                                                            \
    memcpy(f, &s, sizeof f);                                                                           \
    fma_sink = f[0];                                                                                   \
    return (double)iters * NACC * (sizeof(T) / 4) * 2;

__attribute__((target("avx512f"))) static double fma512(long iters)
{
    FMA_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 24)
}
__attribute__((target("avx2,fma"))) static double fma256(long iters)
{
    FMA_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 12)
}

/* The fastest of many short calls (under a millisecond), not the median of
   20 ms ones: the peak is a maximum, and on a loaded machine (a load of 7 on
   2 cores) a 20 ms median, or even the fastest 8 ms call, fell to 55-65% of
   it. */
static double fma_gflops(double (*k)(long))
{
    double flops = k(1) * FMA_ITERS, best = 0;
    k(FMA_ITERS);
    for (int r = 0; r < FMA_RUNS; r++) {
        double t0 = now();
        k(FMA_ITERS);
        double s = now() - t0;
        best = r == 0 || s < best ? s : best;
    }
    return flops / best / 1e9;
}

/* The widest FMA peak in GFLOP/s (0 without AVX2/FMA); with say, a line
   with both widths. */
static double fma_peak(int say)
{
    double p256 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? fma_gflops(fma256) : 0;
    double p512 = __builtin_cpu_supports("avx512f") ? fma_gflops(fma512) : 0;
    if (say)
        printf("FMA peak, one core: 512-bit %.1f GFLOP/s, 256-bit %.1f GFLOP/s (fp32, independent FMA chains)\n",
               p512, p256);
    return p512 > p256 ? p512 : p256;
}
#else
static double fma_peak(int say)
{
    if (say)
        printf("FMA peak: not measured on this architecture\n");
    return 0;
}
#endif
#endif
