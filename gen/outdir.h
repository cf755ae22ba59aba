/* Writes a set of generated files so that a failure leaves the output
   directory as it was: everything goes to a private temporary directory first
   and is renamed into place only when all of it was written. */
#ifndef SPGEN_OUTDIR_H
#define SPGEN_OUTDIR_H
#include <stddef.h>

typedef struct {
    const char *name; /* a plain file name, no directories */
    const char *data;
    size_t size;
} outdir_file;

/* Creates dir (and its parents) when missing. 0 on success, else fills err. */
int outdir_write(const char *dir, const outdir_file *files, size_t n, char *err, size_t errlen);

/* One file, written beside its target and renamed into place. */
int outdir_write_file(const char *path, const char *data, size_t size, char *err, size_t errlen);

#endif
