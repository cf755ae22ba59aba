/* Times one emitted network: the best of 3 medians of many runs
   (bench/timing.h), printed as one line that scripts/bench.sh and
   bench/torch_cpu.py read:
     spgen NAME batch B: median X ms per run, Y ms per image
   Built by scripts/bench.sh with -DNET=name -DUNET=NAME (function and macro
   prefixes); with -fopenmp the thread count is OMP_NUM_THREADS. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>

#include "paste.h"
#include "timing.h"

#define HDR(n) STR(n.h)
#include HDR(NET)

static float in[CAT(UNET, _IN_SIZE)], out[CAT(UNET, _OUT_SIZE)];

static void run(void)
{
    CAT(NET, _run)(in, out);
}

int main(void)
{
    for (int i = 0; i < CAT(UNET, _IN_SIZE); i++)
        in[i] = (float)(((long)i * 7919) % 2001 - 1000) / 1000.0f; /* bench.c's input */
    double best = 0;
    for (int round = 0; round < 3; round++) {
        double ms = median_ms(run, 1);
        best = round == 0 || ms < best ? ms : best;
    }
    printf("spgen %s batch %d: median %.3f ms per run, %.3f ms per image\n", STR(NET), CAT(UNET, _BATCH), best,
           best / CAT(UNET, _BATCH));
    return 0;
}
