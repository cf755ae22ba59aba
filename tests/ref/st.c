/* st.c - a minimal safetensors reader. See st.h. */
#include "st.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAXDIM 16
#define ST_MAX_HEADER (100u * 1024u * 1024u) /* the limit the safetensors format sets */
#define ST_MAX_DEPTH 64

typedef struct {
    char *name;
    char dtype[16];
    int dsize; /* bytes per element, 0 when the dtype is not one we know */
    int ndim;
    long shape[ST_MAXDIM];
    uint64_t begin, end;
    float *data; /* converted on first st_get */
} st_entry;

struct st {
    char *path;
    FILE *fp;
    uint64_t data_start; /* 8 + header length */
    uint64_t data_len;
    int n, cap;
    st_entry *e;
};

static const struct {
    const char *name;
    int size;
} dtypes[] = {
    {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
    {"I16", 2}, {"I8", 1}, {"U64", 8}, {"U32", 4}, {"U16", 2}, {"U8", 1},
    {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};

/* ---- JSON -------------------------------------------------------------- */

typedef struct {
    const char *s, *end, *start;
    const char *path;
    int failed;
} jp;

static int jerr(jp *p, const char *what)
{
    if (!p->failed)
        fprintf(stderr, "%s: malformed safetensors header: %s (at byte %ld of the JSON)\n", p->path, what,
                (long)(p->s - p->start));
    p->failed = 1;
    return -1;
}

static void jws(jp *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int jch(jp *p, char c)
{
    jws(p);
    if (p->s < p->end && *p->s == c) {
        p->s++;
        return 1;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int read_hex4(jp *p, unsigned *v)
{
    *v = 0;
    if (p->end - p->s < 4)
        return jerr(p, "truncated \\u escape");
    for (int i = 0; i < 4; i++) {
        int h = hexval(p->s[i]);
        if (h < 0)
            return jerr(p, "bad \\u escape");
        *v = *v << 4 | (unsigned)h;
    }
    p->s += 4;
    return 0;
}

/* Parses a JSON string; *out is malloc'd (NUL-terminated) unless out is NULL. */
static int jstr(jp *p, char **out)
{
    size_t cap = 32, n = 0;
    char *b = NULL;
    jws(p);
    if (p->s >= p->end || *p->s != '"')
        return jerr(p, "expected a string");
    p->s++;
    if (out) {
        b = malloc(cap);
        if (!b)
            return jerr(p, "out of memory");
    }
    for (;;) {
        unsigned char tmp[4];
        int tn = 0;
        if (p->s >= p->end) {
            free(b);
            return jerr(p, "unterminated string");
        }
        unsigned char c = (unsigned char)*p->s++;
        if (c == '"')
            break;
        if (c < 0x20) {
            free(b);
            return jerr(p, "control character in string");
        }
        if (c != '\\') {
            tmp[tn++] = c;
        } else {
            if (p->s >= p->end) {
                free(b);
                return jerr(p, "unterminated string");
            }
            c = (unsigned char)*p->s++;
            switch (c) {
            case '"': case '\\': case '/': tmp[tn++] = c; break;
            case 'b': tmp[tn++] = '\b'; break;
            case 'f': tmp[tn++] = '\f'; break;
            case 'n': tmp[tn++] = '\n'; break;
            case 'r': tmp[tn++] = '\r'; break;
            case 't': tmp[tn++] = '\t'; break;
            case 'u': {
                unsigned u;
                if (read_hex4(p, &u)) {
                    free(b);
                    return -1;
                }
                if (u >= 0xD800 && u < 0xDC00) {
                    unsigned lo;
                    if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u') {
                        free(b);
                        return jerr(p, "unpaired surrogate in \\u escape");
                    }
                    p->s += 2;
                    if (read_hex4(p, &lo)) {
                        free(b);
                        return -1;
                    }
                    if (lo < 0xDC00 || lo > 0xDFFF) {
                        free(b);
                        return jerr(p, "unpaired surrogate in \\u escape");
                    }
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                } else if (u >= 0xDC00 && u <= 0xDFFF) {
                    free(b);
                    return jerr(p, "unpaired surrogate in \\u escape");
                }
                if (u == 0) {
                    free(b);
                    return jerr(p, "NUL character in string");
                }
                if (u < 0x80) {
                    tmp[tn++] = (unsigned char)u;
                } else if (u < 0x800) {
                    tmp[tn++] = (unsigned char)(0xC0 | u >> 6);
                    tmp[tn++] = (unsigned char)(0x80 | (u & 0x3F));
                } else if (u < 0x10000) {
                    tmp[tn++] = (unsigned char)(0xE0 | u >> 12);
                    tmp[tn++] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
                    tmp[tn++] = (unsigned char)(0x80 | (u & 0x3F));
                } else {
                    tmp[tn++] = (unsigned char)(0xF0 | u >> 18);
                    tmp[tn++] = (unsigned char)(0x80 | (u >> 12 & 0x3F));
                    tmp[tn++] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
                    tmp[tn++] = (unsigned char)(0x80 | (u & 0x3F));
                }
                break;
            }
            default:
                free(b);
                return jerr(p, "bad escape in string");
            }
        }
        if (out) {
            if (n + (size_t)tn + 1 > cap) {
                char *nb;
                cap *= 2;
                nb = realloc(b, cap);
                if (!nb) {
                    free(b);
                    return jerr(p, "out of memory");
                }
                b = nb;
            }
            memcpy(b + n, tmp, (size_t)tn);
            n += (size_t)tn;
        }
    }
    if (out) {
        b[n] = '\0';
        *out = b;
    }
    return 0;
}

/* A non-negative JSON integer (no sign, fraction or exponent). */
static int juint(jp *p, uint64_t *v)
{
    jws(p);
    *v = 0;
    if (p->s >= p->end || *p->s < '0' || *p->s > '9')
        return jerr(p, "expected a non-negative integer");
    while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
        if (*v > (UINT64_MAX - 9) / 10)
            return jerr(p, "integer too large");
        *v = *v * 10 + (uint64_t)(*p->s - '0');
        p->s++;
    }
    if (p->s < p->end && (*p->s == '.' || *p->s == 'e' || *p->s == 'E'))
        return jerr(p, "expected an integer");
    return 0;
}

static int jlit(jp *p, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, lit, n) != 0)
        return jerr(p, "unexpected token");
    p->s += n;
    return 0;
}

/* Skips any JSON value (used for __metadata__ and unknown entry fields). */
static int jskip(jp *p, int depth)
{
    if (depth > ST_MAX_DEPTH)
        return jerr(p, "nesting too deep");
    jws(p);
    if (p->s >= p->end)
        return jerr(p, "unexpected end");
    switch (*p->s) {
    case '"':
        return jstr(p, NULL);
    case '{':
        p->s++;
        if (jch(p, '}'))
            return 0;
        do {
            if (jstr(p, NULL))
                return -1;
            if (!jch(p, ':'))
                return jerr(p, "expected ':'");
            if (jskip(p, depth + 1))
                return -1;
        } while (jch(p, ','));
        if (!jch(p, '}'))
            return jerr(p, "expected ',' or '}'");
        return 0;
    case '[':
        p->s++;
        if (jch(p, ']'))
            return 0;
        do {
            if (jskip(p, depth + 1))
                return -1;
        } while (jch(p, ','));
        if (!jch(p, ']'))
            return jerr(p, "expected ',' or ']'");
        return 0;
    case 't':
        return jlit(p, "true");
    case 'f':
        return jlit(p, "false");
    case 'n':
        return jlit(p, "null");
    default: {
        /* number: -?digits[.digits][(e|E)[+-]digits] */
        const char *s0 = p->s;
        if (p->s < p->end && *p->s == '-')
            p->s++;
        while (p->s < p->end && ((*p->s >= '0' && *p->s <= '9') || *p->s == '.' || *p->s == 'e' ||
                                 *p->s == 'E' || *p->s == '+' || *p->s == '-'))
            p->s++;
        if (p->s == s0 || (p->s == s0 + 1 && *s0 == '-'))
            return jerr(p, "unexpected token");
        return 0;
    }
    }
}

/* Parses [u, u, ...] into v (at most max). */
static int juint_array(jp *p, uint64_t *v, int max, int *n, const char *what)
{
    *n = 0;
    if (!jch(p, '[')) {
        char m[96];
        snprintf(m, sizeof m, "%s must be an array", what);
        return jerr(p, m);
    }
    if (jch(p, ']'))
        return 0;
    do {
        if (*n >= max) {
            char m[96];
            snprintf(m, sizeof m, "%s has more than %d elements", what, max);
            return jerr(p, m);
        }
        if (juint(p, &v[(*n)++]))
            return -1;
    } while (jch(p, ','));
    if (!jch(p, ']'))
        return jerr(p, "expected ',' or ']'");
    return 0;
}

/* Parses one tensor entry object into *e (name already set). */
static int jentry(jp *p, st_entry *e)
{
    int have_dtype = 0, have_shape = 0, have_off = 0;
    if (!jch(p, '{'))
        return jerr(p, "a tensor entry must be an object");
    if (!jch(p, '}')) {
        do {
            char *key = NULL;
            if (jstr(p, &key))
                return -1;
            if (!jch(p, ':')) {
                free(key);
                return jerr(p, "expected ':'");
            }
            if (strcmp(key, "dtype") == 0 && !have_dtype) {
                char *dt = NULL;
                free(key);
                if (jstr(p, &dt))
                    return -1;
                if (strlen(dt) >= sizeof e->dtype) {
                    free(dt);
                    return jerr(p, "dtype name too long");
                }
                strcpy(e->dtype, dt);
                free(dt);
                have_dtype = 1;
            } else if (strcmp(key, "shape") == 0 && !have_shape) {
                uint64_t v[ST_MAXDIM];
                free(key);
                if (juint_array(p, v, ST_MAXDIM, &e->ndim, "shape"))
                    return -1;
                for (int i = 0; i < e->ndim; i++) {
                    if (v[i] > (uint64_t)LONG_MAX)
                        return jerr(p, "shape dimension too large");
                    e->shape[i] = (long)v[i];
                }
                have_shape = 1;
            } else if (strcmp(key, "data_offsets") == 0 && !have_off) {
                uint64_t v[2];
                int n;
                free(key);
                if (juint_array(p, v, 2, &n, "data_offsets"))
                    return -1;
                if (n != 2)
                    return jerr(p, "data_offsets must have 2 elements");
                e->begin = v[0];
                e->end = v[1];
                have_off = 1;
            } else if (strcmp(key, "dtype") == 0 || strcmp(key, "shape") == 0 ||
                       strcmp(key, "data_offsets") == 0) {
                free(key);
                return jerr(p, "repeated key in a tensor entry");
            } else {
                free(key);
                if (jskip(p, 1))
                    return -1;
            }
        } while (jch(p, ','));
        if (!jch(p, '}'))
            return jerr(p, "expected ',' or '}'");
    }
    if (!have_dtype || !have_shape || !have_off) {
        char m[160];
        snprintf(m, sizeof m, "tensor '%.80s' lacks \"%s\"", e->name,
                 !have_dtype ? "dtype" : !have_shape ? "shape" : "data_offsets");
        return jerr(p, m);
    }
    return 0;
}

/* ---- file ---------------------------------------------------------------- */

void st_close(st *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++) {
        free(f->e[i].name);
        free(f->e[i].data);
    }
    free(f->e);
    if (f->fp)
        fclose(f->fp);
    free(f->path);
    free(f);
}

static int find(const st *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->e[i].name, name) == 0)
            return i;
    return -1;
}

static int validate(st *f, st_entry *e)
{
    const char *path = f->path;
    uint64_t count = 1;
    e->dsize = 0;
    for (size_t k = 0; k < sizeof dtypes / sizeof dtypes[0]; k++)
        if (strcmp(dtypes[k].name, e->dtype) == 0)
            e->dsize = dtypes[k].size;
    if (e->begin > e->end || e->end > f->data_len) {
        fprintf(stderr, "%s: tensor '%s': data_offsets [%llu, %llu] outside the %llu-byte data buffer\n",
                path, e->name, (unsigned long long)e->begin, (unsigned long long)e->end,
                (unsigned long long)f->data_len);
        return -1;
    }
    for (int i = 0; i < e->ndim; i++) {
        uint64_t d = (uint64_t)e->shape[i];
        if (d != 0 && count > UINT64_MAX / 16 / d) {
            fprintf(stderr, "%s: tensor '%s': shape too large\n", path, e->name);
            return -1;
        }
        count *= d;
    }
    if (e->dsize && count * (uint64_t)e->dsize != e->end - e->begin) {
        fprintf(stderr, "%s: tensor '%s': %llu bytes in data_offsets but %s shape needs %llu\n",
                path, e->name, (unsigned long long)(e->end - e->begin), e->dtype,
                (unsigned long long)(count * (uint64_t)e->dsize));
        return -1;
    }
    return 0;
}

st *st_open(const char *path)
{
    st *f = calloc(1, sizeof *f);
    unsigned char lenb[8];
    uint64_t hlen = 0, fsize;
    char *hdr = NULL;
    long endpos;
    jp p;

    if (!f) {
        fprintf(stderr, "%s: out of memory\n", path);
        return NULL;
    }
    f->path = malloc(strlen(path) + 1);
    if (!f->path) {
        fprintf(stderr, "%s: out of memory\n", path);
        free(f);
        return NULL;
    }
    strcpy(f->path, path);
    f->fp = fopen(path, "rb");
    if (!f->fp) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        goto fail;
    }
    if (fseek(f->fp, 0, SEEK_END) != 0 || (endpos = ftell(f->fp)) < 0 || fseek(f->fp, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: cannot determine the file size (not a regular file?)\n", path);
        goto fail;
    }
    fsize = (uint64_t)endpos;
    if (fsize < 8 || fread(lenb, 1, 8, f->fp) != 8) {
        fprintf(stderr, "%s: not a safetensors file (shorter than its 8-byte header length)\n", path);
        goto fail;
    }
    for (int i = 7; i >= 0; i--)
        hlen = hlen << 8 | lenb[i];
    if (hlen < 2 || hlen > ST_MAX_HEADER || hlen > fsize - 8) {
        fprintf(stderr, "%s: not a safetensors file (header length %llu, file %llu bytes)\n", path,
                (unsigned long long)hlen, (unsigned long long)fsize);
        goto fail;
    }
    f->data_start = 8 + hlen;
    f->data_len = fsize - 8 - hlen;
    hdr = malloc((size_t)hlen);
    if (!hdr) {
        fprintf(stderr, "%s: out of memory\n", path);
        goto fail;
    }
    if (fread(hdr, 1, (size_t)hlen, f->fp) != (size_t)hlen) {
        fprintf(stderr, "%s: read error in header\n", path);
        goto fail;
    }

    p.s = p.start = hdr;
    p.end = hdr + hlen;
    p.path = path;
    p.failed = 0;
    if (!jch(&p, '{')) {
        jerr(&p, "the header must be a JSON object");
        goto fail;
    }
    if (!jch(&p, '}')) {
        do {
            char *name = NULL;
            if (jstr(&p, &name))
                goto fail;
            if (!jch(&p, ':')) {
                free(name);
                jerr(&p, "expected ':'");
                goto fail;
            }
            if (strcmp(name, "__metadata__") == 0) {
                free(name);
                if (jskip(&p, 1))
                    goto fail;
                continue;
            }
            if (find(f, name) >= 0) {
                fprintf(stderr, "%s: tensor '%s' appears twice in the header\n", path, name);
                free(name);
                goto fail;
            }
            if (f->n == f->cap) {
                int ncap = f->cap ? f->cap * 2 : 64;
                st_entry *ne = realloc(f->e, (size_t)ncap * sizeof *ne);
                if (!ne) {
                    free(name);
                    fprintf(stderr, "%s: out of memory\n", path);
                    goto fail;
                }
                f->e = ne;
                f->cap = ncap;
            }
            st_entry *e = &f->e[f->n++];
            memset(e, 0, sizeof *e);
            e->name = name;
            if (jentry(&p, e) || validate(f, e))
                goto fail;
        } while (jch(&p, ','));
        if (!jch(&p, '}')) {
            jerr(&p, "expected ',' or '}'");
            goto fail;
        }
    }
    jws(&p);
    if (p.s != p.end) {
        jerr(&p, "trailing characters after the JSON object");
        goto fail;
    }
    free(hdr);
    return f;
fail:
    free(hdr);
    st_close(f);
    return NULL;
}

int st_has(const st *f, const char *name) { return find(f, name) >= 0; }
int st_count(const st *f) { return f->n; }
const char *st_name(const st *f, int i) { return (i >= 0 && i < f->n) ? f->e[i].name : NULL; }

static void fmt_shape(char *buf, size_t n, int ndim, const long *shape)
{
    size_t u = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && u < n; i++)
        u += (size_t)snprintf(buf + u, n - u, "%s%ld", i ? ", " : "", shape[i]);
    if (u < n)
        snprintf(buf + u, n - u, "]");
}

/* On a missing tensor, names (on the same line) a few tensors that share its
 * prefix up to the last '.', which usually shows a naming mismatch (torch vs
 * paddle) or a wrong prefix. */
static void report_missing(const st *f, const char *name)
{
    const char *dot = strrchr(name, '.');
    size_t plen = dot ? (size_t)(dot - name) + 1 : 0;
    int shown = 0, total = 0;
    fprintf(stderr, "%s: tensor '%s' not found", f->path, name);
    for (int i = 0; plen && i < f->n; i++) {
        if (strncmp(f->e[i].name, name, plen) == 0) {
            if (shown < 6) {
                fprintf(stderr, "%s'%s'", shown ? ", " : " (the file has ", f->e[i].name);
                shown++;
            }
            total++;
        }
    }
    if (total > shown)
        fprintf(stderr, " and %d more", total - shown);
    fprintf(stderr, "%s\n", shown ? ")" : "");
}

const float *st_get(st *f, const char *name, int ndim, const long *shape)
{
    int i = find(f, name);
    st_entry *e;
    if (i < 0) {
        report_missing(f, name);
        return NULL;
    }
    e = &f->e[i];
    if (strcmp(e->dtype, "F32") != 0) {
        fprintf(stderr, "%s: tensor '%s' has dtype %s; only F32 is supported\n", f->path, name, e->dtype);
        return NULL;
    }
    {
        int same = e->ndim == ndim;
        for (int k = 0; same && k < ndim; k++)
            same = e->shape[k] == shape[k];
        if (!same) {
            char got[256], want[256];
            fmt_shape(got, sizeof got, e->ndim, e->shape);
            fmt_shape(want, sizeof want, ndim, shape);
            fprintf(stderr, "%s: tensor '%s' has shape %s, expected %s\n", f->path, name, got, want);
            return NULL;
        }
    }
    if (!e->data) {
        uint64_t nbytes = e->end - e->begin, pos = f->data_start + e->begin;
        size_t count = (size_t)(nbytes / 4);
        unsigned char *raw;
        if (count == 0) {
            /* a valid empty tensor: hand out a non-NULL pointer */
            e->data = malloc(sizeof(float));
            if (!e->data) {
                fprintf(stderr, "%s: out of memory\n", f->path);
                return NULL;
            }
            return e->data;
        }
        if (pos > (uint64_t)LONG_MAX || fseek(f->fp, (long)pos, SEEK_SET) != 0) {
            fprintf(stderr, "%s: tensor '%s': cannot seek to its data\n", f->path, name);
            return NULL;
        }
        raw = malloc((size_t)nbytes);
        e->data = malloc(count * sizeof(float));
        if (!raw || !e->data) {
            free(raw);
            free(e->data);
            e->data = NULL;
            fprintf(stderr, "%s: tensor '%s': out of memory\n", f->path, name);
            return NULL;
        }
        if (fread(raw, 1, (size_t)nbytes, f->fp) != (size_t)nbytes) {
            free(raw);
            free(e->data);
            e->data = NULL;
            fprintf(stderr, "%s: tensor '%s': read error\n", f->path, name);
            return NULL;
        }
        for (size_t k = 0; k < count; k++) {
            uint32_t u = (uint32_t)raw[4 * k] | (uint32_t)raw[4 * k + 1] << 8 |
                         (uint32_t)raw[4 * k + 2] << 16 | (uint32_t)raw[4 * k + 3] << 24;
            memcpy(&e->data[k], &u, 4);
        }
        free(raw);
    }
    return e->data;
}
