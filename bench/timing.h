/* The benchmarks' clock: medians of many runs, so ratios hold on a shared,
   noisy machine. Included by bench.c and onednn.c. */
#ifndef SPGEN_BENCH_TIMING_H
#define SPGEN_BENCH_TIMING_H
#include <stdlib.h>
#include <time.h>

#define RUNS 21

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* warm calls first, then the median over RUNS of the mean time of enough
   calls to last ~20 ms. */
static double median_ms(void (*fn)(void), int warm)
{
    double t[RUNS];
    int reps = 1;
    for (int i = 0; i < warm; i++)
        fn();
    double t0 = now();
    fn();
    double once = now() - t0;
    if (once < 0.02)
        reps = (int)(0.02 / (once + 1e-9)) + 1;
    for (int r = 0; r < RUNS; r++) {
        t0 = now();
        for (int i = 0; i < reps; i++)
            fn();
        t[r] = (now() - t0) / reps * 1e3;
    }
    qsort(t, RUNS, sizeof t[0], cmp_double);
    return t[RUNS / 2];
}

#endif
