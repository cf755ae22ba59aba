/* spgen: compiles a network spec into shape-specialized C.
   The C side owns the process, the command line and file I/O; the pipeline
   itself (load spec -> bind weights -> fuse -> tile -> fold -> plan -> emit:
   pipeline.lua) is Lua, in gen/lua/spgen. */
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua_host.h"
#include "spgen.h"

enum option_kind {
    OPT_FLAG,    /* no value: the field is true */
    OPT_TEXT,    /* any text but the empty one */
    OPT_PAIR,    /* KEY=VALUE, into the table in the field; may repeat */
    OPT_INTEGER, /* a whole number from low to high */
    OPT_WORD,    /* one of words, written as listed */
    OPT_HELP,
    OPT_VERSION,
};

/* The command line. Parsing, its checks and messages, the usage line, --help
   and the pipeline's defaults all come from this table. */
static const struct option {
    const char *name;
    const char *alias;     /* a second spelling, or NULL */
    const char *field;     /* the field of the options table pipeline.run reads */
    enum option_kind kind;
    const char *value;     /* the value's name in the usage line (OPT_WORD: none, the words are shown) */
    long low, high;        /* OPT_INTEGER */
    const char *words[6];  /* OPT_WORD, NULL-terminated */
    int numeric;           /* OPT_WORD: the words are numbers, passed as integers */
    const char *fallback;  /* the value when the option is absent, as typed; the pipeline gets it */
    const char *otherwise; /* what happens when it is absent, where no fixed value says it */
    const char *help;
} options[] = {
    {.name = "-o", .field = "outdir", .kind = OPT_TEXT, .value = "OUTDIR",
     .otherwise = "out/NAME, NAME the network's name", .help = "the directory to write the generated files to"},
    {.name = "--target", .field = "target", .kind = OPT_WORD, .words = {"c", "cuda", "all"}, .fallback = "c",
     .help = "the backends to emit: portable C, CUDA, or both with one Makefile"},
    {.name = "--weights", .field = "weights", .kind = OPT_TEXT, .value = "FILE",
     .otherwise = "the spec's weights file, else weights drawn from the spec's seed",
     .help = "the safetensors file to read the weights from, in place of the spec's"},
    {.name = "--batch", .field = "batch", .kind = OPT_INTEGER, .value = "N", .low = 1, .high = 65536,
     .otherwise = "the spec's", .help = "the batch size compiled in"},
    {.name = "--set", .field = "set", .kind = OPT_PAIR, .value = "KEY=VALUE",
     .help = "pass KEY=VALUE to the spec, which reads it as args.KEY; may be repeated"},
    {.name = "--summary", .field = "summary", .kind = OPT_FLAG,
     .help = "print a per-layer table (shapes, parameters, MACs, memory) and a total line"},
    {.name = "--dump-weights", .field = "dump_weights", .kind = OPT_TEXT, .value = "FILE",
     .otherwise = "none", .help = "write the weights used (from a file or the seed) as safetensors"},
    {.name = "--plan", .field = "plan", .kind = OPT_TEXT, .value = "FILE", .otherwise = "none",
     .help = "write the memory plan as text: each kernel's reads, write and scratch as arena byte ranges"},
    {.name = "--plan-svg", .field = "plan_svg", .kind = OPT_TEXT, .value = "FILE", .otherwise = "none",
     .help = "draw the memory plan as SVG: one rectangle per buffer, arena offset against kernel"},
    {.name = "--strict", .field = "strict", .kind = OPT_FLAG,
     .help = "make weights that the spec does not use an error, not a warning"},
    {.name = "--simd", .field = "simd", .kind = OPT_WORD, .words = {"0", "4", "8", "16"}, .numeric = 1,
     .fallback = "0", .help = "emit vector code of at most this many floats per vector; 0: portable C99"},
    {.name = "--dtype", .field = "dtype", .kind = OPT_WORD, .words = {"float32", "int8"}, .fallback = "float32",
     .help = "the number type of weights and activations: float32, or int8 with --calibration, "
             "TFLite's scheme as docs/int8.md states it"},
    {.name = "--calibration", .field = "calibration", .kind = OPT_TEXT, .value = "CALIB.npy",
     .otherwise = "none; --dtype int8 needs one",
     .help = "float32 NCHW samples of the network input (N >= 1) from which --dtype int8 finds each tensor's range"},
    {.name = "--calibration-percentile", .field = "percentile", .kind = OPT_TEXT, .value = "P",
     .otherwise = "none: each tensor's smallest and largest value",
     .help = "take each tensor's range from the P-th percentile of its values at each end, 0 < P < 100 "
             "(docs/int8.md, section 3)"},
    {.name = "--attention", .field = "attention", .kind = OPT_WORD, .words = {"float", "fixed"}, .fallback = "float",
     .help = "how int8 SPConv computes its attention: in float, for targets with an FPU, or in fixed point, "
             "for those without"},
    {.name = "--dump-int8", .field = "dump_int8", .kind = OPT_TEXT, .value = "FILE", .otherwise = "none",
     .help = "write the quantized network as the int8 reference reads it (docs/int8.md, section 8)"},
    /* 32768: about 2 resident warps per scheduler on 132 SMs. 65536 was
       faster at batch 1 (bench/CUDA_NOTES.md) and builds without spills, but
       stays an option until a GPU has compared its outputs with the C build's. */
    {.name = "--cuda-threads", .field = "cuda_threads", .kind = OPT_INTEGER, .value = "N", .low = 1,
     .high = 1L << 24, .fallback = "32768", .help = "the threads each CUDA convolution aims for"},
    {.name = "--cuda-channel-tiles", .field = "cuda_tiles", .kind = OPT_WORD, .words = {"1", "2", "4", "8", "16"},
     .numeric = 1, .fallback = "1", .help = "the most channel tiles of the same pixels a CUDA convolution's block holds"},
    {.name = "--cuda-tile-channels", .field = "cuda_tile_channels", .kind = OPT_WORD, .words = {"1", "2", "4", "8"},
     .numeric = 1, .fallback = "1",
     .help = "the fewest output channels a CUDA thread's tile keeps while the layer is short of threads"},
    {.name = "--cuda-stats", .field = "cuda_stats", .kind = OPT_WORD, .words = {"store", "kernel"}, .fallback = "store",
     .help = "where each CUDA SPConv's input statistics are summed: in the store of the layer writing its input, "
             "or in a kernel of their own"},
    {.name = "--cuda-spconv", .field = "cuda_spconv", .kind = OPT_WORD, .words = {"tile", "map", "map-staged"},
     .fallback = "tile",
     .help = "how CUDA SPConvs of small maps are emitted: tiled like the others, as one block per output "
             "channel and sample holding the map, or that with its inputs staged in shared memory"},
    {.name = "--help", .alias = "-h", .kind = OPT_HELP, .help = "print this help and exit"},
    {.name = "--version", .kind = OPT_VERSION, .help = "print the version and exit"},
};
#define OPTION_COUNT (sizeof options / sizeof options[0])
#define IMPORT_USAGE "spgen import MODEL.onnx [-o DIR] [--name NAME]"
#define LINE_WIDTH 79

/* The option's value as the usage line names it ("" for none) into buf. */
static const char *value_text(const struct option *o, char *buf, size_t cap)
{
    if (o->kind != OPT_WORD)
        return o->value ? o->value : "";
    buf[0] = '\0';
    for (const char *const *w = o->words; *w; w++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", w == o->words ? "" : "|", *w);
    return buf;
}

/* Writes len characters of word at column *col, or at column indent of a
   new line when they would reach past LINE_WIDTH; updates *col. */
static void put_word(FILE *f, const char *word, int len, int indent, int *col)
{
    if (*col > indent && *col + 1 + len > LINE_WIDTH) {
        fprintf(f, "\n%*s", indent, "");
        *col = indent;
    } else if (*col > indent) {
        fputc(' ', f);
        (*col)++;
    }
    fprintf(f, "%.*s", len, word);
    *col += len;
}

/* put_word for each word of text. */
static void put_wrapped(FILE *f, const char *text, int indent, int *col)
{
    for (text += strspn(text, " "); *text; text += strspn(text, " ")) {
        int len = (int)strcspn(text, " ");
        put_word(f, text, len, indent, col);
        text += len;
    }
}

static void put_usage(FILE *f)
{
    static const char head[] = "usage: spgen SPEC.lua";
    int col = (int)strlen(head), indent = (int)strlen("usage: spgen ");
    fputs(head, f);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *o = &options[i];
        char value[64], item[128];
        if (o->kind == OPT_HELP || o->kind == OPT_VERSION)
            continue;
        const char *v = value_text(o, value, sizeof value);
        int len = snprintf(item, sizeof item, "[%s%s%s]%s", o->name, v[0] ? " " : "", v,
                           o->kind == OPT_PAIR ? "..." : "");
        put_word(f, item, len, indent, &col);
    }
    /* then the options that need no spec, and the importer */
    fputs("\n       spgen", f);
    for (size_t i = 0, n = 0; i < OPTION_COUNT; i++)
        if (options[i].kind == OPT_HELP || options[i].kind == OPT_VERSION)
            fprintf(f, "%s%s", n++ ? " | " : " ", options[i].name);
    fputs("\n       " IMPORT_USAGE "\n", f);
}

static void put_help(FILE *f)
{
    enum { COLUMN = 26 };
    put_usage(f);
    fputs("\nCompiles the network spec SPEC.lua into shape-specialized C (and CUDA) source.\n\noptions:\n", f);
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const struct option *o = &options[i];
        char value[64], text[512];
        const char *v = value_text(o, value, sizeof value);
        int col = fprintf(f, "  %s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
                          v[0] ? " " : "", v);
        const char *dflt = o->fallback ? o->fallback : o->otherwise ? o->otherwise : o->kind == OPT_FLAG ? "off" : NULL;
        snprintf(text, sizeof text, "%s%s%s%s", o->help, dflt ? " (default: " : "", dflt ? dflt : "", dflt ? ")" : "");
        if (col + 2 > COLUMN) {
            fputc('\n', f);
            col = 0;
        }
        fprintf(f, "%*s", COLUMN - col, "");
        col = COLUMN;
        put_wrapped(f, text, COLUMN, &col);
        fputc('\n', f);
    }
    fputs("\nspgen import MODEL.onnx writes DIR/NAME.lua, a spec of the ONNX model with SPConv recognised,\n"
          "and DIR/NAME.safetensors, its weights:\n"
          "  -o DIR                  the directory to write them to (default: out/import)\n"
          "  --name NAME             the network's name (default: the graph's, made a C identifier)\n", f);
    fputs("\nexit status: 0 success, 1 a spec, weights or output error, 2 a usage error\n", f);
}

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "spgen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    put_usage(stderr);
    return 2;
}

/* Sets the option's field of the options table (at the top of the stack)
   from the text v; 0, or -1 with the message in msg when v is not allowed. */
static int set_value(lua_State *L, const struct option *o, const char *v, char *msg, size_t cap)
{
    switch (o->kind) {
    case OPT_PAIR: {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v) {
            snprintf(msg, cap, "%s needs KEY=VALUE", o->name);
            return -1;
        }
        lua_getfield(L, -1, o->field);
        lua_pushlstring(L, v, (size_t)(eq - v));
        lua_pushstring(L, eq + 1);
        lua_settable(L, -3);
        lua_pop(L, 1);
        return 0;
    }
    case OPT_INTEGER: {
        char *end;
        long n = strtol(v, &end, 10);
        if (*end != '\0' || n < o->low || n > o->high) {
            snprintf(msg, cap, "%s needs an integer from %ld to %ld", o->name, o->low, o->high);
            return -1;
        }
        lua_pushinteger(L, n);
        break;
    }
    case OPT_WORD: {
        const char *const *w = o->words;
        while (*w && strcmp(v, *w) != 0)
            w++;
        if (!*w) {
            int len = snprintf(msg, cap, "%s must be ", o->name);
            for (w = o->words; *w && len >= 0 && (size_t)len < cap; w++)
                len += snprintf(msg + len, cap - (size_t)len, "%s%s", *w,
                                !w[1] ? "" : !w[2] ? " or " : ", ");
            return -1;
        }
        if (o->numeric)
            lua_pushinteger(L, strtol(v, NULL, 10));
        else
            lua_pushstring(L, v);
        break;
    }
    default:
        lua_pushstring(L, v);
    }
    lua_setfield(L, -2, o->field);
    return 0;
}

/* The options that --dtype int8 needs or excludes (the options table on top
   of the stack): 0, or the usage error's exit code. */
static int check_dtype(lua_State *L)
{
    lua_getfield(L, -1, "dtype");
    int int8 = strcmp(lua_tostring(L, -1), "int8") == 0;
    lua_getfield(L, -2, "calibration");
    int calibrated = !lua_isnil(L, -1);
    lua_getfield(L, -3, "simd");
    lua_Integer simd = lua_tointeger(L, -1);
    lua_getfield(L, -4, "target");
    int c_only = strcmp(lua_tostring(L, -1), "c") == 0;
    lua_getfield(L, -5, "dump_int8");
    int dumps = !lua_isnil(L, -1);
    lua_getfield(L, -6, "percentile");
    const char *percentile = lua_tostring(L, -1);
    char *end = NULL;
    double p = percentile ? strtod(percentile, &end) : 0;
    lua_pop(L, 6);
    if (int8 && !calibrated)
        return usage("--dtype int8 needs --calibration CALIB.npy", NULL);
    if (!int8 && calibrated)
        return usage("--calibration is only for --dtype int8", NULL);
    if (!int8 && dumps)
        return usage("--dump-int8 is only for --dtype int8", NULL);
    if (percentile && !int8)
        return usage("--calibration-percentile is only for --dtype int8", NULL);
    if (percentile && (end == percentile || *end != '\0' || !(p > 0 && p < 100)))
        return usage("--calibration-percentile needs a number P, 0 < P < 100", percentile);
    if (int8 && simd != 0)
        return usage("--dtype int8 has portable C only: --simd must be 0", NULL);
    if (int8 && !c_only)
        return usage("--dtype int8 has the C backend only: --target must be c", NULL);
    return 0;
}

/* Fills the options table at the top of the stack; returns 0, -1 when
   --help or --version said all there was to say, or an exit code. */
static int parse_args(lua_State *L, int argc, char **argv)
{
    char msg[256];
    int have_spec = 0;
    lua_newtable(L);
    lua_setfield(L, -2, "set");
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (options[i].fallback)
            set_value(L, &options[i], options[i].fallback, msg, sizeof msg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct option *o = NULL;
        for (size_t j = 0; j < OPTION_COUNT && !o; j++)
            if (strcmp(a, options[j].name) == 0 || (options[j].alias && strcmp(a, options[j].alias) == 0))
                o = &options[j];
        if (!o) {
            if (a[0] == '-' && a[1] != '\0')
                return usage("unknown option", a);
            if (have_spec)
                return usage("more than one spec given", a);
            have_spec = 1;
            lua_pushstring(L, a);
            lua_setfield(L, -2, "spec");
            continue;
        }
        if (o->kind == OPT_HELP) {
            put_help(stdout);
            return -1;
        }
        if (o->kind == OPT_VERSION) {
            puts("spgen " SPGEN_VERSION);
            return -1;
        }
        if (o->kind == OPT_FLAG) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -2, o->field);
            continue;
        }
        if (i + 1 >= argc || argv[i + 1][0] == '\0')
            return usage("option needs a value", a);
        const char *v = argv[++i];
        if (set_value(L, o, v, msg, sizeof msg) != 0)
            return usage(msg, v);
    }
    if (!have_spec)
        return usage("no spec given", NULL);
    return check_dtype(L);
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

/* spgen import MODEL.onnx [-o DIR] [--name NAME]: fills the options table
   at the top of the stack (model, outdir, name); 0, -1 after --help, or 2. */
static int parse_import(lua_State *L, int argc, char **argv)
{
    int have_model = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *field = strcmp(a, "-o") == 0 ? "outdir" : strcmp(a, "--name") == 0 ? "name" : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            puts("usage: " IMPORT_USAGE "\n\nWrites DIR/NAME.lua, a spec of the ONNX model with SPConv recognised, and "
                 "DIR/NAME.safetensors,\nits weights. DIR defaults to out/import, NAME to the graph's name.\n\n"
                 "exit status: 0 success, 1 a model or output error, 2 a usage error");
            return -1;
        }
        if (field) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                fprintf(stderr, "spgen: option needs a value: %s\nusage: " IMPORT_USAGE "\n", a);
                return 2;
            }
            lua_pushstring(L, argv[++i]);
            lua_setfield(L, -2, field);
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "spgen: unknown option: %s\nusage: " IMPORT_USAGE "\n", a);
            return 2;
        } else if (have_model++) {
            fprintf(stderr, "spgen: more than one model given: %s\nusage: " IMPORT_USAGE "\n", a);
            return 2;
        } else {
            lua_pushstring(L, a);
            lua_setfield(L, -2, "model");
        }
    }
    if (!have_model) {
        fputs("spgen: no model given\nusage: " IMPORT_USAGE "\n", stderr);
        return 2;
    }
    return 0;
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
    int importing = argc > 1 && strcmp(argv[1], "import") == 0;
    int rc = importing ? parse_import(L, argc, argv) : parse_args(L, argc, argv);
    if (rc != 0) {
        lua_host_free(h);
        return rc < 0 ? 0 : rc;
    }
    lua_pushcfunction(L, traceback);
    lua_getglobal(L, "require");
    lua_pushstring(L, importing ? "spgen.import" : "spgen.pipeline");
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
