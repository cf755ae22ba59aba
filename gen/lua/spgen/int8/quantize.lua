-- The int8 quantization pass (docs/int8.md, section 3): each tensor's scale
-- and zero point from the calibrated ranges, then each kernel's int8 and
-- int32 arrays in one blob, by the kind's int8 module (kinds/*.lua, int8:
-- quantize). Sets k.q on every kernel:
--   input, second, residual  the tensors it reads ({ id, shape, scale, zp }):
--                    its node's inputs and a fused residual, as the ops
--                    of the model file read them (flat views made flat)
--   views            the model-file lines of those flat views
--   own              what the kernel itself computes (a producer after its
--                    batchnorm, and its relu unless a residual add comes first)
--   sum              with a fused residual add: the sum, after the relu
--   out              what it writes (sum or own, or the pooled tensor of a
--                    fused global average pool, with the same parameters)
--   arrays           array name -> { offset (bytes into the blob), type "int8_t" | "int16_t" | "int32_t" }
--   model            lines of the model file (int8/model.lua) for the kernel
-- and k.scratch (4-byte words) for the int8 code.
local int8_kinds = require("spgen.int8.kinds")
local qmath = require("spgen.int8.qmath")

local M = {}

-- The portable int8 code reads int32 arrays: 4-byte boundaries (the float
-- blob's 64 are for vector loads, which it does not make).
local ALIGN = 4

local function new_blob()
  local blob = { parts = {}, bytes = 0 }
  -- Adds raw bytes at the next ALIGN-byte boundary; returns their offset.
  function blob.add(data)
    local off = (blob.bytes + ALIGN - 1) // ALIGN * ALIGN
    if off > blob.bytes then blob.parts[#blob.parts + 1] = string.rep("\0", off - blob.bytes) end
    blob.parts[#blob.parts + 1] = data
    blob.bytes = off + #data
    return off
  end
  function blob.data()
    local pad = (blob.bytes + ALIGN - 1) // ALIGN * ALIGN - blob.bytes
    return table.concat(blob.parts) .. string.rep("\0", pad)
  end
  return blob
end

-- Little-endian int32 (or float32 with fmt "<f") values as bytes.
local function packed(fmt, values)
  local t = {}
  for i, v in ipairs(values) do t[i] = string.pack(fmt, v) end
  return table.concat(t)
end

-- g: the graph; kernels after fold.run (k.w into blob, the float32 blob);
-- ranges: calibrate.run's; attention: "float" or "fixed". Returns the int8
-- blob, the tensors in the order they are written (the input first), the
-- network's output tensor and the model-file lines
-- that make it (a flatten of the last result, or none).
function M.run(g, kernels, blob, ranges, attention)
  local by_offset = {}
  for _, a in ipairs(blob.arrays) do by_offset[a.offset] = a.data end
  local qblob, tensors, order, next_id = new_blob(), {}, {}, #g.nodes + 1
  local function tensor(id, shape, scale, zp)
    local t = { id = id, shape = shape, scale = scale, zp = zp }
    tensors[id], order[#order + 1] = t, t
    return t
  end
  local function calibrated(id, shape, range)
    local scale, zp = qmath.tensor_params(range.min, range.max)
    return tensor(id, shape, scale, zp)
  end
  local function fresh()
    next_id = next_id + 1
    return next_id - 1
  end
  -- A flat view as the model file has it: a flatten op into a tensor of
  -- its own (the same bytes and parameters), written to lines once.
  local flat = {}
  local function as_shape(t, shape, lines)
    if t.shape[1] == shape[1] and t.shape[2] == shape[2] and t.shape[3] == shape[3] then return t end
    if not flat[t.id] then
      flat[t.id] = tensor(fresh(), shape, t.scale, t.zp)
      lines[#lines + 1] = string.format("flatten flatten@%d in %d out %d", t.id, t.id, flat[t.id].id)
    end
    return flat[t.id]
  end
  -- the tensor an op reads as node id, through flatten views
  local function via(id, lines)
    local node = g.nodes[id]
    if node.op ~= "flatten" then return tensors[id] end
    return as_shape(via(node.inputs[1], lines), node.shape, lines)
  end
  calibrated(1, g.nodes[1].shape, ranges.input)
  for _, k in ipairs(kernels) do
    local own_shape, out_shape = k.node.shape, g.nodes[k.output].shape
    local views_read = {}
    local q = { input = via(k.node.inputs[1], views_read), arrays = {}, model = {}, views = views_read }
    if k.node.inputs[2] then q.second = via(k.node.inputs[2], views_read) end
    if k.residual then q.residual = as_shape(tensors[k.residual], own_shape, views_read) end
    k.q = q
    local range = ranges[k.index]
    local module = int8_kinds.of(k.kind)
    if module.calibrated and module.calibrated(k) then
      q.own = calibrated((k.residual or k.gap) and fresh() or k.output, own_shape, range.own)
      if k.residual then q.sum = calibrated(k.gap and fresh() or k.output, own_shape, range.sum) end
    else
      local from = module.fixed_params or q.input
      q.own = tensor(k.gap and fresh() or k.output, own_shape, from.scale, from.zp)
    end
    local last = q.sum or q.own
    q.out = k.gap and tensor(k.output, out_shape, last.scale, last.zp) or last
    local function array(name, ctype, data)
      q.arrays[name] = { offset = qblob.add(data), type = ctype }
    end
    k.scratch = 0
    module.quantize(k, {
      fp = function(name) return by_offset[k.w[name]] end, attention = attention,
      int8 = function(name, bytes) array(name, "int8_t", bytes) end,
      int16 = function(name, values) array(name, "int16_t", packed("<i2", values)) end,
      int32 = function(name, values) array(name, "int32_t", packed("<i4", values)) end,
      float = function(name, values) array(name, "int32_t", packed("<f", values)) end,
    })
  end
  local tail = {}
  return qblob, order, via(g.output.inputs[1], tail), tail
end

return M
