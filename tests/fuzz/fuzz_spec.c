/* libFuzzer harness for the whole generator: the input is a spec file.
 *
 * Each input is written to WORK/spec.lua (WORK is a per-process temporary
 * directory) and run as
 *
 *     spgen WORK/spec.lua -o WORK/out
 *
 * through spgen_main (gen/spgen.h). An input may also carry a file for the
 * spec to import: the text after its first line "-- lib.lua" is written to
 * WORK/lib.lua (`import("lib")`), the text before it is the spec; without
 * that line there is no WORK/lib.lua. The harness aborts (a crash for libFuzzer)
 * when a contract of the command line is broken:
 *   - the exit code is not 0 (generated) or 1 (spec or weights error);
 *   - exit 1 left anything in WORK/out ("nothing half-written left in OUTDIR");
 *   - spgen reported an internal error (a bug of the generator reached from
 *     a spec): it called luaL_traceback, which spgen.c's message handler does
 *     for those only (link with -Wl,--wrap=luaL_traceback);
 *   - exit 1 with messages (spgen_main's stderr, written to WORK/messages
 *     while it runs) that do not start with "WORK/": every message names the
 *     spec or weights file;
 *   - exit 0 wrote anything but the generated set: NAME.h, NAME.c,
 *     NAME_weights.c, NAME_weights.bin, NAME_arena.c, NAME_main.c, Makefile,
 *     CMakeLists.txt for one C identifier NAME;
 *   - any file or directory appeared in WORK besides spec.lua, lib.lua, out/,
 *     messages and the two weights files below, or in the current directory (the spec sandbox
 *     has no file-system access).
 * WORK also holds two weights files a spec can name (weights = "w.safetensors"):
 * w.safetensors, every tensor of the spconv_layer seed (4 channels in and
 * out, naming torch) with finite values, and w_bad.safetensors, the same keys
 * with a NaN in conv.pwc.weight and a negative bn.running_var, so that the
 * weight-binding checks (missing key, shape, non-finite, variance, unused
 * tensors) are reachable.
 * WORK/out is emptied after every input.
 *
 * Coverage of the Lua half of the generator. Lua itself is the system library
 * (not instrumented), so libFuzzer would only see the C host. The harness
 * wraps lua_newstate and lua_sethook (link with -Wl,--wrap=...) and keeps a
 * line hook installed on every state spgen creates; each line executed in an
 * embedded generator module (source "=gen/...") bumps an edge counter
 * (previous line, this line) in libFuzzer's extra-counters section. Lines of
 * the fuzzed spec itself are not counted, so the corpus is not flooded with
 * inputs that merely have more lines. Hooks that lua_host installs itself (the
 * instruction budget) are chained unchanged. Set FUZZ_SPEC_LUA_COV=0 to turn
 * this off.
 *
 * The sandbox's CPU-time limit. gen/lua_host.c also arms a CPU-time timer
 * (ITIMER_VIRTUAL, 5 s) while a spec runs, for string patterns that run in C
 * out of the instruction hook's reach; when it fires, its handler ends the
 * process with _exit(1). Under ASan and the coverage hook a spec runs 5-20x
 * slower than in the release build, so a plain runaway loop such as
 * `while true do local t = {} end` (0.9 s to the instruction budget in
 * build/spgen) would reach the timer first and silently end the fuzzer. The
 * harness therefore (link with -Wl,--wrap=setitimer,--wrap=_exit):
 *   - scales that timer by FUZZ_SPEC_CPU_SCALE (default 4), so the budget
 *     still ends instruction-bound specs first, as in the release build; a
 *     runaway pattern then shows as an ordinary libFuzzer timeout;
 *   - turns an _exit from inside spgen_main into an abort with a message
 *     (a "crash" artifact that says it is a slow input, not a memory error),
 *     since the process cannot go on and would otherwise vanish without a
 *     report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fuzz_tmp.h"
#include "safetensors.h"
#include "spgen.h"

/* ---- Lua line coverage -------------------------------------------------- */

#define LUA_COV_SIZE (1u << 16)
__attribute__((used, section("__libfuzzer_extra_counters")))
static uint8_t lua_cov[LUA_COV_SIZE];

static int lua_cov_on = 1;
static lua_Hook inner_hook; /* what lua_host asked for */
static int inner_mask, inner_count;
static uint32_t prev_loc;

lua_State *__real_lua_newstate(lua_Alloc f, void *ud);
void __real_lua_sethook(lua_State *L, lua_Hook f, int mask, int count);

static uint32_t hash_line(const char *src, int line)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ (uint32_t)line) * 16777619u;
    return h ^ (h >> 15);
}

static void mux_hook(lua_State *L, lua_Debug *ar)
{
    if (ar->event == LUA_HOOKLINE) {
        if (lua_getinfo(L, "S", ar) && strncmp(ar->source, "=gen/", 5) == 0) {
            uint32_t loc = hash_line(ar->source, ar->currentline);
            uint8_t *c = &lua_cov[(loc ^ prev_loc) & (LUA_COV_SIZE - 1)];
            if (*c != 255)
                (*c)++;
            prev_loc = loc >> 1;
        }
        return;
    }
    if (inner_hook && (inner_mask & (1 << ar->event)))
        inner_hook(L, ar); /* may raise a Lua error: nothing to undo here */
}

static void install(lua_State *L)
{
    if (lua_cov_on)
        __real_lua_sethook(L, mux_hook, inner_mask | LUA_MASKLINE, inner_count);
    else
        __real_lua_sethook(L, inner_hook, inner_mask, inner_count);
}

void __wrap_lua_sethook(lua_State *L, lua_Hook f, int mask, int count)
{
    inner_hook = f;
    inner_mask = f ? mask : 0;
    inner_count = f ? count : 0;
    install(L);
}

lua_State *__wrap_lua_newstate(lua_Alloc f, void *ud)
{
    lua_State *L = __real_lua_newstate(f, ud);
    inner_hook = NULL;
    inner_mask = inner_count = 0;
    prev_loc = 0;
    if (L)
        install(L);
    return L;
}

/* ---- the sandbox's CPU-time limit -------------------------------------- */

static int cpu_scale = 4;
static volatile int in_spgen;
static FILE *report;

int __real_setitimer(int which, const struct itimerval *value, struct itimerval *old);
void __real__exit(int status) __attribute__((noreturn));

int __wrap_setitimer(int which, const struct itimerval *value, struct itimerval *old)
{
    if (which != ITIMER_VIRTUAL || !value || cpu_scale == 1)
        return __real_setitimer(which, value, old);
    struct itimerval v = *value;
    v.it_value.tv_sec *= cpu_scale;
    v.it_interval.tv_sec *= cpu_scale;
    return __real_setitimer(which, &v, old);
}

void __wrap__exit(int status)
{
    if (in_spgen) {
        /* async-signal context (the timer's handler): write(2) only */
        static const char msg[] =
            "fuzz_spec: spgen_main ended the process with _exit (the spec sandbox's CPU-time "
            "limit, gen/lua_host.c): SLOW INPUT, not a memory error\n";
        int fd = report ? fileno(report) : 2;
        if (write(fd, msg, sizeof msg - 1) < 0)
            status = 1;
        abort();
    }
    __real__exit(status);
}

/* ---- internal errors ---------------------------------------------------- */

static int internal_errors;

void __real_luaL_traceback(lua_State *L, lua_State *L1, const char *msg, int level);

void __wrap_luaL_traceback(lua_State *L, lua_State *L1, const char *msg, int level)
{
    internal_errors++;
    __real_luaL_traceback(L, L1, msg, level);
}

/* ---- the harness -------------------------------------------------------- */

static void write_weights(const char *name, int bad);

static char work[256], spec[300], lib[300], outdir[300], messages[300];
static char **cwd_names;
static size_t cwd_n;

/* report: the real stderr, kept before libFuzzer's -close_fd_mask=2 closes
   fd 2 (LLVMFuzzerInitialize runs first), so contract messages always show. */

static void die(const char *fmt, const char *a, const char *b)
{
    FILE *r = report ? report : stderr;
    fprintf(r, "fuzz_spec: contract broken: ");
    fprintf(r, fmt, a, b);
    fputc('\n', r);
    fflush(r);
    abort();
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir, without "." and ".."; *n set; NULL-safe on failure. */
static char **list_dir(const char *dir, size_t *n)
{
    DIR *d = opendir(dir);
    char **v = NULL;
    size_t cap = 0;
    struct dirent *e;
    *n = 0;
    if (!d)
        die("cannot list %s%s", dir, "");
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            v = realloc(v, cap * sizeof *v);
            if (!v)
                abort();
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*n > 1)
        qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
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
    int fd = dup(2);
    report = fd >= 0 ? fdopen(fd, "w") : NULL;
    /* sanitizer reports to the real stderr, also while fd 2 is WORK/messages */
    if (fd >= 0)
        __sanitizer_set_report_fd((void *)(intptr_t)fd);
    const char *cov = getenv("FUZZ_SPEC_LUA_COV");
    lua_cov_on = !(cov && strcmp(cov, "0") == 0);
    const char *scale = getenv("FUZZ_SPEC_CPU_SCALE");
    if (scale && atoi(scale) >= 1)
        cpu_scale = atoi(scale);
    sweep_stale(tmp_base(), "fuzz_spec", remove_tree);
    snprintf(work, sizeof work, "%s/fuzz_spec.%ld.XXXXXX", tmp_base(), (long)getpid());
    if (!mkdtemp(work)) {
        perror("fuzz_spec: mkdtemp");
        abort();
    }
    snprintf(spec, sizeof spec, "%s/spec.lua", work);
    snprintf(lib, sizeof lib, "%s/lib.lua", work);
    snprintf(outdir, sizeof outdir, "%s/out", work);
    snprintf(messages, sizeof messages, "%s/messages", work);
    if (mkdir(outdir, 0777) != 0) {
        perror("fuzz_spec: mkdir");
        abort();
    }
    atexit(cleanup);
    write_weights("w.safetensors", 0);
    write_weights("w_bad.safetensors", 1);
    cwd_names = list_dir(".", &cwd_n);
    return 0;
}

/* The spconv_layer seed's tensors (cin = out = 4, ratio 0.5, groups 2). */
static void write_weights(const char *name, int bad)
{
    static const struct { const char *key; int ndim; int64_t shape[4]; } T[] = {
        {"bn.bias", 1, {4}}, {"bn.running_mean", 1, {4}}, {"bn.running_var", 1, {4}},
        {"bn.weight", 1, {4}}, {"conv.bn1.bias", 1, {4}}, {"conv.bn1.running_mean", 1, {4}},
        {"conv.bn1.running_var", 1, {4}}, {"conv.bn1.weight", 1, {4}}, {"conv.bn2.bias", 1, {4}},
        {"conv.bn2.running_mean", 1, {4}}, {"conv.bn2.running_var", 1, {4}},
        {"conv.bn2.weight", 1, {4}}, {"conv.conv1x1.bias", 1, {4}},
        {"conv.conv1x1.weight", 4, {4, 2, 1, 1}}, {"conv.gwc.weight", 4, {4, 1, 3, 3}},
        {"conv.pwc.weight", 4, {4, 2, 1, 1}}};
    enum { NT = sizeof T / sizeof T[0] };
    static float data[NT][36];
    st_tensor ts[NT];
    char path[400], err[512];
    for (size_t i = 0; i < NT; i++) {
        ts[i].name = (char *)T[i].key;
        ts[i].ndim = T[i].ndim;
        ts[i].count = 1;
        for (int d = 0; d < T[i].ndim; d++) {
            ts[i].shape[d] = T[i].shape[d];
            ts[i].count *= (size_t)T[i].shape[d];
        }
        for (size_t k = 0; k < ts[i].count; k++)
            data[i][k] = 0.25f + 0.125f * (float)((i * 7 + k * 3) % 9); /* > 0: fine for variances */
        ts[i].data = data[i];
    }
    if (bad) {
        data[2][1] = -1.0f;                /* bn.running_var */
        data[15][3] = __builtin_nanf("");  /* conv.pwc.weight */
    }
    snprintf(path, sizeof path, "%s/%s", work, name);
    FILE *f = fopen(path, "wb");
    if (!f || st_write(f, path, ts, NT, err, sizeof err) != 0 || fclose(f) != 0)
        die("cannot write %s: %s", path, f ? err : strerror(errno));
}

static const char *const SUFFIXES[] = {".h", ".c", "_weights.c", "_weights.bin", "_arena.c", "_main.c"};
/* the names that do not start with NAME */
static const char *const FIXED[] = {"Makefile", "CMakeLists.txt"};
#define NFIXED (sizeof FIXED / sizeof FIXED[0])
#define NSUFFIX (sizeof SUFFIXES / sizeof SUFFIXES[0])

static int is_identifier(const char *s)
{
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
        return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

/* Checks WORK/out after a successful run: exactly the generated set, named
   after the one header. */
static void check_outputs(void)
{
    size_t n, nh = 0;
    char **v = list_dir(outdir, &n);
    char name[128] = "", want[160];
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(v[i]);
        if (len > 2 && strcmp(v[i] + len - 2, ".h") == 0 && len - 2 < sizeof name) {
            memcpy(name, v[i], len - 2);
            name[len - 2] = '\0';
            nh++;
        }
    }
    if (nh != 1)
        die("exit 0 but not exactly one header in the output directory (first file: %s)%s",
            n ? v[0] : "none", "");
    if (!is_identifier(name))
        die("network name '%s' is not a C identifier%s", name, "");
    for (size_t i = 0; i < n; i++) {
        int ok = 0;
        for (size_t k = 0; k < NFIXED && !ok; k++)
            ok = strcmp(v[i], FIXED[k]) == 0;
        for (size_t k = 0; k < NSUFFIX && !ok; k++) {
            snprintf(want, sizeof want, "%s%s", name, SUFFIXES[k]);
            ok = strcmp(v[i], want) == 0;
        }
        if (!ok)
            die("unexpected file in the output directory: %s (network '%s')", v[i], name);
    }
    if (n != NSUFFIX + NFIXED)
        die("exit 0 but the generated set is incomplete (network '%s')%s", name, "");
    free_list(v, n);
}

static void check_work_and_cwd(void)
{
    size_t n;
    char **v = list_dir(work, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], "spec.lua") != 0 && strcmp(v[i], "lib.lua") != 0 && strcmp(v[i], "out") != 0 &&
            strcmp(v[i], "messages") != 0 && strcmp(v[i], "w.safetensors") != 0 &&
            strcmp(v[i], "w_bad.safetensors") != 0)
            die("file appeared outside the output directory: %s/%s", work, v[i]);
    free_list(v, n);
    v = list_dir(".", &n);
    for (size_t i = 0; i < n; i++)
        if (!cwd_n || !bsearch(&v[i], cwd_names, cwd_n, sizeof *cwd_names, cmp_str))
            die("file appeared in the current directory: %s%s", v[i], "");
    free_list(v, n);
}

/* The first cap - 1 bytes of WORK/messages, as a string. */
static const char *read_messages(char *text, size_t cap)
{
    FILE *f = fopen(messages, "rb");
    size_t n = f ? fread(text, 1, cap - 1, f) : 0;
    if (f)
        fclose(f);
    text[n] = '\0';
    return text;
}

static void write_input(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror("fuzz_spec: writing the input");
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char mark[] = "\n-- lib.lua\n";
    size_t spec_size = size, m = sizeof mark - 1;
    for (size_t i = 0; i + m <= size; i++)
        if (memcmp(data + i, mark, m) == 0) {
            spec_size = i + 1;
            break;
        }
    write_input(spec, data, spec_size);
    if (spec_size < size)
        write_input(lib, data + spec_size + m - 1, size - spec_size - (m - 1));
    else
        unlink(lib);
    char *argv[] = {"spgen", spec, "-o", outdir, NULL};
    /* fd 2 is WORK/messages while spgen_main runs (closed before, with
       -close_fd_mask=2: then it is closed again after) */
    int saved = dup(2);
    int fd = open(messages, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0 || dup2(fd, 2) < 0) {
        perror("fuzz_spec: redirecting stderr");
        abort();
    }
    close(fd);
    in_spgen = 1;
    internal_errors = 0;
    int rc = spgen_main(4, argv);
    in_spgen = 0;
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    } else {
        close(2);
    }
    if (rc != 0 && rc != 1) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", rc);
        die("spgen_main returned %s (want 0 or 1)%s", buf, "");
    }
    char text[4096];
    if (internal_errors)
        die("spgen reported an internal error: %.1000s%s", read_messages(text, sizeof text), "");
    if (rc == 0) {
        check_outputs();
    } else {
        size_t n;
        char **v = list_dir(outdir, &n);
        if (n)
            die("exit 1 but the output directory holds %s%s", v[0], "");
        free_list(v, n);
        size_t wl = strlen(work);
        if (strncmp(read_messages(text, sizeof text), work, wl) != 0 || text[wl] != '/')
            die("exit 1 with a message that names no file: %.300s%s", text, "");
    }
    check_work_and_cwd();
    /* empty WORK/out for the next input */
    remove_tree(outdir);
    if (mkdir(outdir, 0777) != 0) {
        perror("fuzz_spec: mkdir");
        abort();
    }
    return 0;
}
