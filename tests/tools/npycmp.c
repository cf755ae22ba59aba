/* npycmp - compare two float32 .npy files.
 *
 *   npycmp GOT.npy WANT.npy TOL
 *
 * Fails (exit 1, message on stderr) when either file cannot be read, the
 * shapes differ, or either array holds a NaN or an infinity. Otherwise
 * computes
 *     max_abs = max_i |got[i] - want[i]|
 *     rel     = max_abs / max(max_i |want[i]|, 1e-30)
 * (the error relative to the largest reference magnitude, the project's
 * metric; differences are taken in double), prints
 *     max_abs=%.3g rel=%.3g tol=%.3g
 * on stdout and exits 1 if rel > TOL (then it also names the worst element
 * on stderr), 0 otherwise. Exit 2 on bad arguments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../ref/npy.h"

static void fmt_index(const npy_array *a, size_t i, char *buf, size_t n)
{
    long idx[NPY_MAXDIM];
    for (int k = a->ndim - 1; k >= 0; k--) {
        idx[k] = a->shape[k] ? (long)(i % (size_t)a->shape[k]) : 0;
        i = a->shape[k] ? i / (size_t)a->shape[k] : 0;
    }
    npy_shape_str(a->ndim, idx, buf, n);
}

static int check_finite(const char *path, const npy_array *a)
{
    for (size_t i = 0; i < a->count; i++) {
        if (!isfinite(a->data[i])) {
            char ix[256];
            fmt_index(a, i, ix, sizeof ix);
            fprintf(stderr, "%s: element %s is %s\n", path, ix, isnan(a->data[i]) ? "NaN" : "infinite");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    npy_array got = {0}, want = {0};
    double tol, max_abs = 0.0, max_want = 0.0, rel;
    size_t worst = 0;
    char *end;
    int rc = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: npycmp GOT.npy WANT.npy TOL\n");
        return 2;
    }
    tol = strtod(argv[3], &end);
    if (end == argv[3] || *end || !(tol >= 0.0) || !isfinite(tol)) {
        fprintf(stderr, "npycmp: TOL must be a finite number >= 0, not '%s'\n", argv[3]);
        return 2;
    }
    if (npy_read(argv[1], &got) || npy_read(argv[2], &want))
        goto done;
    {
        int same = got.ndim == want.ndim;
        for (int k = 0; same && k < got.ndim; k++)
            same = got.shape[k] == want.shape[k];
        if (!same) {
            char a[256], b[256];
            npy_shape_str(got.ndim, got.shape, a, sizeof a);
            npy_shape_str(want.ndim, want.shape, b, sizeof b);
            fprintf(stderr, "npycmp: shape mismatch: %s is %s, %s is %s\n", argv[1], a, argv[2], b);
            goto done;
        }
    }
    if (check_finite(argv[1], &got) || check_finite(argv[2], &want))
        goto done;
    for (size_t i = 0; i < got.count; i++) {
        double d = fabs((double)got.data[i] - (double)want.data[i]);
        double m = fabs((double)want.data[i]);
        if (d > max_abs) {
            max_abs = d;
            worst = i;
        }
        if (m > max_want)
            max_want = m;
    }
    rel = max_abs / (max_want > 1e-30 ? max_want : 1e-30);
    printf("max_abs=%.3g rel=%.3g tol=%.3g\n", max_abs, rel, tol);
    if (rel > tol) {
        char ix[256];
        fmt_index(&got, worst, ix, sizeof ix);
        fprintf(stderr, "npycmp: FAIL: rel %.3g > tol %.3g; worst element %s: got %.9g want %.9g (max |want| %.9g)\n",
                rel, tol, ix, (double)got.data[worst], (double)want.data[worst], max_want);
        goto done;
    }
    rc = 0;
done:
    npy_free(&got);
    npy_free(&want);
    return rc;
}
