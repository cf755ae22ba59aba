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

/* What a file of this mode is, for "not a regular file (it is ...)". */
const char *infile_kind(mode_t mode);

/* What follows "dir/" in path (both resolved names, no "." or ".."), or NULL
   when path is not inside dir. */
const char *path_inside(const char *path, const char *dir);

#endif
