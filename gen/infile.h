/* Opening the files spgen reads (spec, imports, weights). Every one must be a
   regular file: a FIFO, a terminal or a device is refused at once, never
   waited on or read without end. */
#ifndef SPGEN_INFILE_H
#define SPGEN_INFILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Opens path for reading without blocking, and keeps it only when it is a
   regular file. With within set (a directory), the file must also lie in
   that directory's tree once every symlink is resolved, which is checked
   before it is opened: how paths a spec names are confined. Returns a stream
   at the start of the file and sets *size, or NULL with "PATH: message" in
   err (err may be NULL, errlen 0). */
FILE *infile_open(const char *path, const char *within, uint64_t *size, char *err, size_t errlen);

/* Reads the file as infile_open opens it, whole, into a new buffer (*data,
   *n bytes; the caller frees it); the file is closed on return. A file of
   more than max_bytes is refused ("past the limit of N MiB for WHAT"), as is
   one that grew while it was read. 0, or -1 with "PATH: message" in err. */
int infile_read(const char *path, const char *within, uint64_t max_bytes, const char *what, char **data, size_t *n,
                char *err, size_t errlen);

/* What a file of this mode is, for "not a regular file (it is ...)". */
const char *infile_kind(mode_t mode);

/* What follows "dir/" in path (both resolved names, no "." or ".."), or NULL
   when path is not inside dir. */
const char *path_inside(const char *path, const char *dir);

#endif
