/* Times two emitted networks in one process (an SPConv network and its
   vanilla baseline, or one network's vector and portable builds), same input
   size, medians of many runs, so the ratio holds on a shared, noisy machine.
   Built by scripts/bench.sh with -DA=name -DB=name -DUA=NAME -DUB=NAME (the
   macro prefixes) and -DMACS_A=n -DMACS_B=n (MACs per run, from --summary). */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "peak.h"
#include "timing.h"

#include "pair.h"

static float in[CAT(UA, _IN_SIZE)], out_a[CAT(UA, _OUT_SIZE)], out_b[CAT(UB, _OUT_SIZE)];

static void run_a(void)
{
    CAT(A, _run)(in, out_a);
}

static void run_b(void)
{
    CAT(B, _run)(in, out_b);
}

int main(void)
{
    for (int i = 0; i < CAT(UA, _IN_SIZE); i++)
        in[i] = (float)((i * 7919) % 2001 - 1000) / 1000.0f;
    /* interleave so drift in machine load hits both alike */
    double a = 0, b = 0;
    for (int round = 0; round < 3; round++) {
        double ta = median_ms(run_a, 0), tb = median_ms(run_b, 0);
        a = round == 0 || ta < a ? ta : a;
        b = round == 0 || tb < b ? tb : b;
    }
    double peak = fma_peak(0);
    const char *names[2] = {STR(A), STR(B)};
    double ms[2] = {a, b}, macs[2] = {MACS_A, MACS_B};
    int arena[2] = {CAT(UA, _ARENA_BYTES), CAT(UB, _ARENA_BYTES)}, weights[2] = {CAT(UA, _WEIGHT_BYTES), CAT(UB, _WEIGHT_BYTES)};
    for (int i = 0; i < 2; i++) {
        double gf = 2 * macs[i] / (ms[i] * 1e-3) / 1e9;
        printf("%-22s %9.3f ms %7.1f GFLOP/s %5.1f%% of peak   arena %9d B   weights %10d B\n", names[i], ms[i], gf,
               peak > 0 ? 100 * gf / peak : 0, arena[i], weights[i]);
    }
    printf("ratio %s / %s: time %.2f, weights %.2f\n", STR(A), STR(B), a / b, (double)weights[0] / weights[1]);
    return 0;
}
