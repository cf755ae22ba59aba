/* Small strict JSON (RFC 8259) parser: enough for safetensors headers.
 * The whole document becomes one tree of json_value; json_free releases it. */
#ifndef SPGEN_JSON_H
#define SPGEN_JSON_H

#include <stddef.h>
#include <stdint.h>

/* Nesting cap: recursion depth stays bounded whatever the input. */
#define JSON_MAX_DEPTH 64

typedef enum {
    JSON_NULL,
    JSON_FALSE,
    JSON_TRUE,
    JSON_INT,    /* integer literal that fits int64: i (and num) are set */
    JSON_NUMBER, /* any other number: num is set */
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_type;

typedef struct json_member json_member;

typedef struct json_value {
    json_type type;
    int64_t i;
    double num;
    /* JSON_NUMBER only: written as an integer but outside int64, so callers can
       say "too large" rather than "not an integer". */
    int int_overflow;
    char *str;            /* JSON_STRING: UTF-8, NUL-terminated, may hold NULs */
    size_t len;           /* JSON_STRING: bytes in str, excluding the final NUL */
    struct json_value *items; /* JSON_ARRAY: n elements */
    json_member *members;     /* JSON_OBJECT: n members, in document order */
    size_t n;
} json_value;

/* Duplicate keys are kept (in order): what they mean is the caller's call. */
struct json_member {
    char *key;
    size_t key_len;
    json_value value;
};

/* Parses text[0..len) (need not be NUL-terminated), of at most max_values
   values (each scalar, array and object counts one; a key does not), which
   bounds the tree's memory whatever the input. 0 on success. On failure
   returns -1 (bad JSON), -2 (out of memory, so callers need not blame the
   input) or -3 (more than max_values values), sets *err_pos (if not NULL) to
   the byte offset of the problem and err to a message without position, and
   leaves *out as JSON_NULL. No message quotes the input's bytes. */
int json_parse(const char *text, size_t len, size_t max_values, json_value *out,
               size_t *err_pos, char *err, size_t errlen);

/* Frees everything under v and resets it to JSON_NULL; safe to call twice. */
void json_free(json_value *v);

/* First member of object o with exactly this key, or NULL. */
const json_value *json_get(const json_value *o, const char *key);

#endif
