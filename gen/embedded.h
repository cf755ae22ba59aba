/* The generator's Lua modules and templates, compiled into the binary. */
#ifndef SPGEN_EMBEDDED_H
#define SPGEN_EMBEDDED_H
#include <stddef.h>

struct embedded_file {
    const char *name; /* e.g. "lua/spgen/dsl.lua", "templates/net.h.in" */
    const char *data;
    size_t size;
};

extern const struct embedded_file embedded_files[];

const struct embedded_file *embedded_find(const char *name);

#endif
