/* mknpy - write a float32 .npy of deterministic pseudo-random values.
 *
 *   mknpy SEED OUT.npy D0 [D1 ...]
 *
 * SEED is an unsigned 64-bit decimal integer. The array has shape
 * [D0, D1, ...] (1 to 8 dimensions, each >= 1) and holds uniform values in
 * [-1, 1): element i (row-major) is the (i+1)-th draw of splitmix64 seeded
 * with SEED, mapped as (z >> 40) * 2^-23 - 1 (see prng.h). The same
 * arguments always give the same bytes.
 *
 * Exit status: 0 ok, 1 write error, 2 bad arguments.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ref/npy.h"
#include "prng.h"

static int usage(const char *why, const char *arg)
{
    if (why)
        fprintf(stderr, "mknpy: %s%s%s\n", why, arg ? ": " : "", arg ? arg : "");
    fprintf(stderr, "usage: mknpy SEED OUT.npy D0 [D1 ...]   (1 to %d dims, each >= 1)\n", NPY_MAXDIM);
    return 2;
}

int main(int argc, char **argv)
{
    uint64_t seed;
    long shape[NPY_MAXDIM];
    int ndim = argc - 3;
    size_t count = 1;
    float *data;
    char *end;

    if (argc < 4)
        return usage("too few arguments", NULL);
    if (ndim > NPY_MAXDIM)
        return usage("too many dimensions", NULL);
    errno = 0;
    if (argv[1][0] < '0' || argv[1][0] > '9')
        return usage("SEED must be a non-negative decimal integer", argv[1]);
    seed = strtoull(argv[1], &end, 10);
    if (*end || errno == ERANGE)
        return usage("SEED must be a decimal integer below 2^64", argv[1]);
    for (int i = 0; i < ndim; i++) {
        const char *s = argv[3 + i];
        long d;
        errno = 0;
        d = strtol(s, &end, 10);
        if (end == s || *end || errno == ERANGE || d < 1 || d > 1000000000L)
            return usage("each dimension must be an integer >= 1", s);
        if (count > ((size_t)1 << 32) / (size_t)d)
            return usage("array too large (over 2^32 elements)", NULL);
        shape[i] = d;
        count *= (size_t)d;
    }
    data = malloc(count * sizeof *data);
    if (!data) {
        fprintf(stderr, "mknpy: out of memory (%zu floats)\n", count);
        return 1;
    }
    for (size_t i = 0; i < count; i++)
        data[i] = prng_sym(&seed);
    if (npy_write(argv[2], data, ndim, shape)) {
        free(data);
        return 1;
    }
    free(data);
    return 0;
}
