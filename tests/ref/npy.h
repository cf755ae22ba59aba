/* npy.h - read and write float32 .npy files (NumPy format 1.0 / 2.0 / 3.0).
 *
 * Part of the independent test reference of spgen: shares no code with gen/.
 *
 * Only little-endian float32 ('<f4'), C order (fortran_order False) is
 * supported; that is all the reference and the test tools need.
 * All functions print "PATH: message" on stderr on failure and return -1.
 */
#ifndef SPGEN_REF_NPY_H
#define SPGEN_REF_NPY_H

#include <stddef.h>

#define NPY_MAXDIM 8

typedef struct {
    int ndim;                 /* 0 .. NPY_MAXDIM (0 = scalar, count 1) */
    long shape[NPY_MAXDIM];
    size_t count;             /* product of shape */
    float *data;              /* malloc'd, count floats (NULL when count is 0) */
} npy_array;

/* Reads PATH into *a. Returns 0 on success; -1 (message on stderr, *a empty)
 * on any error: unreadable file, bad magic, unsupported version, malformed
 * header dict, dtype other than '<f4', fortran order, more than NPY_MAXDIM
 * dimensions, or a file length that does not match the shape. */
int npy_read(const char *path, npy_array *a);

/* Writes a float32 .npy (version 1.0; the header is space-padded and ends in
 * '\n' so that the data starts at a multiple of 64 bytes, as numpy does;
 * the bytes are those np.save writes for the same float32 array).
 * Returns 0 on success; -1 (message on stderr, partial file removed) on error. */
int npy_write(const char *path, const float *data, int ndim, const long *shape);

/* Frees a->data and empties *a. Safe on an emptied or zeroed array. */
void npy_free(npy_array *a);

/* Formats a shape as "[d0, d1, ...]" into buf (always NUL-terminated). */
void npy_shape_str(int ndim, const long *shape, char *buf, size_t n);

#endif
