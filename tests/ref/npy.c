/* npy.c - read and write float32 .npy files. See npy.h.
 *
 * Format (numpy/lib/format.py):
 *   "\x93NUMPY" major minor
 *   header length: uint16 LE (1.0) or uint32 LE (2.0, 3.0)
 *   header: a Python dict literal, e.g.
 *     {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *   padded with spaces and terminated by '\n'
 *   data: count * 4 bytes
 */
#include "npy.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_FILE ((size_t)1 << 40) /* refuse absurd sizes rather than overflow */

void npy_shape_str(int ndim, const long *shape, char *buf, size_t n)
{
    size_t used = 0;
    if (n == 0)
        return;
    buf[0] = '\0';
    used += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%ld", i ? ", " : "", shape[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
}

void npy_free(npy_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Reads a whole file into a malloc'd buffer. */
static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    *out = NULL;
    *len = 0;
    if (!f) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 65536;
            unsigned char *nb;
            if (ncap > NPY_MAX_FILE) {
                fprintf(stderr, "%s: file too large\n", path);
                goto fail;
            }
            nb = realloc(buf, ncap);
            if (!nb) {
                fprintf(stderr, "%s: out of memory reading file\n", path);
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                fprintf(stderr, "%s: read error\n", path);
                goto fail;
            }
            break;
        }
    }
    fclose(f);
    *out = buf;
    *len = n;
    return 0;
fail:
    fclose(f);
    free(buf);
    return -1;
}

/* ---- header dict parser ------------------------------------------------ */

typedef struct {
    const char *s, *end;
    const char *path;
} hp;

static void skip_ws(hp *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r'))
        p->s++;
}

static int expect(hp *p, char c)
{
    skip_ws(p);
    if (p->s >= p->end || *p->s != c) {
        fprintf(stderr, "%s: malformed npy header: expected '%c'\n", p->path, c);
        return -1;
    }
    p->s++;
    return 0;
}

/* A Python string literal in ' or " quotes, no escapes needed for our keys. */
static int parse_str(hp *p, char *out, size_t n)
{
    char q;
    size_t k = 0;
    skip_ws(p);
    if (p->s >= p->end || (*p->s != '\'' && *p->s != '"')) {
        fprintf(stderr, "%s: malformed npy header: expected a string\n", p->path);
        return -1;
    }
    q = *p->s++;
    while (p->s < p->end && *p->s != q) {
        if (*p->s == '\\' || (unsigned char)*p->s < 0x20) {
            fprintf(stderr, "%s: malformed npy header: unexpected character in string\n", p->path);
            return -1;
        }
        if (k + 1 >= n) {
            fprintf(stderr, "%s: malformed npy header: string too long\n", p->path);
            return -1;
        }
        out[k++] = *p->s++;
    }
    if (p->s >= p->end) {
        fprintf(stderr, "%s: malformed npy header: unterminated string\n", p->path);
        return -1;
    }
    p->s++;
    out[k] = '\0';
    return 0;
}

static int parse_bool(hp *p, int *v)
{
    skip_ws(p);
    if ((size_t)(p->end - p->s) >= 4 && memcmp(p->s, "True", 4) == 0) {
        p->s += 4;
        *v = 1;
        return 0;
    }
    if ((size_t)(p->end - p->s) >= 5 && memcmp(p->s, "False", 5) == 0) {
        p->s += 5;
        *v = 0;
        return 0;
    }
    fprintf(stderr, "%s: malformed npy header: fortran_order must be True or False\n", p->path);
    return -1;
}

static int parse_shape(hp *p, int *ndim, long *shape)
{
    int n = 0;
    if (expect(p, '('))
        return -1;
    for (;;) {
        skip_ws(p);
        if (p->s < p->end && *p->s == ')') {
            p->s++;
            break;
        }
        if (p->s >= p->end || *p->s < '0' || *p->s > '9') {
            fprintf(stderr, "%s: malformed npy header: bad shape tuple\n", p->path);
            return -1;
        }
        long v = 0;
        while (p->s < p->end && *p->s >= '0' && *p->s <= '9') {
            if (v > (LONG_MAX - 9) / 10) {
                fprintf(stderr, "%s: npy shape dimension too large\n", p->path);
                return -1;
            }
            v = v * 10 + (*p->s - '0');
            p->s++;
        }
        if (p->s < p->end && *p->s == 'L') /* Python 2 long suffix */
            p->s++;
        if (n >= NPY_MAXDIM) {
            fprintf(stderr, "%s: npy array has more than %d dimensions\n", p->path, NPY_MAXDIM);
            return -1;
        }
        shape[n++] = v;
        skip_ws(p);
        if (p->s < p->end && *p->s == ',') {
            p->s++;
            continue;
        }
        if (p->s < p->end && *p->s == ')') {
            p->s++;
            if (n == 1) {
                /* "(3)" is an int in Python, not a tuple; numpy never writes it */
                fprintf(stderr, "%s: malformed npy header: 1-element shape needs a trailing comma\n", p->path);
                return -1;
            }
            break;
        }
        fprintf(stderr, "%s: malformed npy header: bad shape tuple\n", p->path);
        return -1;
    }
    *ndim = n;
    return 0;
}

static int parse_header(const char *path, const char *h, size_t len, int *ndim, long *shape)
{
    hp p = {h, h + len, path};
    int have_descr = 0, have_fortran = 0, have_shape = 0;
    char descr[64];
    int fortran = 0;

    if (expect(&p, '{'))
        return -1;
    for (;;) {
        char key[64];
        skip_ws(&p);
        if (p.s < p.end && *p.s == '}') {
            p.s++;
            break;
        }
        if (parse_str(&p, key, sizeof key) || expect(&p, ':'))
            return -1;
        if (strcmp(key, "descr") == 0 && !have_descr) {
            if (parse_str(&p, descr, sizeof descr))
                return -1;
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !have_fortran) {
            if (parse_bool(&p, &fortran))
                return -1;
            have_fortran = 1;
        } else if (strcmp(key, "shape") == 0 && !have_shape) {
            if (parse_shape(&p, ndim, shape))
                return -1;
            have_shape = 1;
        } else {
            fprintf(stderr, "%s: malformed npy header: unexpected or repeated key '%s'\n", path, key);
            return -1;
        }
        skip_ws(&p);
        if (p.s < p.end && *p.s == ',') {
            p.s++;
            continue;
        }
        if (expect(&p, '}'))
            return -1;
        break;
    }
    skip_ws(&p);
    if (p.s != p.end) {
        fprintf(stderr, "%s: malformed npy header: trailing characters after the dict\n", path);
        return -1;
    }
    if (!have_descr || !have_fortran || !have_shape) {
        fprintf(stderr, "%s: npy header lacks '%s'\n", path,
                !have_descr ? "descr" : !have_fortran ? "fortran_order" : "shape");
        return -1;
    }
    if (strcmp(descr, "<f4") != 0) {
        fprintf(stderr, "%s: dtype '%s' not supported (need little-endian float32 '<f4')\n", path, descr);
        return -1;
    }
    if (fortran) {
        fprintf(stderr, "%s: fortran_order True not supported (need C order)\n", path);
        return -1;
    }
    return 0;
}

int npy_read(const char *path, npy_array *a)
{
    unsigned char *buf = NULL;
    size_t len = 0, hlen, pre;
    int major;

    memset(a, 0, sizeof *a);
    if (read_file(path, &buf, &len))
        return -1;
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0) {
        fprintf(stderr, "%s: not a .npy file (bad magic)\n", path);
        goto fail;
    }
    major = buf[6];
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        pre = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) {
            fprintf(stderr, "%s: truncated npy header\n", path);
            goto fail;
        }
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        pre = 12;
    } else {
        fprintf(stderr, "%s: unsupported npy version %d.%d\n", path, buf[6], buf[7]);
        goto fail;
    }
    if (buf[7] != 0) {
        fprintf(stderr, "%s: unsupported npy version %d.%d\n", path, buf[6], buf[7]);
        goto fail;
    }
    if (hlen > len - pre) {
        fprintf(stderr, "%s: truncated npy header (header length %zu, file %zu bytes)\n", path, hlen, len);
        goto fail;
    }
    if (parse_header(path, (const char *)buf + pre, hlen, &a->ndim, a->shape))
        goto fail;

    {
        size_t count = 1, data_len = len - pre - hlen;
        char sh[256];
        for (int i = 0; i < a->ndim; i++) {
            size_t d = (size_t)a->shape[i];
            if (d != 0 && count > (SIZE_MAX / 4) / d) {
                fprintf(stderr, "%s: npy shape too large\n", path);
                goto fail;
            }
            count *= d;
        }
        npy_shape_str(a->ndim, a->shape, sh, sizeof sh);
        if (data_len != count * 4) {
            fprintf(stderr, "%s: data is %zu bytes but shape %s of float32 needs %zu\n",
                    path, data_len, sh, count * 4);
            goto fail;
        }
        a->count = count;
        if (count) {
            const unsigned char *d = buf + pre + hlen;
            a->data = malloc(count * sizeof(float));
            if (!a->data) {
                fprintf(stderr, "%s: out of memory (%zu floats)\n", path, count);
                goto fail;
            }
            for (size_t i = 0; i < count; i++) {
                uint32_t u = (uint32_t)d[4 * i] | (uint32_t)d[4 * i + 1] << 8 |
                             (uint32_t)d[4 * i + 2] << 16 | (uint32_t)d[4 * i + 3] << 24;
                memcpy(&a->data[i], &u, 4);
            }
        }
    }
    free(buf);
    return 0;
fail:
    free(buf);
    npy_free(a);
    return -1;
}

int npy_write(const char *path, const float *data, int ndim, const long *shape)
{
    char hdr[512];
    size_t n, count = 1;
    FILE *f;
    int ok = 1;

    if (ndim < 0 || ndim > NPY_MAXDIM) {
        fprintf(stderr, "%s: cannot write npy with %d dimensions\n", path, ndim);
        return -1;
    }
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) {
            fprintf(stderr, "%s: negative dimension %ld\n", path, shape[i]);
            return -1;
        }
        count *= (size_t)shape[i];
    }
    /* magic (6) + version (2) + length (2) = 10 bytes precede the header */
    n = (size_t)snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s%ld", i ? ", " : "", shape[i]);
    n += (size_t)snprintf(hdr + n, sizeof hdr - n, "%s), }", ndim == 1 ? "," : "");
    if (ndim > 0) {
        /* numpy (>= 1.23) leaves 21 - len(str(shape[0])) spare spaces so the
         * header can grow in place; doing the same keeps files byte-identical
         * to np.save's */
        char d0[32];
        int k = snprintf(d0, sizeof d0, "%ld", shape[0]);
        for (; k < 21; k++)
            hdr[n++] = ' ';
    }
    {
        /* as numpy's _wrap_header: 64 - total % 64 spaces, never 0, so an
         * already aligned header gains a whole 64 bytes */
        size_t total = 10 + n + 1; /* +1 for '\n' */
        size_t pad = 64 - total % 64;
        if (n + pad + 1 >= sizeof hdr) {
            fprintf(stderr, "%s: npy header too long\n", path);
            return -1;
        }
        memset(hdr + n, ' ', pad);
        n += pad;
        hdr[n++] = '\n';
    }

    f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s: cannot create: %s\n", path, strerror(errno));
        return -1;
    }
    {
        unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                 (unsigned char)(n & 0xff), (unsigned char)(n >> 8)};
        if (fwrite(pre, 1, 10, f) != 10 || fwrite(hdr, 1, n, f) != n)
            ok = 0;
    }
    for (size_t i = 0; ok && i < count; i++) {
        uint32_t u;
        unsigned char b[4];
        memcpy(&u, &data[i], 4);
        b[0] = (unsigned char)(u & 0xff);
        b[1] = (unsigned char)(u >> 8 & 0xff);
        b[2] = (unsigned char)(u >> 16 & 0xff);
        b[3] = (unsigned char)(u >> 24 & 0xff);
        if (fwrite(b, 1, 4, f) != 4)
            ok = 0;
    }
    if (fclose(f) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "%s: write error\n", path);
        remove(path);
        return -1;
    }
    return 0;
}
