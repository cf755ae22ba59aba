/* Command-line helpers shared by the reference and fixture tools (static
   inline: a tool that uses some of them does not warn about the rest). */
#ifndef SPGEN_REF_CLI_H
#define SPGEN_REF_CLI_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_OPT_MAX 32

/* Splits "--name=value" into opt ("--name") and *val ("value"; NULL without
   '='). Returns -1 when the name does not fit. */
static inline int cli_split(const char *a, char opt[CLI_OPT_MAX], const char **val)
{
    const char *eq = strchr(a, '=');
    size_t n = eq ? (size_t)(eq - a) : strlen(a);
    if (n >= CLI_OPT_MAX)
        return -1;
    memcpy(opt, a, n);
    opt[n] = '\0';
    *val = eq ? eq + 1 : NULL;
    return 0;
}

/* A usage error of tool: the message, the usage text, exit status 2. */
static inline int cli_bad_usage(const char *tool, void (*usage)(void), const char *msg, const char *arg)
{
    fprintf(stderr, "%s: %s%s%s\n", tool, msg, arg ? " " : "", arg ? arg : "");
    usage();
    return 2;
}

/* A whole decimal integer in [lo, hi], or -1. */
static inline int cli_int(const char *s, long lo, long hi, int *v)
{
    char *end;
    long l = strtol(s, &end, 10);
    if (end == s || *end || l < lo || l > hi)
        return -1;
    *v = (int)l;
    return 0;
}

/* A number (all of s), or -1. */
static inline int cli_double(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return (end == s || *end) ? -1 : 0;
}

#endif
