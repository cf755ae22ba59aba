/* Reading an ONNX model (gen/onnx.c): the file is decoded with protobuf-c
   from ONNX's own schema (onnx.proto, compiled by protoc-c into build/) and
   handed to Lua as plain tables; the importer (gen/lua/spgen/import/) does
   the rest. */
#ifndef SPGEN_ONNX_H
#define SPGEN_ONNX_H
#include <lua.h>

/* The largest ONNX file read: the spec's weight limit (2^26 floats, 256 MiB)
   with room for the graph. */
#define ONNX_MAX_BYTES ((long)300 << 20)
/* Messages nested deeper than this are refused before decoding (a model
   nests five deep: model, graph, node, attribute, tensor; a subgraph in an
   attribute adds three a level). protobuf-c decodes by recursion. */
#define ONNX_MAX_DEPTH 32
/* An integer tensor (shapes, indices) holds at most this many elements. */
#define ONNX_MAX_INTS 65536

/* spgen.native's read_onnx(path) -> model | nil, msg, where model =
   { ir_version =, opsets = { [domain] = version }, producer =, graph = {
     name =, nodes = { { name =, op_type =, domain =, inputs = {...}, outputs = {...},
                         attrs = { [name] = value }, attr_types = { [name] = "INT"|... } } },
     initializers = { tensor, ... }, inputs = { value, ... }, outputs = { value, ... } } }
   tensor = { name =, dims = {...}, dtype = "float"|"int64"|"int32", data = farray | { integers } }
   value  = { name =, elem_type = N, dims = { integer | "param" | false, ... } | nil (no shape) }
   An attribute value is an integer (INT), a float (FLOAT), a string
   (STRING), a list of those (INTS, FLOATS, STRINGS) or a tensor (TENSOR);
   other kinds (GRAPH, SPARSE_TENSOR, TYPE_PROTO...) are false, their kind in
   attr_types. Errors: a file that is not ONNX, external or sparse data,
   an unsupported data type, dims that are negative or past 2^31, data that
   disagrees with its dims: "PATH: message" naming the tensor. */
int onnx_read_lua(lua_State *L);

#endif
