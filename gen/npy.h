/* Reading a float32 .npy file (the --calibration samples): version 1, 2 or 3,
   little-endian float32 ('<f4'), C order, any rank up to NPY_MAX_DIMS. */
#ifndef SPGEN_NPY_H
#define SPGEN_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8
/* At most 2^28 floats (1 GiB): 200 ImageNet-sized samples are 30M. */
#define NPY_MAX_ELEMENTS ((uint64_t)1 << 28)

typedef struct {
    int ndim;
    int64_t shape[NPY_MAX_DIMS];
    size_t count; /* product of shape */
    float *data;  /* count values, owned; never NULL on success */
} npy_array;

/* 0 on success; on failure -1 with "PATH: message" in err and *out empty.
   The file is opened as infile_open does (a regular file, never waited on).
   Its data must be exactly what the header's shape needs: a short file is
   truncated, a longer one is refused too. */
int npy_read(const char *path, npy_array *out, char *err, size_t errlen);

void npy_free(npy_array *a);

#endif
