#include "outdir.h"

#include <errno.h>
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

static int write_one(const char *path, const outdir_file *f)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return -1;
    size_t put = fwrite(f->data, 1, f->size, fp);
    int closed = fclose(fp);
    return put == f->size && closed == 0 ? 0 : -1;
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

int outdir_write(const char *dir, const outdir_file *files, size_t n, char *err, size_t errlen)
{
    char created[PATH_CAP] = "";
    char tmp[PATH_CAP], src[PATH_CAP], dst[PATH_CAP];
    size_t i;
    for (i = 0; i < n; i++) {
        if (strchr(files[i].name, '/') || files[i].name[0] == '.' || files[i].name[0] == '\0' ||
            join(dst, dir, files[i].name) != 0 || strlen(dst) + 32 >= PATH_CAP) {
            snprintf(err, errlen, "%s: bad output file name or path too long", files[i].name);
            return -1;
        }
    }
    if (make_dirs(dir, created, err, errlen) != 0)
        goto undo_dirs;
    if (snprintf(tmp, sizeof tmp, "%s/.spgen-tmp-%ld", dir, (long)getpid()) >= (int)sizeof tmp ||
        mkdir(tmp, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create temporary directory: %s", dir, strerror(errno));
        goto undo_dirs;
    }
    for (i = 0; i < n; i++) {
        if (join(src, tmp, files[i].name) != 0 || write_one(src, &files[i]) != 0) {
            snprintf(err, errlen, "%s: cannot write: %s", src, strerror(errno));
            remove_files(tmp, files, n);
            goto undo_dirs;
        }
    }
    for (i = 0; i < n; i++) {
        if (join(src, tmp, files[i].name) != 0 || join(dst, dir, files[i].name) != 0 ||
            rename(src, dst) != 0) {
            snprintf(err, errlen, "%s: cannot rename into place: %s", dst, strerror(errno));
            remove_files(tmp, files, n);
            return -1;
        }
    }
    rmdir(tmp);
    return 0;

undo_dirs:
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

int outdir_write_file(const char *path, const char *data, size_t size, char *err, size_t errlen)
{
    char tmp[PATH_CAP];
    outdir_file f = {path, data, size};
    int n = snprintf(tmp, sizeof tmp, "%s.spgen-tmp-%ld", path, (long)getpid());
    if (n < 0 || n >= (int)sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    if (write_one(tmp, &f) != 0 || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        remove(tmp);
        return -1;
    }
    return 0;
}
