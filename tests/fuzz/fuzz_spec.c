/* libFuzzer harness for the whole generator: the input is a spec file.
 *
 * Each input is written to WORK/spec.lua (WORK is a per-process temporary
 * directory) and run as
 *
 *     spgen WORK/spec.lua -o WORK/out
 *
 * through spgen_main (gen/spgen.h). The harness aborts (a crash for libFuzzer)
 * when a contract of the command line is broken:
 *   - the exit code is not 0 (generated) or 1 (spec or weights error);
 *   - exit 1 left anything in WORK/out ("nothing half-written left in OUTDIR");
 *   - exit 0 wrote anything but the generated set: NAME.h, NAME.c,
 *     NAME_weights.c, NAME_weights.bin, NAME_main.c, Makefile for one C
 *     identifier NAME;
 *   - any file or directory appeared in WORK besides spec.lua and out/, or in
 *     the current directory (the spec sandbox has no file-system access).
 * WORK/out is emptied after every input.
 *
 * Coverage of the Lua half of the generator. Lua itself is the system library
 * (not instrumented), so libFuzzer would only see the C host. The harness
 * wraps lua_newstate and lua_sethook (link with -Wl,--wrap=...) and keeps a
 * line hook installed on every state spgen creates; each line executed in an
 * embedded generator module (source "@gen/...") bumps an edge counter
 * (previous line, this line) in libFuzzer's extra-counters section. Lines of
 * the fuzzed spec itself are not counted, so the corpus is not flooded with
 * inputs that merely have more lines. Hooks that lua_host installs itself (the
 * instruction budget) are chained unchanged. Set FUZZ_SPEC_LUA_COV=0 to turn
 * this off.
 */
#include <dirent.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
        if (lua_getinfo(L, "S", ar) && strncmp(ar->source, "@gen/", 5) == 0) {
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

/* ---- the harness -------------------------------------------------------- */

static char work[256], spec[300], outdir[300];
static char **cwd_names;
static size_t cwd_n;

/* The real stderr, kept before libFuzzer's -close_fd_mask=2 closes fd 2
   (LLVMFuzzerInitialize runs first), so contract messages always show. */
static FILE *report;

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

static void remove_tree(const char *dir)
{
    size_t n;
    char **v = list_dir(dir, &n);
    char p[600];
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, v[i]);
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    free_list(v, n);
    rmdir(dir);
}

static void cleanup(void)
{
    if (work[0])
        remove_tree(work);
}

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

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    int fd = dup(2);
    report = fd >= 0 ? fdopen(fd, "w") : NULL;
    const char *cov = getenv("FUZZ_SPEC_LUA_COV");
    lua_cov_on = !(cov && strcmp(cov, "0") == 0);
    snprintf(work, sizeof work, "%s/fuzz_spec.XXXXXX", tmp_base());
    if (!mkdtemp(work)) {
        perror("fuzz_spec: mkdtemp");
        abort();
    }
    snprintf(spec, sizeof spec, "%s/spec.lua", work);
    snprintf(outdir, sizeof outdir, "%s/out", work);
    if (mkdir(outdir, 0777) != 0) {
        perror("fuzz_spec: mkdir");
        abort();
    }
    atexit(cleanup);
    cwd_names = list_dir(".", &cwd_n);
    return 0;
}

static const char *const SUFFIXES[] = {".h", ".c", "_weights.c", "_weights.bin", "_main.c"};
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
        int ok = strcmp(v[i], "Makefile") == 0;
        for (size_t k = 0; k < NSUFFIX && !ok; k++) {
            snprintf(want, sizeof want, "%s%s", name, SUFFIXES[k]);
            ok = strcmp(v[i], want) == 0;
        }
        if (!ok)
            die("unexpected file in the output directory: %s (network '%s')", v[i], name);
    }
    if (n != NSUFFIX + 1)
        die("exit 0 but the generated set is incomplete (network '%s')%s", name, "");
    free_list(v, n);
}

static void check_work_and_cwd(void)
{
    size_t n;
    char **v = list_dir(work, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], "spec.lua") != 0 && strcmp(v[i], "out") != 0)
            die("file appeared outside the output directory: %s/%s", work, v[i]);
    free_list(v, n);
    v = list_dir(".", &n);
    for (size_t i = 0; i < n; i++)
        if (!cwd_n || !bsearch(&v[i], cwd_names, cwd_n, sizeof *cwd_names, cmp_str))
            die("file appeared in the current directory: %s%s", v[i], "");
    free_list(v, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(spec, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        perror("fuzz_spec: writing the spec");
        abort();
    }
    char *argv[] = {"spgen", spec, "-o", outdir, NULL};
    int rc = spgen_main(4, argv);
    if (rc != 0 && rc != 1) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", rc);
        die("spgen_main returned %s (want 0 or 1)%s", buf, "");
    }
    if (rc == 0) {
        check_outputs();
    } else {
        size_t n;
        char **v = list_dir(outdir, &n);
        if (n)
            die("exit 1 but the output directory holds %s%s", v[0], "");
        free_list(v, n);
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
