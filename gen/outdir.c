#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath, mkdtemp, O_NOFOLLOW */
#endif
#include "outdir.h"

#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096

/* mkdir -p; records in *created the first directory it had to create. */
static int make_dirs(const char *dir, char *created, char *err, size_t errlen)
{
    char path[PATH_CAP];
    size_t len = strlen(dir); /* fits: check_dir */
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) == 0) {
            if (!created[0])
                memcpy(created, path, i + 1);
        } else if (errno != EEXIST) {
            snprintf(err, errlen, "%s: cannot create directory: %s", path, strerror(errno));
            return -1;
        }
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", dir);
        return -1;
    }
    return 0;
}

/* dir/name into out; -1 when it does not fit */
static int join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, PATH_CAP, "%s/%s", dir, name);
    return n < 0 || n >= PATH_CAP ? -1 : 0;
}

/* The suffix of every name spgen writes before its rename: the extras'
   staging files, and the private directory inside the output directory. */
#define STAGING ".spgen-XXXXXX"
#define STAGING_LEN (sizeof STAGING - 1)

/* Opens a new file for writing. O_EXCL and O_NOFOLLOW: a name that exists,
   a planted symlink included, is an error, never a write elsewhere. */
static FILE *create_new(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    FILE *fp = fd < 0 ? NULL : fdopen(fd, "wb");
    if (fd >= 0 && !fp) {
        int saved = errno;
        close(fd);
        errno = saved;
    }
    return fp;
}

/* Creates the file an extra is written to before its rename, beside it
   (dest and STAGING), its name in staged. mkstemp creates it O_EXCL, so a
   planted name or symlink is an error, never a write elsewhere; the mode
   becomes what a plain create would give. NULL with errno when it cannot. */
static FILE *create_staging(const char *dest, char *staged)
{
    snprintf(staged, PATH_CAP, "%s" STAGING, dest); /* fits: check_outputs */
    int fd = mkstemp(staged);
    if (fd < 0)
        return NULL;
    mode_t mask = umask(0);
    umask(mask);
    FILE *fp = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "wb") : NULL;
    if (!fp) {
        int saved = errno;
        close(fd);
        unlink(staged);
        errno = saved;
    }
    return fp;
}

/* Writes size bytes to fp and closes it: 0, or -1 with errno. */
static int put_all(FILE *fp, const char *data, size_t size)
{
    size_t put = fwrite(data, 1, size, fp);
    int saved = errno, closed = fclose(fp);
    if (put != size)
        errno = saved;
    return put == size && closed == 0 ? 0 : -1;
}

/* 0 when dir is a directory this process may create files in; else err
   says that path cannot be written. */
static int writable_dir(const char *dir, const char *path, char *err, size_t errlen)
{
    struct stat st;
    const char *why = NULL;
    if (stat(dir, &st) != 0 || (S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) != 0))
        why = strerror(errno);
    else if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    if (why) {
        snprintf(err, errlen, "%s: cannot write: %s: %s", path, dir, why);
        return -1;
    }
    return 0;
}

/* A destination that exists must be a regular file: a rename would replace
   a symlink or a device rather than write through it, and fails on a
   directory. */
static int regular_or_missing(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file (it is %s)", path, infile_kind(st.st_mode));
        return -1;
    }
    return 0;
}

/* The nearest of dir and its ancestors that exists is where the first
   directory or file is created: it must be a writable directory (ENOTDIR:
   an ancestor is a file, which the walk up then finds). */
static int check_dir(const char *dir, char *err, size_t errlen)
{
    char path[PATH_CAP];
    struct stat st;
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof path) {
        snprintf(err, errlen, "%s: bad output directory name", dir);
        return -1;
    }
    memcpy(path, dir, len + 1);
    while (stat(path, &st) != 0) {
        char *slash = strrchr(path, '/');
        if ((errno != ENOENT && errno != ENOTDIR) || strcmp(path, ".") == 0 || strcmp(path, "/") == 0) {
            snprintf(err, errlen, "%s: cannot write: %s: %s", dir, path, strerror(errno));
            return -1;
        }
        if (!slash)
            strcpy(path, ".");
        else
            slash[slash == path] = '\0'; /* "/x" -> "/" */
    }
    return writable_dir(path, dir, err, errlen);
}

/* path's longest leading part that exists, symlinks and ".." resolved
   (realpath), then the rest less "." and empty names: two paths name one
   file, now or once the missing directories are created, when their
   canonical names are equal. -1: too long or not even "." resolves; -2: a
   ".." after a name that does not exist yet, which only the directory once
   created could resolve (it may become a symlink's target's parent). */
#define DOTDOT_MISSING " ('..' after a directory that does not exist)"

static int canonical(const char *path, char *out)
{
    char head[PATH_CAP];
    char *real = NULL;
    size_t len = strlen(path), cut = len;
    if (len >= PATH_CAP)
        return -1;
    for (;;) { /* drop trailing names until the rest resolves */
        snprintf(head, sizeof head, "%.*s", (int)cut, path);
        if ((real = realpath(cut ? head : path[0] == '/' ? "/" : ".", NULL)) || cut == 0)
            break;
        while (cut > 0 && path[cut - 1] == '/')
            cut--;
        while (cut > 0 && path[cut - 1] != '/')
            cut--;
    }
    if (!real || strlen(real) >= PATH_CAP) {
        free(real);
        return -1;
    }
    strcpy(out, real);
    free(real);
    for (const char *p = path + cut; *p;) {
        size_t n = strcspn(p, "/"), used = strlen(out);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return -2;
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (used > 1)
                out[used++] = '/';
            if (used + n >= PATH_CAP)
                return -1;
            memcpy(out + used, p, n);
            out[used + n] = '\0';
        }
        p += n + (p[n] == '/');
    }
    return 0;
}

/* Whether extras[i] (canonical name name) is an earlier extra or a file of
   the output directory (canonical name dir). */
static int named_twice(const char *name, const char *dir, const outdir_file *files, size_t n,
                       const outdir_extra *extras, size_t i)
{
    char other[PATH_CAP];
    const char *in_dir = path_inside(name, dir);
    for (size_t j = 0; j < i; j++)
        if (canonical(extras[j].path, other) == 0 && strcmp(name, other) == 0)
            return 1;
    for (size_t j = 0; in_dir && j < n; j++)
        if (strcmp(in_dir, files[j].name) == 0)
            return 1;
    return 0;
}

/* 0 when dir (or the nearest directory that will hold it) and every extra's
   directory are writable, every destination is missing or a regular file,
   no extra is dir or a directory above it and no two outputs are one file;
   else fills err. */
static int check_outputs(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras,
                         size_t m, char *err, size_t errlen)
{
    char path[PATH_CAP], real_dir[PATH_CAP], name[PATH_CAP], parent[PATH_CAP];
    struct stat st;
    if (check_dir(dir, err, errlen) != 0)
        return -1;
    int named = canonical(dir, real_dir);
    if (named != 0) {
        snprintf(err, errlen, "%s: bad output directory name%s", dir, named == -2 ? DOTDOT_MISSING : "");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strchr(files[i].name, '/') || files[i].name[0] == '.' || files[i].name[0] == '\0' ||
            join(path, dir, files[i].name) != 0 || strlen(path) + STAGING_LEN + 1 >= PATH_CAP) {
            snprintf(err, errlen, "%s: bad output file name or path too long", files[i].name);
            return -1;
        }
        if (regular_or_missing(path, err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < m; i++) {
        const char *p = extras[i].path, *slash = strrchr(p, '/');
        const char *base = slash ? slash + 1 : p;
        size_t len = strlen(p);
        if (base[0] == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
            len + STAGING_LEN >= PATH_CAP || (named = canonical(p, name)) != 0) {
            snprintf(err, errlen, "%s: bad file name or path too long%s", p,
                     named == -2 ? DOTDOT_MISSING : "");
            return -1;
        }
        if (!slash)
            strcpy(path, ".");
        else
            snprintf(path, sizeof path, "%.*s", slash == p ? 1 : (int)(slash - p), p);
        /* a directory still to be created for dir passed check_dir */
        if (!(stat(path, &st) != 0 && errno == ENOENT && canonical(path, parent) == 0 &&
              (strcmp(parent, real_dir) == 0 || path_inside(real_dir, parent))) &&
            writable_dir(path, p, err, errlen) != 0)
            return -1;
        if (regular_or_missing(p, err, errlen) != 0)
            return -1;
        if (strcmp(name, real_dir) == 0 || path_inside(real_dir, name)) {
            snprintf(err, errlen, "%s: is the output directory or a directory above it", p);
            return -1;
        }
        if (named_twice(name, real_dir, files, n, extras, i)) {
            snprintf(err, errlen, "%s: named for two outputs", p);
            return -1;
        }
    }
    return 0;
}

static void remove_files(const char *tmp, const outdir_file *files, size_t n)
{
    char path[PATH_CAP];
    for (size_t i = 0; i < n; i++) {
        if (join(path, tmp, files[i].name) == 0)
            remove(path);
    }
    rmdir(tmp);
}

/* Removes the staged copies of extras[from..m): the names this call created. */
static void remove_staged(char (*staged)[PATH_CAP], size_t from, size_t m)
{
    for (size_t i = from; i < m; i++)
        if (staged[i][0])
            remove(staged[i]);
}

/* Writes extras[i] to a new staging file, its name in staged. */
static int stage_extra(const outdir_extra *extra, size_t i, char *staged, outdir_stage_fn *stage,
                       void *ctx, char *err, size_t errlen)
{
    FILE *fp = create_staging(extra->path, staged);
    if (!fp) {
        snprintf(err, errlen, "%s: cannot write: %s", staged, strerror(errno));
        staged[0] = '\0';
        return -1;
    }
    if (extra->data) {
        if (put_all(fp, extra->data, extra->size) == 0)
            return 0;
        snprintf(err, errlen, "%s: cannot write: %s", staged, strerror(errno));
        return -1;
    }
    int rc = stage(ctx, i, fp, staged, err, errlen); /* fills err itself */
    if (fclose(fp) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: cannot write: %s", staged, strerror(errno));
        rc = -1;
    }
    return rc;
}

int outdir_write(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras,
                 size_t m, outdir_stage_fn *stage, void *ctx, char *err, size_t errlen)
{
    char created[PATH_CAP] = "";
    char tmp[PATH_CAP], src[PATH_CAP], dst[PATH_CAP];
    size_t i;
    int rc = -1;
    FILE *fp;
    if (check_outputs(dir, files, n, extras, m, err, errlen) != 0)
        return -1;
    char(*staged)[PATH_CAP] = calloc(m ? m : 1, PATH_CAP);
    if (!staged) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (make_dirs(dir, created, err, errlen) != 0)
        goto undo_dirs;
    for (i = 0; i < m; i++)
        if (stage_extra(&extras[i], i, staged[i], stage, ctx, err, errlen) != 0)
            goto undo_dirs;
    /* private (mkdtemp's mode 0700), so the names inside are this call's */
    if (snprintf(tmp, sizeof tmp, "%s/" STAGING, dir) >= (int)sizeof tmp || !mkdtemp(tmp)) {
        snprintf(err, errlen, "%s: cannot create temporary directory: %s", dir, strerror(errno));
        goto undo_dirs;
    }
    for (i = 0; i < n; i++) {
        if (join(src, tmp, files[i].name) != 0 || (fp = create_new(src)) == NULL ||
            put_all(fp, files[i].data, files[i].size) != 0) {
            snprintf(err, errlen, "%s: cannot write: %s", src, strerror(errno));
            remove_files(tmp, files, n);
            goto undo_dirs;
        }
    }
    /* Past the checks, a rename fails only when the file system changed
       meanwhile, which no order of renames could undo. */
    for (i = 0; i < n; i++) {
        if (join(src, tmp, files[i].name) != 0 || join(dst, dir, files[i].name) != 0 ||
            rename(src, dst) != 0) {
            snprintf(err, errlen, "%s: cannot rename into place: %s", dst, strerror(errno));
            remove_files(tmp, files, n);
            remove_staged(staged, 0, m);
            goto done;
        }
    }
    rmdir(tmp);
    for (i = 0; i < m; i++) {
        if (rename(staged[i], extras[i].path) != 0) {
            snprintf(err, errlen, "%s: cannot rename into place: %s", extras[i].path, strerror(errno));
            remove_staged(staged, i, m);
            goto done;
        }
    }
    rc = 0;
    goto done;

undo_dirs:
    remove_staged(staged, 0, m);
    /* Remove only what this call created, deepest first. */
    if (created[0]) {
        char path[PATH_CAP];
        snprintf(path, sizeof path, "%s", dir);
        size_t keep = strlen(created);
        while (strlen(path) >= keep) {
            rmdir(path);
            char *slash = strrchr(path, '/');
            if (!slash)
                break;
            *slash = '\0';
        }
    }
done:
    free(staged);
    return rc;
}

/* The Lua side of a stage: extras[i].write(file, path) in a protected call,
   file the open stream as a light userdata; an error it raises stays on the
   stack for write_outputs to raise again. */
struct lua_stage {
    lua_State *L;
    int raised;
};

static int stage_lua(void *ctx, size_t i, FILE *fp, const char *path, char *err, size_t errlen)
{
    struct lua_stage *s = ctx;
    lua_geti(s->L, 3, (lua_Integer)i + 1);
    lua_getfield(s->L, -1, "write");
    lua_remove(s->L, -2);
    lua_pushlightuserdata(s->L, fp);
    lua_pushstring(s->L, path);
    if (lua_pcall(s->L, 2, 0, 0) != LUA_OK) {
        s->raised = 1;
        snprintf(err, errlen, "%s: not written", path);
        return -1;
    }
    return 0;
}

int outdir_write_lua(lua_State *L)
{
    char err[512];
    const char *dir = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, 2), m = (size_t)luaL_len(L, 3);
    /* the arrays live in userdata on the stack; their strings stay
       referenced by the argument lists */
    outdir_file *files = lua_newuserdatauv(L, (n ? n : 1) * sizeof *files, 0);
    outdir_extra *extras = lua_newuserdatauv(L, (m ? m : 1) * sizeof *extras, 0);
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, 2, (lua_Integer)i + 1);
        lua_getfield(L, -1, "name");
        files[i].name = luaL_checkstring(L, -1);
        lua_getfield(L, -2, "data");
        files[i].data = luaL_checklstring(L, -1, &files[i].size);
        lua_pop(L, 3);
    }
    for (size_t i = 0; i < m; i++) {
        lua_geti(L, 3, (lua_Integer)i + 1);
        lua_getfield(L, -1, "path");
        extras[i].path = luaL_checkstring(L, -1);
        lua_getfield(L, -2, "data");
        extras[i].data = lua_isnil(L, -1) ? NULL : luaL_checklstring(L, -1, &extras[i].size);
        lua_pop(L, 3);
    }
    struct lua_stage stage = {L, 0};
    if (outdir_write(dir, files, n, extras, m, stage_lua, &stage, err, sizeof err) != 0) {
        if (stage.raised)
            return lua_error(L);
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}
