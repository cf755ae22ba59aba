/* Command-line helpers shared by the reference tools. */
#ifndef SPGEN_REF_CLI_H
#define SPGEN_REF_CLI_H
#include <string.h>

#define CLI_OPT_MAX 32

/* Splits "--name=value" into opt ("--name") and *val ("value"; NULL without
   '='). Returns -1 when the name does not fit. */
static int cli_split(const char *a, char opt[CLI_OPT_MAX], const char **val)
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

#endif
