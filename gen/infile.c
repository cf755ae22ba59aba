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

/* 1 when the file opened as *opened is path resolved inside dir's tree: the
   resolved path is checked to name that same file, so a component swapped
   after the open is caught. 0 outside, -1 with errno when a path cannot be
   resolved. */
static int inside(const char *dir, const char *path, const struct stat *opened)
{
    char *root = realpath(dir[0] ? dir : "/", NULL), *real = root ? realpath(path, NULL) : NULL;
    struct stat st;
    int rc = -1, saved = errno;
    if (root && real) {
        size_t n = strlen(root);
        rc = strncmp(real, root, n) == 0 && (real[n] == '/' || strcmp(root, "/") == 0) &&
             stat(real, &st) == 0 && st.st_dev == opened->st_dev && st.st_ino == opened->st_ino;
    }
    free(root);
    free(real);
    errno = saved;
    return rc;
}

FILE *infile_open(const char *path, const char *within, uint64_t *size, char *err, size_t errlen)
{
    struct stat st;
    FILE *f;
    int in, flags;
    /* O_NONBLOCK: opening a FIFO with no writer returns at once (and the
       type check below then refuses it); cleared again for the reads. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        say(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) != 0) {
        say(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        say(err, errlen, "%s: not a regular file (it is %s)", path, infile_kind(st.st_mode));
        goto fail;
    }
    if (within && (in = inside(within, path, &st)) != 1) {
        if (in < 0)
            say(err, errlen, "%s: cannot resolve: %s", path, strerror(errno));
        else
            say(err, errlen, "%s: outside the spec's directory (symlinks resolved)", path);
        goto fail;
    }
    if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
        !(f = fdopen(fd, "rb"))) {
        say(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    *size = (uint64_t)st.st_size;
    return f;
fail:
    close(fd);
    return NULL;
}
