/* Token pasting for the benchmarks, which name their networks on the command
   line (-DA=name, -DNET=name, ...). */
#ifndef SPGEN_BENCH_PASTE_H
#define SPGEN_BENCH_PASTE_H

#define STR2(x) #x
#define STR(x) STR2(x)
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)

#endif
