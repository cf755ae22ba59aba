/* libFuzzer harness for the ONNX importer (gen/onnx.c and
 * gen/lua/spgen/import/): each input is written as WORK/model.onnx and
 * imported with spgen_main(spgen import WORK/model.onnx -o WORK/out).
 * Besides ASan/UBSan findings, it aborts when:
 *   - the exit code is not 0 or 1;
 *   - an internal error was reported (spgen called luaL_traceback: a Lua
 *     error that is not a user message, i.e. a bug);
 *   - exit 1 left WORK/out behind (nothing may be half-written);
 *   - exit 0 wrote anything but net.lua and net.safetensors.
 */
#include <dirent.h>
#include <lauxlib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "spgen.h"

static int internal_errors;

void __real_luaL_traceback(lua_State *L, lua_State *L1, const char *msg, int level);

void __wrap_luaL_traceback(lua_State *L, lua_State *L1, const char *msg, int level)
{
    internal_errors++;
    __real_luaL_traceback(L, L1, msg, level);
}

static char work[256], model[300], outdir[300];
static FILE *report;

static void check(int ok, const char *what)
{
    if (!ok) {
        FILE *r = report ? report : stderr;
        fprintf(r, "fuzz_onnx: contract broken: %s\n", what);
        fflush(r);
        abort();
    }
}

static void cleanup(void)
{
    if (work[0])
        remove_tree(work);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int err_fd = dup(2);
    report = err_fd >= 0 ? fdopen(err_fd, "w") : NULL;
    sweep_stale(tmp_base(), "fuzz_onnx", remove_tree);
    snprintf(work, sizeof work, "%s/fuzz_onnx.%ld.XXXXXX", tmp_base(), (long)getpid());
    if (!mkdtemp(work)) {
        perror("fuzz_onnx: mkdtemp");
        abort();
    }
    atexit(cleanup);
    snprintf(model, sizeof model, "%s/model.onnx", work);
    snprintf(outdir, sizeof outdir, "%s/out", work);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(model, "wb");
    check(f != NULL, "cannot write the model file");
    check(fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write the model file");
    remove_tree(outdir);
    char *argv[] = {"spgen", "import", model, "-o", outdir, "--name", "net", NULL};
    internal_errors = 0;
    /* stdout carries the import's report: keep it off libFuzzer's output */
    fflush(stdout);
    int saved = dup(1);
    FILE *null = fopen("/dev/null", "w");
    if (null)
        dup2(fileno(null), 1);
    int rc = spgen_main(7, argv);
    fflush(stdout);
    if (saved >= 0) {
        dup2(saved, 1);
        close(saved);
    }
    if (null)
        fclose(null);
    check(rc == 0 || rc == 1, "exit code other than 0 or 1");
    check(internal_errors == 0, "internal error (a Lua error that is not a user message)");
    struct stat st;
    if (rc == 1) {
        check(stat(outdir, &st) != 0, "exit 1 left the output directory behind");
    } else {
        DIR *d = opendir(outdir);
        struct dirent *e;
        check(d != NULL, "exit 0 without an output directory");
        while ((e = readdir(d)))
            check(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                      strcmp(e->d_name, "net.lua") == 0 || strcmp(e->d_name, "net.safetensors") == 0,
                  "exit 0 wrote an unexpected file");
        closedir(d);
    }
    return 0;
}
