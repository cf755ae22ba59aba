/* safetensors reader/writer, see safetensors.h. Everything in the file is
   untrusted: each field is checked before it sizes an allocation or a read. */
#include "safetensors.h"

#include "infile.h"
#include "json.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The dtype conversions assemble binary32 bit patterns and memcpy them. */
_Static_assert(sizeof(float) == 4 && FLT_MANT_DIG == 24 && FLT_MAX_EXP == 128,
               "float must be IEEE-754 binary32");

/* A tensor's entry is at most 14 JSON values (the entry, dtype, shape and
   ST_MAX_DIMS dims, data_offsets and its 2 offsets): this bounds the parse
   of a header that lists too many before they are counted. */
#define ST_MAX_JSON_VALUES (16 * (size_t)ST_MAX_TENSORS)

enum { DT_F32, DT_F16, DT_BF16 };

typedef struct {
    const char *path;
    char *err;
    size_t errlen;
} ctx;

/* Lets gcc/clang check the format strings of the printf-like helpers. */
#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTF_LIKE(f, a)
#endif

static int fail(const ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int fail(const ctx *c, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (!c->err || !c->errlen)
        return -1;
    n = snprintf(c->err, c->errlen, "%s: ", c->path);
    if (n >= 0 && (size_t)n < c->errlen) {
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* One tensor being read: the public part plus where its bytes are. */
typedef struct {
    st_tensor t;
    uint64_t begin, end;
    int dtype;
} entry;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->t.name, ((const entry *)b)->t.name);
}

/* Offset order, ties broken by name so overlap messages are deterministic. */
static int by_offset(const void *a, const void *b)
{
    const entry *x = *(const entry *const *)a, *y = *(const entry *const *)b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end)
        return x->end < y->end ? -1 : 1;
    return strcmp(x->t.name, y->t.name);
}

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
        if (man == 0)
            return from_bits(sign);
        /* Subnormal half: every one is a normal float, so normalise it. */
        exp = 127 - 15 + 1;
        while (!(man & 0x400u)) {
            man <<= 1;
            exp--;
        }
        return from_bits(sign | exp << 23 | (man & 0x3ffu) << 13);
    }
    if (exp == 31) /* inf, or nan with its payload kept */
        return from_bits(sign | 0x7f800000u | man << 13);
    return from_bits(sign | (exp + 127 - 15) << 23 | man << 13);
}

/* buf holds count raw little-endian elements and has room for count floats.
   Halves widen back to front, so each write lands only on raw bytes of
   elements already converted. */
static void decode(unsigned char *buf, size_t count, int dtype)
{
    size_t i;
    float f;
    if (dtype == DT_F32) {
        for (i = 0; i < count; i++) {
            const unsigned char *b = buf + 4 * i;
            f = from_bits((uint32_t)b[0] | (uint32_t)b[1] << 8 |
                          (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
            memcpy(buf + 4 * i, &f, 4);
        }
        return;
    }
    for (i = count; i-- > 0;) {
        uint16_t h = (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8);
        f = dtype == DT_F16 ? f16_to_f32(h) : from_bits((uint32_t)h << 16);
        memcpy(buf + 4 * i, &f, 4);
    }
}

static int check_metadata(const ctx *c, const json_value *m)
{
    size_t i;
    if (m->type != JSON_OBJECT)
        return fail(c, "\"__metadata__\" is not an object");
    for (i = 0; i < m->n; i++)
        if (m->members[i].value.type != JSON_STRING)
            return fail(c, "\"__metadata__\" value for key '%s' is not a string",
                        m->members[i].key);
    return 0;
}

/* One non-negative integer (a dim or an offset) into *out, or a message
   saying which one is wrong and how. */
static int get_uint(const ctx *c, const char *tname, const char *what, size_t idx,
                    const json_value *v, int64_t *out)
{
    if (v->type == JSON_INT && v->i >= 0) {
        *out = v->i;
        return 0;
    }
    if (v->type == JSON_INT)
        return fail(c, "tensor '%s': %s %zu is negative (%" PRId64 ")", tname, what, idx, v->i);
    if (v->type == JSON_NUMBER && v->int_overflow)
        return fail(c, "tensor '%s': %s %zu is too large (over 2^63-1)",
                    tname, what, idx);
    if (v->type == JSON_NUMBER)
        return fail(c, "tensor '%s': %s %zu is not an integer literal (value %g)", tname, what,
                    idx, v->num);
    return fail(c, "tensor '%s': %s %zu is not a number", tname, what, idx);
}

/* Validates one header entry into e (e->t.name already set). */
static int parse_entry(const ctx *c, const json_value *v, entry *e, uint64_t datalen)
{
    const char *name = e->t.name;
    const json_value *dt, *sh, *off;
    static const char *const dtypes[] = {"F32", "F16", "BF16"};
    static const unsigned sizes[] = {4, 2, 2};
    size_t i;
    int64_t b, en;
    uint64_t need;
    int zero = 0;

    if (v->type != JSON_OBJECT)
        return fail(c, "tensor '%s': entry is not an object", name);
    if (!(dt = json_get(v, "dtype")))
        return fail(c, "tensor '%s': missing \"dtype\"", name);
    if (!(sh = json_get(v, "shape")))
        return fail(c, "tensor '%s': missing \"shape\"", name);
    if (!(off = json_get(v, "data_offsets")))
        return fail(c, "tensor '%s': missing \"data_offsets\"", name);
    if (dt->type != JSON_STRING)
        return fail(c, "tensor '%s': \"dtype\" is not a string", name);
    if (sh->type != JSON_ARRAY)
        return fail(c, "tensor '%s': \"shape\" is not an array", name);
    if (off->type != JSON_ARRAY || off->n != 2)
        return fail(c, "tensor '%s': \"data_offsets\" is not an array of 2 integers", name);

    for (e->dtype = 0; e->dtype < 3; e->dtype++)
        if (strcmp(dt->str, dtypes[e->dtype]) == 0)
            break;
    if (e->dtype == 3)
        return fail(c, "tensor '%s': unsupported dtype '%s' (supported: F32, F16, BF16)",
                    name, dt->str);

    if (sh->n > ST_MAX_DIMS)
        return fail(c, "tensor '%s': shape has %zu dimensions (at most %d supported)",
                    name, sh->n, ST_MAX_DIMS);
    e->t.ndim = (int)sh->n;
    for (i = 0; i < sh->n; i++) {
        if (get_uint(c, name, "dimension", i, &sh->items[i], &e->t.shape[i]))
            return -1;
        zero |= e->t.shape[i] == 0;
    }
    /* Cap the product so count * sizeof(float) (the allocation) cannot wrap;
       an empty tensor is fine whatever its other dims. */
    e->t.count = zero ? 0 : 1;
    for (i = 0; i < sh->n && !zero; i++) {
        if ((uint64_t)e->t.shape[i] > (SIZE_MAX / sizeof(float)) / e->t.count)
            return fail(c, "tensor '%s': shape is absurdly large (element count overflows)",
                        name);
        e->t.count *= (size_t)e->t.shape[i];
    }

    if (get_uint(c, name, "data_offsets element", 0, &off->items[0], &b) ||
        get_uint(c, name, "data_offsets element", 1, &off->items[1], &en))
        return -1;
    e->begin = (uint64_t)b;
    e->end = (uint64_t)en;
    if (e->begin > e->end)
        return fail(c, "tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] has begin > end",
                    name, e->begin, e->end);
    if (e->end > datalen)
        return fail(c, "tensor '%s': data_offsets end %" PRIu64
                    " is beyond the data section (%" PRIu64 " bytes)", name, e->end, datalen);
    need = (uint64_t)e->t.count * sizes[e->dtype];
    if (e->end - e->begin != need)
        return fail(c, "tensor '%s': data_offsets span %" PRIu64 " bytes but %zu elements of %s"
                    " need %" PRIu64, name, e->end - e->begin, e->t.count, dt->str, need);
    return 0;
}

/* Compares by length too, so a key like "__metadata__\u0000x" is a tensor
   name (and then rejected for its NUL), not metadata. */
static int is_metadata(const json_member *m)
{
    return m->key_len == 12 && memcmp(m->key, "__metadata__", 12) == 0;
}

int st_read(const char *path, const char *within, st_file *out, char *err, size_t errlen)
{
    ctx c;
    FILE *f;
    unsigned char lenbuf[8];
    uint64_t hlen = 0, datalen, fsize, elements = 0;
    size_t i, n = 0, ntensors;
    char *hdr = NULL, jerr[128];
    size_t jpos = 0;
    json_value root;
    entry *es = NULL, **byoff = NULL;
    int rc = -1, e, seen_meta = 0;

    c.path = path;
    c.err = err;
    c.errlen = errlen;
    out->tensors = NULL;
    out->n = 0;
    memset(&root, 0, sizeof root);

    if (!(f = infile_open(path, within, &fsize, err, errlen)))
        return -1;
    if (fsize > LONG_MAX) {
        fail(&c, "file of %" PRIu64 " bytes is too large to read", fsize);
        goto done;
    }
    if (fsize < 8) {
        fail(&c, "file is %" PRIu64 " bytes, shorter than the 8-byte header length field", fsize);
        goto done;
    }
    if (fread(lenbuf, 1, 8, f) != 8) {
        fail(&c, "cannot read: %s", ferror(f) ? strerror(errno) : "file shrank");
        goto done;
    }
    for (i = 8; i-- > 0;)
        hlen = hlen << 8 | lenbuf[i];
    /* The length field is the file's own bytes: say how it is wrong, never its value. */
    if (hlen > fsize - 8) {
        fail(&c, "not a safetensors file: the header length field exceeds the file size (%" PRIu64
             " bytes)", fsize);
        goto done;
    }
    if (hlen > ST_MAX_HEADER_BYTES) {
        fail(&c, "the header is longer than the limit of %" PRIu64 " MiB", ST_MAX_HEADER_BYTES >> 20);
        goto done;
    }
    datalen = fsize - 8 - hlen;
    if (!(hdr = malloc((size_t)hlen + 1))) {
        fail(&c, "out of memory for a %" PRIu64 "-byte header", hlen);
        goto done;
    }
    if (fread(hdr, 1, (size_t)hlen, f) != hlen) {
        fail(&c, "cannot read header: %s", ferror(f) ? strerror(errno) : "file shrank");
        goto done;
    }
    if ((e = json_parse(hdr, (size_t)hlen, ST_MAX_JSON_VALUES, &root, &jpos, jerr, sizeof jerr)) != 0) {
        if (e == -2)
            fail(&c, "out of memory parsing the %" PRIu64 "-byte header", hlen);
        else if (e == -3)
            fail(&c, "the header holds more than %zu JSON values, more than %d tensors can need",
                 ST_MAX_JSON_VALUES, ST_MAX_TENSORS);
        else
            fail(&c, "not a safetensors file: malformed JSON header at byte %zu: %s", jpos, jerr);
        goto done;
    }
    if (root.type != JSON_OBJECT) {
        fail(&c, "header is not a JSON object");
        goto done;
    }

    ntensors = 0;
    for (i = 0; i < root.n; i++)
        ntensors += !is_metadata(&root.members[i]);
    if (ntensors > ST_MAX_TENSORS) {
        fail(&c, "the header lists %zu tensors, past the limit of %d", ntensors, ST_MAX_TENSORS);
        goto done;
    }
    if (ntensors && !(es = calloc(ntensors, sizeof *es))) {
        fail(&c, "out of memory");
        goto done;
    }
    for (i = 0; i < root.n; i++) {
        const json_member *m = &root.members[i];
        if (is_metadata(m)) {
            if (seen_meta++) {
                fail(&c, "duplicate key \"__metadata__\"");
                goto done;
            }
            if (check_metadata(&c, &m->value))
                goto done;
            continue;
        }
        if (strlen(m->key) != m->key_len) {
            fail(&c, "tensor names containing a NUL byte are not supported");
            goto done;
        }
        if (!(es[n].t.name = malloc(m->key_len + 1))) {
            fail(&c, "out of memory");
            goto done;
        }
        memcpy(es[n].t.name, m->key, m->key_len + 1);
        if (parse_entry(&c, &m->value, &es[n++], datalen))
            goto done;
        /* below 2^28 before, a count below 2^62 added: no wrap */
        if ((elements += es[n - 1].t.count) > ST_MAX_ELEMENTS) {
            fail(&c, "the tensors up to '%s' hold %" PRIu64 " elements, past the limit of %" PRIu64
                 " (%" PRIu64 " MiB as float32)", es[n - 1].t.name, elements, ST_MAX_ELEMENTS,
                 ST_MAX_ELEMENTS * 4 >> 20);
            goto done;
        }
    }

    if (n > 1) /* qsort's array may not be NULL, even when empty */
        qsort(es, n, sizeof *es, by_name);
    for (i = 1; i < n; i++)
        if (strcmp(es[i - 1].t.name, es[i].t.name) == 0) {
            fail(&c, "duplicate tensor name '%s'", es[i].t.name);
            goto done;
        }

    if (n && !(byoff = malloc(n * sizeof *byoff))) {
        fail(&c, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++)
        byoff[i] = &es[i];
    if (n > 1)
        qsort(byoff, n, sizeof *byoff, by_offset);
    {
        /* In begin order, a range overlaps an earlier one iff it starts before
           the furthest end seen so far. Empty ranges occupy no bytes. */
        const entry *far = NULL;
        for (i = 0; i < n; i++) {
            const entry *x = byoff[i];
            if (x->begin == x->end)
                continue;
            if (far && x->begin < far->end) {
                fail(&c, "tensors '%s' [%" PRIu64 ", %" PRIu64 ") and '%s' [%" PRIu64 ", %"
                     PRIu64 ") overlap in the data section", far->t.name, far->begin,
                     far->end, x->t.name, x->begin, x->end);
                goto done;
            }
            if (!far || x->end > far->end)
                far = x;
        }
    }

    /* Read in file order so the reads sweep forward through the file. Offsets
       are below fsize, checked to fit fseek's long. */
    for (i = 0; i < n; i++) {
        entry *x = byoff[i];
        size_t nbytes = (size_t)(x->end - x->begin);
        if (!(x->t.data = malloc(x->t.count ? x->t.count * sizeof(float) : sizeof(float)))) {
            fail(&c, "tensor '%s': out of memory for %zu elements", x->t.name, x->t.count);
            goto done;
        }
        if (nbytes && (fseek(f, (long)(8 + hlen + x->begin), SEEK_SET) != 0 ||
                       fread(x->t.data, 1, nbytes, f) != nbytes)) {
            fail(&c, "tensor '%s': cannot read data: %s", x->t.name,
                 ferror(f) ? strerror(errno) : "file shrank");
            goto done;
        }
        decode((unsigned char *)x->t.data, x->t.count, x->dtype);
    }

    if (n && !(out->tensors = malloc(n * sizeof *out->tensors))) {
        fail(&c, "out of memory");
        goto done;
    }
    for (i = 0; i < n; i++)
        out->tensors[i] = es[i].t;
    out->n = n;
    n = 0; /* ownership moved to out */
    rc = 0;
done:
    for (i = 0; i < n; i++) {
        free(es[i].t.name);
        free(es[i].t.data);
    }
    free(es);
    free(byoff);
    json_free(&root);
    free(hdr);
    fclose(f);
    return rc;
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    size_t lo = 0, hi = f ? f->n : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = strcmp(f->tensors[mid].name, name);
        if (d == 0)
            return &f->tensors[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void st_free(st_file *f)
{
    size_t i;
    if (!f)
        return;
    for (i = 0; i < f->n; i++) {
        free(f->tensors[i].name);
        free(f->tensors[i].data);
    }
    free(f->tensors);
    f->tensors = NULL;
    f->n = 0;
}

/* Growable header text; a failed allocation sticks so callers check once. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *s, const char *src, size_t n)
{
    if (s->oom)
        return;
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        char *q;
        while (cap < s->len + n + 1)
            cap *= 2;
        if (!(q = realloc(s->p, cap))) {
            s->oom = 1;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, src, n);
    s->len += n;
    s->p[s->len] = '\0';
}

static void sb_str(sbuf *s, const char *str)
{
    sb_add(s, str, strlen(str));
}

static void sb_printf(sbuf *s, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void sb_printf(sbuf *s, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap); /* used only for short numeric items */
    va_end(ap);
    if (n > 0)
        sb_add(s, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* Names go into a JSON string: escape what JSON requires, pass UTF-8 through. */
static void sb_json_str(sbuf *s, const char *str)
{
    sb_add(s, "\"", 1);
    for (; *str; str++) {
        unsigned char ch = (unsigned char)*str;
        if (ch == '"' || ch == '\\') {
            sb_add(s, "\\", 1);
            sb_add(s, str, 1);
        } else if (ch < 0x20) {
            sb_printf(s, "\\u%04x", ch);
        } else {
            sb_add(s, str, 1);
        }
    }
    sb_add(s, "\"", 1);
}

/* Runs the name through the reader's JSON parser, so st_write never
   produces a header st_read would reject (invalid UTF-8 in a name).
   1: fine, 0: invalid, -1: out of memory. */
static int name_ok(const char *name)
{
    sbuf s = {NULL, 0, 0, 0};
    json_value v;
    int rc = -2;
    memset(&v, 0, sizeof v); /* json_free below is then safe on every path */
    sb_json_str(&s, name);
    if (!s.oom)
        rc = json_parse(s.p, s.len, 1, &v, NULL, NULL, 0);
    json_free(&v);
    free(s.p);
    return rc == 0 ? 1 : rc == -1 ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int write_all(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? 0 : -1;
}

int st_write(FILE *f, const char *path, const st_tensor *ts, size_t n, char *err, size_t errlen)
{
    ctx c;
    sbuf h = {NULL, 0, 0, 0};
    const char **names = NULL;
    uint64_t offset = 0;
    size_t i, j;
    int rc = -1, d;
    unsigned char buf[4096];

    c.path = path;
    c.err = err;
    c.errlen = errlen;

    for (i = 0; i < n; i++) {
        const st_tensor *t = &ts[i];
        size_t count = 1;
        if (!t->name)
            return fail(&c, "tensor %zu has no name", i);
        if (strcmp(t->name, "__metadata__") == 0)
            return fail(&c, "tensor name \"__metadata__\" is reserved");
        if (t->ndim < 0 || t->ndim > ST_MAX_DIMS)
            return fail(&c, "tensor '%s': ndim %d out of range 0..%d", t->name, t->ndim,
                        ST_MAX_DIMS);
        for (d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0)
                return fail(&c, "tensor '%s': dimension %d is negative (%" PRId64 ")",
                            t->name, d, t->shape[d]);
        for (d = 0; d < t->ndim && count; d++) {
            if (t->shape[d] && (uint64_t)t->shape[d] > (SIZE_MAX / sizeof(float)) / count)
                return fail(&c, "tensor '%s': shape is absurdly large", t->name);
            count *= (size_t)t->shape[d];
        }
        if (count != t->count)
            return fail(&c, "tensor '%s': count %zu does not match shape (%zu elements)",
                        t->name, t->count, count);
        if (count && !t->data)
            return fail(&c, "tensor '%s': data is NULL", t->name);
        if ((d = name_ok(t->name)) < 0)
            return fail(&c, "out of memory");
        if (d == 0)
            return fail(&c, "tensor %zu: name is not valid UTF-8", i);
    }
    if (n && !(names = malloc(n * sizeof *names)))
        return fail(&c, "out of memory");
    for (i = 0; i < n; i++)
        names[i] = ts[i].name;
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            fail(&c, "duplicate tensor name '%s'", names[i]);
            goto done;
        }

    sb_add(&h, "{", 1);
    for (i = 0; i < n; i++) {
        const st_tensor *t = &ts[i];
        if (i)
            sb_add(&h, ",", 1);
        sb_json_str(&h, t->name);
        sb_str(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (d = 0; d < t->ndim; d++)
            sb_printf(&h, d ? ",%" PRId64 : "%" PRId64, t->shape[d]);
        sb_printf(&h, "],\"data_offsets\":[%" PRIu64 ",", offset);
        offset += (uint64_t)t->count * 4;
        sb_printf(&h, "%" PRIu64 "]}", offset);
    }
    sb_add(&h, "}", 1);
    while (!h.oom && h.len % 8) /* 8 + len is then 8-aligned: the data start */
        sb_add(&h, " ", 1);
    if (h.oom) {
        fail(&c, "out of memory building the header");
        goto done;
    }
    for (i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)h.len >> (8 * i));
    if (write_all(f, buf, 8) || write_all(f, h.p, h.len))
        goto write_error;
    for (i = 0; i < n; i++) {
        /* Encode little-endian a buffer at a time, whatever the host order. */
        for (j = 0; j < ts[i].count;) {
            size_t k = 0;
            for (; k < sizeof buf / 4 && j < ts[i].count; k++, j++) {
                uint32_t u;
                memcpy(&u, &ts[i].data[j], 4);
                buf[4 * k] = (unsigned char)u;
                buf[4 * k + 1] = (unsigned char)(u >> 8);
                buf[4 * k + 2] = (unsigned char)(u >> 16);
                buf[4 * k + 3] = (unsigned char)(u >> 24);
            }
            if (write_all(f, buf, 4 * k))
                goto write_error;
        }
    }
    if (fflush(f) != 0)
        goto write_error;
    rc = 0;
    goto done;
write_error:
    fail(&c, "write failed: %s", strerror(errno));
done:
    free(names);
    free(h.p);
    return rc;
}
