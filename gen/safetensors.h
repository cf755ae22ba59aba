/* Reading and writing safetensors files (https://github.com/huggingface/safetensors):
 * u64 little-endian header length N, N bytes of JSON header, then the data section. */
#ifndef SPGEN_SAFETENSORS_H
#define SPGEN_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ST_MAX_DIMS 8

/* What a weights file may hold, each refused with a message before the part
   past it is read: a header past ST_MAX_HEADER_BYTES or listing more than
   ST_MAX_TENSORS tensors, tensors of more than ST_MAX_ELEMENTS elements in all
   (4 bytes each once converted: 1 GiB; a spec needs at most a quarter of it,
   gen/lua/spgen/limits.lua). A real model's header is a few hundred bytes per
   tensor, and sp_resnet50's state_dict holds about 320 tensors. */
#define ST_MAX_HEADER_BYTES ((uint64_t)16 << 20)
#define ST_MAX_TENSORS 65536
#define ST_MAX_ELEMENTS ((uint64_t)1 << 28)

typedef struct {
    char *name;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t count;      /* product of shape (1 for a scalar) */
    float *data;       /* converted to float32, owned */
} st_tensor;

typedef struct { st_tensor *tensors; size_t n; } st_file;

/* 0 on success; on failure fills err with "PATH: message" naming the tensor where one is
   involved, leaves *out empty and frees everything. The file is opened as
   infile_open does (a regular file, never waited on; inside the directory
   within when that is not NULL). A file that is not a safetensors file is
   refused without quoting its bytes.
   Supported dtypes: F32, F16, BF16; "__metadata__" is checked and skipped.
   On success tensors are sorted by name (strcmp order, so whatever the file's
   order, output built from them is deterministic) and data is never NULL,
   even for count == 0. err may be NULL (errlen 0); long messages truncate. */
int st_read(const char *path, const char *within, st_file *out, char *err, size_t errlen);

/* The tensor with this name, or NULL (a binary search of the sorted tensors). */
const st_tensor *st_find(const st_file *f, const char *name);

/* Frees all tensors and leaves *f empty; safe on an empty or freed st_file. */
void st_free(st_file *f);

/* Writes F32 tensors, header keys in the order given (the caller sorts), header padded with spaces
   to a multiple of 8, data 8-aligned; returns 0 or fills err.
   The padding puts the data section at an 8-aligned file offset; tensors
   follow back to back in the order given, with no gaps, as the reference
   implementation requires. Rejects bad shapes, count != product of shape,
   NULL data, duplicate names, names that are not valid UTF-8 and the
   reserved name "__metadata__" before writing anything. Writes to the open
   stream f, which the caller closes (and removes on failure: outdir stages
   it); path names it in messages. */
int st_write(FILE *f, const char *path, const st_tensor *ts, size_t n, char *err, size_t errlen);

#endif
