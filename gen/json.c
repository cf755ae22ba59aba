/* Strict JSON parser, see json.h. Recursive descent over a byte range; every
   partial tree is kept freeable so one json_free cleans up any error path. */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const unsigned char *s;
    size_t len, pos;
    char *err;
    size_t errlen, err_pos;
    size_t values, max_values;
    int failed, oom, too_many;
} parser;

/* Lets gcc/clang check the format strings of the printf-like helpers. */
#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static int fail(parser *p, size_t pos, const char *fmt, ...) PRINTF_LIKE(3, 4);

static int fail(parser *p, size_t pos, const char *fmt, ...)
{
    va_list ap;
    if (p->failed) /* keep the first, innermost message */
        return -1;
    p->failed = 1;
    p->err_pos = pos;
    if (p->err && p->errlen) {
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int out_of_memory(parser *p, size_t pos)
{
    p->oom = !p->failed;
    return fail(p, pos, "out of memory");
}

/* Bounds-checked looks at the current byte. */
static int at(const parser *p, int ch) { return p->pos < p->len && p->s[p->pos] == ch; }
static int at_digit(const parser *p) { return p->pos < p->len && (unsigned)(p->s[p->pos] - '0') < 10; }

static void skip_ws(parser *p)
{
    while (at(p, ' ') || at(p, '\t') || at(p, '\n') || at(p, '\r'))
        p->pos++;
}

/* Length of the well-formed UTF-8 sequence at s, or 0: rejects overlongs,
   surrogates and code points above U+10FFFF, as RFC 3629 requires. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t len = s[0] < 0x80 ? 1 : s[0] >> 5 == 6 ? 2 : s[0] >> 4 == 14 ? 3
               : s[0] >> 3 == 30 ? 4 : 0, i;
    uint32_t cp = s[0] & (0x7fu >> len); /* payload bits of the lead byte */
    if (len < 2 || n < len)
        return len == 1;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

static size_t utf8_put(unsigned char *o, uint32_t cp)
{
    static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4, i;
    if (n == 1) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    for (i = n; i-- > 1; cp >>= 6)
        o[i] = (unsigned char)(0x80 | (cp & 0x3f));
    o[0] = (unsigned char)(lead[n] | cp);
    return n;
}

/* Four hex digits at p->pos into *cp, or -1. */
static int hex4(parser *p, uint32_t *cp)
{
    size_t i;
    *cp = 0;
    if (p->len - p->pos < 4)
        return fail(p, p->pos, "truncated \\u escape");
    for (i = 0; i < 4; i++) {
        unsigned c = p->s[p->pos + i];
        unsigned d = c >= '0' && c <= '9' ? c - '0'
                   : c >= 'a' && c <= 'f' ? c - 'a' + 10
                   : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 16;
        if (d == 16)
            return fail(p, p->pos + i, "invalid hex digit in \\u escape");
        *cp = *cp << 4 | d;
    }
    p->pos += 4;
    return 0;
}

/* p->pos is at the opening quote. Decoded text never outgrows the raw bytes
   (an escape shrinks or keeps its size), so one allocation of that size fits. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    size_t start = p->pos, end = p->pos + 1, n = 0;
    unsigned char *o;
    while (end < p->len && p->s[end] != '"')
        end += p->s[end] == '\\' ? 2 : 1;
    if (end >= p->len)
        return fail(p, start, "unterminated string");
    if (!(o = malloc(end - start)))
        return out_of_memory(p, start);
    *out = (char *)o; /* owned by the caller from here, even on error */
    p->pos++;
    while (p->pos < end) {
        unsigned c = p->s[p->pos];
        uint32_t cp, lo;
        size_t k;
        if (c < 0x20)
            return fail(p, p->pos, "unescaped control character in string");
        if (c >= 0x80) {
            if (!(k = utf8_seq(p->s + p->pos, end - p->pos)))
                return fail(p, p->pos, "invalid UTF-8 in string");
            memcpy(o + n, p->s + p->pos, k);
            n += k;
            p->pos += k;
            continue;
        }
        p->pos++;
        if (c != '\\') {
            o[n++] = (unsigned char)c;
            continue;
        }
        c = p->s[p->pos++];
        if (c != 'u') {
            /* Pairs of (escape letter, byte it stands for). */
            static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
            for (k = 0; esc[k] && esc[k] != (char)c; k += 2)
                ;
            if (!esc[k] || !c)
                return fail(p, p->pos - 2, "invalid escape");
            o[n++] = (unsigned char)esc[k + 1];
            continue;
        }
        if (hex4(p, &cp))
            return -1;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return fail(p, p->pos - 6, "unpaired low surrogate");
        if (cp >= 0xd800 && cp <= 0xdbff) {
            /* A high surrogate is only valid as the first half of a pair. */
            if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                return fail(p, p->pos - 6, "unpaired high surrogate");
            p->pos += 2;
            if (hex4(p, &lo))
                return -1;
            if (lo < 0xdc00 || lo > 0xdfff)
                return fail(p, p->pos - 12, "unpaired high surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        n += utf8_put(o + n, cp);
    }
    o[n] = '\0';
    *out_len = n;
    p->pos = end + 1;
    return 0;
}

static int parse_number(parser *p, json_value *v)
{
    size_t start = p->pos;
    int neg = 0, is_int = 1, over = 0;
    uint64_t mag = 0;
    char buf[64], *tmp;
    if (at(p, '-')) { neg = 1; p->pos++; }
    if (!at_digit(p))
        return fail(p, p->pos, "invalid number");
    if (at(p, '0'))
        p->pos++; /* no leading zeros: "01" stops here and fails later */
    else
        while (at_digit(p)) {
            unsigned d = (unsigned)(p->s[p->pos++] - '0');
            if (mag > (UINT64_MAX - d) / 10)
                over = 1;
            else
                mag = mag * 10 + d;
        }
    if (at(p, '.')) {
        is_int = 0;
        p->pos++;
        if (!at_digit(p))
            return fail(p, p->pos, "expected digit after '.'");
        while (at_digit(p))
            p->pos++;
    }
    if (at(p, 'e') || at(p, 'E')) {
        is_int = 0;
        p->pos++;
        if (at(p, '+') || at(p, '-'))
            p->pos++;
        if (!at_digit(p))
            return fail(p, p->pos, "expected digit in exponent");
        while (at_digit(p))
            p->pos++;
    }
    if (is_int && !over && mag <= (uint64_t)INT64_MAX + (uint64_t)neg) {
        v->type = JSON_INT;
        v->i = neg ? (mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag)
                   : (int64_t)mag;
        v->num = (double)v->i;
        return 0;
    }
    v->type = JSON_NUMBER;
    v->int_overflow = is_int;
    /* strtod needs a NUL-terminated copy; the grammar was checked above, so
       strtod consumes it all (assumes the "C" locale's '.' decimal point). */
    tmp = p->pos - start < sizeof buf ? buf : malloc(p->pos - start + 1);
    if (!tmp)
        return out_of_memory(p, start);
    memcpy(tmp, p->s + start, p->pos - start);
    tmp[p->pos - start] = '\0';
    v->num = strtod(tmp, NULL);
    if (tmp != buf)
        free(tmp);
    return 0;
}

static int parse_value(parser *p, json_value *v, int depth);

/* Arrays and objects share one loop. The slot count n is bumped before a
   slot is parsed, so a half-parsed child is still reached by json_free. */
static int parse_container(parser *p, json_value *v, int depth)
{
    int obj = p->s[p->pos] == '{', close = obj ? '}' : ']';
    size_t cap = 0, sz = obj ? sizeof *v->members : sizeof *v->items;
    v->type = obj ? JSON_OBJECT : JSON_ARRAY;
    p->pos++;
    skip_ws(p);
    if (at(p, close)) { p->pos++; return 0; }
    for (;;) {
        json_value *slot;
        if (v->n == cap) {
            void *q = NULL;
            cap = cap ? cap * 2 : 4;
            if (cap > SIZE_MAX / sz ||
                !(q = realloc(obj ? (void *)v->members : (void *)v->items, cap * sz)))
                return out_of_memory(p, p->pos);
            if (obj)
                v->members = q;
            else
                v->items = q;
        }
        if (obj) {
            json_member *m = &v->members[v->n++];
            memset(m, 0, sizeof *m);
            skip_ws(p);
            if (!at(p, '"'))
                return fail(p, p->pos, "expected string key in object");
            if (parse_string(p, &m->key, &m->key_len))
                return -1;
            skip_ws(p);
            if (!at(p, ':'))
                return fail(p, p->pos, "expected ':' after object key");
            p->pos++;
            slot = &m->value;
        } else {
            slot = &v->items[v->n++];
            memset(slot, 0, sizeof *slot);
        }
        if (parse_value(p, slot, depth + 1))
            return -1;
        skip_ws(p);
        if (at(p, ',')) { p->pos++; continue; }
        if (at(p, close)) { p->pos++; return 0; }
        return fail(p, p->pos, obj ? "expected ',' or '}' in object"
                                   : "expected ',' or ']' in array");
    }
}

static int parse_literal(parser *p, json_value *v, const char *word, json_type t)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, p->pos, "invalid literal (expected '%s')", word);
    p->pos += n;
    v->type = t;
    return 0;
}

static int parse_value(parser *p, json_value *v, int depth)
{
    unsigned c;
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, p->pos, "unexpected end of input, expected a value");
    c = p->s[p->pos];
    if (++p->values > p->max_values) {
        p->too_many = !p->failed;
        return fail(p, p->pos, "more than %zu values", p->max_values);
    }
    if ((c == '[' || c == '{') && depth >= JSON_MAX_DEPTH)
        return fail(p, p->pos, "nesting deeper than %d levels", JSON_MAX_DEPTH);
    switch (c) {
    case '{': case '[': return parse_container(p, v, depth);
    case '"': v->type = JSON_STRING; return parse_string(p, &v->str, &v->len);
    case 't': return parse_literal(p, v, "true", JSON_TRUE);
    case 'f': return parse_literal(p, v, "false", JSON_FALSE);
    case 'n': return parse_literal(p, v, "null", JSON_NULL);
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return parse_number(p, v);
        return fail(p, p->pos, "unexpected character, expected a value");
    }
}

int json_parse(const char *text, size_t len, size_t max_values, json_value *out,
               size_t *err_pos, char *err, size_t errlen)
{
    parser p;
    memset(&p, 0, sizeof p);
    p.s = (const unsigned char *)text;
    p.len = len;
    p.max_values = max_values;
    p.err = err;
    p.errlen = errlen;
    memset(out, 0, sizeof *out);
    if (parse_value(&p, out, 0) == 0) {
        skip_ws(&p);
        if (p.pos == p.len)
            return 0;
        fail(&p, p.pos, "unexpected data after the top-level value");
    }
    json_free(out);
    if (err_pos)
        *err_pos = p.err_pos;
    return p.oom ? -2 : p.too_many ? -3 : -1;
}

void json_free(json_value *v)
{
    size_t i;
    if (!v)
        return;
    if (v->type == JSON_ARRAY)
        for (i = 0; i < v->n; i++)
            json_free(&v->items[i]);
    if (v->type == JSON_OBJECT)
        for (i = 0; i < v->n; i++) {
            free(v->members[i].key);
            json_free(&v->members[i].value);
        }
    free(v->items);
    free(v->members);
    free(v->str);
    memset(v, 0, sizeof *v);
}

const json_value *json_get(const json_value *o, const char *key)
{
    size_t i, n = strlen(key);
    if (!o || o->type != JSON_OBJECT)
        return NULL;
    for (i = 0; i < o->n; i++)
        if (o->members[i].key_len == n && memcmp(o->members[i].key, key, n) == 0)
            return &o->members[i].value;
    return NULL;
}
