#include "lua_host.h"

#include <inttypes.h>
#include <signal.h>
#include <sys/time.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "embedded.h"
#include "farray.h"
#include "infile.h"
#include "interp.h"
#include "npy.h"
#include "onnx.h"
#include "outdir.h"
#include "rng.h"
#include "safetensors.h"

/* What a spec may consume: enough for a ResNet-152 spec many times over, little
   enough that a runaway spec ends in well under a second. */
#define SPEC_INSTRUCTIONS 50000000L
#define SPEC_HOOK_STEP 1000
#define SPEC_MEMORY ((size_t)256 << 20)
/* Lua's string matcher runs in C, out of the instruction hook's reach: a
   pathological pattern is stopped by a CPU-time timer instead (CPU time, so
   a loaded machine does not fail a legitimate spec). */
#define SPEC_SECONDS 5

struct lua_host {
    lua_State *L;
    size_t used;     /* bytes allocated by the Lua state */
    size_t limit;    /* allocation cap; lifted outside the sandbox */
    long steps;      /* instruction count / SPEC_HOOK_STEP inside the sandbox */
    int tripped;     /* the limit the sandbox hit (enum trip): its pcall must not swallow that */
    /* The budget's message, kept here: Lua code that runs after the trip (the
       message handler) may be cut short by the hook again. */
    char trip_message[600];
    const char *spec_path; /* the spec run_sandboxed runs, for messages without a line */
};

enum trip { TRIP_NONE, TRIP_MEMORY, TRIP_BUDGET };

static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    lua_host *h = ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        h->used -= osize;
        return NULL;
    }
    if (nsize > osize && h->used - osize + nsize > h->limit) {
        if (h->tripped == TRIP_NONE)
            h->tripped = TRIP_MEMORY;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        h->used = h->used - osize + nsize;
    return p;
}

static lua_host *host_of(lua_State *L)
{
    void *ud;
    lua_getallocf(L, &ud);
    return ud;
}

/* Spec files are loaded as "@PATH", the generator's own modules as "=gen/..."
   (load_module): a frame whose source starts with '@' runs spec code. */
static int spec_frame(lua_State *L, lua_Debug *d)
{
    for (int level = 0; lua_getstack(L, level, d); level++)
        if (lua_getinfo(L, "Sl", d) && d->source[0] == '@' && d->currentline > 0)
            return 1;
    return 0;
}

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_host *h = host_of(L);
    if (++h->steps > SPEC_INSTRUCTIONS / SPEC_HOOK_STEP) {
        lua_Debug d;
        if (h->tripped == TRIP_NONE) {
            /* Name the spec's line that was running: that is where the loop is
               (or the DSL call it made). */
            char where[520];
            if (spec_frame(L, &d))
                snprintf(where, sizeof where, "%.500s:%d", d.source + 1, d.currentline);
            else
                snprintf(where, sizeof where, "%.500s", h->spec_path);
            snprintf(h->trip_message, sizeof h->trip_message,
                     "%s: spec exceeded the instruction budget (%d million Lua instructions)", where,
                     (int)(SPEC_INSTRUCTIONS / 1000000));
            h->tripped = TRIP_BUDGET;
        }
        lua_pushstring(L, h->trip_message);
        lua_error(L);
    }
}

/* pcall for specs: a limit error must end the spec, not be caught by it. */
static int sandbox_pcall(lua_State *L)
{
    lua_host *h = host_of(L);
    luaL_checkany(L, 1);
    int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
    if (h->tripped)
        return lua_error(L);
    lua_pushboolean(L, status == LUA_OK);
    lua_insert(L, 1);
    return lua_gettop(L);
}

static char timeout_msg[600];

static void spec_timeout(int sig)
{
    (void)sig;
    /* only async-signal-safe calls here; nothing has been written yet */
    if (write(2, timeout_msg, strlen(timeout_msg)) < 0)
        _exit(1);
    _exit(1);
}

/* run_sandboxed(fn, path, handler): calls fn() under the instruction, memory
   and time caps, with handler(error value) as the message handler (it runs
   under the caps too). Returns true, result or false, message. A limit's
   message is "@@PATH[:LINE]: ...", a user message (gen/lua/spgen/fail.lua). */
static int run_sandboxed(lua_State *L)
{
    lua_host *h = host_of(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    const char *path = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TFUNCTION);
    snprintf(timeout_msg, sizeof timeout_msg, "%.500s: spec ran past its limit of %d s of CPU time (a runaway string pattern?)\n",
             path, SPEC_SECONDS);
    lua_settop(L, 3);
    lua_pushvalue(L, 1);
    h->steps = 0;
    h->tripped = TRIP_NONE;
    h->spec_path = path;
    h->limit = h->used + SPEC_MEMORY;
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, SPEC_HOOK_STEP);
    struct itimerval limit = {{0, 0}, {SPEC_SECONDS, 0}}, off = {{0, 0}, {0, 0}};
    void (*previous)(int) = signal(SIGVTALRM, spec_timeout);
    setitimer(ITIMER_VIRTUAL, &limit, NULL);
    int status = lua_pcall(L, 0, 1, 3);
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    signal(SIGVTALRM, previous);
    lua_sethook(L, NULL, 0, 0);
    h->limit = (size_t)-1;
    int tripped = h->tripped;
    h->tripped = TRIP_NONE;
    lua_pushboolean(L, status == LUA_OK && tripped == TRIP_NONE);
    /* A memory error carries no line (the allocator cannot tell where it was
       called from); every limit ends the spec, whatever caught it. */
    if (tripped == TRIP_MEMORY)
        lua_pushfstring(L, "@@%s: spec exceeded the memory limit of %d MiB", path, (int)(SPEC_MEMORY >> 20));
    else if (tripped == TRIP_BUDGET)
        lua_pushfstring(L, "@@%s", h->trip_message);
    else
        lua_pushvalue(L, 4);
    return 2;
}

/* Calls its upvalue with its arguments. Lua runs a C function called in tail
   position above its caller's frame (a Lua function would replace it), so a
   DSL function wrapped in one still finds the spec's line in `return f(x)`. */
static int call_upvalue(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* keep_caller(f) -> a C function that calls f */
static int keep_caller(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    lua_pushcclosure(L, call_upvalue, 1);
    return 1;
}

static int embedded(lua_State *L)
{
    const struct embedded_file *f = embedded_find(luaL_checkstring(L, 1));
    if (!f)
        return 0;
    lua_pushlstring(L, f->data, f->size);
    return 1;
}

/* Pushes the string its light userdata (struct text) holds: run by lua_pcall,
   so that read_file frees its buffer whatever the allocation does. */
struct text {
    const char *data;
    size_t size;
};

static int push_text(lua_State *L)
{
    const struct text *t = lua_touserdata(L, 1);
    lua_pushlstring(L, t->data, t->size);
    return 1;
}

/* read_file(path, within, max_bytes) -> text | nil, msg: a regular file
   (inside the directory within unless that is nil), of at most max_bytes.
   Nothing is allocated in Lua while the file is open: the sandbox's memory
   error would jump past the close. */
static int read_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1), *within = luaL_optstring(L, 2, NULL);
    lua_Integer max_bytes = luaL_checkinteger(L, 3);
    char err[512], *data;
    size_t n;
    if (infile_read(path, within, (uint64_t)max_bytes, "a spec file", &data, &n, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    struct text t = {data, n};
    lua_pushcfunction(L, push_text);
    lua_pushlightuserdata(L, &t);
    int status = lua_pcall(L, 1, 1, 0);
    free(data);
    return status == LUA_OK ? 1 : lua_error(L);
}

/* read_safetensors(path, within) -> { name = { shape = {...}, data = farray } } | nil, msg
   (within: the directory the file must lie in, or nil) */
static int read_safetensors(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1), *within = luaL_optstring(L, 2, NULL);
    st_file f;
    char err[512];
    if (st_read(path, within, &f, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_createtable(L, 0, (int)f.n);
    for (size_t i = 0; i < f.n; i++) {
        const st_tensor *t = &f.tensors[i];
        lua_createtable(L, 0, 2);
        lua_createtable(L, t->ndim, 0);
        for (int d = 0; d < t->ndim; d++) {
            lua_pushinteger(L, (lua_Integer)t->shape[d]);
            lua_rawseti(L, -2, d + 1);
        }
        lua_setfield(L, -2, "shape");
        farray *a = farray_push(L, t->count);
        memcpy(a->v, t->data, t->count * sizeof(float));
        lua_setfield(L, -2, "data");
        lua_setfield(L, -2, t->name);
    }
    st_free(&f);
    return 1;
}

/* write_safetensors(file, path, { {name=, shape={...}, data=farray}, ... }) -> true | nil, msg:
   file is the stream write_outputs hands an extra's write (the new file path) */
static int write_safetensors(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TLIGHTUSERDATA);
    FILE *f = lua_touserdata(L, 1);
    const char *path = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    size_t n = (size_t)luaL_len(L, 3);
    st_tensor *ts = lua_newuserdatauv(L, (n ? n : 1) * sizeof *ts, 0);
    for (size_t i = 0; i < n; i++) {
        lua_geti(L, 3, (lua_Integer)i + 1);
        lua_getfield(L, -1, "name");
        ts[i].name = (char *)luaL_checkstring(L, -1);
        lua_getfield(L, -2, "data");
        farray *a = farray_check(L, -1);
        ts[i].data = a->v;
        ts[i].count = a->n;
        lua_getfield(L, -3, "shape");
        ts[i].ndim = (int)luaL_len(L, -1);
        luaL_argcheck(L, ts[i].ndim <= ST_MAX_DIMS, 3, "too many dimensions");
        for (int d = 0; d < ts[i].ndim; d++) {
            lua_geti(L, -1, d + 1);
            ts[i].shape[d] = (int64_t)luaL_checkinteger(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 4); /* the strings and arrays stay referenced by the list */
    }
    char err[512];
    if (st_write(f, path, ts, n, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Pushes { shape = {...}, data = farray } for the npy_array its light
   userdata points to: run by lua_pcall, so that read_npy frees the array
   whatever the allocation does. */
static int push_npy(lua_State *L)
{
    const npy_array *a = lua_touserdata(L, 1);
    lua_createtable(L, 0, 2);
    lua_createtable(L, a->ndim, 0);
    for (int d = 0; d < a->ndim; d++) {
        lua_pushinteger(L, (lua_Integer)a->shape[d]);
        lua_rawseti(L, -2, d + 1);
    }
    lua_setfield(L, -2, "shape");
    memcpy(farray_push(L, a->count)->v, a->data, a->count * sizeof(float));
    lua_setfield(L, -2, "data");
    return 1;
}

/* read_npy(path) -> { shape = {...}, data = farray } | nil, msg: a float32 .npy file (gen/npy.h) */
static int read_npy(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    npy_array a;
    char err[512];
    if (npy_read(path, &a, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushcfunction(L, push_npy);
    lua_pushlightuserdata(L, &a);
    int status = lua_pcall(L, 1, 1, 0);
    npy_free(&a);
    return status == LUA_OK ? 1 : lua_error(L);
}

static int write_to(FILE *f, lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    fwrite(s, 1, n, f);
    if (f == stderr)
        fputc('\n', f);
    return 0;
}

static int warn_user(lua_State *L) { return write_to(stderr, L); }
static int print_stdout(lua_State *L) { return write_to(stdout, L); }

/* Trusted modules come from the binary, never from the file system. */
static int load_module(lua_State *L)
{
    const char *mod = luaL_checkstring(L, 1);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "lua/");
    for (const char *p = mod; *p; p++)
        luaL_addchar(&b, *p == '.' ? '/' : *p);
    luaL_addstring(&b, ".lua");
    luaL_pushresult(&b);
    const struct embedded_file *f = embedded_find(lua_tostring(L, -1));
    if (!f) {
        lua_pushfstring(L, "no embedded module '%s'", mod);
        return 1;
    }
    lua_pushfstring(L, "=gen/%s", lua_tostring(L, -1));
    if (luaL_loadbufferx(L, f->data, f->size, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    return 1;
}

static int open_native(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"farray", farray_new},
        {"random_uniform", rng_uniform},
        {"embedded", embedded},
        {"read_file", read_file},
        {"read_safetensors", read_safetensors},
        {"read_npy", read_npy},
        {"read_onnx", onnx_read_lua},
        {"write_safetensors", write_safetensors},
        {"write_outputs", outdir_write_lua},
        {"run_sandboxed", run_sandboxed},
        {"sandbox_pcall", sandbox_pcall},
        {"keep_caller", keep_caller},
        {"warn", warn_user},
        {"stdout", print_stdout},
        {NULL, NULL}};
    luaL_newlib(L, fns);
    interp_register(L);
    return 1;
}

lua_host *lua_host_new(void)
{
    lua_host *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->limit = (size_t)-1;
    h->L = lua_newstate(host_alloc, h);
    if (!h->L) {
        free(h);
        return NULL;
    }
    lua_State *L = h->L;
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_LOADLIBNAME, luaopen_package},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_STRLIBNAME, luaopen_string},
        {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
        {LUA_DBLIBNAME, luaopen_debug},  {NULL, NULL}};
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    /* string.dump is reachable from any string through its metatable: drop it. */
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    farray_register(L);
    luaL_requiref(L, "spgen.native", open_native, 0);
    lua_pop(L, 1);
    /* Replace the file-system searchers with the embedded one. */
    lua_getglobal(L, "package");
    lua_createtable(L, 2, 0);
    lua_getfield(L, -2, "searchers");
    lua_geti(L, -1, 1); /* the preload searcher */
    lua_rawseti(L, -3, 1);
    lua_pop(L, 1);
    lua_pushcfunction(L, load_module);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "searchers");
    lua_pop(L, 1);
    return h;
}

lua_State *lua_host_state(lua_host *h)
{
    return h->L;
}

void lua_host_free(lua_host *h)
{
    if (!h)
        return;
    lua_close(h->L);
    free(h);
}

const struct embedded_file *embedded_find(const char *name)
{
    for (const struct embedded_file *f = embedded_files; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}
