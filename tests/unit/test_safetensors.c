/* Unit test for gen/safetensors.c and gen/json.c: writes fixtures into a
 * mkdtemp directory, checks st_read's verdict and message for valid files and
 * every malformed case, round-trips st_write, and removes what it wrote.
 * Prints PASS/FAIL st/<case> per case; exit 0 iff all pass. -v also prints
 * each expected error message, to review their wording. */
#define _XOPEN_SOURCE 700 /* mkdtemp, setrlimit, mkfifo, symlink */

#include "../../gen/safetensors.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/spgen_st_XXXXXX";
static char created[256][300]; /* every path written, for cleanup */
static int ncreated, nfail, verbose;

static void report(const char *name, const char *problem)
{
    if (problem) {
        printf("FAIL st/%s: %s\n", name, problem);
        nfail++;
    } else {
        printf("PASS st/%s\n", name);
    }
}

static const char *path_of(const char *name)
{
    static char buf[300];
    snprintf(buf, sizeof buf, "%s/%s", tmpdir, name);
    return buf;
}

static void track(const char *path)
{
    int i;
    for (i = 0; i < ncreated; i++)
        if (strcmp(created[i], path) == 0)
            return;
    if (ncreated < 256)
        snprintf(created[ncreated++], sizeof created[0], "%s", path);
}

static void write_bytes(const char *name, const void *p, size_t n)
{
    const char *path = path_of(name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "cannot write fixture %s\n", path);
        exit(2);
    }
    track(path);
}

/* A safetensors file: explicit header length (so it can lie), header, data. */
static void write_st_len(const char *name, uint64_t hlen, const char *hdr,
                         const void *data, size_t dlen)
{
    size_t n = strlen(hdr), i;
    unsigned char *b = malloc(8 + n + dlen + 1);
    if (!b)
        exit(2);
    for (i = 0; i < 8; i++)
        b[i] = (unsigned char)(hlen >> (8 * i));
    memcpy(b + 8, hdr, n);
    if (dlen)
        memcpy(b + 8 + n, data, dlen);
    write_bytes(name, b, 8 + n + dlen);
    free(b);
}

static void write_st(const char *name, const char *hdr, const void *data, size_t dlen)
{
    write_st_len(name, strlen(hdr), hdr, data, dlen);
}

static void put_u32(unsigned char *b, uint32_t u)
{
    b[0] = (unsigned char)u;
    b[1] = (unsigned char)(u >> 8);
    b[2] = (unsigned char)(u >> 16);
    b[3] = (unsigned char)(u >> 24);
}

static void put_f32(unsigned char *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(b, u);
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* 1 (with prob filled) if err lacks one of the '|'-separated words. */
static int lacks(const char *err, const char *words, char *prob, size_t problen)
{
    char w[128];
    while (*words) {
        size_t n = strcspn(words, "|");
        snprintf(w, sizeof w, "%.*s", (int)n, words);
        if (!strstr(err, w)) {
            snprintf(prob, problen, "message lacks \"%s\": %s", w, err);
            return 1;
        }
        words += n + (words[n] == '|');
    }
    return 0;
}

/* Reads path (confined to within unless NULL) and expects failure whose
   message holds every word of the '|'-separated list and none of absent's
   (NULL: no such list), with *out left empty. */
static void expect_refused(const char *cname, const char *path, const char *within,
                           const char *words, const char *absent)
{
    st_file f = {(st_tensor *)&f, 99}; /* garbage, so "left empty" is tested */
    char err[512], prob[700];
    int rc = st_read(path, within, &f, err, sizeof err);
    if (rc == 0) {
        st_free(&f);
        report(cname, "st_read succeeded, expected failure");
        return;
    }
    if (f.tensors || f.n) {
        report(cname, "failed but did not leave *out empty");
        return;
    }
    if (verbose)
        printf("# %s\n", err);
    if (strncmp(err, path, strlen(path)) != 0 || strncmp(err + strlen(path), ": ", 2) != 0) {
        snprintf(prob, sizeof prob, "message does not start with \"PATH: \": %s", err);
        report(cname, prob);
        return;
    }
    if (lacks(err, words, prob, sizeof prob))
        report(cname, prob);
    else if (absent && !lacks(err, absent, prob, sizeof prob))
        report(cname, "message quotes what it must not");
    else
        report(cname, NULL);
}

static void expect_fail_path(const char *cname, const char *path, const char *words)
{
    expect_refused(cname, path, NULL, words, NULL);
}

static void expect_fail(const char *cname, const char *words)
{
    char path[300];
    snprintf(path, sizeof path, "%s", path_of(cname));
    expect_fail_path(cname, path, words);
}

/* Fixture whose header is hdr and data section 64 zero bytes, then check. */
static void bad_header(const char *cname, const char *hdr, const char *words)
{
    static const unsigned char zeros[64];
    write_st(cname, hdr, zeros, sizeof zeros);
    expect_fail(cname, words);
}

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            snprintf(prob, sizeof prob, "line %d: %s", __LINE__, #cond);   \
            goto out;                                                      \
        }                                                                  \
    } while (0)

static void test_valid_f32(void)
{
    /* Tensors out of file order, a scalar, an empty tensor sharing an
       offset, escaped and raw UTF-8, metadata, and space padding. */
    const char *hdr =
        "{\"__metadata__\":{\"format\":\"pt\",\"raw\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"},"
        "\"\\u00e9\\ud83d\\ude00\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
        "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[8,32]},"
        "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[4,8]},"
        "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[8,8]}}      ";
    unsigned char d[32];
    st_file f = {NULL, 0};
    char err[512], prob[600] = "";
    const st_tensor *w = NULL, *s = NULL, *e = NULL;
    int i;
    put_f32(d, 99.0f);
    put_f32(d + 4, 42.5f);
    for (i = 0; i < 6; i++)
        put_f32(d + 8 + 4 * i, (float)(i + 1) * -0.25f);
    write_st("valid_f32", hdr, d, sizeof d);
    if (st_read(path_of("valid_f32"), NULL, &f, err, sizeof err) != 0) {
        report("valid_f32", err);
        return;
    }
    CHECK(f.n == 4);
    CHECK(strcmp(f.tensors[0].name, "e") == 0 && strcmp(f.tensors[2].name, "w") == 0);
    /* \u00e9 and the surrogate pair for U+1F600, decoded to UTF-8. */
    CHECK((s = st_find(&f, "\xc3\xa9\xf0\x9f\x98\x80")) && s->data[0] == 99.0f);
    CHECK((w = st_find(&f, "w")) && (s = st_find(&f, "s")) && (e = st_find(&f, "e")));
    CHECK(st_find(&f, "nope") == NULL && st_find(&f, "__metadata__") == NULL);
    CHECK(w->ndim == 2 && w->shape[0] == 2 && w->shape[1] == 3 && w->count == 6);
    for (i = 0; i < 6; i++)
        CHECK(w->data[i] == (float)(i + 1) * -0.25f);
    CHECK(s->ndim == 0 && s->count == 1 && s->data[0] == 42.5f);
    CHECK(e->ndim == 2 && e->shape[0] == 0 && e->shape[1] == 5 && e->count == 0 && e->data);
out:
    st_free(&f);
    st_free(&f); /* must be harmless */
    report("valid_f32", *prob ? prob : NULL);
}

/* Raw 16-bit patterns and the float32 bits each must become. */
static void test_half(const char *cname, const char *dtype, const uint16_t *in,
                      const uint32_t *want, int n)
{
    char hdr[256], err[512], prob[600] = "";
    unsigned char d[64];
    st_file f = {NULL, 0};
    const st_tensor *t;
    int i;
    snprintf(hdr, sizeof hdr,
             "{\"h\":{\"dtype\":\"%s\",\"shape\":[%d],\"data_offsets\":[0,%d]}}", dtype,
             n, 2 * n);
    for (i = 0; i < n; i++) {
        d[2 * i] = (unsigned char)in[i];
        d[2 * i + 1] = (unsigned char)(in[i] >> 8);
    }
    write_st(cname, hdr, d, (size_t)(2 * n));
    if (st_read(path_of(cname), NULL, &f, err, sizeof err) != 0) {
        report(cname, err);
        return;
    }
    CHECK((t = st_find(&f, "h")) && t->count == (size_t)n);
    for (i = 0; i < n; i++) {
        uint32_t got = bits(t->data[i]);
        /* NaN: any quiet NaN with the sign kept is right. */
        if (isnan(t->data[i]) && (want[i] & 0x7fc00000u) == 0x7fc00000u &&
            (got >> 31) == (want[i] >> 31))
            continue;
        if (got != want[i]) {
            snprintf(prob, sizeof prob, "element %d (0x%04x): got 0x%08lx (%g), want 0x%08lx",
                     i, in[i], (unsigned long)got, (double)t->data[i], (unsigned long)want[i]);
            goto out;
        }
    }
out:
    st_free(&f);
    report(cname, *prob ? prob : NULL);
}

static void test_f16_bf16(void)
{
    static const uint16_t h[] = {0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x03ff, 0x0400,
                                 0x8001, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555};
    static const uint32_t hw[] = {
        0x3f800000, /* 1 */
        0xc0000000, /* -2 */
        0x3f000000, /* 0.5 */
        0x477fe000, /* 65504, largest half */
        0x33800000, /* 2^-24, smallest subnormal */
        0x387fc000, /* largest subnormal */
        0x38800000, /* 2^-14, smallest normal */
        0xb3800000, /* -2^-24 */
        0x00000000, 0x80000000, /* +-0 */
        0x7f800000, 0xff800000, /* +-inf */
        0x7fc00000, /* nan */
        0x3eaaa000, /* 0.333251953125 */
    };
    static const uint16_t b[] = {0x3f80, 0xc000, 0x4049, 0x0001, 0x8000, 0x7f80, 0xff80,
                                 0x7fc0, 0x7f7f};
    static const uint32_t bw[] = {0x3f800000, 0xc0000000, 0x40490000, 0x00010000,
                                  0x80000000, 0x7f800000, 0xff800000, 0x7fc00000,
                                  0x7f7f0000};
    test_half("valid_f16", "F16", h, hw, (int)(sizeof h / sizeof h[0]));
    test_half("valid_bf16", "BF16", b, bw, (int)(sizeof b / sizeof b[0]));
}

static void test_file_level(void)
{
    char deep[400];
    int i;
    unsigned char hdr4[16];

    expect_fail_path("unreadable_missing", path_of("does_not_exist"), "cannot open|No such");
    expect_fail_path("unreadable_directory", tmpdir, "not a regular file (it is a directory)");
    write_bytes("short_file", "\x10\0\0\0\0", 5);
    expect_fail("short_file", "5 bytes|shorter than");
    write_bytes("empty_file", "", 0);
    expect_fail("empty_file", "0 bytes|shorter than");
    /* The length field is the file's bytes: a message never quotes it. */
    write_st_len("header_longer_than_file", 1000, "{}", "", 0);
    expect_refused("header_longer_than_file", path_of("header_longer_than_file"), NULL,
                   "not a safetensors file|length field exceeds the file size (10 bytes)", "1000");
    write_st_len("header_len_max_u64", UINT64_MAX, "{}", "", 0);
    expect_refused("header_len_max_u64", path_of("header_len_max_u64"), NULL,
                   "not a safetensors file|exceeds the file size", "18446744073709551615");
    write_bytes("text_file", "root:x:0:0:root:/root:/bin/bash\n", 32);
    expect_refused("text_file", path_of("text_file"), NULL,
                   "not a safetensors file|length field exceeds the file size (32 bytes)", "root|3475222254926655346");

    /* The JSON parser's own cases, seen through st_read. */
    bad_header("json_missing_colon", "{\"a\" 1}", "malformed JSON|byte 5|':'");
    bad_header("json_trailing_comma", "{\"a\":1,}", "malformed JSON|byte 7");
    bad_header("json_unterminated_string", "{\"a\":\"xyz", "byte 5|unterminated");
    bad_header("json_bad_escape", "{\"a\\q\":1}", "byte 3|escape");
    bad_header("json_lone_high_surrogate", "{\"\\ud800x\":1}", "byte 2|surrogate");
    bad_header("json_lone_low_surrogate", "{\"\\udc00\":1}", "byte 2|surrogate");
    bad_header("json_bad_hex", "{\"\\u12g4\":1}", "byte 6|hex");
    bad_header("json_control_char", "{\"a\tb\":1}", "byte 3|control");
    bad_header("json_bad_utf8", "{\"\xff\":1}", "byte 2|UTF-8");
    bad_header("json_overlong_utf8", "{\"\xc0\xaf\":1}", "byte 2|UTF-8");
    bad_header("json_utf8_surrogate", "{\"\xed\xa0\x80\":1}", "byte 2|UTF-8");
    bad_header("json_utf8_above_max", "{\"ab\xf4\x90\x80\x80\":1}", "byte 4|UTF-8");
    bad_header("json_utf8_truncated", "{\"\xe2\x82\":1}", "byte 2|UTF-8");
    bad_header("json_utf8_bad_lead", "{\"\xf8\x88\x80\x80\x80\":1}", "byte 2|UTF-8");
    bad_header("json_trailing_garbage", "{} x", "byte 3|after");
    bad_header("json_leading_zero", "{\"a\":01}", "byte 6");
    bad_header("json_bad_literal", "{\"a\":tru}", "byte 5|true");
    bad_header("json_bad_fraction", "{\"a\":1.}", "byte 7|digit");
    memset(hdr4, 0, sizeof hdr4); /* header of NUL bytes */
    write_st_len("json_nul_header", 8, "", hdr4, 8);
    expect_refused("json_nul_header", path_of("json_nul_header"), NULL,
                   "not a safetensors file|byte 0|unexpected character", "0x00");
    write_st("json_bad_character", "{\"a\":@}", "", 0);
    expect_refused("json_bad_character", path_of("json_bad_character"), NULL,
                   "byte 5|unexpected character", "@");
    write_st_len("json_empty_header", 0, "", "", 0);
    expect_fail("json_empty_header", "byte 0|end of input");
    strcpy(deep, "{\"a\":");
    for (i = 0; i < 100; i++)
        strcat(deep, "[");
    bad_header("json_too_deep", deep, "nesting|byte 68");

    bad_header("not_object", "[1,2]", "not a JSON object");
    bad_header("not_object_string", "\"x\"", "not a JSON object");
}

static void test_entries(void)
{
#define T(dt, sh, off) "{\"a\":{\"dtype\":" dt ",\"shape\":" sh ",\"data_offsets\":" off "}}"
    bad_header("entry_not_object", "{\"a\":[1]}", "'a'|not an object");
    bad_header("missing_dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}",
               "'a'|missing \"dtype\"");
    bad_header("missing_shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
               "'a'|missing \"shape\"");
    bad_header("missing_data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}",
               "'a'|missing \"data_offsets\"");
    bad_header("dtype_not_string", T("32", "[1]", "[0,4]"), "'a'|\"dtype\" is not a string");
    bad_header("shape_not_array", T("\"F32\"", "4", "[0,4]"), "'a'|\"shape\" is not an array");
    bad_header("offsets_not_array", T("\"F32\"", "[1]", "{}"), "'a'|not an array of 2");
    bad_header("offsets_three", T("\"F32\"", "[1]", "[0,4,8]"), "'a'|not an array of 2");
    bad_header("offsets_not_integer", T("\"F32\"", "[1]", "[0,4.5]"), "'a'|not an integer");
    bad_header("offsets_negative", T("\"F32\"", "[1]", "[-4,0]"), "'a'|negative");
    bad_header("offsets_huge", T("\"F32\"", "[1]", "[0,18446744073709551616]"),
               "'a'|too large");
    bad_header("dim_negative", T("\"F32\"", "[2,-1]", "[0,4]"), "'a'|dimension 1|negative");
    bad_header("dim_fraction", T("\"F32\"", "[2.5]", "[0,4]"), "'a'|dimension 0|not an integer");
    bad_header("dim_exponent", T("\"F32\"", "[1e2]", "[0,4]"), "'a'|not an integer");
    bad_header("dim_string", T("\"F32\"", "[\"2\"]", "[0,4]"), "'a'|not a number");
    bad_header("dim_overflow_int64", T("\"F32\"", "[99999999999999999999]", "[0,4]"),
               "'a'|too large");
    bad_header("shape_product_overflow",
               T("\"F32\"", "[4294967296,4294967296,4]", "[0,4]"), "'a'|absurdly large");
    bad_header("too_many_dims", T("\"F32\"", "[1,1,1,1,1,1,1,1,1]", "[0,4]"),
               "'a'|9 dimensions");
    bad_header("unsupported_dtype", T("\"I64\"", "[1]", "[0,8]"),
               "'a'|unsupported dtype 'I64'");
    bad_header("offsets_reversed", T("\"F32\"", "[1]", "[8,4]"), "'a'|[8, 4]|begin > end");
    bad_header("offsets_beyond_data", T("\"F32\"", "[20]", "[0,80]"),
               "'a'|end 80|beyond the data section (64 bytes)");
    bad_header("size_mismatch", T("\"F32\"", "[3]", "[0,8]"), "'a'|span 8 bytes|need 12");
    bad_header("size_mismatch_f16", T("\"F16\"", "[3]", "[0,12]"), "'a'|span 12|need 6");
    bad_header("overlap",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
               "'a'|'b'|overlap");
    bad_header("overlap_contained",
               "{\"big\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]},"
               "\"mid\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
               "\"end\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[28,32]}}",
               "'big'|'mid'|overlap");
    bad_header("overlap_identical",
               "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
               "'x'|'y'|overlap");
    bad_header("duplicate_name",
               "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               "duplicate tensor name 'a'");
    bad_header("metadata_not_object", "{\"__metadata__\":[]}", "__metadata__|not an object");
    bad_header("metadata_value_not_string", "{\"__metadata__\":{\"k\":1}}",
               "__metadata__|'k'|not a string");
    bad_header("metadata_duplicate", "{\"__metadata__\":{},\"__metadata__\":{}}",
               "duplicate|__metadata__");
    bad_header("name_with_nul", "{\"a\\u0000b\":{}}", "NUL");
#undef T
}

/* st_write to the file path (created or truncated), closed. */
static int write_path(const char *path, const st_tensor *ts, size_t n, char *err, size_t errlen)
{
    FILE *f = fopen(path, "wb");
    int rc = f ? st_write(f, path, ts, n, err, errlen) : -1;
    if (!f)
        snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
    if (f && fclose(f) != 0 && rc == 0) {
        snprintf(err, errlen, "%s: cannot close: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

static void test_round_trip(void)
{
    static const char *names[] = {"layer.0.weight", "q\"uo\\te\n", "empty", "\xc3\xbcn\xc3\xaf"};
    float w[6] = {1.5f, -0.0f, 0, 0, 1e-40f /* subnormal */, 3.0e38f};
    float sc = -7.25f, uni[3] = {1, 2, 3};
    st_tensor ts[4];
    st_file f = {NULL, 0};
    char err[512], prob[600] = "";
    const char *path = path_of("round_trip.safetensors");
    unsigned char head[8], *buf = NULL;
    uint64_t hlen = 0;
    size_t i, j;
    FILE *fp;
    long fsize;

    w[2] = (float)INFINITY;
    w[3] = (float)NAN;
    memset(ts, 0, sizeof ts);
    for (i = 0; i < 4; i++)
        ts[i].name = (char *)names[i];
    ts[0].ndim = 2; ts[0].shape[0] = 2; ts[0].shape[1] = 3; ts[0].count = 6; ts[0].data = w;
    ts[1].ndim = 0; ts[1].count = 1; ts[1].data = &sc;
    ts[2].ndim = 3; ts[2].shape[0] = 4; ts[2].shape[1] = 0; ts[2].shape[2] = 2;
    ts[3].ndim = 1; ts[3].shape[0] = 3; ts[3].count = 3; ts[3].data = uni;
    track(path);
    write_bytes("round_trip.safetensors", "old junk", 8); /* replaced */
    if (write_path(path, ts, 4, err, sizeof err) != 0) {
        report("round_trip", err);
        return;
    }
    CHECK(st_read(path, NULL, &f, err, sizeof err) == 0);
    CHECK(f.n == 4);
    for (i = 0; i < 4; i++) {
        const st_tensor *t = st_find(&f, names[i]);
        CHECK(t && t->ndim == ts[i].ndim && t->count == ts[i].count);
        for (j = 0; j < (size_t)t->ndim; j++)
            CHECK(t->shape[j] == ts[i].shape[j]);
        for (j = 0; j < t->count; j++)
            CHECK(bits(t->data[j]) == bits(ts[i].data[j]));
    }
    /* Layout: header length a multiple of 8, padded with spaces, keys in the
       given order, data back to back right after it. */
    CHECK((fp = fopen(path, "rb")) != NULL);
    fseek(fp, 0, SEEK_END);
    fsize = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)fsize);
    CHECK(buf && fread(buf, 1, (size_t)fsize, fp) == (size_t)fsize);
    fclose(fp);
    memcpy(head, buf, 8);
    for (i = 8; i-- > 0;)
        hlen = hlen << 8 | head[i];
    CHECK(hlen % 8 == 0 && hlen < (uint64_t)fsize);
    CHECK((uint64_t)fsize - 8 - hlen == (6 + 1 + 0 + 3) * 4);
    CHECK(buf[8 + hlen - 1] == ' ' || buf[8 + hlen - 1] == '}');
    {
        char *h = malloc(hlen + 1);
        const char *p0, *p1, *p2;
        CHECK(h);
        memcpy(h, buf + 8, hlen);
        h[hlen] = '\0';
        p0 = strstr(h, "\"layer.0.weight\"");
        p1 = strstr(h, "\"q\\\"uo\\\\te\\u000a\"");
        p2 = strstr(h, "\"empty\"");
        j = p0 && p1 && p2 && p0 < p1 && p1 < p2 && strstr(h, "[0,24]") && strstr(h, "[24,28]");
        free(h);
        CHECK(j);
    }
    /* Data starts 8-aligned and is little-endian. */
    CHECK((8 + hlen) % 8 == 0 && buf[8 + hlen] == 0x00 && buf[8 + hlen + 3] == 0x3f &&
          buf[8 + hlen + 2] == 0xc0);
out:
    free(buf);
    st_free(&f);
    report("round_trip", *prob ? prob : NULL);
}

static void expect_write_fail(const char *cname, const char *path, const st_tensor *ts,
                              size_t n, const char *words)
{
    char err[512], prob[700];
    struct stat st;
    if (write_path(path, ts, n, err, sizeof err) == 0) {
        report(cname, "st_write succeeded, expected failure");
        return;
    }
    if (verbose)
        printf("# %s\n", err);
    if (stat(path, &st) != 0 || st.st_size != 0) { /* the checks come before the first byte */
        report(cname, "failed st_write wrote to its file");
        return;
    }
    report(cname, lacks(err, words, prob, sizeof prob) ? prob : NULL);
}

static void test_write_errors(void)
{
    float v[2] = {1, 2};
    st_tensor t[2];
    char p[300];
    snprintf(p, sizeof p, "%s", path_of("w_err.safetensors"));
    memset(t, 0, sizeof t);
    t[0].name = "a"; t[0].ndim = 1; t[0].shape[0] = 2; t[0].count = 2; t[0].data = v;
    t[1] = t[0];
    track(p);
    expect_write_fail("write_duplicate", p, t, 2, "duplicate tensor name 'a'");
    t[1].name = "b";
    t[1].count = 3;
    expect_write_fail("write_count_mismatch", p, t, 2, "'b'|count 3");
    t[1].count = 2;
    t[1].ndim = 9;
    expect_write_fail("write_too_many_dims", p, t, 2, "ndim 9");
    t[1].ndim = 1;
    t[1].shape[0] = -2;
    expect_write_fail("write_negative_dim", p, t, 2, "negative");
    t[1].shape[0] = 2;
    t[1].name = "__metadata__";
    expect_write_fail("write_reserved_name", p, t, 2, "reserved");
    t[1].name = "\xff";
    expect_write_fail("write_bad_utf8_name", p, t, 2, "tensor 1|UTF-8");
    t[1].name = "b";
    t[1].data = NULL;
    expect_write_fail("write_null_data", p, t, 2, "data is NULL");
}

/* A write that fails part way (file size limit) is reported, not taken for
   success; that the destination stays as it was is outdir's staging
   (tests/generator.sh, outputs/). */
static void test_write_midway(void)
{
    static float big[4096];
    st_tensor t;
    struct rlimit old, lim;
    char err[512], prob[700] = "";
    const char *path = path_of("midway.safetensors");
    FILE *fp;
    int rc;
    memset(&t, 0, sizeof t);
    t.name = "big"; t.ndim = 1; t.shape[0] = 4096; t.count = 4096; t.data = big;
    track(path);
    if (getrlimit(RLIMIT_FSIZE, &old) != 0 || !(fp = fopen(path, "wb"))) {
        report("write_fails_midway", "getrlimit or fopen failed");
        return;
    }
    lim = old;
    lim.rlim_cur = 4096; /* the 16 KiB of data cannot fit */
    signal(SIGXFSZ, SIG_IGN); /* get EFBIG instead of being killed */
    setrlimit(RLIMIT_FSIZE, &lim);
    rc = st_write(fp, path, &t, 1, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    fclose(fp);
    if (verbose && rc)
        printf("# %s\n", err);
    if (rc == 0)
        snprintf(prob, sizeof prob, "st_write succeeded past the size limit");
    else
        lacks(err, "write failed", prob, sizeof prob);
    report("write_fails_midway", *prob ? prob : NULL);
}

/* A header of n entries, each fmt with its index (a printf format of one
   %d), in a buffer the caller frees. */
static char *entries(int n, const char *open, const char *fmt, const char *close)
{
    size_t cap = strlen(open) + strlen(close) + (size_t)n * (strlen(fmt) + 12) + 1, len;
    char *h = malloc(cap);
    int i;
    if (!h)
        exit(2);
    len = (size_t)sprintf(h, "%s", open);
    for (i = 0; i < n; i++) {
        if (i)
            h[len++] = ',';
        len += (size_t)sprintf(h + len, fmt, i);
    }
    sprintf(h + len, "%s", close);
    return h;
}

/* A file of hlen header bytes, of which the first few are hdr, and dlen data
   bytes: the rest a hole, so a file past a size limit costs no disk. */
static void write_sparse(const char *name, uint64_t hlen, const char *hdr, uint64_t dlen)
{
    FILE *f;
    write_st_len(name, hlen, hdr, "", 0);
    if (!(f = fopen(path_of(name), "r+b")) || ftruncate(fileno(f), (off_t)(8 + hlen + dlen)) != 0 ||
        fclose(f) != 0) {
        fprintf(stderr, "cannot size fixture %s\n", name);
        exit(2);
    }
}

/* The documented limits (safetensors.h), each at and past its value; no
   message quotes the file's bytes. */
static void test_limits(void)
{
    char *h, name[64];
    st_file f = {NULL, 0};
    char err[512];
    int ok;

    write_sparse("header_over_limit", ST_MAX_HEADER_BYTES + 8, "{}", 0);
    expect_refused("header_over_limit", path_of("header_over_limit"), NULL,
                   "the header is longer than the limit of 16 MiB", "16777224");

    h = entries(ST_MAX_TENSORS, "{", "\"%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}", "}");
    write_st("tensors_at_limit", h, "", 0);
    free(h);
    ok = st_read(path_of("tensors_at_limit"), NULL, &f, err, sizeof err) == 0 && f.n == ST_MAX_TENSORS;
    st_free(&f);
    report("tensors_at_limit", ok ? NULL : err);
    h = entries(ST_MAX_TENSORS + 1, "{", "\"%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}", "}");
    write_st("tensors_over_limit", h, "", 0);
    free(h);
    expect_fail("tensors_over_limit", "the header lists 65537 tensors, past the limit of 65536");

    /* Values counted while parsing: one tensor's shape of a million dims is
       refused before it builds a million-node tree. */
    h = entries(16 * ST_MAX_TENSORS, "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,0],\"shape\":[", "%d", "]}}");
    write_st("json_values_over_limit", h, "", 0);
    free(h);
    expect_fail("json_values_over_limit", "the header holds more than 1048576 JSON values, more than 65536 tensors can need");

    /* F16: the data section is half the elements' float32 bytes. */
    snprintf(name, sizeof name, "%s", "elements_over_limit");
    h = malloc(256);
    if (!h)
        exit(2);
    sprintf(h, "{\"a\":{\"dtype\":\"F16\",\"shape\":[%" PRIu64 "],\"data_offsets\":[0,%" PRIu64 "]},"
               "\"b\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}}",
            ST_MAX_ELEMENTS, 2 * ST_MAX_ELEMENTS, 2 * ST_MAX_ELEMENTS, 2 * ST_MAX_ELEMENTS + 2);
    write_sparse(name, strlen(h), h, 2 * ST_MAX_ELEMENTS + 2);
    free(h);
    expect_fail(name, "the tensors up to 'b' hold 268435457 elements, past the limit of 268435456 (1024 MiB as float32)");
}

/* Only regular files are read, none waited on; confined to a directory, what
   resolves outside it is refused. */
static void test_file_kinds(void)
{
    char sub[300], link_out[300], link_in[300], link_fifo[300], fifo[300], copy[300];
    st_file f = {NULL, 0};
    char err[512];
    int ok;

    snprintf(fifo, sizeof fifo, "%s", path_of("fifo"));
    if (mkfifo(fifo, 0600) != 0) {
        report("fifo", "cannot make a FIFO");
    } else {
        track(fifo);
        alarm(10); /* a read that waits on the FIFO ends the test here */
        expect_fail_path("fifo", fifo, "not a regular file (it is a FIFO)");
        alarm(0);
    }
    expect_fail_path("char_device", "/dev/zero", "/dev/zero: not a regular file (it is a character device)");

    /* tmpdir/sub holds a copy of valid_f32, a link to it, and a link out */
    snprintf(sub, sizeof sub, "%s", path_of("sub"));
    snprintf(copy, sizeof copy, "%s", path_of("sub/copy"));
    snprintf(link_in, sizeof link_in, "%s", path_of("sub/link_in"));
    snprintf(link_out, sizeof link_out, "%s", path_of("sub/link_out"));
    if (mkdir(sub, 0700) != 0 || (track(sub), symlink("../valid_f32", link_out) != 0) ||
        (track(link_out), symlink("copy", link_in) != 0)) {
        report("confined", "cannot make the fixtures");
        return;
    }
    track(link_in);
    {
        FILE *in = fopen(path_of("valid_f32"), "rb"), *out = fopen(copy, "wb");
        char buf[4096];
        size_t n;
        while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        track(copy);
    }
    ok = st_read(copy, sub, &f, err, sizeof err) == 0 && f.n == 4;
    st_free(&f);
    report("confined_inside", ok ? NULL : err);
    ok = st_read(link_in, sub, &f, err, sizeof err) == 0 && f.n == 4;
    st_free(&f);
    report("confined_link_inside", ok ? NULL : err);
    ok = st_read(link_out, NULL, &f, err, sizeof err) == 0 && f.n == 4;
    st_free(&f);
    report("unconfined_link_outside", ok ? NULL : err);
    expect_refused("confined_link_outside", link_out, sub, "link_out: outside the spec's directory (symlinks resolved)", NULL);
    expect_refused("confined_parent", path_of("valid_f32"), sub, "valid_f32: outside the spec's directory", NULL);
    /* refused as outside before it is opened (tests/errors.sh checks that a
       writer waiting on the FIFO is not released) */
    snprintf(link_fifo, sizeof link_fifo, "%s", path_of("sub/link_fifo"));
    if (symlink("../fifo", link_fifo) != 0) {
        report("confined_link_fifo", "cannot make the link");
        return;
    }
    track(link_fifo);
    alarm(10);
    expect_refused("confined_link_fifo", link_fifo, sub, "link_fifo: outside the spec's directory (symlinks resolved)", NULL);
    alarm(0);
}

static void test_err_buffers(void)
{
    st_file f = {NULL, 0};
    char tiny[6];
    /* A small or absent err buffer must truncate, not overflow. */
    int a = st_read(path_of("does_not_exist"), NULL, &f, tiny, sizeof tiny);
    int b = st_read(path_of("does_not_exist"), NULL, &f, NULL, 0);
    report("err_buffer_small", a != 0 && b != 0 && strlen(tiny) == sizeof tiny - 1
                                   ? NULL : "bad truncation");
}

int main(int argc, char **argv)
{
    int i;
    verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_valid_f32();
    test_f16_bf16();
    test_file_level();
    test_entries();
    test_round_trip();
    test_write_errors();
    test_write_midway();
    test_err_buffers();
    test_limits();
    test_file_kinds();
    for (i = ncreated; i-- > 0;) /* a directory after what it holds */
        remove(created[i]);
    if (rmdir(tmpdir) != 0) {
        perror(tmpdir);
        nfail++;
    }
    printf("%s: %d failed\n", nfail ? "FAIL" : "OK", nfail);
    return nfail ? 1 : 0;
}
