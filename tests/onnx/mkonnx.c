/* mkonnx - writes tiny hand-made ONNX models for tests/onnx_errors.sh, with
 * protobuf-c and ONNX's own schema (no Python at test time).
 *
 *   mkonnx KIND OUT.onnx
 *
 * KIND: good (Conv 2->2 3x3 pad 1, Relu), cycle, undefined, bigdims,
 * conv_shape (a weight of 3 input channels for 2), badname (a node name
 * with a newline), unsupported (a Tanh), dilation (Conv dilation 2),
 * external (the weight's data external), asym_pad (pads 0,0,1,1),
 * old_opset (opset 9), int8 (an INT8 initializer), nan (a NaN weight),
 * deep (messages nested 60 deep through attribute graphs).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

static Onnx__AttributeProto *ints_attr(const char *name, int64_t *v, size_t n)
{
    Onnx__AttributeProto *a = calloc(1, sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = (char *)name;
    a->has_type = 1;
    a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    a->n_ints = n;
    a->ints = v;
    return a;
}

static Onnx__NodeProto *node(const char *name, const char *op, char **in, size_t nin, char **out,
                             Onnx__AttributeProto **attrs, size_t nattrs)
{
    Onnx__NodeProto *n = calloc(1, sizeof *n);
    onnx__node_proto__init(n);
    n->name = (char *)name;
    n->op_type = (char *)op;
    n->n_input = nin;
    n->input = in;
    n->n_output = 1;
    n->output = out;
    n->n_attribute = nattrs;
    n->attribute = attrs;
    return n;
}

static Onnx__ValueInfoProto *value(const char *name, int64_t *dims, size_t n)
{
    Onnx__ValueInfoProto *v = calloc(1, sizeof *v);
    Onnx__TypeProto *t = calloc(1, sizeof *t);
    Onnx__TypeProto__Tensor *tt = calloc(1, sizeof *tt);
    Onnx__TensorShapeProto *s = calloc(1, sizeof *s);
    onnx__value_info_proto__init(v);
    onnx__type_proto__init(t);
    onnx__type_proto__tensor__init(tt);
    onnx__tensor_shape_proto__init(s);
    s->n_dim = n;
    s->dim = calloc(n ? n : 1, sizeof *s->dim);
    for (size_t i = 0; i < n; i++) {
        s->dim[i] = calloc(1, sizeof **s->dim);
        onnx__tensor_shape_proto__dimension__init(s->dim[i]);
        s->dim[i]->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        s->dim[i]->dim_value = dims[i];
    }
    tt->has_elem_type = 1;
    tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tt->shape = s;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->name = (char *)name;
    v->type = t;
    return v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fputs("usage: mkonnx KIND OUT.onnx\n", stderr);
        return 2;
    }
    const char *kind = argv[1];
    static int64_t in_dims[] = {1, 2, 4, 4}, out_dims[] = {1, 2, 4, 4};
    static int64_t w_dims[] = {2, 2, 3, 3}, k3[] = {3, 3}, pads[] = {1, 1, 1, 1}, dil[] = {1, 1};
    static float w_data[2 * 3 * 3 * 3];
    for (size_t i = 0; i < sizeof w_data / sizeof w_data[0]; i++)
        w_data[i] = (float)((int)(i % 7) - 3) / 8.0f;
    Onnx__TensorProto w = ONNX__TENSOR_PROTO__INIT;
    w.name = "conv.weight";
    w.n_dims = 4;
    w.dims = w_dims;
    w.has_data_type = 1;
    w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    w.n_float_data = 2 * 2 * 3 * 3;
    w.float_data = w_data;
    Onnx__StringStringEntryProto loc = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *locs[] = {&loc};
    static char *conv_in[] = {"x", "conv.weight"}, *conv_out[] = {"c"}, *relu_in[] = {"c"}, *relu_out[] = {"y"};
    const char *conv_name = "conv", *relu_op = "Relu";
    int opset = 13;
    if (strcmp(kind, "cycle") == 0)
        conv_in[0] = "y";
    else if (strcmp(kind, "undefined") == 0)
        conv_in[0] = "nowhere";
    else if (strcmp(kind, "bigdims") == 0)
        w_dims[0] = (int64_t)1 << 32;
    else if (strcmp(kind, "conv_shape") == 0) {
        w_dims[1] = 3;
        w.n_float_data = 2 * 3 * 3 * 3;
    } else if (strcmp(kind, "badname") == 0)
        conv_name = "conv\nos.exit()";
    else if (strcmp(kind, "unsupported") == 0)
        relu_op = "Tanh";
    else if (strcmp(kind, "dilation") == 0)
        dil[0] = dil[1] = 2;
    else if (strcmp(kind, "asym_pad") == 0)
        pads[0] = pads[1] = 0;
    else if (strcmp(kind, "nan") == 0)
        w_data[5] = NAN;
    else if (strcmp(kind, "old_opset") == 0)
        opset = 9;
    else if (strcmp(kind, "int8") == 0) {
        w.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__INT8;
        w.n_float_data = 0;
    } else if (strcmp(kind, "external") == 0) {
        loc.key = "location";
        loc.value = "weights.bin";
        w.n_external_data = 1;
        w.external_data = locs;
        w.has_data_location = 1;
        w.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        w.n_float_data = 0;
    } else if (strcmp(kind, "good") != 0 && strcmp(kind, "deep") != 0) {
        fprintf(stderr, "mkonnx: unknown kind %s\n", kind);
        return 2;
    }
    Onnx__AttributeProto *conv_attrs[] = {ints_attr("kernel_shape", k3, 2), ints_attr("pads", pads, 4),
                                          ints_attr("dilations", dil, 2)};
    Onnx__NodeProto *nodes[] = {node(conv_name, "Conv", conv_in, 2, conv_out, conv_attrs, 3),
                                node("relu", relu_op, relu_in, 1, relu_out, NULL, 0)};
    Onnx__TensorProto *inits[] = {&w};
    Onnx__ValueInfoProto *inputs[] = {value("x", in_dims, 4)}, *outputs[] = {value("y", out_dims, 4)};
    if (strcmp(kind, "deep") == 0) {
        /* the Relu holds an attribute graph holding a node holding an
           attribute graph ..., 20 deep: 60 levels of messages */
        Onnx__NodeProto *inner = nodes[1];
        for (int level = 0; level < 20; level++) {
            Onnx__GraphProto *sub = calloc(1, sizeof *sub);
            Onnx__AttributeProto *a = calloc(1, sizeof *a), **list = calloc(1, sizeof *list);
            Onnx__NodeProto **one = calloc(1, sizeof *one);
            onnx__graph_proto__init(sub);
            onnx__attribute_proto__init(a);
            one[0] = node("n", "Relu", relu_in, 1, relu_out, NULL, 0);
            sub->n_node = 1;
            sub->node = one;
            a->name = "body";
            a->has_type = 1;
            a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH;
            a->g = sub;
            list[0] = a;
            inner->n_attribute = 1;
            inner->attribute = list;
            inner = one[0];
        }
    }
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    g.name = "tiny";
    g.n_node = 2;
    g.node = nodes;
    g.n_initializer = 1;
    g.initializer = inits;
    g.n_input = 1;
    g.input = inputs;
    g.n_output = 1;
    g.output = outputs;
    Onnx__OperatorSetIdProto op = ONNX__OPERATOR_SET_ID_PROTO__INIT, *ops[] = {&op};
    op.domain = "";
    op.has_version = 1;
    op.version = opset;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = 8;
    m.producer_name = "mkonnx";
    m.n_opset_import = 1;
    m.opset_import = ops;
    m.graph = &g;
    size_t len = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = malloc(len);
    onnx__model_proto__pack(&m, buf);
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(argv[2]);
        return 1;
    }
    free(buf);
    return 0;
}
