/* spgen: compiles a network spec into shape-specialized C.
   The C side owns the process, the command line and file I/O; the pipeline
   itself (spec -> shapes -> fold -> plan -> emit) is Lua, in gen/lua/spgen. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_host.h"
#include "spgen.h"

static const char usage_text[] =
    "usage: spgen SPEC.lua [-o OUTDIR] [--target c|cuda|all] [--weights FILE]\n"
    "             [--batch N] [--set KEY=VALUE]... [--summary] [--dump-weights FILE]\n"
    "             [--plan FILE] [--strict] [--simd 0|4|8|16] [--cuda-threads N]\n"
    "             [--cuda-channel-tiles 1|2|4|8|16] [--cuda-tile-channels 1|2|4|8]\n"
    "             [--cuda-stats store|kernel] [--cuda-spconv tile|map|map-staged]\n";

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "spgen: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "", usage_text);
    return 2;
}

/* Sets option key of the options table (below the --set table) to v, a
   whole number in [lo, hi]; 0, or -1 when v is not one. */
static int set_int(lua_State *L, const char *key, const char *v, long lo, long hi)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        return -1;
    lua_pushinteger(L, n);
    lua_setfield(L, -3, key);
    return 0;
}

/* Sets option key of the options table (below the --set table) to v, one
   of lo, 2 lo, 4 lo, ... up to hi (lo > 0, hi far below LONG_MAX) written
   plainly (no sign, no leading zero); 0, or -1 when v is not one. */
static int set_choice(lua_State *L, const char *key, const char *v, long lo, long hi)
{
    for (long n = lo; n <= hi; n *= 2) {
        char text[24];
        snprintf(text, sizeof text, "%ld", n);
        if (strcmp(v, text) == 0) {
            lua_pushinteger(L, n);
            lua_setfield(L, -3, key);
            return 0;
        }
    }
    return -1;
}

/* The options whose value is one of a few words, and the message when it is not. */
static const struct {
    const char *key;
    const char *words[4]; /* NULL-terminated */
    const char *message;
} word_options[] = {
    {"target", {"c", "cuda", "all", NULL}, "--target must be c, cuda or all"},
    {"cuda_stats", {"store", "kernel", NULL}, "--cuda-stats must be store or kernel"},
    {"cuda_spconv", {"tile", "map", "map-staged", NULL}, "--cuda-spconv must be tile, map or map-staged"},
};

/* The message when v is not a word option key allows, else NULL. */
static const char *bad_word(const char *key, const char *v)
{
    for (size_t i = 0; i < sizeof word_options / sizeof word_options[0]; i++) {
        if (strcmp(key, word_options[i].key) != 0)
            continue;
        for (const char *const *w = word_options[i].words; *w; w++)
            if (strcmp(v, *w) == 0)
                return NULL;
        return word_options[i].message;
    }
    return NULL;
}

/* Fills the options table at the top of the stack; returns 0 or an exit code. */
static int parse_args(lua_State *L, int argc, char **argv)
{
    int i, have_spec = 0;
    lua_newtable(L); /* set */
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *key = NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage_text, stdout);
            return -1;
        }
        if (strcmp(a, "--summary") == 0 || strcmp(a, "--strict") == 0) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -3, a + 2);
            continue;
        }
        if (strcmp(a, "-o") == 0)
            key = "outdir";
        else if (strcmp(a, "--target") == 0)
            key = "target";
        else if (strcmp(a, "--weights") == 0)
            key = "weights";
        else if (strcmp(a, "--batch") == 0)
            key = "batch";
        else if (strcmp(a, "--dump-weights") == 0)
            key = "dump_weights";
        else if (strcmp(a, "--plan") == 0)
            key = "plan";
        else if (strcmp(a, "--simd") == 0)
            key = "simd";
        else if (strcmp(a, "--cuda-threads") == 0)
            key = "cuda_threads";
        else if (strcmp(a, "--cuda-channel-tiles") == 0)
            key = "cuda_tiles";
        else if (strcmp(a, "--cuda-tile-channels") == 0)
            key = "cuda_tile_channels";
        else if (strcmp(a, "--cuda-stats") == 0)
            key = "cuda_stats";
        else if (strcmp(a, "--cuda-spconv") == 0)
            key = "cuda_spconv";
        else if (strcmp(a, "--set") == 0)
            key = "set";
        else if (a[0] == '-' && a[1] != '\0')
            return usage("unknown option", a);
        if (!key) {
            if (have_spec)
                return usage("more than one spec given", a);
            have_spec = 1;
            lua_pushstring(L, a);
            lua_setfield(L, -3, "spec");
            continue;
        }
        if (i + 1 >= argc || argv[i + 1][0] == '\0')
            return usage("option needs a value", a);
        const char *v = argv[++i];
        if (strcmp(key, "set") == 0) {
            const char *eq = strchr(v, '=');
            if (!eq || eq == v)
                return usage("--set needs KEY=VALUE", v);
            lua_pushlstring(L, v, (size_t)(eq - v));
            lua_pushstring(L, eq + 1);
            lua_settable(L, -3);
        } else if (strcmp(key, "batch") == 0) {
            if (set_int(L, key, v, 1, 65536) != 0)
                return usage("--batch needs an integer from 1 to 65536", v);
        } else if (strcmp(key, "cuda_threads") == 0) {
            if (set_int(L, key, v, 1, 1L << 24) != 0)
                return usage("--cuda-threads needs an integer from 1 to 16777216", v);
        } else if (strcmp(key, "cuda_tiles") == 0) {
            if (set_choice(L, key, v, 1, 16) != 0)
                return usage("--cuda-channel-tiles must be 1, 2, 4, 8 or 16", v);
        } else if (strcmp(key, "cuda_tile_channels") == 0) {
            if (set_choice(L, key, v, 1, 8) != 0)
                return usage("--cuda-tile-channels must be 1, 2, 4 or 8", v);
        } else if (strcmp(key, "simd") == 0) {
            if (strcmp(v, "0") == 0) /* the portable code; else floats per vector */
                set_int(L, key, v, 0, 0);
            else if (set_choice(L, key, v, 4, 16) != 0)
                return usage("--simd must be 0, 4, 8 or 16 (floats per vector)", v);
        } else {
            const char *bad = bad_word(key, v);
            if (bad)
                return usage(bad, v);
            lua_pushstring(L, v);
            lua_setfield(L, -3, key);
        }
    }
    if (!have_spec)
        return usage("no spec given", NULL);
    lua_setfield(L, -2, "set");
    return 0;
}

static int traceback(lua_State *L)
{
    /* Errors raised for the user are plain messages; anything else is a bug
       in spgen, and then the traceback is what helps. */
    const char *msg = lua_tostring(L, 1);
    if (msg && strncmp(msg, "@@", 2) == 0) {
        lua_pushstring(L, msg + 2);
        return 1;
    }
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    lua_pushfstring(L, "internal error: %s", lua_tostring(L, -1));
    return 1;
}

int spgen_main(int argc, char **argv)
{
    lua_host *h = lua_host_new();
    if (!h) {
        fputs("spgen: out of memory\n", stderr);
        return 1;
    }
    lua_State *L = lua_host_state(h);
    lua_newtable(L);
    int rc = parse_args(L, argc, argv);
    if (rc != 0) {
        lua_host_free(h);
        return rc < 0 ? 0 : rc;
    }
    lua_pushcfunction(L, traceback);
    lua_getglobal(L, "require");
    lua_pushstring(L, "spgen.pipeline");
    if (lua_pcall(L, 1, 1, -3) != LUA_OK) {
        fprintf(stderr, "spgen: %s\n", lua_tostring(L, -1));
        lua_host_free(h);
        return 1;
    }
    lua_getfield(L, -1, "run");
    lua_pushvalue(L, 1);
    if (lua_pcall(L, 1, 0, 2) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        rc = 1;
    }
    lua_host_free(h);
    return rc;
}
