/* See onnx.h. */
#include "onnx.h"

#include <inttypes.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "farray.h"
#include "infile.h"
#include "onnx.pb-c.h"

/* A varint at *p (below end) into *v; the bytes it took, or 0 when it runs
   past end or past ten bytes. */
static size_t varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (size_t i = 0; i < 10 && p + i < end; i++) {
        *v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return i + 1;
    }
    return 0;
}

/* Whether the message desc at [p, end) nests no deeper than depth levels
   more. Only nesting is judged: malformed bytes are left to protobuf-c,
   which refuses them. Each level is a stack frame here, bounded by depth. */
static int depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *p, const uint8_t *end, int depth)
{
    if (depth < 0)
        return 0;
    while (p < end) {
        uint64_t key, len;
        size_t n = varint(p, end, &key);
        if (!n)
            return 1;
        p += n;
        switch (key & 7) {
        case 0:
            if (!(n = varint(p, end, &len)))
                return 1;
            p += n;
            break;
        case 1:
        case 5: {
            size_t width = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < width)
                return 1;
            p += width;
            break;
        }
        case 2: {
            if (!(n = varint(p, end, &len)) || len > (uint64_t)(end - p - n))
                return 1;
            p += n;
            const ProtobufCFieldDescriptor *field =
                key >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3)) : NULL;
            if (field && field->type == PROTOBUF_C_TYPE_MESSAGE &&
                !depth_ok(field->descriptor, p, p + len, depth - 1))
                return 0;
            p += len;
            break;
        }
        default:
            return 1;
        }
    }
    return 1;
}

static void push_string_list(lua_State *L, char **items, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushstring(L, items[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static void push_ints(lua_State *L, const int64_t *v, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushinteger(L, (lua_Integer)v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

/* What the decoding reports to the caller: the file, for messages. */
struct decode {
    const char *path;
    const Onnx__ModelProto *model;
};

/* Raises "PATH: tensor 'NAME': message" as a user error (the "@@" marker of
   gen/lua/spgen/fail.lua). */
static int tensor_error(lua_State *L, const struct decode *d, const char *name, const char *msg)
{
    return luaL_error(L, "@@%s: tensor '%s': %s", d->path, name ? name : "", msg);
}

static const char *dtype_name(int32_t t)
{
    static const char *names[] = {"UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64",
                                  "STRING", "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64",
                                  "COMPLEX128", "BFLOAT16"};
    return t >= 0 && t < (int32_t)(sizeof names / sizeof names[0]) ? names[t] : "an unknown type";
}

/* Pushes the tensor's Lua table (onnx.h). */
static void push_tensor(lua_State *L, const struct decode *d, const Onnx__TensorProto *t)
{
    const char *name = t->name ? t->name : "";
    char msg[160];
    if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) ||
        t->n_external_data)
        tensor_error(L, d, name, "external data is not supported (save the model with its weights inside: "
                                 "onnx.save_model(model, path, save_as_external_data=False))");
    if (t->segment)
        tensor_error(L, d, name, "segmented tensors are not supported");
    if (t->n_dims > 8)
        tensor_error(L, d, name, "more than 8 dimensions");
    uint64_t count = 1;
    for (size_t i = 0; i < t->n_dims; i++) {
        if (t->dims[i] < 0) {
            snprintf(msg, sizeof msg, "dimension %zu is negative (%" PRId64 ")", i, t->dims[i]);
            tensor_error(L, d, name, msg);
        }
        if (t->dims[i] >= (int64_t)1 << 31 || (count *= (uint64_t)t->dims[i]) >= (uint64_t)1 << 31) {
            tensor_error(L, d, name, "dimensions past 2^31 elements");
        }
    }
    size_t width;
    switch (t->data_type) {
    case ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT:
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT32:
        width = 4;
        break;
    case ONNX__TENSOR_PROTO__DATA_TYPE__INT64:
        width = 8;
        break;
    default:
        snprintf(msg, sizeof msg, "data type %s is not supported (FLOAT, INT64 and INT32 are)", dtype_name(t->data_type));
        tensor_error(L, d, name, msg);
        return;
    }
    int is_float = t->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (!is_float && count > ONNX_MAX_INTS) {
        snprintf(msg, sizeof msg, "an integer tensor of %" PRIu64 " elements (at most %d)", count, ONNX_MAX_INTS);
        tensor_error(L, d, name, msg);
    }
    size_t typed = is_float ? t->n_float_data : width == 8 ? t->n_int64_data : t->n_int32_data;
    if (t->has_raw_data && typed)
        tensor_error(L, d, name, "both raw_data and typed data");
    if (t->has_raw_data ? t->raw_data.len != count * width : typed != count) {
        snprintf(msg, sizeof msg, "%zu %s for %" PRIu64 " elements", t->has_raw_data ? t->raw_data.len : typed,
                 t->has_raw_data ? "bytes of raw_data" : "typed values", count);
        tensor_error(L, d, name, msg);
    }
    lua_createtable(L, 0, 4);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    push_ints(L, t->dims, t->n_dims);
    lua_setfield(L, -2, "dims");
    lua_pushstring(L, is_float ? "float" : width == 8 ? "int64" : "int32");
    lua_setfield(L, -2, "dtype");
    const uint8_t *raw = t->has_raw_data ? t->raw_data.data : NULL;
    if (is_float) {
        farray *a = farray_push(L, (size_t)count);
        /* raw_data is little-endian, as this host is */
        if (count)
            memcpy(a->v, raw ? (const void *)raw : (const void *)t->float_data, (size_t)count * 4);
    } else {
        lua_createtable(L, (int)count, 0);
        for (size_t i = 0; i < count; i++) {
            int64_t v;
            if (raw && width == 8)
                memcpy(&v, raw + 8 * i, 8);
            else if (raw) {
                int32_t v32;
                memcpy(&v32, raw + 4 * i, 4);
                v = v32;
            } else
                v = width == 8 ? t->int64_data[i] : t->int32_data[i];
            lua_pushinteger(L, (lua_Integer)v);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    }
    lua_setfield(L, -2, "data");
}

static void push_attribute(lua_State *L, const struct decode *d, const Onnx__AttributeProto *a)
{
    switch (a->type) {
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
        lua_pushnumber(L, a->f);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
        lua_pushinteger(L, (lua_Integer)a->i);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
        lua_pushlstring(L, (const char *)a->s.data, a->s.len);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
        if (!a->t)
            lua_pushboolean(L, 0);
        else
            push_tensor(L, d, a->t);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
        lua_createtable(L, (int)a->n_floats, 0);
        for (size_t i = 0; i < a->n_floats; i++) {
            lua_pushnumber(L, a->floats[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
        push_ints(L, a->ints, a->n_ints);
        break;
    case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
        lua_createtable(L, (int)a->n_strings, 0);
        for (size_t i = 0; i < a->n_strings; i++) {
            lua_pushlstring(L, (const char *)a->strings[i].data, a->strings[i].len);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    default:
        lua_pushboolean(L, 0);
    }
}

static const char *attribute_type(Onnx__AttributeProto__AttributeType t)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
        &onnx__attribute_proto__attribute_type__descriptor, (int)t);
    return v ? v->name : "UNDEFINED";
}

static void push_node(lua_State *L, const struct decode *d, const Onnx__NodeProto *n)
{
    lua_createtable(L, 0, 7);
    lua_pushstring(L, n->name ? n->name : "");
    lua_setfield(L, -2, "name");
    lua_pushstring(L, n->op_type ? n->op_type : "");
    lua_setfield(L, -2, "op_type");
    lua_pushstring(L, n->domain ? n->domain : "");
    lua_setfield(L, -2, "domain");
    push_string_list(L, n->input, n->n_input);
    lua_setfield(L, -2, "inputs");
    push_string_list(L, n->output, n->n_output);
    lua_setfield(L, -2, "outputs");
    lua_createtable(L, 0, (int)n->n_attribute);
    lua_createtable(L, 0, (int)n->n_attribute);
    for (size_t i = 0; i < n->n_attribute; i++) {
        const Onnx__AttributeProto *a = n->attribute[i];
        const char *name = a->name ? a->name : "";
        lua_pushstring(L, attribute_type(a->type));
        lua_setfield(L, -2, name);
        push_attribute(L, d, a);
        lua_setfield(L, -3, name);
    }
    lua_setfield(L, -3, "attr_types");
    lua_setfield(L, -2, "attrs");
}

static void push_value(lua_State *L, const Onnx__ValueInfoProto *v)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, v->name ? v->name : "");
    lua_setfield(L, -2, "name");
    const Onnx__TypeProto *t = v->type;
    if (t && t->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE && t->tensor_type) {
        lua_pushinteger(L, t->tensor_type->elem_type);
        lua_setfield(L, -2, "elem_type");
        const Onnx__TensorShapeProto *s = t->tensor_type->shape;
        if (s) {
            lua_createtable(L, (int)s->n_dim, 0);
            for (size_t i = 0; i < s->n_dim; i++) {
                const Onnx__TensorShapeProto__Dimension *dim = s->dim[i];
                if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
                    lua_pushinteger(L, (lua_Integer)dim->dim_value);
                else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
                    lua_pushstring(L, dim->dim_param);
                else
                    lua_pushboolean(L, 0);
                lua_rawseti(L, -2, (lua_Integer)i + 1);
            }
            lua_setfield(L, -2, "dims");
        }
    }
}

/* Builds the model's table from d->model; run by lua_pcall so that the
   decoded message is freed whatever Lua raises. */
static int push_model(lua_State *L)
{
    const struct decode *d = lua_touserdata(L, 1);
    const Onnx__ModelProto *m = d->model;
    const Onnx__GraphProto *g = m->graph;
    if (!g)
        return luaL_error(L, "@@%s: the model has no graph", d->path);
    if (g->n_sparse_initializer)
        return luaL_error(L, "@@%s: sparse initializers are not supported", d->path);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, m->has_ir_version ? (lua_Integer)m->ir_version : 0);
    lua_setfield(L, -2, "ir_version");
    lua_pushstring(L, m->producer_name ? m->producer_name : "");
    lua_setfield(L, -2, "producer");
    lua_createtable(L, 0, (int)m->n_opset_import);
    for (size_t i = 0; i < m->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *o = m->opset_import[i];
        lua_pushinteger(L, o->has_version ? (lua_Integer)o->version : 0);
        lua_setfield(L, -2, o->domain ? o->domain : "");
    }
    lua_setfield(L, -2, "opsets");
    lua_createtable(L, 0, 5);
    lua_pushstring(L, g->name ? g->name : "");
    lua_setfield(L, -2, "name");
    lua_createtable(L, (int)g->n_node, 0);
    for (size_t i = 0; i < g->n_node; i++) {
        push_node(L, d, g->node[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "nodes");
    lua_createtable(L, (int)g->n_initializer, 0);
    for (size_t i = 0; i < g->n_initializer; i++) {
        push_tensor(L, d, g->initializer[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "initializers");
    lua_createtable(L, (int)g->n_input, 0);
    for (size_t i = 0; i < g->n_input; i++) {
        push_value(L, g->input[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "inputs");
    lua_createtable(L, (int)g->n_output, 0);
    for (size_t i = 0; i < g->n_output; i++) {
        push_value(L, g->output[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "outputs");
    lua_setfield(L, -2, "graph");
    return 1;
}

int onnx_read_lua(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char err[512], *data;
    size_t n;
    if (infile_read(path, NULL, (uint64_t)ONNX_MAX_BYTES, "a model", &data, &n, err, sizeof err) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    Onnx__ModelProto *m = NULL;
    if (!depth_ok(&onnx__model_proto__descriptor, (const uint8_t *)data, (const uint8_t *)data + n, ONNX_MAX_DEPTH))
        snprintf(err, sizeof err, "%.400s: messages nested deeper than %d levels", path, ONNX_MAX_DEPTH);
    else if (!(m = onnx__model_proto__unpack(NULL, n, (const uint8_t *)data)))
        snprintf(err, sizeof err, "%.400s: not an ONNX model (the protobuf decoder refused it)", path);
    free(data);
    if (!m) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    struct decode d = {path, m};
    lua_pushcfunction(L, push_model);
    lua_pushlightuserdata(L, &d);
    int status = lua_pcall(L, 1, 1, 0);
    onnx__model_proto__free_unpacked(m, NULL);
    return status == LUA_OK ? 1 : lua_error(L);
}
