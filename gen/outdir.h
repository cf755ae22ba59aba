/* Writes the generated files so that a failure leaves every destination as it
   was: the output directory and the extra files (--plan, --plan-svg,
   --dump-weights). All destinations are checked before the first write;
   everything is then written beside its destination (the output directory's
   files in a private temporary directory inside it, each extra file under
   its own name plus a temporary suffix) and renamed into place only when all
   of it was written. */
#ifndef SPGEN_OUTDIR_H
#define SPGEN_OUTDIR_H
#include <lua.h>
#include <stddef.h>

typedef struct {
    const char *name; /* a plain file name, no directories */
    const char *data;
    size_t size;
} outdir_file;

typedef struct {
    const char *path; /* anywhere: relative to the working directory or absolute */
    const char *data; /* NULL: the caller has already written outdir_staging_path(path) */
    size_t size;
} outdir_extra;

/* 0 when dir (or the directory that will hold it) and every extra's
   directory are writable and no destination is a directory; else fills err. */
int outdir_check(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras,
                 size_t m, char *err, size_t errlen);

/* The name an extra file is written under before its rename; -1 when it does
   not fit in cap. */
int outdir_staging_path(char *out, size_t cap, const char *path);

/* Creates dir (and its parents) when missing and writes the files and the
   extras. 0 on success, else fills err and removes what it wrote, the
   staged extras included. */
int outdir_write(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras,
                 size_t m, char *err, size_t errlen);

/* The pipeline's side, native functions of spgen.native:
   check_outputs(dir, files, extras) -> true | nil, msg
   staging_path(path) -> the name to write an extra with staged = true under
   write_outputs(dir, files, extras) -> true | nil, msg
   where files = { {name=, data=}, ... } and extras = { {path=, data=} or
   {path=, staged=true}, ... }. */
int outdir_check_lua(lua_State *L);
int outdir_staging_path_lua(lua_State *L);
int outdir_write_lua(lua_State *L);

#endif
