/*
 * contract_check: enforce the contract of the emitted C (docs/command-line.md, "What is emitted")
 * with libclang: no heap, no VLA, no recursion or indirect calls, and every
 * loop with a trip count fixed by integer constants.
 *
 *   contract_check [-I DIR]... FILE.c [FILE.c ...]
 *
 * Prints FILE:LINE:COL: error: KIND: detail per violation on stdout.
 * Exit 0: clean; 1: violations; 2: usage error or a file that does not parse.
 *
 * Only declarations written in (or expanded into) the file itself are
 * checked: the headers it includes are the C library and the generated API.
 */
#include <clang-c/Index.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A function of the call graph; callees are indices into Ctx.fns. */
typedef struct {
    char *usr, *name;
    int defined;
    unsigned line, col;
    int *callee, ncallee, capcallee;
} Fn;

typedef struct {
    CXTranslationUnit tu;
    const char *path;
    int violations;
    Fn *fns;
    int nfns, capfns;
    int cur; /* function whose body is being walked, -1 outside bodies */
} Ctx;

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fputs("contract_check: out of memory\n", stderr);
        exit(2);
    }
    return p;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static void report_at(Ctx *x, unsigned line, unsigned col, const char *kind,
                      const char *fmt, ...)
{
    va_list ap;
    printf("%s:%u:%u: error: %s: ", x->path, line, col, kind);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    x->violations++;
}

/* Expansion location: a violation inside a macro is blamed on its use. */
static void cursor_pos(CXCursor c, unsigned *line, unsigned *col)
{
    clang_getExpansionLocation(clang_getCursorLocation(c), NULL, line, col, NULL);
}

#define REPORT(x, c, kind, ...)                                     \
    do {                                                            \
        unsigned line_, col_;                                       \
        cursor_pos(c, &line_, &col_);                               \
        report_at(x, line_, col_, kind, __VA_ARGS__);               \
    } while (0)

static unsigned offset_of(CXSourceLocation loc)
{
    unsigned off;
    clang_getExpansionLocation(loc, NULL, NULL, NULL, &off);
    return off;
}

/* ---- small cursor helpers ------------------------------------------------ */

typedef struct { CXCursor *out; int max, n; } Kids;

static enum CXChildVisitResult collect(CXCursor c, CXCursor p, CXClientData d)
{
    Kids *k = d;
    (void)p;
    if (k->n < k->max)
        k->out[k->n] = c;
    k->n++;
    return CXChildVisit_Continue;
}

/* Stores up to max children in out; returns how many there are in all. */
static int children(CXCursor c, CXCursor *out, int max)
{
    Kids k = { out, max, 0 };
    clang_visitChildren(c, collect, &k);
    return k.n;
}

/* Look through parentheses and implicit casts (UnexposedExpr in libclang). */
static CXCursor strip(CXCursor c)
{
    CXCursor k;
    while ((clang_getCursorKind(c) == CXCursor_ParenExpr ||
            clang_getCursorKind(c) == CXCursor_UnexposedExpr) &&
           children(c, &k, 1) == 1)
        c = k;
    return c;
}

static int refers_to(CXCursor e, CXCursor var)
{
    e = strip(e);
    return clang_getCursorKind(e) == CXCursor_DeclRefExpr &&
           clang_equalCursors(clang_getCanonicalCursor(clang_getCursorReferenced(e)),
                              clang_getCanonicalCursor(var));
}

/* A cursor's extent in file offsets.  libclang leaves the start of an
 * expression that begins with a macro at the macro's definition, and
 * tokenizing that range would read the #define line. */
static CXSourceRange file_extent(CXTranslationUnit tu, CXCursor c)
{
    CXSourceRange r = clang_getCursorExtent(c);
    CXFile f;
    unsigned b;
    clang_getExpansionLocation(clang_getRangeStart(r), &f, NULL, NULL, &b);
    return clang_getRange(clang_getLocationForOffset(tu, f, b),
                          clang_getLocationForOffset(tu, f, offset_of(clang_getRangeEnd(r))));
}

/* libclang 14 has no operator-kind query, so read the operator token:
 * the first token before the first operand (prefix unary) or else the
 * first token at or after its end (binary, postfix). */
static void op_token(CXTranslationUnit tu, CXCursor c, char *op, size_t n)
{
    CXCursor first;
    CXToken *toks;
    unsigned ntok, i, start, end;
    op[0] = '\0';
    if (children(c, &first, 1) < 1)
        return;
    start = offset_of(clang_getRangeStart(clang_getCursorExtent(first)));
    end = offset_of(clang_getRangeEnd(clang_getCursorExtent(first)));
    clang_tokenize(tu, file_extent(tu, c), &toks, &ntok);
    for (i = 0; i < ntok; i++) {
        unsigned off = offset_of(clang_getTokenLocation(tu, toks[i]));
        if ((i == 0 && off < start) || off >= end) {
            CXString s = clang_getTokenSpelling(tu, toks[i]);
            snprintf(op, n, "%s", clang_getCString(s));
            clang_disposeString(s);
            break;
        }
    }
    clang_disposeTokens(tu, toks, ntok);
}

/* Source text of a cursor for messages; a space only between words. */
static void text_of(CXTranslationUnit tu, CXCursor c, char *buf, size_t n)
{
    CXToken *toks;
    unsigned ntok, i;
    size_t len = 0;
    unsigned end = offset_of(clang_getRangeEnd(clang_getCursorExtent(c)));
    buf[0] = '\0';
    clang_tokenize(tu, file_extent(tu, c), &toks, &ntok);
    for (i = 0; i < ntok && len + 1 < n; i++) {
        CXString s;
        int space = i > 0 && clang_getTokenKind(toks[i]) != CXToken_Punctuation &&
                    clang_getTokenKind(toks[i - 1]) != CXToken_Punctuation;
        if (offset_of(clang_getTokenLocation(tu, toks[i])) >= end)
            break; /* some libclang versions hand back one token too many */
        s = clang_getTokenSpelling(tu, toks[i]);
        len += (size_t)snprintf(buf + len, n - len, "%s%s", space ? " " : "",
                                clang_getCString(s));
        clang_disposeString(s);
    }
    clang_disposeTokens(tu, toks, ntok);
}

/* Integer value of a constant expression (or of a variable's initializer). */
static int int_const(CXCursor c, long long *v)
{
    CXEvalResult r = clang_Cursor_Evaluate(c);
    int ok = r && clang_EvalResult_getKind(r) == CXEval_Int;
    if (ok)
        *v = clang_EvalResult_getAsLongLong(r);
    if (r)
        clang_EvalResult_dispose(r);
    return ok;
}

/* ---- vla ----------------------------------------------------------------- */

static int has_vla(CXType t)
{
    int i, n;
    t = clang_getCanonicalType(t);
    switch (t.kind) {
    case CXType_VariableArray:
        return 1;
    case CXType_Pointer:
        return has_vla(clang_getPointeeType(t));
    case CXType_ConstantArray:
    case CXType_IncompleteArray:
        return has_vla(clang_getArrayElementType(t));
    case CXType_FunctionProto:
        n = clang_getNumArgTypes(t);
        for (i = 0; i < n; i++)
            if (has_vla(clang_getArgType(t, (unsigned)i)))
                return 1;
        return has_vla(clang_getResultType(t));
    default:
        return 0;
    }
}

static void check_vla(Ctx *x, CXCursor c, CXType t)
{
    if (has_vla(t)) {
        CXString s = clang_getTypeSpelling(t);
        REPORT(x, c, "vla", "variable-length array type `%s`", clang_getCString(s));
        clang_disposeString(s);
    }
}

/* sizeof is a constant for every operand but a VLA. */
static void check_sizeof(Ctx *x, CXCursor c)
{
    char word[16];
    long long v;
    CXToken *tok = clang_getToken(x->tu, clang_getCursorLocation(c));
    CXString s;
    if (!tok)
        return;
    s = clang_getTokenSpelling(x->tu, *tok);
    snprintf(word, sizeof word, "%s", clang_getCString(s));
    clang_disposeString(s);
    clang_disposeTokens(x->tu, tok, 1);
    if (strcmp(word, "sizeof") == 0 && !int_const(c, &v))
        REPORT(x, c, "vla", "sizeof of a variable-length array");
}

/* ---- calls: heap, indirect calls, call graph ------------------------------ */

static const char *const heap_fns[] = {
    "malloc", "calloc", "realloc", "free", "aligned_alloc", "alloca",
    "__builtin_alloca", "strdup", "strndup",
    /* same thing under other names */
    "posix_memalign", "reallocarray", "__builtin_alloca_with_align",
    "__builtin_malloc", "__builtin_calloc", "__builtin_realloc", "__builtin_free",
};

static int fn_index(Ctx *x, CXCursor fn)
{
    CXString usr = clang_getCursorUSR(fn), name;
    int i;
    for (i = 0; i < x->nfns; i++)
        if (strcmp(x->fns[i].usr, clang_getCString(usr)) == 0)
            break;
    if (i == x->nfns) {
        if (x->nfns == x->capfns) {
            x->capfns = x->capfns ? 2 * x->capfns : 16;
            x->fns = xrealloc(x->fns, (size_t)x->capfns * sizeof *x->fns);
        }
        name = clang_getCursorSpelling(fn);
        memset(&x->fns[i], 0, sizeof x->fns[i]);
        x->fns[i].usr = xstrdup(clang_getCString(usr));
        x->fns[i].name = xstrdup(clang_getCString(name));
        clang_disposeString(name);
        x->nfns++;
    }
    clang_disposeString(usr);
    return i;
}

static void add_edge(Ctx *x, int from, int to)
{
    Fn *f = &x->fns[from];
    if (f->ncallee == f->capcallee) {
        f->capcallee = f->capcallee ? 2 * f->capcallee : 8;
        f->callee = xrealloc(f->callee, (size_t)f->capcallee * sizeof *f->callee);
    }
    f->callee[f->ncallee++] = to;
}

static void check_call(Ctx *x, CXCursor call)
{
    CXCursor fn = clang_getCursorReferenced(call);
    CXString name;
    size_t i;
    if (clang_getCursorKind(fn) != CXCursor_FunctionDecl) {
        /* A pointer call hides the callee from the recursion check. */
        name = clang_getCursorSpelling(call);
        REPORT(x, call, "indirect-call", "call through a function pointer%s%s%s",
               *clang_getCString(name) ? " `" : "", clang_getCString(name),
               *clang_getCString(name) ? "`" : "");
        clang_disposeString(name);
        return;
    }
    name = clang_getCursorSpelling(fn);
    for (i = 0; i < sizeof heap_fns / sizeof heap_fns[0]; i++)
        if (strcmp(clang_getCString(name), heap_fns[i]) == 0)
            REPORT(x, call, "heap", "call to `%s`", heap_fns[i]);
    clang_disposeString(name);
    if (x->cur >= 0)
        add_edge(x, x->cur, fn_index(x, fn));
}

/* Report every defined function that reaches itself, with one such path. */
static void check_recursion(Ctx *x)
{
    int *par = xrealloc(NULL, (size_t)x->nfns * sizeof *par + 1);
    int *queue = xrealloc(NULL, (size_t)x->nfns * sizeof *queue + 1);
    int i, j;
    for (i = 0; i < x->nfns; i++) {
        int head = 0, tail = 0, last = -1;
        if (!x->fns[i].defined)
            continue;
        for (j = 0; j < x->nfns; j++)
            par[j] = -2; /* unseen */
        par[i] = -1;
        queue[tail++] = i;
        while (head < tail && last < 0) {
            int u = queue[head++];
            for (j = 0; j < x->fns[u].ncallee && last < 0; j++) {
                int w = x->fns[u].callee[j];
                if (w == i)
                    last = u;
                else if (par[w] == -2) {
                    par[w] = u;
                    queue[tail++] = w;
                }
            }
        }
        if (last >= 0) {
            /* Path i -> ... -> last -> i, built backwards from last. */
            char path[512] = "";
            int n = 0, u;
            for (u = last; u >= 0; u = par[u])
                queue[n++] = u;
            for (j = n - 1; j >= 0; j--) {
                size_t len = strlen(path);
                snprintf(path + len, sizeof path - len, "`%s` -> ",
                         x->fns[queue[j]].name);
            }
            report_at(x, x->fns[i].line, x->fns[i].col, "recursion",
                      "%s`%s`", path, x->fns[i].name);
        }
    }
    free(par);
    free(queue);
}

/* ---- loops --------------------------------------------------------------- */

typedef struct { CXTranslationUnit tu; CXCursor var; int hit; } BodyCtx;

/* Finds a write to (or the address of) the loop variable in a loop body. */
static enum CXChildVisitResult find_write(CXCursor c, CXCursor p, CXClientData d)
{
    BodyCtx *b = d;
    enum CXCursorKind k = clang_getCursorKind(c);
    CXCursor lhs;
    char op[8];
    (void)p;
    if ((k == CXCursor_BinaryOperator || k == CXCursor_CompoundAssignOperator ||
         k == CXCursor_UnaryOperator) &&
        children(c, &lhs, 1) >= 1 && refers_to(lhs, b->var)) {
        op_token(b->tu, c, op, sizeof op);
        if (k == CXCursor_CompoundAssignOperator || strcmp(op, "=") == 0 ||
            strcmp(op, "++") == 0 || strcmp(op, "--") == 0 || strcmp(op, "&") == 0) {
            b->hit = 1;
            return CXChildVisit_Break;
        }
    }
    return CXChildVisit_Recurse;
}

/* Swap the sides of a comparison: E < v is v > E. */
static const char *flip(const char *op)
{
    if (strcmp(op, "<") == 0) return ">";
    if (strcmp(op, ">") == 0) return "<";
    if (strcmp(op, "<=") == 0) return ">=";
    if (strcmp(op, ">=") == 0) return "<=";
    return op;
}

/* Returns 1 and fills why when the for loop's trip count is not fixed. */
static int bad_for(Ctx *x, CXCursor loop, char *why, size_t n)
{
    CXCursor k[4], kid[2], var, bound;
    CXString vs;
    char vname[64], op[8], cmp[8], text[64];
    long long init, lim, step;
    enum CXTypeKind tk;

    /* Missing parts are simply absent from the children. */
    if (children(loop, k, 4) != 4)
        return snprintf(why, n, "for loop lacks an init, a condition or an increment"), 1;

    /* init: `T v = C` or `v = C` */
    if (clang_getCursorKind(k[0]) == CXCursor_DeclStmt) {
        if (children(k[0], &var, 1) != 1 || clang_getCursorKind(var) != CXCursor_VarDecl)
            return snprintf(why, n, "init must declare exactly one loop variable"), 1;
        if (!int_const(var, &init))
            return snprintf(why, n, "init value is not an integer constant"), 1;
    } else {
        char aop[8];
        CXCursor a = strip(k[0]);
        if (clang_getCursorKind(a) == CXCursor_BinaryOperator)
            op_token(x->tu, a, aop, sizeof aop);
        if (clang_getCursorKind(a) != CXCursor_BinaryOperator || strcmp(aop, "=") != 0 ||
            children(a, kid, 2) != 2 ||
            clang_getCursorKind(strip(kid[0])) != CXCursor_DeclRefExpr)
            return snprintf(why, n, "init must declare or assign one loop variable"), 1;
        var = clang_getCursorReferenced(strip(kid[0]));
        if (clang_getCursorKind(var) != CXCursor_VarDecl)
            return snprintf(why, n, "init must assign a variable"), 1;
        if (!int_const(kid[1], &init))
            return snprintf(why, n, "init value is not an integer constant"), 1;
    }
    vs = clang_getCursorSpelling(var);
    snprintf(vname, sizeof vname, "%s", clang_getCString(vs));
    clang_disposeString(vs);
    tk = clang_getCanonicalType(clang_getCursorType(var)).kind;
    if (tk < CXType_Char_U || tk > CXType_Int128 || tk == CXType_Char32 ||
        tk == CXType_WChar)
        return snprintf(why, n, "loop variable `%s` is not an integer", vname), 1;

    /* condition: v OP E or E OP v */
    bound = strip(k[1]);
    if (clang_getCursorKind(bound) != CXCursor_BinaryOperator ||
        children(bound, kid, 2) != 2)
        return snprintf(why, n, "condition is not a comparison of `%s`", vname), 1;
    op_token(x->tu, bound, op, sizeof op);
    if (strcmp(op, "<") && strcmp(op, "<=") && strcmp(op, ">") && strcmp(op, ">=") &&
        strcmp(op, "!="))
        return snprintf(why, n, "condition operator `%s` is not <, <=, >, >= or !=", op), 1;
    if (refers_to(kid[0], var)) {
        snprintf(cmp, sizeof cmp, "%s", op);
        bound = kid[1];
    } else if (refers_to(kid[1], var)) {
        snprintf(cmp, sizeof cmp, "%s", flip(op));
        bound = kid[0];
    } else
        return snprintf(why, n, "condition does not compare `%s` directly", vname), 1;
    if (!int_const(bound, &lim)) {
        text_of(x->tu, bound, text, sizeof text);
        return snprintf(why, n, "bound `%s` is not an integer constant", text), 1;
    }

    /* increment: ++v, v++, --v, v--, v += C, v -= C */
    {
        CXCursor inc = strip(k[2]);
        enum CXCursorKind ik = clang_getCursorKind(inc);
        int nk = children(inc, kid, 2);
        op_token(x->tu, inc, op, sizeof op);
        if (ik == CXCursor_UnaryOperator && nk == 1 && refers_to(kid[0], var) &&
            (strcmp(op, "++") == 0 || strcmp(op, "--") == 0))
            step = op[0] == '+' ? 1 : -1;
        else if (ik == CXCursor_CompoundAssignOperator && nk == 2 &&
                 refers_to(kid[0], var) &&
                 (strcmp(op, "+=") == 0 || strcmp(op, "-=") == 0)) {
            if (!int_const(kid[1], &step) || step == 0) {
                text_of(x->tu, kid[1], text, sizeof text);
                return snprintf(why, n, "step `%s` is not a non-zero integer constant",
                                text), 1;
            }
            if (op[0] == '-')
                step = -step;
        } else
            return snprintf(why, n, "increment is not ++, --, += C or -= C of `%s`",
                            vname), 1;
    }

    /* The constants must also make the loop end: the step heads for the
     * bound, and with != lands on it exactly. */
    if (((cmp[0] == '<') && step < 0) || ((cmp[0] == '>') && step > 0) ||
        (cmp[0] == '!' && ((lim - init) % step != 0 || (lim - init) / step < 0)))
        return snprintf(why, n, "step %lld from %lld never ends `%s %s %lld`", step, init,
                        vname, cmp, lim), 1;

    /* body must leave v alone */
    {
        BodyCtx b = { x->tu, var, 0 };
        clang_visitChildren(k[3], find_write, &b);
        if (b.hit)
            return snprintf(why, n, "body modifies loop variable `%s`", vname), 1;
    }
    return 0;
}

static void check_do(Ctx *x, CXCursor loop)
{
    CXCursor k[2];
    long long v;
    /* `do { } while (0)` runs once: the macro idiom. */
    if (children(loop, k, 2) != 2 || !int_const(k[1], &v) || v != 0)
        REPORT(x, loop, "loop-bound", "do-while loop with a condition other than 0");
}

/* ---- walk ---------------------------------------------------------------- */

static enum CXChildVisitResult visit(CXCursor c, CXCursor p, CXClientData d)
{
    Ctx *x = d;
    char why[160];
    (void)p;
    switch (clang_getCursorKind(c)) {
    case CXCursor_CallExpr:
        check_call(x, c);
        break;
    case CXCursor_VarDecl:
    case CXCursor_ParmDecl:
    case CXCursor_FieldDecl:
    case CXCursor_CStyleCastExpr:
    case CXCursor_CompoundLiteralExpr:
        check_vla(x, c, clang_getCursorType(c));
        break;
    case CXCursor_TypedefDecl:
        check_vla(x, c, clang_getTypedefDeclUnderlyingType(c));
        break;
    case CXCursor_UnaryExpr:
        check_sizeof(x, c);
        break;
    case CXCursor_WhileStmt:
        REPORT(x, c, "loop-bound", "while loop has no constant trip count");
        break;
    case CXCursor_DoStmt:
        check_do(x, c);
        break;
    case CXCursor_ForStmt:
        if (bad_for(x, c, why, sizeof why))
            REPORT(x, c, "loop-bound", "%s", why);
        break;
    default:
        break;
    }
    return CXChildVisit_Recurse;
}

typedef struct { Ctx *x; CXFile main; } Top;

/* Top-level declarations of the main file; each function body is walked with
 * cur set so that calls become call-graph edges. */
static enum CXChildVisitResult visit_top(CXCursor c, CXCursor p, CXClientData d)
{
    Top *t = d;
    CXFile file;
    clang_getExpansionLocation(clang_getCursorLocation(c), &file, NULL, NULL, NULL);
    if (!file || !clang_File_isEqual(file, t->main))
        return CXChildVisit_Continue;
    t->x->cur = -1;
    if (clang_getCursorKind(c) == CXCursor_FunctionDecl && clang_isCursorDefinition(c)) {
        Fn *f;
        t->x->cur = fn_index(t->x, c);
        f = &t->x->fns[t->x->cur];
        f->defined = 1;
        cursor_pos(c, &f->line, &f->col);
    }
    visit(c, p, t->x);
    clang_visitChildren(c, visit, t->x);
    t->x->cur = -1;
    return CXChildVisit_Continue;
}

/* Returns the number of violations, or -1 when the file does not parse. */
static int check_file(CXIndex index, const char *path, const char **args, int nargs)
{
    CXTranslationUnit tu;
    Ctx x;
    Top t;
    unsigned i, ndiag;
    int errors = 0;
    enum CXErrorCode rc = clang_parseTranslationUnit2(index, path, args, nargs, NULL, 0,
                                                      CXTranslationUnit_None, &tu);
    if (rc != CXError_Success) {
        fprintf(stderr, "contract_check: %s: cannot parse (libclang error %d)\n", path, rc);
        return -1;
    }
    ndiag = clang_getNumDiagnostics(tu);
    for (i = 0; i < ndiag; i++) {
        CXDiagnostic dg = clang_getDiagnostic(tu, i);
        if (clang_getDiagnosticSeverity(dg) >= CXDiagnostic_Error) {
            CXString s = clang_formatDiagnostic(dg, clang_defaultDiagnosticDisplayOptions());
            fprintf(stderr, "%s\n", clang_getCString(s));
            clang_disposeString(s);
            errors++;
        }
        clang_disposeDiagnostic(dg);
    }
    if (errors) {
        clang_disposeTranslationUnit(tu);
        return -1;
    }

    memset(&x, 0, sizeof x);
    x.tu = tu;
    x.path = path;
    x.cur = -1;
    t.x = &x;
    t.main = clang_getFile(tu, path);
    clang_visitChildren(clang_getTranslationUnitCursor(tu), visit_top, &t);
    check_recursion(&x);

    for (i = 0; i < (unsigned)x.nfns; i++) {
        free(x.fns[i].usr);
        free(x.fns[i].name);
        free(x.fns[i].callee);
    }
    free(x.fns);
    clang_disposeTranslationUnit(tu);
    return x.violations;
}

static int usage(void)
{
    fputs("usage: contract_check [-I DIR]... FILE.c [FILE.c ...]\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    /* clang args: -std=c99, the -I pairs, then -I of each file's directory. */
    const char **args = xrealloc(NULL, (size_t)(2 * argc + 4) * sizeof *args);
    int nargs = 0, nfiles = 0, total = 0, broken = 0, i;
    CXIndex index;

    args[nargs++] = "-std=c99";
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-I") == 0) {
            if (i + 1 == argc)
                return free(args), usage();
            args[nargs++] = "-I";
            args[nargs++] = argv[++i];
        } else if (strncmp(argv[i], "-I", 2) == 0)
            args[nargs++] = argv[i];
        else if (argv[i][0] == '-')
            return free(args), usage();
        else
            nfiles++;
    }
    if (nfiles == 0)
        return free(args), usage();

    index = clang_createIndex(0, 0);
    for (i = 1; i < argc; i++) {
        char *dir;
        const char *slash;
        int r;
        if (argv[i][0] == '-') {
            i += strcmp(argv[i], "-I") == 0;
            continue;
        }
        slash = strrchr(argv[i], '/');
        dir = xstrdup(slash ? argv[i] : ".");
        if (slash)
            dir[slash == argv[i] ? 1 : slash - argv[i]] = '\0';
        args[nargs] = "-I";
        args[nargs + 1] = dir;
        r = check_file(index, argv[i], args, nargs + 2);
        free(dir);
        if (r < 0)
            broken = 1;
        else
            total += r;
    }
    clang_disposeIndex(index);
    free(args);

    if (broken) {
        fprintf(stderr, "contract_check: a file could not be parsed\n");
        return 2;
    }
    if (total) {
        printf("contract_check: %d violation%s\n", total, total == 1 ? "" : "s");
        return 1;
    }
    printf("contract_check: %d file%s ok\n", nfiles, nfiles == 1 ? "" : "s");
    return 0;
}
