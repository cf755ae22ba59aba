/* libFuzzer harness for the safetensors reader (gen/safetensors.c).
 *
 * st_read takes a path, so each input is written to one temporary file per
 * process (created on the first call, rewritten in place afterwards, removed
 * at exit). Besides ASan/UBSan findings, the harness checks the promises of
 * gen/safetensors.h and aborts when one is broken:
 *   - failure leaves *out empty and puts a message "PATH: ..." in err;
 *   - success gives tensors sorted by strcmp with no duplicate names, at most
 *     ST_MAX_DIMS dims, count == product of the shape, data never NULL;
 *   - st_find finds each tensor by its name; st_free leaves the file empty
 *     and is safe to call twice;
 *   - confined to the directory the file is in (st_read's within), the
 *     verdict is the same.
 * Every float is read once so that ASan sees data that is shorter than count.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "safetensors.h"

static void unlink_path(const char *p)
{
    unlink(p);
}

static char path[256]; /* the temporary file, one per process */
static int fd = -1;

static void cleanup(void)
{
    if (path[0])
        unlink(path);
}

/* The real stderr, kept before libFuzzer's -close_fd_mask=2 closes fd 2. */
static FILE *report;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int err_fd = dup(2);
    report = err_fd >= 0 ? fdopen(err_fd, "w") : NULL;
    return 0;
}

static void check(int ok, const char *what)
{
    if (!ok) {
        FILE *r = report ? report : stderr;
        fprintf(r, "fuzz_safetensors: contract broken: %s\n", what);
        fflush(r);
        abort();
    }
}

static void write_input(const uint8_t *data, size_t size)
{
    if (fd < 0) {
        sweep_stale(tmp_base(), "fuzz_st", unlink_path);
        snprintf(path, sizeof path, "%s/fuzz_st.%ld.XXXXXX", tmp_base(), (long)getpid());
        fd = mkstemp(path);
        if (fd < 0) {
            perror("fuzz_safetensors: mkstemp");
            abort();
        }
        atexit(cleanup);
    }
    if (ftruncate(fd, 0) != 0) {
        perror("fuzz_safetensors: ftruncate");
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
        if (n <= 0) {
            perror("fuzz_safetensors: pwrite");
            abort();
        }
        off += (size_t)n;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file f;
    char err[512];
    volatile float sink = 0;

    write_input(data, size);
    memset(&f, 0xa5, sizeof f); /* st_read must set both fields itself */
    err[0] = '\0';
    int rc = st_read(path, NULL, &f, err, sizeof err);
    st_file confined;
    check((st_read(path, tmp_base(), &confined, NULL, 0) == 0) == (rc == 0),
          "confined to the file's directory: a different verdict");
    st_free(&confined);
    if (rc != 0) {
        check(f.tensors == NULL && f.n == 0, "failure left *out non-empty");
        check(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':',
              "failure message does not start with \"PATH:\"");
        check(memchr(err, '\0', sizeof err) != NULL, "err not terminated");
        /* errlen 0 and err NULL are allowed */
        check(st_read(path, NULL, &f, NULL, 0) != 0, "same file read twice: different result");
        return 0;
    }
    check(f.n == 0 || f.tensors != NULL, "n > 0 but tensors NULL");
    for (size_t i = 0; i < f.n; i++) {
        const st_tensor *t = &f.tensors[i];
        check(t->name != NULL, "NULL name");
        check(t->data != NULL, "NULL data");
        check(t->ndim >= 0 && t->ndim <= ST_MAX_DIMS, "ndim out of range");
        check(strcmp(t->name, "__metadata__") != 0, "__metadata__ returned as a tensor");
        size_t count = 1;
        for (int d = 0; d < t->ndim; d++) {
            check(t->shape[d] >= 0, "negative dim");
            count *= (size_t)t->shape[d];
        }
        check(count == t->count, "count != product of shape");
        if (i > 0)
            check(strcmp(f.tensors[i - 1].name, t->name) < 0, "tensors not sorted / duplicate");
        check(st_find(&f, t->name) == t, "st_find does not find the tensor");
        for (size_t k = 0; k < t->count; k++)
            sink += t->data[k];
    }
    st_free(&f);
    check(f.tensors == NULL && f.n == 0, "st_free did not empty the file");
    st_free(&f);
    (void)sink;
    return 0;
}
