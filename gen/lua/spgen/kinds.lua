-- The kernel kinds, one record each in kinds/<kind>.lua. Every per-kind table
-- of the passes (the spec's operations, fusion, folding, vector tiling, the
-- memory plan's in-place rule, the emitters, the layer comments) is read from
-- these records; docs/adding-an-operation.md says how to add one.
--
-- A kind record (kinds.lua sets name, the kind's name, on each):
--   ops          spec operation -> its module (ops/*.lua: option schema, shape
--                inference, weights, params and MACs for --summary and the
--                comments); a node of one of these ops starts a kernel of this kind
--   absorbs      the ops, of batchnorm, add, relu and global_avgpool, that this
--                kind's store applies when they follow the kernel as their only
--                reader (fuse.lua): a producer (convolution, linear) absorbs
--                most of them, an elementwise kind at most a relu
--   in_place     "any": the output may overwrite any input it reads last;
--                "residual": only the residual (a producer reads many elements
--                of its main input for each one it writes); nil: never (plan.lua)
--   fold         function(k, naming, weights, blob, plain) turning the raw
--                weights into the arrays the code reads (fold/*.lua; plain:
--                keep the plain arrays beside a blocked tile's); nil: no weights
--   emit         the emitter per backend as a dotted path "module.function"
--                (emitters.lua): c, function(k, ctx) -> { text, call(ptrs) }
--                (emit_c/); cuda, function(k, ctx) -> { text, launch(ptrs),
--                tile, note } (emit_cuda/); cuda_describe for a direct
--                convolution on CUDA, its tile and grid before any code is
--                emitted (emit_cuda/direct.lua), found in ctx.direct[k.index]
--   int8         the int8 C backend's record for the kind (--dtype int8) as a
--                dotted path "module.field" (emit_c/int8/): quantize(k, ctx),
--                the kind's int8 arrays and model-file lines
--                (int8/quantize.lua); emit(k, ctx), as emit.c; calibrated(k),
--                whether its result gets a calibrated scale (else its
--                input's, or fixed_params)
--   lower        a convolution's lowering into parts, function(attrs) -> conv
--                (lower.lua: window taps, 1x1 and pooled 1x1 parts, branches),
--                which every convolution emitter walks; the --simd vector
--                tiling (tiling.lua) takes the kinds that have one (attrs has
--                stride, out and groups); nil: not a convolution
--   comment      the layer comment's parts (comment.lua): options(attrs) -> a
--                line of the layer's options; folded: what the fold merged;
--                batchnorm: where a batchnorm it applies goes
--
-- A kernel record k, one per emitted layer, and the pass that sets each field:
--   fuse.lua      kind (the record's name), node (the graph node that starts the
--                 kernel), inputs (tensor ids it reads: the node's inputs, then
--                 the residual), output (the tensor id it writes), last (the
--                 node whose result that is), bn (the batchnorm node whose scale
--                 and shift it applies), residual (the tensor id it adds in the
--                 store), relu, gap (whether its store applies a relu, and
--                 pools each channel to one value)
--   pipeline.lua  index (its place in the schedule, from 1: names the layer's
--                 code), in_shape (the shape of inputs[1])
--   int8/quantize.lua  q (--dtype int8: the tensors it reads and writes with
--                 their scales, its int8 arrays), and scratch anew
--   tiling.lua    layout (--simd: { block, inputs = { bool, ... }, output },
--                 whether each tensor it reads and writes is channel-blocked),
--                 bt (a convolution that runs blocked: { block, blocks,
--                 pixels, flat }, its register tile of channel blocks x
--                 pixels of a row, or with flat of the whole small plane),
--                 vt (--simd vector tiles of a convolution that does not run
--                 blocked: geometry, how vectors of `lanes` NCHW pixels cover
--                 the output plane; pixel_vectors x channels, the register
--                 tile), neither where the layer keeps the portable code
--   fold.lua      w (weights array name -> offset in the blob, in floats),
--                 scratch (floats of scratch memory its code needs, 0 for none)
--   plan.lua      refs (where inputs, output and scratch live: "input",
--                 "output" or an arena byte offset; with input_bytes and
--                 output_bytes)
local M = {}

local NAMES = { "spconv", "conv2d", "linear", "affine", "add", "pool", "gap", "softmax", "shortcut_a" }

local function check(name, kind)
  assert(kind.ops and kind.absorbs and kind.emit and kind.emit.c and kind.emit.cuda,
    name .. ": a kind record needs ops, absorbs, emit.c and emit.cuda")
  local bn = kind.ops.batchnorm ~= nil
  for _, op in ipairs(kind.absorbs) do bn = bn or op == "batchnorm" end
  assert(not bn or (kind.comment and kind.comment.batchnorm), name .. ": applies a batchnorm, needs comment.batchnorm")
end

for _, name in ipairs(NAMES) do
  local kind = require("spgen.kinds." .. name)
  check(name, kind)
  kind.name = name
  M[name] = kind
end

return M
