/* Temporary files of the fuzz harnesses: where they go, their removal, and
   the sweep of what crashed runs left behind. Included by each harness. */
#ifndef SPGEN_FUZZ_TMP_H
#define SPGEN_FUZZ_TMP_H
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where the temporary files go: $FUZZ_TMPDIR, else /dev/shm (a tmpfs: on a
   disk-backed /tmp the per-input truncate and rewrite can cost 100x in
   executions per second), else $TMPDIR, else /tmp. */
static const char *tmp_base(void)
{
    const char *d = getenv("FUZZ_TMPDIR");
    if (d && *d && strlen(d) < 200)
        return d;
    if (access("/dev/shm", W_OK | X_OK) == 0)
        return "/dev/shm";
    d = getenv("TMPDIR");
    return d && *d && strlen(d) < 200 ? d : "/tmp";
}

/* Removes PATH and, if it is a directory (never through a symbolic link),
   everything below it. */
static inline void remove_tree(const char *path)
{
    struct stat st;
    DIR *d;
    if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode) || !(d = opendir(path))) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[600];
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        remove_tree(p);
    }
    closedir(d);
    rmdir(path);
}

/* A crash, timeout or OOM ends the process with _Exit, skipping the atexit
   cleanup: remove what such runs left (PREFIX.PID.*, PID no longer alive). */
static void sweep_stale(const char *base, const char *prefix, void (*remove_entry)(const char *))
{
    DIR *d = opendir(base);
    struct dirent *e;
    size_t pl = strlen(prefix);
    if (!d)
        return;
    while ((e = readdir(d))) {
        char *end, p[600];
        if (strncmp(e->d_name, prefix, pl) != 0 || e->d_name[pl] != '.')
            continue;
        long pid = strtol(e->d_name + pl + 1, &end, 10);
        if (end == e->d_name + pl + 1 || *end != '.' || pid <= 0 ||
            pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        snprintf(p, sizeof p, "%s/%s", base, e->d_name);
        remove_entry(p);
    }
    closedir(d);
}

#endif
