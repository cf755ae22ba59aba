/* ref_spconv - run the reference SPConv layer on an input .npy.
 *
 *   ref_spconv --cin C --cout CO --h H --w W --batch N --ratio A --groups G
 *              --stride S --bias official|all --naming torch|paddle
 *              --name PREFIX [--bn NAME] [--relu] [--eps E]
 *              WEIGHTS.safetensors IN.npy OUT.npy
 *
 * Weights (r = floor(C * A), both namings):
 *   PREFIX.gwc.weight [CO, r/G, 3, 3]   PREFIX.pwc.weight [CO, r, 1, 1]
 *   PREFIX.conv1x1.weight [CO, C-r, 1, 1]   PREFIX.conv1x1.bias [CO]
 *   --bias all also: PREFIX.gwc.bias [CO], PREFIX.pwc.bias [CO]
 *   BNs PREFIX.bn1, PREFIX.bn2 and (--bn) NAME, each [CO]:
 *     torch:  .weight .bias .running_mean .running_var
 *     paddle: .weight .bias ._mean ._variance
 * IN.npy is float32 [N, C, H, W]; OUT.npy is written float32 [N, CO, Ho, Wo].
 *
 * Exit status: 0 ok; 1 bad input (weights, input, layer configuration),
 * with the file named in the message; 2 malformed command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "npy.h"
#include "spconv_ref.h"
#include "st.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: ref_spconv --cin C --cout CO --h H --w W --batch N --ratio A --groups G\n"
            "                  --stride S --bias official|all --naming torch|paddle --name PREFIX\n"
            "                  [--bn NAME] [--relu] [--eps E] WEIGHTS.safetensors IN.npy OUT.npy\n");
}

#define bad_usage(msg, arg) cli_bad_usage("ref_spconv", usage, msg, arg)

/* Fetches NAME + SUFFIX as a 1-D [co] tensor. */
static const float *get_vec(st *f, const char *name, const char *suffix, long co)
{
    char key[1024];
    if ((size_t)snprintf(key, sizeof key, "%s%s", name, suffix) >= sizeof key) {
        fprintf(stderr, "ref_spconv: tensor name too long: %s%s\n", name, suffix);
        return NULL;
    }
    return st_get(f, key, 1, &co);
}

static int get_bn(st *f, const char *name, int paddle, long co, ref_bn *bn)
{
    if (!(bn->weight = get_vec(f, name, ".weight", co)) || !(bn->bias = get_vec(f, name, ".bias", co)) ||
        !(bn->mean = get_vec(f, name, paddle ? "._mean" : ".running_mean", co)) ||
        !(bn->var = get_vec(f, name, paddle ? "._variance" : ".running_var", co)))
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    int cin = -1, cout = -1, h = -1, w = -1, batch = -1, groups = -1, stride = -1, relu = 0;
    int have_ratio = 0;
    double ratio = 0.0, eps = 1e-5;
    const char *bias = NULL, *naming = NULL, *prefix = NULL, *bn_name = NULL;
    const char *pos[3];
    int npos = 0;
    int rc = 1;
    st *wf = NULL;
    npy_array in = {0};
    float *out = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char opt[CLI_OPT_MAX];
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (npos == 3)
                return bad_usage("too many arguments at", a);
            pos[npos++] = a;
            continue;
        }
        if (cli_split(a, opt, &val) != 0)
            return bad_usage("unknown option", a);
        if (strcmp(opt, "--relu") == 0) {
            if (val)
                return bad_usage("--relu takes no value:", a);
            relu = 1;
            continue;
        }
        if (strcmp(opt, "--help") == 0) {
            usage();
            return 0;
        }
        if (!val) {
            if (i + 1 >= argc)
                return bad_usage("missing value for", opt);
            val = argv[++i];
        }
        int *iv = strcmp(opt, "--cin") == 0      ? &cin
                  : strcmp(opt, "--cout") == 0   ? &cout
                  : strcmp(opt, "--h") == 0      ? &h
                  : strcmp(opt, "--w") == 0      ? &w
                  : strcmp(opt, "--batch") == 0  ? &batch
                  : strcmp(opt, "--groups") == 0 ? &groups
                  : strcmp(opt, "--stride") == 0 ? &stride
                                                 : NULL;
        if (iv) {
            if (cli_int(val, -1000000000L, 1000000000L, iv))
                return bad_usage("not an integer:", a);
        } else if (strcmp(opt, "--ratio") == 0) {
            if (cli_double(val, &ratio))
                return bad_usage("not a number:", a);
            have_ratio = 1;
        } else if (strcmp(opt, "--eps") == 0) {
            if (cli_double(val, &eps))
                return bad_usage("not a number:", a);
        } else if (strcmp(opt, "--bias") == 0) {
            if (strcmp(val, "official") != 0 && strcmp(val, "all") != 0)
                return bad_usage("--bias must be official or all, not", val);
            bias = val;
        } else if (strcmp(opt, "--naming") == 0) {
            if (strcmp(val, "torch") != 0 && strcmp(val, "paddle") != 0)
                return bad_usage("--naming must be torch or paddle, not", val);
            naming = val;
        } else if (strcmp(opt, "--name") == 0) {
            prefix = val;
        } else if (strcmp(opt, "--bn") == 0) {
            bn_name = val;
        } else {
            return bad_usage("unknown option", opt);
        }
    }
    {
        const char *missing = cin < 0 ? "--cin" : cout < 0 ? "--cout" : h < 0 ? "--h" : w < 0 ? "--w"
                              : batch < 0 ? "--batch" : !have_ratio ? "--ratio" : groups < 0 ? "--groups"
                              : stride < 0 ? "--stride" : !bias ? "--bias" : !naming ? "--naming"
                              : !prefix ? "--name" : NULL;
        if (missing)
            return bad_usage("missing required option", missing);
        if (npos != 3)
            return bad_usage("expected WEIGHTS.safetensors IN.npy OUT.npy", NULL);
    }

    spconv_ref_params p;
    memset(&p, 0, sizeof p);
    p.cin = cin;
    p.cout = cout;
    p.h = h;
    p.w = w;
    p.batch = batch;
    p.groups = groups;
    p.stride = stride;
    p.ratio = ratio;
    p.eps = eps;
    p.relu = relu;

    int ho, wo;
    {
        char err[256];
        if (spconv_ref_check(&p, &ho, &wo, err, sizeof err)) {
            fprintf(stderr, "ref_spconv: bad layer: %s\n", err);
            return 1;
        }
    }
    const int r = spconv_ref_r(cin, ratio);
    const int paddle = strcmp(naming, "paddle") == 0;
    const int all = strcmp(bias, "all") == 0;
    const long co = cout;

    wf = st_open(pos[0]);
    if (!wf)
        goto done;
    {
        /* stops at the first missing or misshapen tensor: that one names the
         * cause (usually --naming, --name, --bias or a shape option) */
        char key[1024];
        const long gshape[4] = {co, r / groups, 3, 3};
        const long pshape[4] = {co, r, 1, 1};
        const long cshape[4] = {co, cin - r, 1, 1};
#define KEY(suffix)                                                                  \
    ((size_t)snprintf(key, sizeof key, "%s%s", prefix, suffix) < sizeof key ? key : \
                                                                          "(name too long)")
        if (!(p.gwc_w = st_get(wf, KEY(".gwc.weight"), 4, gshape)) ||
            !(p.pwc_w = st_get(wf, KEY(".pwc.weight"), 4, pshape)) ||
            !(p.c1_w = st_get(wf, KEY(".conv1x1.weight"), 4, cshape)) ||
            !(p.c1_b = st_get(wf, KEY(".conv1x1.bias"), 1, &co)))
            goto done;
        if (all) {
            if (!(p.gwc_b = st_get(wf, KEY(".gwc.bias"), 1, &co)) ||
                !(p.pwc_b = st_get(wf, KEY(".pwc.bias"), 1, &co)))
                goto done;
        } else {
            static const char *const extra[2] = {".gwc.bias", ".pwc.bias"};
            for (int k = 0; k < 2; k++)
                if (st_has(wf, KEY(extra[k])))
                    fprintf(stderr, "%s: warning: tensor '%s' ignored (--bias official); did you mean --bias all?\n",
                            pos[0], key);
        }
#undef KEY
        {
            char name[1024];
            snprintf(name, sizeof name, "%s.bn1", prefix);
            if (get_bn(wf, name, paddle, co, &p.bn1))
                goto done;
            snprintf(name, sizeof name, "%s.bn2", prefix);
            if (get_bn(wf, name, paddle, co, &p.bn2))
                goto done;
        }
        if (bn_name) {
            p.has_bn = 1;
            if (get_bn(wf, bn_name, paddle, co, &p.bn))
                goto done;
        }
    }

    if (npy_read(pos[1], &in))
        goto done;
    {
        const long want[4] = {batch, cin, h, w};
        int same = in.ndim == 4;
        for (int k = 0; same && k < 4; k++)
            same = in.shape[k] == want[k];
        if (!same) {
            char got[256], need[256];
            npy_shape_str(in.ndim, in.shape, got, sizeof got);
            npy_shape_str(4, want, need, sizeof need);
            fprintf(stderr, "%s: input shape %s does not match --batch %d --cin %d --h %d --w %d, which need %s\n",
                    pos[1], got, batch, cin, h, w, need);
            goto done;
        }
    }

    {
        const long oshape[4] = {batch, cout, ho, wo};
        out = malloc((size_t)batch * (size_t)cout * (size_t)ho * (size_t)wo * sizeof(float));
        if (!out) {
            fprintf(stderr, "ref_spconv: out of memory\n");
            goto done;
        }
        if (spconv_ref_run(&p, in.data, out))
            goto done;
        if (npy_write(pos[2], out, 4, oshape))
            goto done;
    }
    rc = 0;
done:
    free(out);
    npy_free(&in);
    st_close(wf);
    return rc;
}
