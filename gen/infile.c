/* See infile.h. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath, and open's flags where the build defines no POSIX level */
#endif
#include "infile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void say(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *infile_kind(mode_t mode)
{
    return S_ISDIR(mode)    ? "a directory"
           : S_ISLNK(mode)  ? "a symbolic link"
           : S_ISFIFO(mode) ? "a FIFO"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
           : S_ISSOCK(mode) ? "a socket"
                            : "not a plain file";
}

const char *path_inside(const char *path, const char *dir)
{
    size_t len = strcmp(dir, "/") == 0 ? 0 : strlen(dir);
    return strncmp(path, dir, len) == 0 && path[len] == '/' ? path + len + 1 : NULL;
}

/* Resolves path (every symlink) into *real and says whether it lies in dir's
   tree: 1 inside, 0 outside, -1 with errno when either cannot be resolved. */
static int resolve_inside(const char *dir, const char *path, char **real)
{
    char *root = realpath(dir[0] ? dir : "/", NULL);
    int rc = -1, saved;
    *real = root ? realpath(path, NULL) : NULL;
    if (*real)
        rc = path_inside(*real, root) != NULL;
    saved = errno;
    free(root);
    errno = saved;
    return rc;
}

FILE *infile_open(const char *path, const char *within, uint64_t *size, char *err, size_t errlen)
{
    struct stat st, checked;
    FILE *f;
    char *real = NULL;
    int fd = -1, in, flags, nofollow = 0;
    const char *target = path;
    /* A confined path is resolved, checked and typed before it is opened (an
       open is itself an effect: it releases a writer waiting on a FIFO). The
       resolved path is opened without following a last symlink, and must be
       the very file checked: a component swapped meanwhile is caught. */
    if (within) {
        if ((in = resolve_inside(within, path, &real)) < 0 || (in && stat(real, &checked) != 0)) {
            say(err, errlen, "%s: cannot open: %s", path, strerror(errno));
            goto fail;
        }
        if (!in) {
            say(err, errlen, "%s: outside the spec's directory (symlinks resolved)", path);
            goto fail;
        }
        if (!S_ISREG(checked.st_mode)) {
            say(err, errlen, "%s: not a regular file (it is %s)", path, infile_kind(checked.st_mode));
            goto fail;
        }
        target = real;
        nofollow = O_NOFOLLOW;
    }
    /* O_NONBLOCK: opening a FIFO with no writer returns at once (and the
       type check below then refuses it); cleared again for the reads. */
    fd = open(target, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | nofollow);
    if (fd < 0) {
        say(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) != 0) {
        say(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        say(err, errlen, "%s: not a regular file (it is %s)", path, infile_kind(st.st_mode));
        goto fail;
    }
    if (within && (st.st_dev != checked.st_dev || st.st_ino != checked.st_ino)) {
        say(err, errlen, "%s: changed while it was opened", path);
        goto fail;
    }
    if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
        !(f = fdopen(fd, "rb"))) {
        say(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    free(real);
    *size = (uint64_t)st.st_size;
    return f;
fail:
    if (fd >= 0)
        close(fd);
    free(real);
    return NULL;
}

int infile_read(const char *path, const char *within, uint64_t max_bytes, const char *what, char **data, size_t *n,
                char *err, size_t errlen)
{
    uint64_t size;
    char *buf = NULL;
    int rc = -1;
    *data = NULL;
    *n = 0;
    FILE *f = infile_open(path, within, &size, err, errlen);
    if (!f)
        return -1;
    if (size > max_bytes)
        say(err, errlen, "%.400s: %" PRIu64 " bytes, past the limit of %d MiB for %s", path, size,
            (int)(max_bytes >> 20), what);
    else if (!(buf = malloc((size_t)size + 1)))
        say(err, errlen, "%.400s: out of memory", path);
    else {
        /* one byte more than the size: a file that grew since its size was taken */
        size_t got = fread(buf, 1, (size_t)size + 1, f);
        if (ferror(f))
            say(err, errlen, "%.400s: read error", path);
        else if (got > size)
            say(err, errlen, "%.400s: grew while it was read", path);
        else {
            *data = buf;
            *n = got;
            buf = NULL;
            rc = 0;
        }
    }
    fclose(f);
    free(buf);
    return rc;
}
