/* See infile.h. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* realpath, and open's flags where the build defines no POSIX level */
#endif
#include "infile.h"

#include <errno.h>
#include <fcntl.h>
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
