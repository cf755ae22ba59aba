/* top1 - top-1 accuracy of a classifier's logits, and their SQNR against
 * reference logits.
 *
 *   top1 LOGITS.npy LABELS.npy [REF.npy]
 *
 * LOGITS is float32 [N, C]; LABELS float32 [N], each an integer class in
 * [0, C) (float32 because the .npy reader of the test tools reads float32
 * only). A sample's prediction is the index of its largest logit (the first
 * on a tie, as torch.argmax). Prints
 *     correct=K total=N
 * and with REF, float32 [N, C] as well,
 *     correct=K total=N agree=A sqnr_db=S
 * where A counts the samples whose prediction equals REF's and
 *     S = 10 log10(sum REF^2 / sum (LOGITS - REF)^2)
 * in double ("inf" when the two are equal). Exit 1 with a message naming the
 * file on anything else: an unreadable file, a shape that does not fit, a
 * NaN or infinite logit, a label that is not a class. Exit 2 on bad usage.
 */
#include <math.h>
#include <stdio.h>

#include "../ref/npy.h"

/* 0 when every value of A is finite, else -1 with a message naming PATH */
static int check_finite(const char *path, const npy_array *a)
{
    for (size_t i = 0; i < a->count; i++) {
        if (!isfinite(a->data[i])) {
            fprintf(stderr, "%s: element %zu is %s\n", path, i, isnan(a->data[i]) ? "NaN" : "infinite");
            return -1;
        }
    }
    return 0;
}

static size_t argmax(const float *row, long n)
{
    size_t best = 0;
    for (long j = 1; j < n; j++)
        if (row[j] > row[best])
            best = (size_t)j;
    return best;
}

int main(int argc, char **argv)
{
    npy_array logits = {0}, labels = {0}, ref = {0};
    const char *ref_path = argc == 4 ? argv[3] : NULL;
    long n, classes, correct = 0, agree = 0;
    double signal = 0.0, noise = 0.0;
    int rc = 1;

    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: top1 LOGITS.npy LABELS.npy [REF.npy]\n");
        return 2;
    }
    if (npy_read(argv[1], &logits) || npy_read(argv[2], &labels) || (ref_path && npy_read(ref_path, &ref)))
        goto done;
    if (logits.ndim != 2 || logits.shape[0] < 1 || logits.shape[1] < 1) {
        char s[256];
        npy_shape_str(logits.ndim, logits.shape, s, sizeof s);
        fprintf(stderr, "%s: logits must be [N, C] with N, C >= 1, not %s\n", argv[1], s);
        goto done;
    }
    n = logits.shape[0];
    classes = logits.shape[1];
    if (labels.ndim != 1 || labels.shape[0] != n) {
        char s[256];
        npy_shape_str(labels.ndim, labels.shape, s, sizeof s);
        fprintf(stderr, "%s: labels must be [%ld] as the logits' samples, not %s\n", argv[2], n, s);
        goto done;
    }
    if (ref_path && (ref.ndim != 2 || ref.shape[0] != n || ref.shape[1] != classes)) {
        char s[256];
        npy_shape_str(ref.ndim, ref.shape, s, sizeof s);
        fprintf(stderr, "%s: reference logits must be [%ld, %ld] as %s, not %s\n", ref_path, n, classes, argv[1], s);
        goto done;
    }
    if (check_finite(argv[1], &logits) || (ref_path && check_finite(ref_path, &ref)))
        goto done;
    for (long i = 0; i < n; i++) {
        float label = labels.data[i];
        if (!(label >= 0.0f && label < (float)classes && label == floorf(label))) {
            fprintf(stderr, "%s: label %ld is %.9g, not a class in [0, %ld)\n", argv[2], i, (double)label, classes);
            goto done;
        }
        size_t pred = argmax(logits.data + i * classes, classes);
        correct += pred == (size_t)label;
        if (ref_path)
            agree += pred == argmax(ref.data + i * classes, classes);
    }
    if (ref_path) {
        for (size_t i = 0; i < logits.count; i++) {
            double d = (double)logits.data[i] - (double)ref.data[i];
            signal += (double)ref.data[i] * (double)ref.data[i];
            noise += d * d;
        }
        if (noise > 0.0)
            printf("correct=%ld total=%ld agree=%ld sqnr_db=%.2f\n", correct, n, agree, 10.0 * log10(signal / noise));
        else
            printf("correct=%ld total=%ld agree=%ld sqnr_db=inf\n", correct, n, agree);
    } else {
        printf("correct=%ld total=%ld\n", correct, n);
    }
    rc = 0;
done:
    npy_free(&logits);
    npy_free(&labels);
    npy_free(&ref);
    return rc;
}
