/* prng.h - the deterministic generator of the test tools (mknpy, mkfix).
 *
 * splitmix64 (Steele, Lea, Flood 2014; the reference constants of
 * Vigna's public-domain splitmix64.c): the state starts at SEED and each
 * draw does
 *     state += 0x9E3779B97F4A7C15
 *     z = state
 *     z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
 *     z = (z ^ (z >> 27)) * 0x94D049BB133111EB
 *     return z ^ (z >> 31)
 * A float in [-1, 1) is  (z >> 40) * 2^-23 - 1  (24 random bits, exact in
 * float32): element i of a file is draw i + 1 of the stream, row-major order.
 */
#ifndef SPGEN_TOOLS_PRNG_H
#define SPGEN_TOOLS_PRNG_H

#include <stdint.h>

static inline uint64_t splitmix64_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 24 bits: exact in float32. */
static inline double prng_unit(uint64_t *state)
{
    return (double)(splitmix64_next(state) >> 40) * (1.0 / 16777216.0);
}

/* Uniform in [-1, 1) with 24 bits: exact in float32. */
static inline float prng_sym(uint64_t *state)
{
    return (float)((double)(splitmix64_next(state) >> 40) * (1.0 / 8388608.0) - 1.0);
}

#endif
