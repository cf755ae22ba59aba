/* The two emitted networks a benchmark compares, named on the command line:
   -DA=name -DB=name (their function prefixes) and -DUA=NAME -DUB=NAME (their
   macro prefixes). Included by bench.c and onednn.c. */
#ifndef SPGEN_BENCH_PAIR_H
#define SPGEN_BENCH_PAIR_H

#include "paste.h"

#define HDR(n) STR(n.h)
#include HDR(A)
#include HDR(B)

#endif
