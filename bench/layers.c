/* Per-layer times of one emitted network through its profiling hooks
   (<NAME>_LAYER_BEGIN/_END, docs/design.md): each layer's median over many
   runs, the best of 3 such medians, printed as a markdown table with the
   layer's MFLOP (the generator's cost model) and its share of the FMA peak
   this binary measures (bench/peak.h).

   Built by scripts/bench.sh as one translation unit with the network's .c:
     -DNET=name -DUNET=NAME          function and macro prefixes
     -DNET_C='"dir/name.c"'          the emitted network, included below
     -DLAYER_INFO='"dir/info.h"'     LAYER(i, "label", "shape", MACs) rows,
                                     from the comments of name.c
     -D'NAME_LAYER_BEGIN(i, n)=bench_layer_begin(i)'
     -D'NAME_LAYER_END(i)=bench_layer_end(i)'
   plus the network's weights .c on the command line. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paste.h"
#include "peak.h"
#include "timing.h"

#define HDR(n) STR(n.h)
#include HDR(NET)

enum { NL = CAT(UNET, _LAYERS), MAX_RUNS = 201 };

static double layer_t0, layer_ms[NL + 1];

static void bench_layer_begin(int i)
{
    (void)i;
    layer_t0 = now();
}

static void bench_layer_end(int i)
{
    layer_ms[i] = (now() - layer_t0) * 1e3;
}

#include NET_C

static const struct {
    int index;
    const char *label, *shape;
    double macs;
} info[] = {
#define LAYER(i, label, shape, macs) {i, label, shape, macs},
#include LAYER_INFO
#undef LAYER
};
_Static_assert(sizeof info / sizeof info[0] == NL, "LAYER_INFO has one row per layer");

static float in[CAT(UNET, _IN_SIZE)], out[CAT(UNET, _OUT_SIZE)];
static double samples[NL + 1][MAX_RUNS], whole[MAX_RUNS];

static double median(double *t, int n)
{
    qsort(t, n, sizeof t[0], cmp_double);
    return t[n / 2];
}

int main(void)
{
    for (int i = 0; i < CAT(UNET, _IN_SIZE); i++)
        in[i] = (float)(((long)i * 7919) % 2001 - 1000) / 1000.0f; /* bench.c's input */
    for (int i = 0; i < 2; i++)
        CAT(NET, _run)(in, out);
    double t0 = now();
    CAT(NET, _run)(in, out);
    double once = now() - t0;
    /* enough runs for ~0.5 s a round, odd, at least RUNS */
    int runs = once > 0 ? (int)(0.5 / once) : MAX_RUNS;
    runs = runs < RUNS ? RUNS : runs > MAX_RUNS ? MAX_RUNS : runs;
    runs |= 1;

    double best[NL + 1], best_whole = 0;
    for (int round = 0; round < 3; round++) {
        for (int r = 0; r < runs; r++) {
            t0 = now();
            CAT(NET, _run)(in, out);
            whole[r] = (now() - t0) * 1e3;
            for (int i = 1; i <= NL; i++)
                samples[i][r] = layer_ms[i];
        }
        double w = median(whole, runs);
        best_whole = round == 0 || w < best_whole ? w : best_whole;
        for (int i = 1; i <= NL; i++) {
            double m = median(samples[i], runs);
            best[i] = round == 0 || m < best[i] ? m : best[i];
        }
    }

    double peak = fma_peak(0), sum = 0;
    for (int i = 1; i <= NL; i++)
        sum += best[i];
    printf("%s, batch %d: whole run %.3f ms (median, hooks on), sum of the layer medians %.3f ms; best of 3 medians"
           " of %d runs; FMA peak %.1f GFLOP/s (bench/peak.h)\n\n",
           STR(NET), CAT(UNET, _BATCH), best_whole, sum, runs, peak);
    printf("| # | layer | shape | MFLOP | ms | %% time | GFLOP/s | %% peak |\n");
    printf("| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    int big = 0, big_ok = 0;
    for (int i = 1; i <= NL; i++) {
        double mflop = 2 * info[i - 1].macs * CAT(UNET, _BATCH) / 1e6;
        printf("| %d | %s | %s | ", i, info[i - 1].label, info[i - 1].shape);
        if (mflop > 0) {
            double gf = mflop / best[i], pct = peak > 0 ? 100 * gf / peak : 0; /* MFLOP per ms */
            printf(mflop < 1 ? "%.3f" : "%.1f", mflop);
            printf(" | %.3f | %.1f | %.1f | %.1f |\n", best[i], 100 * best[i] / sum, gf, pct);
            /* the goal: every convolution of 50 MFLOP or more at 70% of the peak */
            if (mflop >= 50 * CAT(UNET, _BATCH) && (!strncmp(info[i - 1].label, "conv2d", 6) ||
                                                    !strncmp(info[i - 1].label, "spconv", 6))) {
                big++;
                big_ok += pct >= 70;
            }
        } else
            printf("- | %.3f | %.1f | - | - |\n", best[i], 100 * best[i] / sum);
    }
    printf("\nconvolutions of 50 MFLOP/image or more at 70%% of the peak or better: %d of %d\n", big_ok, big);
    return 0;
}
