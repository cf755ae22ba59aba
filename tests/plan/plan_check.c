/* plan_check: replays a memory plan written by `spgen --plan FILE` and proves
   that no buffer is overwritten while it is still to be read. It trusts
   nothing the planner computed about lifetimes: it tracks, for every arena
   byte, which kernel wrote it last, and requires every read to find exactly
   the bytes its producer wrote. A kernel may overwrite an input only where
   the plan marks it in place (elementwise use, `*`) and the ranges coincide.
   usage: plan_check PLAN.txt ; exit 0 ok, 1 violation, 2 bad input */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_KERNELS 4096
#define MAX_SEGS 65536

typedef struct { long lo, hi; int writer; } seg;   /* writer: step, or -step for scratch */
typedef struct { long off, bytes; int external, inplace; } ref;

static seg segs[MAX_SEGS];
static int nsegs;
static ref written[MAX_KERNELS + 1];               /* what each step wrote */

static int parse_ref(const char *s, ref *r)
{
    char *end;
    memset(r, 0, sizeof *r);
    if (strncmp(s, "input:", 6) == 0 || strncmp(s, "output:", 7) == 0) {
        r->external = 1;
        s = strchr(s, ':') + 1;
    } else {
        r->off = strtol(s, &end, 10);
        if (end == s || *end != ':')
            return -1;
        s = end + 1;
    }
    r->bytes = strtol(s, &end, 10);
    if (end == s || r->bytes <= 0 || r->off < 0)
        return -1;
    r->inplace = *end == '*';
    return 0;
}

static int overlaps(const ref *a, const ref *b)
{
    return !a->external && !b->external && a->off < b->off + b->bytes && b->off < a->off + a->bytes;
}

/* Marks [lo, hi) as written by `writer`. */
static int mark(long lo, long hi, int writer)
{
    static seg out[MAX_SEGS];
    int n = 0;
    for (int i = 0; i < nsegs; i++) {
        seg s = segs[i];
        if (s.hi <= lo || s.lo >= hi) {
            out[n++] = s;
            continue;
        }
        if (s.lo < lo)
            out[n++] = (seg){s.lo, lo, s.writer};
        if (s.hi > hi)
            out[n++] = (seg){hi, s.hi, s.writer};
        if (n >= MAX_SEGS - 2)
            return -1;
    }
    out[n++] = (seg){lo, hi, writer};
    memcpy(segs, out, (size_t)n * sizeof *segs);
    nsegs = n;
    return 0;
}

/* 0 when every byte of r was last written by one kernel whose whole output was r. */
static int check_read(int step, const ref *r)
{
    long covered = 0;
    int writer = 0;
    for (int i = 0; i < nsegs; i++) {
        const seg *s = &segs[i];
        if (s->hi <= r->off || s->lo >= r->off + r->bytes)
            continue;
        if (writer && s->writer != writer) {
            printf("kernel %d: input [%ld, %ld) was partly overwritten by kernel %d after kernel %d wrote it\n",
                   step, r->off, r->off + r->bytes, abs(s->writer), abs(writer));
            return -1;
        }
        writer = s->writer;
        long lo = s->lo > r->off ? s->lo : r->off, hi = s->hi < r->off + r->bytes ? s->hi : r->off + r->bytes;
        covered += hi - lo;
    }
    if (covered != r->bytes || writer <= 0) {
        printf("kernel %d: input [%ld, %ld) was never written as one tensor (or is scratch)\n", step, r->off,
               r->off + r->bytes);
        return -1;
    }
    if (written[writer].off != r->off || written[writer].bytes != r->bytes) {
        printf("kernel %d: input [%ld, %ld) is not the output kernel %d wrote\n", step, r->off,
               r->off + r->bytes, writer);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    char line[4096];
    long arena = -1;
    int kernels = 0, bad = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: plan_check PLAN.txt\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    while (fgets(line, sizeof line, f)) {
        char kind[64], ins[2048], out[128], scratch[128] = "";
        int step;
        ref r[8], o, sc;
        int nin = 0;
        if (sscanf(line, "arena %ld", &arena) == 1)
            continue;
        if (sscanf(line, "kernel %d %63s in=%2047s out=%127s scratch=%127s", &step, kind, ins, out, scratch) < 4 ||
            step != kernels + 1 || step > MAX_KERNELS || arena < 0 || parse_ref(out, &o) != 0 ||
            (scratch[0] && parse_ref(scratch, &sc) != 0)) {
            fprintf(stderr, "%s: bad line: %s", argv[1], line);
            fclose(f);
            return 2;
        }
        kernels = step;
        for (char *tok = strtok(ins, ","); tok && nin < 8; tok = strtok(NULL, ","))
            if (parse_ref(tok, &r[nin++]) != 0) {
                fprintf(stderr, "%s: bad input ref %s\n", argv[1], tok);
                fclose(f);
                return 2;
            }
        ref *all[10];
        int nall = 0;
        for (int i = 0; i < nin; i++)
            all[nall++] = &r[i];
        all[nall++] = &o;
        if (scratch[0])
            all[nall++] = &sc;
        for (int i = 0; i < nall; i++)
            if (!all[i]->external && all[i]->off + all[i]->bytes > arena) {
                printf("kernel %d: [%ld, %ld) is outside the %ld-byte arena\n", step, all[i]->off,
                       all[i]->off + all[i]->bytes, arena);
                bad = 1;
            }
        for (int i = 0; i < nin; i++) {
            if (!r[i].external && check_read(step, &r[i]) != 0)
                bad = 1;
            int same = !r[i].external && !o.external && r[i].off == o.off && r[i].bytes == o.bytes;
            if (overlaps(&r[i], &o) && !(r[i].inplace && same)) {
                printf("kernel %d (%s): output overlaps input %d, which it may not overwrite\n", step, kind, i + 1);
                bad = 1;
            }
            if (scratch[0] && overlaps(&r[i], &sc)) {
                printf("kernel %d (%s): scratch overlaps input %d\n", step, kind, i + 1);
                bad = 1;
            }
        }
        if (scratch[0] && overlaps(&o, &sc)) {
            printf("kernel %d (%s): scratch overlaps the output\n", step, kind);
            bad = 1;
        }
        if (scratch[0] && mark(sc.off, sc.off + sc.bytes, -step) != 0)
            bad = 1;
        written[step] = o;
        if (!o.external && mark(o.off, o.off + o.bytes, step) != 0)
            bad = 1;
    }
    fclose(f);
    if (arena < 0 || kernels == 0) {
        fprintf(stderr, "%s: no plan\n", argv[1]);
        return 2;
    }
    if (bad)
        return 1;
    printf("plan_check: %d kernels, no live buffer overwritten\n", kernels);
    return 0;
}
