/* See npy.h. The header is a Python dict literal; only the three keys numpy
   writes are read, each at most once, and anything else in it is refused. */
#include "npy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infile.h"

#define MAX_HEADER 65536

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int refuse(FILE *f, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (f)
        fclose(f);
    if (err && errlen) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *skip_space(const char *p)
{
    while (*p == ' ')
        p++;
    return p;
}

/* The value after 'key': in hdr, or NULL. */
static const char *value_of(const char *hdr, const char *key)
{
    const char *p = strstr(hdr, key);
    if (!p)
        return NULL;
    p = skip_space(p + strlen(key));
    return *p == ':' ? skip_space(p + 1) : NULL;
}

/* Parses "(d0, d1, ...)" into a; 0, or -1 when it is not a shape. */
static int parse_shape(const char *p, npy_array *a)
{
    if (*p++ != '(')
        return -1;
    a->ndim = 0;
    for (p = skip_space(p); *p != ')'; p = skip_space(p)) {
        if (a->ndim == NPY_MAX_DIMS || *p < '0' || *p > '9')
            return -1;
        int64_t d = 0;
        for (; *p >= '0' && *p <= '9'; p++) {
            if (d > (INT64_MAX - 9) / 10)
                return -1;
            d = d * 10 + (*p - '0');
        }
        a->shape[a->ndim++] = d;
        p = skip_space(p);
        if (*p == ',')
            p++;
        else if (*p != ')')
            return -1;
    }
    return 0;
}

/* The shape as "(2, 3, 32, 32)" into buf. */
static const char *shape_text(const npy_array *a, char *buf, size_t cap)
{
    int len = snprintf(buf, cap, "(");
    for (int d = 0; d < a->ndim && len >= 0 && (size_t)len < cap; d++)
        len += snprintf(buf + len, cap - (size_t)len, "%s%lld", d ? ", " : "", (long long)a->shape[d]);
    if (len >= 0 && (size_t)len < cap)
        snprintf(buf + len, cap - (size_t)len, ")");
    return buf;
}

int npy_read(const char *path, npy_array *out, char *err, size_t errlen)
{
    unsigned char pre[12];
    char *hdr = NULL, shape[160];
    uint64_t size;
    memset(out, 0, sizeof *out);
    FILE *f = infile_open(path, NULL, &size, err, errlen);
    if (!f)
        return -1;
    if (size == 0)
        return refuse(f, err, errlen, "%s: empty file", path);
    if (size < 10 || fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0)
        return refuse(f, err, errlen, "%s: not a .npy file", path);
    size_t hlen, prefix = 10;
    if (pre[6] == 1) {
        hlen = pre[8] | (size_t)pre[9] << 8;
    } else if ((pre[6] == 2 || pre[6] == 3) && fread(pre + 10, 1, 2, f) == 2) {
        hlen = pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
        prefix = 12;
    } else {
        return refuse(f, err, errlen, "%s: unsupported .npy version %d", path, pre[6]);
    }
    if (hlen > MAX_HEADER || prefix + hlen > size)
        return refuse(f, err, errlen, "%s: truncated .npy header", path);
    if (!(hdr = malloc(hlen + 1)))
        return refuse(f, err, errlen, "%s: out of memory", path);
    if (fread(hdr, 1, hlen, f) != hlen || memchr(hdr, '\0', hlen)) {
        free(hdr);
        return refuse(f, err, errlen, "%s: bad .npy header", path);
    }
    hdr[hlen] = '\0';
    const char *descr = value_of(hdr, "'descr'"), *order = value_of(hdr, "'fortran_order'");
    const char *shp = value_of(hdr, "'shape'");
    int ok_shape = shp && parse_shape(shp, out) == 0;
    char dtype[16] = "";
    if (descr && *descr == '\'')
        snprintf(dtype, sizeof dtype, "%.*s", (int)strcspn(descr + 1, "'"), descr + 1);
    int ok_order = order && strncmp(order, "False", 5) == 0;
    free(hdr);
    if (!descr || !order || !ok_shape)
        return refuse(f, err, errlen, "%s: bad .npy header (it needs 'descr', 'fortran_order' and 'shape')", path);
    if (strcmp(dtype, "<f4") != 0)
        return refuse(f, err, errlen, "%s: dtype must be little-endian float32 ('<f4'), not '%s'", path, dtype);
    if (!ok_order)
        return refuse(f, err, errlen, "%s: the array must be in C order (fortran_order False)", path);
    uint64_t count = 1;
    for (int d = 0; d < out->ndim; d++) {
        if (out->shape[d] != 0 && count > NPY_MAX_ELEMENTS / (uint64_t)out->shape[d])
            return refuse(f, err, errlen, "%s: shape %s holds more than 2^28 values (the limit)", path,
                          shape_text(out, shape, sizeof shape));
        count *= (uint64_t)out->shape[d];
    }
    if (count > NPY_MAX_ELEMENTS)
        return refuse(f, err, errlen, "%s: shape %s holds more than 2^28 values (the limit)", path,
                      shape_text(out, shape, sizeof shape));
    uint64_t have = size - prefix - hlen, need = 4 * count;
    if (have < need)
        return refuse(f, err, errlen, "%s: truncated: shape %s needs %llu bytes of data, the file has %llu", path,
                      shape_text(out, shape, sizeof shape), (unsigned long long)need, (unsigned long long)have);
    if (have > need)
        return refuse(f, err, errlen, "%s: %llu bytes past the data of shape %s", path,
                      (unsigned long long)(have - need), shape_text(out, shape, sizeof shape));
    unsigned char *raw = malloc(need ? (size_t)need : 1);
    if (!raw)
        return refuse(f, err, errlen, "%s: out of memory", path);
    if (fread(raw, 1, (size_t)need, f) != (size_t)need) {
        free(raw);
        return refuse(f, err, errlen, "%s: read error", path);
    }
    fclose(f);
    /* little-endian bytes to floats, whatever the host's order; in place */
    out->data = (float *)(void *)raw;
    for (size_t i = 0; i < (size_t)count; i++) {
        uint32_t u = raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 | (uint32_t)raw[4 * i + 2] << 16 |
                     (uint32_t)raw[4 * i + 3] << 24;
        memcpy(&out->data[i], &u, 4);
    }
    out->count = (size_t)count;
    return 0;
}

void npy_free(npy_array *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}
