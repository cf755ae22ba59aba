/* mkfix - write small test fixtures: a float32 .npy or an F32 safetensors file
 * with values given on the command line.
 *
 *   mkfix npy OUT.npy SHAPE FILL
 *   mkfix st  OUT.safetensors NAME SHAPE FILL [NAME SHAPE FILL ...]
 *
 * SHAPE  dimensions joined by 'x', e.g. 8x4x3x3 or 16 (1 to 8 dims, each >= 1)
 * FILL   c:V            every element is V
 *        u:SEED:LO:HI   LO + (HI - LO) * u, u the 24-bit uniform [0, 1) of
 *                       splitmix64 seeded with SEED (see prng.h), per element
 *        v:A,B,C,...    the values listed, row-major (count must match)
 *        f:PATH         whitespace-separated values read from a text file
 *
 * The safetensors header is {"NAME": {"dtype": "F32", "shape": [...],
 * "data_offsets": [b, e]}, ...} in argument order, space-padded to a
 * multiple of 8 bytes; tensors are stored back to back in argument order.
 *
 * Exit status: 0 ok, 1 I/O error, 2 bad arguments.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ref/cli.h"
#include "../ref/npy.h"
#include "prng.h"

#define MAXDIM 8

typedef struct {
    const char *name;
    int ndim;
    long shape[MAXDIM];
    size_t count;
    float *data;
} tensor;

static void usage(void)
{
    fprintf(stderr,
            "usage: mkfix npy OUT.npy SHAPE FILL\n"
            "       mkfix st OUT.safetensors NAME SHAPE FILL [NAME SHAPE FILL ...]\n"
            "  SHAPE: dims joined by 'x' (e.g. 8x4x3x3)\n"
            "  FILL:  c:V | u:SEED:LO:HI | v:A,B,... | f:PATH\n");
}

static int parse_shape(const char *s, tensor *t)
{
    const char *p = s;
    t->ndim = 0;
    t->count = 1;
    for (;;) {
        char *end;
        long d;
        if (t->ndim == MAXDIM) {
            fprintf(stderr, "mkfix: shape '%s' has more than %d dims\n", s, MAXDIM);
            return -1;
        }
        errno = 0;
        d = strtol(p, &end, 10);
        if (end == p || errno == ERANGE || d < 1 || d > 100000000L || (*end && *end != 'x')) {
            fprintf(stderr, "mkfix: bad shape '%s' (want dims >= 1 joined by 'x')\n", s);
            return -1;
        }
        if (t->count > ((size_t)1 << 31) / (size_t)d) {
            fprintf(stderr, "mkfix: shape '%s' too large\n", s);
            return -1;
        }
        t->shape[t->ndim++] = d;
        t->count *= (size_t)d;
        if (!*end)
            return 0;
        p = end + 1;
    }
}

static int parse_num(const char *s, const char *what, double *v)
{
    if (cli_double(s, v) == 0)
        return 0;
    fprintf(stderr, "mkfix: %s: '%s' is not a number\n", what, s);
    return -1;
}

/* Reads values from a list (sep ',') or a text file into t->data. */
static int fill_list(const char *text, const char *what, int comma, tensor *t)
{
    const char *p = text;
    size_t n = 0;
    for (;;) {
        char *end;
        double v;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p)
            break;
        v = strtod(p, &end);
        if (end == p) {
            fprintf(stderr, "mkfix: %s: bad value at '%.20s'\n", what, p);
            return -1;
        }
        if (n == t->count) {
            fprintf(stderr, "mkfix: %s: more than the %zu values the shape needs\n", what, t->count);
            return -1;
        }
        t->data[n++] = (float)v;
        p = end;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (comma) {
            if (*p == ',')
                p++;
            else if (*p) {
                fprintf(stderr, "mkfix: %s: expected ',' at '%.20s'\n", what, p);
                return -1;
            }
        }
    }
    if (n != t->count) {
        fprintf(stderr, "mkfix: %s: %zu values given, the shape needs %zu\n", what, n, t->count);
        return -1;
    }
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    size_t n = 0, cap = 0;
    if (!f) {
        fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb;
            cap = cap ? cap * 2 : 4096;
            if (cap > ((size_t)1 << 32)) {
                fprintf(stderr, "%s: file too large\n", path);
                break;
            }
            nb = realloc(b, cap);
            if (!nb) {
                fprintf(stderr, "%s: out of memory\n", path);
                break;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                fprintf(stderr, "%s: read error\n", path);
                break;
            }
            fclose(f);
            b[n] = '\0';
            if (strlen(b) != n) {
                fprintf(stderr, "%s: NUL byte in a text file\n", path);
                free(b);
                return NULL;
            }
            return b;
        }
    }
    fclose(f);
    free(b);
    return NULL;
}

static int fill(const char *spec, tensor *t)
{
    t->data = malloc(t->count * sizeof(float));
    if (!t->data) {
        fprintf(stderr, "mkfix: out of memory\n");
        return -1;
    }
    if (strncmp(spec, "c:", 2) == 0) {
        double v;
        if (parse_num(spec + 2, spec, &v))
            return -1;
        for (size_t i = 0; i < t->count; i++)
            t->data[i] = (float)v;
        return 0;
    }
    if (strncmp(spec, "u:", 2) == 0) {
        char buf[256], *seed_s, *lo_s, *hi_s, *end;
        double lo, hi;
        uint64_t state;
        if (strlen(spec + 2) >= sizeof buf) {
            fprintf(stderr, "mkfix: fill '%s' too long\n", spec);
            return -1;
        }
        strcpy(buf, spec + 2);
        seed_s = buf;
        lo_s = strchr(seed_s, ':');
        hi_s = lo_s ? strchr(lo_s + 1, ':') : NULL;
        if (!lo_s || !hi_s) {
            fprintf(stderr, "mkfix: fill '%s': want u:SEED:LO:HI\n", spec);
            return -1;
        }
        *lo_s++ = '\0';
        *hi_s++ = '\0';
        errno = 0;
        state = strtoull(seed_s, &end, 10);
        if (end == seed_s || *end || errno == ERANGE || seed_s[0] == '-') {
            fprintf(stderr, "mkfix: fill '%s': SEED must be a decimal integer below 2^64\n", spec);
            return -1;
        }
        if (parse_num(lo_s, spec, &lo) || parse_num(hi_s, spec, &hi))
            return -1;
        for (size_t i = 0; i < t->count; i++)
            t->data[i] = (float)(lo + (hi - lo) * prng_unit(&state));
        return 0;
    }
    if (strncmp(spec, "v:", 2) == 0)
        return fill_list(spec + 2, "v: list", 1, t);
    if (strncmp(spec, "f:", 2) == 0) {
        char *text = slurp(spec + 2);
        int rc;
        if (!text)
            return -1;
        rc = fill_list(text, spec + 2, 0, t);
        free(text);
        return rc;
    }
    fprintf(stderr, "mkfix: bad fill '%s' (want c:V, u:SEED:LO:HI, v:A,B,... or f:PATH)\n", spec);
    return -1;
}

/* Appends s to the buffer as a JSON string literal. */
static int json_str(char **buf, size_t *n, size_t *cap, const char *s)
{
    size_t len = strlen(s);
    if (*cap - *n < len * 6 + 3) {
        size_t ncap = *n + len * 6 + 3 + 4096;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    (*buf)[(*n)++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            (*buf)[(*n)++] = '\\';
            (*buf)[(*n)++] = (char)c;
        } else if (c < 0x20) {
            *n += (size_t)snprintf(*buf + *n, 7, "\\u%04x", c);
        } else {
            (*buf)[(*n)++] = (char)c;
        }
    }
    (*buf)[(*n)++] = '"';
    return 0;
}

static int write_st(const char *path, tensor *t, int nt)
{
    char *h = NULL;
    size_t n = 0, cap = 0;
    uint64_t off = 0;
    FILE *f;
    int ok = 1;

    for (int i = 0; i < nt; i++) {
        char tmp[512];
        size_t k;
        for (int j = 0; j < i; j++)
            if (strcmp(t[i].name, t[j].name) == 0) {
                fprintf(stderr, "mkfix: tensor '%s' given twice\n", t[i].name);
                free(h);
                return 2;
            }
        if (json_str(&h, &n, &cap, t[i].name))
            goto oom;
        k = (size_t)snprintf(tmp, sizeof tmp, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t[i].ndim; d++)
            k += (size_t)snprintf(tmp + k, sizeof tmp - k, "%s%ld", d ? "," : "", t[i].shape[d]);
        k += (size_t)snprintf(tmp + k, sizeof tmp - k, "],\"data_offsets\":[%llu,%llu]}%s",
                              (unsigned long long)off, (unsigned long long)(off + 4 * t[i].count),
                              i + 1 < nt ? "," : "");
        off += 4 * t[i].count;
        if (cap - n < k + 16) {
            size_t ncap = n + k + 4096;
            char *nb = realloc(h, ncap);
            if (!nb)
                goto oom;
            h = nb;
            cap = ncap;
        }
        memcpy(h + n, tmp, k);
        n += k;
    }
    {
        /* wrap in braces: shift right by one */
        size_t total = n + 2, pad = (8 - total % 8) % 8;
        char *nb = malloc(total + pad);
        if (!nb)
            goto oom;
        nb[0] = '{';
        if (n)
            memcpy(nb + 1, h, n);
        nb[n + 1] = '}';
        memset(nb + total, ' ', pad);
        free(h);
        h = nb;
        n = total + pad;
    }
    f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "%s: cannot create: %s\n", path, strerror(errno));
        free(h);
        return 1;
    }
    {
        unsigned char lb[8];
        for (int i = 0; i < 8; i++)
            lb[i] = (unsigned char)((uint64_t)n >> (8 * i) & 0xff);
        if (fwrite(lb, 1, 8, f) != 8 || fwrite(h, 1, n, f) != n)
            ok = 0;
    }
    for (int i = 0; ok && i < nt; i++)
        for (size_t k = 0; ok && k < t[i].count; k++) {
            uint32_t u;
            unsigned char b[4];
            memcpy(&u, &t[i].data[k], 4);
            for (int j = 0; j < 4; j++)
                b[j] = (unsigned char)(u >> (8 * j) & 0xff);
            if (fwrite(b, 1, 4, f) != 4)
                ok = 0;
        }
    if (fclose(f) != 0)
        ok = 0;
    free(h);
    if (!ok) {
        fprintf(stderr, "%s: write error\n", path);
        remove(path);
        return 1;
    }
    return 0;
oom:
    free(h);
    fprintf(stderr, "mkfix: out of memory\n");
    return 1;
}

int main(int argc, char **argv)
{
    int rc = 2;
    if (argc >= 2 && strcmp(argv[1], "npy") == 0) {
        tensor t = {0};
        if (argc != 5) {
            usage();
            return 2;
        }
        if (parse_shape(argv[3], &t) == 0 && fill(argv[4], &t) == 0)
            rc = npy_write(argv[2], t.data, t.ndim, t.shape) ? 1 : 0;
        free(t.data);
        return rc;
    }
    if (argc >= 2 && strcmp(argv[1], "st") == 0) {
        int nt = (argc - 3) / 3;
        tensor *t;
        if (argc < 3 || (argc - 3) % 3 != 0) {
            usage();
            return 2;
        }
        t = calloc((size_t)(nt ? nt : 1), sizeof *t);
        if (!t) {
            fprintf(stderr, "mkfix: out of memory\n");
            return 1;
        }
        rc = 0;
        for (int i = 0; i < nt && rc == 0; i++) {
            t[i].name = argv[3 + 3 * i];
            if (parse_shape(argv[4 + 3 * i], &t[i]) || fill(argv[5 + 3 * i], &t[i])) {
                fprintf(stderr, "mkfix: (the error above is in tensor '%s')\n", t[i].name);
                rc = 2;
            }
        }
        if (rc == 0)
            rc = write_st(argv[2], t, nt);
        for (int i = 0; i < nt; i++)
            free(t[i].data);
        free(t);
        return rc;
    }
    usage();
    return 2;
}
