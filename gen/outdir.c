#include "outdir.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_CAP 4096

/* mkdir -p; records in *created the first directory it had to create. */
static int make_dirs(const char *dir, char *created, char *err, size_t errlen)
{
    char path[PATH_CAP];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof path) {
        snprintf(err, errlen, "%s: bad output directory name", dir);
        return -1;
    }
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

/* The name an extra file is written under before its rename. */
static int staging_path(char *out, const char *path)
{
    int n = snprintf(out, PATH_CAP, "%s.spgen-tmp-%ld", path, (long)getpid());
    return n < 0 || n >= PATH_CAP ? -1 : 0;
}

static int write_one(const char *path, const char *data, size_t size)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t put = fwrite(data, 1, size, fp);
    int closed = fclose(fp);
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

/* A directory where a file is to go cannot be renamed over. */
static int not_a_directory(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory", path);
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

/* Whether the directory parent is dir or one of its ancestors, as written. */
static int created_with(const char *parent, const char *dir)
{
    size_t len = strlen(parent);
    return strncmp(dir, parent, len) == 0 && (dir[len] == '\0' || dir[len] == '/');
}

/* Whether extras[i] is an earlier extra or a file of dir, as written. */
static int named_twice(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras, size_t i)
{
    char path[PATH_CAP];
    for (size_t j = 0; j < i; j++)
        if (strcmp(extras[i].path, extras[j].path) == 0)
            return 1;
    for (size_t j = 0; j < n; j++)
        if (join(path, dir, files[j].name) == 0 && strcmp(extras[i].path, path) == 0)
            return 1;
    return 0;
}

/* 0 when dir (or the nearest directory that will hold it) and every extra's
   directory are writable, no destination is a directory and no two outputs
   are one file; else fills err. */
static int check_outputs(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras,
                         size_t m, char *err, size_t errlen)
{
    char path[PATH_CAP];
    struct stat st;
    if (check_dir(dir, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strchr(files[i].name, '/') || files[i].name[0] == '.' || files[i].name[0] == '\0' ||
            join(path, dir, files[i].name) != 0 || strlen(path) + 32 >= PATH_CAP) {
            snprintf(err, errlen, "%s: bad output file name or path too long", files[i].name);
            return -1;
        }
        if (not_a_directory(path, err, errlen) != 0)
            return -1;
    }
    for (size_t i = 0; i < m; i++) {
        const char *p = extras[i].path, *slash = strrchr(p, '/');
        size_t len = strlen(p);
        if (len == 0 || p[len - 1] == '/' || staging_path(path, p) != 0) {
            snprintf(err, errlen, "%s: bad file name or path too long", p);
            return -1;
        }
        if (named_twice(dir, files, n, extras, i)) {
            snprintf(err, errlen, "%s: named for two outputs", p);
            return -1;
        }
        if (!slash)
            strcpy(path, ".");
        else
            snprintf(path, sizeof path, "%.*s", slash == p ? 1 : (int)(slash - p), p);
        /* a directory still to be created for dir passed check_dir */
        if (!(stat(path, &st) != 0 && errno == ENOENT && created_with(path, dir)) &&
            writable_dir(path, p, err, errlen) != 0)
            return -1;
        if (not_a_directory(p, err, errlen) != 0)
            return -1;
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

/* Removes the staged copies of extras[from..m). */
static void remove_staged(const outdir_extra *extras, size_t from, size_t m)
{
    char path[PATH_CAP];
    for (size_t i = from; i < m; i++)
        if (staging_path(path, extras[i].path) == 0)
            remove(path);
}

int outdir_write(const char *dir, const outdir_file *files, size_t n, const outdir_extra *extras,
                 size_t m, outdir_stage_fn *stage, void *ctx, char *err, size_t errlen)
{
    char created[PATH_CAP] = "";
    char tmp[PATH_CAP], src[PATH_CAP], dst[PATH_CAP];
    size_t i;
    if (check_outputs(dir, files, n, extras, m, err, errlen) != 0)
        return -1;
    if (make_dirs(dir, created, err, errlen) != 0)
        goto undo_dirs;
    for (i = 0; i < m; i++) {
        staging_path(src, extras[i].path); /* fits: check_outputs tried */
        if (extras[i].data ? write_one(src, extras[i].data, extras[i].size) != 0
                           : stage(ctx, i, src, err, errlen) != 0) {
            if (extras[i].data)
                snprintf(err, errlen, "%s: cannot write: %s", src, strerror(errno));
            goto undo_dirs;
        }
    }
    if (snprintf(tmp, sizeof tmp, "%s/.spgen-tmp-%ld", dir, (long)getpid()) >= (int)sizeof tmp ||
        mkdir(tmp, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create temporary directory: %s", dir, strerror(errno));
        goto undo_dirs;
    }
    for (i = 0; i < n; i++) {
        if (join(src, tmp, files[i].name) != 0 || write_one(src, files[i].data, files[i].size) != 0) {
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
            remove_staged(extras, 0, m);
            return -1;
        }
    }
    rmdir(tmp);
    for (i = 0; i < m; i++) {
        if (staging_path(src, extras[i].path) != 0 || rename(src, extras[i].path) != 0) {
            snprintf(err, errlen, "%s: cannot rename into place: %s", extras[i].path, strerror(errno));
            remove_staged(extras, i, m);
            return -1;
        }
    }
    return 0;

undo_dirs:
    remove_staged(extras, 0, m);
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
    return -1;
}

/* The Lua side of a stage: extras[i].write(path) in a protected call; an
   error it raises stays on the stack for write_outputs to raise again. */
struct lua_stage {
    lua_State *L;
    int raised;
};

static int stage_lua(void *ctx, size_t i, const char *path, char *err, size_t errlen)
{
    struct lua_stage *s = ctx;
    lua_geti(s->L, 3, (lua_Integer)i + 1);
    lua_getfield(s->L, -1, "write");
    lua_remove(s->L, -2);
    lua_pushstring(s->L, path);
    if (lua_pcall(s->L, 1, 0, 0) != LUA_OK) {
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
