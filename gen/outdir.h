/* Writes the generated files so that a failure leaves every destination as it
   was: the output directory and the extra files (--plan, --plan-svg,
   --dump-weights). All destinations are checked before the first write;
   everything is then written beside its destination (the output directory's
   files in a private temporary directory inside it, each extra file to a new
   PATH.spgen-XXXXXX, made by mkstemp) and renamed into place only when all
   of it was written. A destination that exists must be a regular file. */
#ifndef SPGEN_OUTDIR_H
#define SPGEN_OUTDIR_H
#include <lua.h>
#include <stddef.h>
#include <stdio.h>

typedef struct {
    const char *name; /* a plain file name, no directories */
    const char *data;
    size_t size;
} outdir_file;

typedef struct {
    const char *path; /* relative to the working directory or absolute; its
                         directory exists or is the output directory or one
                         of the directories created for it */
    const char *data; /* NULL: written by the caller's stage function */
    size_t size;
} outdir_extra;

/* Writes extras[i] (data NULL) to the open stream fp, the new file path,
   which the caller closes; 0, or -1 with err filled. */
typedef int outdir_stage_fn(void *ctx, size_t i, FILE *fp, const char *path, char *err, size_t errlen);

/* Creates dir (and its parents) when missing and writes the files and the
   extras, calling stage for those without data. 0 on success, else fills
   err and leaves no file or directory it wrote. */
int outdir_write(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras,
                 size_t m, outdir_stage_fn *stage, void *ctx, char *err, size_t errlen);

/* The pipeline's side, spgen.native's write_outputs(dir, files, extras) ->
   true | nil, msg, where files = { {name=, data=}, ... } and extras =
   { {path=, data=} or {path=, write=function(file, path)}, ... }:
   write(file, path) writes the extra to file (a light userdata for the
   stream of the new file path, the extra's staging name); an error it raises
   is raised again once everything is undone. */
int outdir_write_lua(lua_State *L);

#endif
