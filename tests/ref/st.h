/* st.h - a minimal safetensors reader (float32 tensors only).
 *
 * Part of the independent test reference of spgen: shares no code with gen/.
 *
 * File layout: 8-byte little-endian header length N, N bytes of JSON
 *   { "NAME": {"dtype": "F32", "shape": [d0, ...], "data_offsets": [b, e]},
 *     ..., "__metadata__": {...optional, skipped...} }
 * then the byte buffer; [b, e) is relative to the start of that buffer.
 *
 * Every entry is validated at open time (known dtype sizes, e - b matching
 * the shape, e within the file). Errors go to stderr as "FILE: message".
 */
#ifndef SPGEN_REF_ST_H
#define SPGEN_REF_ST_H

typedef struct st st;

/* Opens and validates PATH. NULL (message on stderr) on error. */
st *st_open(const char *path);

/* Returns the data of tensor NAME, which must be F32 with exactly the given
 * shape (ndim dims). The pointer stays valid until st_close. On a missing
 * tensor, another dtype or another shape: NULL, with a message naming the
 * file and the tensor on stderr. */
const float *st_get(st *f, const char *name, int ndim, const long *shape);

/* 1 when the file has a tensor NAME (any dtype and shape), else 0. */
int st_has(const st *f, const char *name);

/* Number of tensors and the name of the i-th (in file header order). */
int st_count(const st *f);
const char *st_name(const st *f, int i);

void st_close(st *f);

#endif
