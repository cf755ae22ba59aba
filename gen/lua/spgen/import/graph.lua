-- The ONNX graph as the importer sees it: names checked, every input
-- defined, sorted topologically (a cycle is an error), Identity and Dropout
-- dropped, the integer shape arithmetic (Constant, Shape, Gather, Unsqueeze,
-- Concat, ...) folded into constants, and the shape of every tensor inferred.
--
-- value = { name, shape = { dims } | nil, const = { dtype, dims, data } | nil,
--           producer = node | nil, consumers = { node, ... } }
-- node  = { name, op, attrs, attr_types, inputs = { names }, outputs = { names },
--           label = "node 'NAME' (OP)" }
-- An integer constant's data is a Lua list (row-major), a float one's a farray.
local fail = require("spgen.fail")

local M = {}

-- The opsets whose operators the importer knows (torch.onnx.export's range).
M.OPSET_MIN, M.OPSET_MAX = 11, 17
local ELEM_FLOAT = 1
-- The spec's bound on the input's C, H and W.
local MAX_INPUT_DIM = 1 << 20

local function count(dims)
  local n = 1
  for _, d in ipairs(dims) do n = n * d end
  return n
end
M.count = count

-- Printable ASCII without quotes or backslashes, at most 256 characters:
-- names are quoted in messages and in the comments of the written spec.
local function name_ok(s)
  return #s <= 256 and not s:find("[%z\1-\31\"'\\\127-\255]")
end

local function shown(s)
  return (s:gsub("[^ -~]", function(c) return string.format("\\x%02x", c:byte()) end):sub(1, 120))
end

local function attr_int(node, key, default)
  local v = node.attrs[key]
  if v == nil then return default end
  if math.type(v) ~= "integer" then return nil end
  return v
end

-- Normalises a possibly negative axis against rank; nil when out of range.
local function axis_of(axis, rank)
  if math.type(axis) ~= "integer" then return nil end
  if axis < 0 then axis = axis + rank end
  if axis < 0 or axis >= rank then return nil end
  return axis
end
M.axis_of = axis_of

-- The integer constant a value holds, or nil.
local function ints(v)
  return v and v.const and v.const.dtype ~= "float" and v.const or nil
end
M.ints = ints

local function int_const(dims, data) return { dtype = "int64", dims = dims, data = data } end

-- The one value a constant of one element holds (a float one's data is a
-- farray, indexed from 0; an integer one's a list), or nil.
function M.scalar(const)
  if not const or count(const.dims) ~= 1 then return nil end
  if const.dtype == "float" then return const.data[0] end
  return const.data[1]
end

-- The most elements a folded integer constant may have (as an integer
-- initializer, gen/onnx.h), checked before it is formed.
local MAX_INTS = 65536
local MAX_FOLDED = 1 << 24
local function too_many(dims)
  local n = 1
  for _, d in ipairs(dims) do
    if math.type(d) ~= "integer" or d < 0 then return true end
    n = n * d
    if n > MAX_INTS then return true end
  end
  return false
end

-- A node's axes: from attribute `axes` (before opset 13 for Squeeze and
-- Unsqueeze, before 18 for ReduceMean) or from its input `at`.
function M.axes(g, node, at)
  if node.attrs.axes ~= nil then
    return type(node.attrs.axes) == "table" and node.attrs.axes or nil
  end
  local c = node.inputs[at] and node.inputs[at] ~= "" and ints(g.values[node.inputs[at]])
  if c then return c.data end
  return nil, node.inputs[at] == nil or node.inputs[at] == ""
end

-- numpy broadcasting of two shapes; nil when they do not broadcast.
local function broadcast(a, b)
  local n = math.max(#a, #b)
  local out = {}
  for i = 1, n do
    local x, y = a[#a - n + i] or 1, b[#b - n + i] or 1
    if x ~= y and x ~= 1 and y ~= 1 then return nil end
    out[i] = x == 1 and y or x
  end
  return out
end
M.broadcast = broadcast

-- Output size of a window over n with pads pb, pe, kernel k, stride s, dilation d.
local function window_out(n, pb, pe, k, s, d, ceil)
  local span = n + pb + pe - ((k - 1) * d + 1)
  if span < 0 or s < 1 then return nil end
  return (ceil and -((-span) // s) or span // s) + 1
end

local function spatial(node, x, k_dims, ceil)
  local pads = node.attrs.pads or { 0, 0, 0, 0 }
  local strides = node.attrs.strides or { 1, 1 }
  local dil = node.attrs.dilations or { 1, 1 }
  local auto = node.attrs.auto_pad
  if auto ~= nil and auto ~= "NOTSET" and auto ~= "VALID" then return nil end
  if type(pads) ~= "table" or #pads ~= 4 or type(strides) ~= "table" or #strides ~= 2 or
    type(dil) ~= "table" or #dil ~= 2 or #x ~= 4 then return nil end
  local out = {}
  for i = 1, 2 do
    out[i] = window_out(x[i + 2], pads[i], pads[i + 2], k_dims[i], strides[i], dil[i], ceil)
    if not out[i] then return nil end
  end
  return out
end

local function same(_, _, ins) return ins[1].shape end

-- Shapes of activations, by op: (g, node, ins) -> shape or nil. A nil shape
-- leaves the node to the mapping, which reports what it cannot take.
local SHAPE = {}
SHAPE.Relu, SHAPE.BatchNormalization = same, same
function SHAPE.Softmax(_, _, ins) return ins[1].shape end
function SHAPE.Conv(_, node, ins)
  local x, w = ins[1].shape, ins[2] and ins[2].shape
  if not x or not w or #w ~= 4 or #x ~= 4 then return nil end
  local hw = spatial(node, x, { w[3], w[4] })
  return hw and { x[1], w[1], hw[1], hw[2] }
end
local function pool(_, node, ins)
  local x, k = ins[1].shape, node.attrs.kernel_shape
  if not x or type(k) ~= "table" or #k ~= 2 then return nil end
  local hw = spatial(node, x, k, attr_int(node, "ceil_mode", 0) == 1)
  return hw and { x[1], x[2], hw[1], hw[2] }
end
SHAPE.MaxPool, SHAPE.AveragePool = pool, pool
function SHAPE.GlobalAveragePool(_, _, ins)
  local x = ins[1].shape
  return x and #x == 4 and { x[1], x[2], 1, 1 }
end
-- The 1-based dimensions of x that node's axes (attribute, or input 2)
-- name, as a set; nil when they are not constant or out of range, or (for
-- Squeeze) one is not 1.
local function named_dims(g, node, x, only_ones)
  local axes = x and M.axes(g, node, 2)
  if not axes then return nil end
  local set = {}
  for _, a in ipairs(axes) do
    local ax = axis_of(a, #x)
    if not ax or (only_ones and x[ax + 1] ~= 1) then return nil end
    set[ax + 1] = true
  end
  return set
end
function SHAPE.ReduceMean(g, node, ins)
  local x = ins[1].shape
  local drop, out = named_dims(g, node, x, false), {}
  if not drop then return nil end
  local keep = attr_int(node, "keepdims", 1) == 1
  for i, d in ipairs(x) do
    if not drop[i] then out[#out + 1] = d elseif keep then out[#out + 1] = 1 end
  end
  return out
end
function SHAPE.Flatten(_, node, ins)
  local x = ins[1].shape
  local axis = x and axis_of(attr_int(node, "axis", 1), #x + 1)
  if not axis then return nil end
  local a, b = 1, 1
  for i, d in ipairs(x) do if i <= axis then a = a * d else b = b * d end end
  return { a, b }
end
-- Reshape's target shape with 0 (copy) and -1 (infer) resolved; nil when it does not fit.
local function reshaped(x, target, allowzero)
  local out, infer, known = {}, nil, 1
  for i, d in ipairs(target) do
    if d == 0 and not allowzero then d = x[i] end
    if d == -1 and not infer then infer = i
    elseif d == nil or d < 0 then return nil
    else known = known * d end
    out[i] = d
  end
  local total = count(x)
  if infer then
    if known == 0 or total % known ~= 0 then return nil end
    out[infer] = total // known
  elseif known ~= total then return nil end
  return out
end
function SHAPE.Reshape(_, node, ins)
  local x, t = ins[1].shape, ints(ins[2])
  if not x or not t or #t.dims ~= 1 then return nil end
  return reshaped(x, t.data, attr_int(node, "allowzero", 0) == 1)
end
function SHAPE.Gemm(_, node, ins)
  local a, b = ins[1].shape, ins[2] and ins[2].shape
  if not a or not b or #a ~= 2 or #b ~= 2 then return nil end
  local m = attr_int(node, "transA", 0) == 1 and a[2] or a[1]
  local n = attr_int(node, "transB", 0) == 1 and b[1] or b[2]
  return { m, n }
end
function SHAPE.MatMul(_, _, ins)
  local a, b = ins[1].shape, ins[2] and ins[2].shape
  if not a or not b or #a ~= 2 or #b ~= 2 or a[2] ~= b[1] then return nil end
  return { a[1], b[2] }
end
local function elementwise(_, _, ins)
  local a, b = ins[1].shape, ins[2] and ins[2].shape
  return a and b and broadcast(a, b)
end
SHAPE.Add, SHAPE.Mul = elementwise, elementwise
function SHAPE.Expand(_, _, ins)
  local x, t = ins[1].shape, ints(ins[2])
  return x and t and #t.dims == 1 and broadcast(x, t.data)
end
function SHAPE.Slice(_, node, ins)
  local x = ins[1].shape
  local starts, ends = ints(ins[2]), ints(ins[3])
  if not x or not starts or not ends then return nil end
  local axes = ins[4] and ints(ins[4])
  local steps = ins[5] and ints(ins[5])
  if (node.inputs[4] or "") ~= "" and not axes or (node.inputs[5] or "") ~= "" and not steps then return nil end
  local out = { table.unpack(x) }
  for i, s in ipairs(starts.data) do
    local ax = axis_of(axes and axes.data[i] or i - 1, #x)
    local e, step = ends.data[i], steps and steps.data[i] or 1
    if not ax or not e or step ~= 1 and step < 1 then return nil end
    local n = x[ax + 1]
    if s < 0 then s = s + n end
    if e < 0 then e = e + n end
    s, e = math.max(0, math.min(s, n)), math.max(0, math.min(e, n))
    out[ax + 1] = e > s and (e - s + step - 1) // step or 0
  end
  return out
end
function SHAPE.Pad(_, node, ins)
  local x = ins[1].shape
  local pads = node.attrs.pads or (ints(ins[2]) or {}).data
  if not x or type(pads) ~= "table" or #pads ~= 2 * #x then return nil end
  local out = {}
  for i, d in ipairs(x) do out[i] = d + pads[i] + pads[i + #x] end
  return out
end
function SHAPE.Squeeze(g, node, ins)
  local x = ins[1].shape
  local drop, out = named_dims(g, node, x, true), {}
  if not drop then return nil end
  for i, d in ipairs(x) do if not drop[i] then out[#out + 1] = d end end
  return out
end
function SHAPE.Unsqueeze(g, node, ins)
  local x, axes = ins[1].shape, M.axes(g, node, 2)
  if not x or not axes then return nil end
  local rank, add, out = #x + #axes, {}, {}
  for _, a in ipairs(axes) do
    local ax = axis_of(a, rank)
    if not ax or add[ax + 1] then return nil end
    add[ax + 1] = true
  end
  local j = 1
  for i = 1, rank do
    if add[i] then out[i] = 1 else out[i] = x[j]; j = j + 1 end
  end
  return out
end
function SHAPE.Concat(_, node, ins)
  local first = ins[1].shape
  local ax = first and axis_of(node.attrs.axis, #first)
  if not ax then return nil end
  local out = { table.unpack(first) }
  for i = 2, #node.inputs do
    local s = ins[i].shape
    if not s or #s ~= #first then return nil end
    for d = 1, #s do
      if d == ax + 1 then out[d] = out[d] + s[d] elseif s[d] ~= first[d] then return nil end
    end
  end
  return out
end
function SHAPE.Gather(_, node, ins)
  local x, idx = ins[1].shape, ints(ins[2])
  local ax = x and axis_of(attr_int(node, "axis", 0), #x)
  if not ax or not idx then return nil end
  local out = {}
  for i = 1, ax do out[#out + 1] = x[i] end
  for _, d in ipairs(idx.dims) do out[#out + 1] = d end
  for i = ax + 2, #x do out[#out + 1] = x[i] end
  return out
end

-- Folding of integer constants, by op: (g, node, ins) -> const or nil (left
-- as a node). Every input given is an integer constant when these run, but
-- Shape's, and there are at least FOLD_INPUTS of them (default 1).
local FOLD = {}
local FOLD_INPUTS = { Gather = 2, Reshape = 2, Slice = 3, Add = 2, Sub = 2, Mul = 2, Div = 2 }
function FOLD.Shape(_, node, ins)
  local x = ins[1].shape
  if not x then return nil end
  local first, last = attr_int(node, "start", 0), attr_int(node, "end", #x)
  if not first or not last then return nil end
  if first < 0 then first = first + #x end
  if last < 0 then last = last + #x end
  local data = {}
  for i = math.max(first, 0) + 1, math.min(last, #x) do data[#data + 1] = x[i] end
  return int_const({ #data }, data)
end
function FOLD.Gather(_, node, ins)
  local x, idx = ins[1].const, ins[2].const
  local ax = axis_of(attr_int(node, "axis", 0), #x.dims)
  if not ax then return nil end
  local dims = {}
  for i = 1, ax do dims[#dims + 1] = x.dims[i] end
  for _, d in ipairs(idx.dims) do dims[#dims + 1] = d end
  for i = ax + 2, #x.dims do dims[#dims + 1] = x.dims[i] end
  if too_many(dims) then return nil end
  local outer, inner = 1, 1
  for i = 1, ax do outer = outer * x.dims[i] end
  for i = ax + 2, #x.dims do inner = inner * x.dims[i] end
  local n, data = x.dims[ax + 1], {}
  for o = 0, outer - 1 do
    for _, k in ipairs(idx.data) do
      if k < 0 then k = k + n end
      if k < 0 or k >= n then return nil end
      for j = 0, inner - 1 do data[#data + 1] = x.data[(o * n + k) * inner + j + 1] end
    end
  end
  return int_const(dims, data)
end
local function reshape_only(fn)
  return function(g, node, ins)
    local dims = fn(g, node, { { shape = ins[1].const.dims }, ins[2] })
    return dims and int_const(dims, ins[1].const.data)
  end
end
FOLD.Unsqueeze, FOLD.Squeeze = reshape_only(SHAPE.Unsqueeze), reshape_only(SHAPE.Squeeze)
FOLD.Reshape = reshape_only(SHAPE.Reshape)
function FOLD.Concat(_, node, all)
  local ins = {}
  for i = 1, #node.inputs do
    if not all[i].const then return nil end
    ins[i] = all[i]
  end
  local dims = SHAPE.Concat(nil, node, ins)
  if not dims or too_many(dims) then return nil end
  local ax = axis_of(node.attrs.axis, #dims)
  local outer = 1
  for i = 1, ax do outer = outer * dims[i] end
  local data = {}
  for o = 0, outer - 1 do
    for _, v in ipairs(ins) do
      local chunk = count(v.const.dims) // math.max(outer, 1)
      for j = 1, chunk do data[#data + 1] = v.const.data[o * chunk + j] end
    end
  end
  return int_const(dims, data)
end
function FOLD.Slice(_, _, ins)
  local x, s, e = ins[1].const, ins[2].const, ins[3].const
  local axes, steps = ins[4] and ins[4].const, ins[5] and ins[5].const
  -- the indices kept along each axis, in order
  local keep = {}
  for d, n in ipairs(x.dims) do
    keep[d] = {}
    for i = 0, n - 1 do keep[d][i + 1] = i end
  end
  for i, first in ipairs(s.data) do
    local ax = axis_of(axes and axes.data[i] or i - 1, #x.dims)
    local last, step = e.data[i], steps and steps.data[i] or 1
    if not ax or not last or step == 0 then return nil end
    local n = x.dims[ax + 1]
    if first < 0 then first = first + n end
    if last < 0 then last = last + n end
    local list = {}
    if step > 0 then
      for k = math.max(first, 0), math.min(last, n) - 1, step do list[#list + 1] = k end
    else
      for k = math.min(first, n - 1), math.max(last, -1) + 1, step do list[#list + 1] = k end
    end
    keep[ax + 1] = list
  end
  local dims, data = {}, {}
  for d, list in ipairs(keep) do dims[d] = #list end
  local function walk(d, offset)
    if d > #dims then data[#data + 1] = x.data[offset + 1] return end
    for _, k in ipairs(keep[d]) do walk(d + 1, offset * x.dims[d] + k) end
  end
  if count(dims) > 0 then walk(1, 0) end
  return int_const(dims, data)
end
function FOLD.Transpose(_, node, ins)
  local x = ins[1].const
  local perm = node.attrs.perm
  if #x.dims ~= 2 or (perm and (perm[1] ~= 1 or perm[2] ~= 0)) then return nil end
  local r, c, data = x.dims[1], x.dims[2], {}
  for j = 0, c - 1 do for i = 0, r - 1 do data[#data + 1] = x.data[i * c + j + 1] end end
  return int_const({ c, r }, data)
end
function FOLD.Cast(_, node, ins)
  if node.attrs.to ~= 6 and node.attrs.to ~= 7 then return nil end
  return int_const(ins[1].const.dims, ins[1].const.data)
end
function FOLD.ConstantOfShape(_, node, ins)
  local v = node.attrs.value
  local fill = 0
  if v ~= nil then
    if type(v) ~= "table" or v.dtype == "float" or #v.data ~= 1 then return nil end
    fill = v.data[1]
  end
  local dims = ins[1].const.data
  if #ins[1].const.dims ~= 1 or too_many(dims) then return nil end
  local data = {}
  for i = 1, count(dims) do data[i] = fill end
  return int_const({ table.unpack(dims) }, data)
end
local function arithmetic(fn)
  return function(_, _, ins)
    local a, b = ins[1].const, ins[2].const
    local dims = broadcast(a.dims, b.dims)
    if not dims or too_many(dims) or (#a.data ~= count(dims) and #a.data ~= 1) or (#b.data ~= count(dims) and #b.data ~= 1) then
      return nil
    end
    local data = {}
    for i = 1, count(dims) do
      local r = fn(a.data[#a.data == 1 and 1 or i], b.data[#b.data == 1 and 1 or i])
      if not r then return nil end
      data[i] = r
    end
    return int_const(dims, data)
  end
end
FOLD.Add = arithmetic(function(x, y) return x + y end)
FOLD.Sub = arithmetic(function(x, y) return x - y end)
FOLD.Mul = arithmetic(function(x, y) return x * y end)
FOLD.Div = arithmetic(function(x, y) return y ~= 0 and x // y or nil end)

-- The kind every attribute the importer reads must have, so that no later
-- pass meets a list where it reads a number.
local ATTR_TYPES = {
  pads = "INTS", strides = "INTS", kernel_shape = "INTS", dilations = "INTS", axes = "INTS", perm = "INTS",
  value_ints = "INTS", group = "INT", axis = "INT", keepdims = "INT", ceil_mode = "INT",
  count_include_pad = "INT", transA = "INT", transB = "INT", allowzero = "INT", storage_order = "INT",
  training_mode = "INT", start = "INT", ["end"] = "INT", to = "INT", value_int = "INT", spatial = "INT",
  epsilon = "FLOAT", momentum = "FLOAT", alpha = "FLOAT", beta = "FLOAT", value_float = "FLOAT",
  auto_pad = "STRING", mode = "STRING", value = "TENSOR",
}

-- A Constant node's value as a const, or nil with the reason.
local function constant_value(node)
  local a = node.attrs
  if type(a.value) == "table" then
    return { dtype = a.value.dtype, dims = a.value.dims, data = a.value.data }
  elseif math.type(a.value_int) == "integer" then return int_const({}, { a.value_int })
  elseif type(a.value_ints) == "table" then return int_const({ #a.value_ints }, a.value_ints)
  end
  return nil
end

-- Reads the decoded model (gen/onnx.h) into g; raises with the file's path.
function M.build(model, path)
  local function raise(fmt, ...) fail.raise(path, fmt, ...) end
  local opset = model.opsets[""] or model.opsets["ai.onnx"]
  if not opset then raise("the model imports no opset of the default ONNX domain") end
  if opset < M.OPSET_MIN or opset > M.OPSET_MAX then
    raise("opset %d is not supported (%d to %d are: torch.onnx.export(..., opset_version=%d))",
      opset, M.OPSET_MIN, M.OPSET_MAX, M.OPSET_MAX)
  end
  local gr = model.graph
  -- an absent tensor (an optional input left out, "") reads as one with no
  -- producer, shape or value, so that no pass indexes nil
  local absent = setmetatable({ name = "", consumers = {} }, { __newindex = function() error("absent tensor written") end })
  local g = { path = path, opset = opset, name = gr.name, nodes = {}, raise = raise, producer = model.producer,
    values = setmetatable({}, { __index = function() return absent end }) }
  local values = g.values
  local function define(name, what)
    if not name_ok(name) then raise("%s name '%s' is not printable ASCII without quotes (at most 256 characters)", what, shown(name)) end
    if name == "" then raise("%s has an empty name", what) end
    if rawget(values, name) then raise("%s '%s' is defined twice", what, name) end
    local v = { name = name, consumers = {} }
    values[name] = v
    return v
  end
  for _, t in ipairs(gr.initializers) do
    local v = define(t.name, "initializer")
    v.const, v.shape = { dtype = t.dtype, dims = t.dims, data = t.data }, t.dims
  end
  local inputs = {}
  for _, v in ipairs(gr.inputs) do
    if not (rawget(values, v.name) and values[v.name].const) then inputs[#inputs + 1] = v end
  end
  if #inputs ~= 1 then raise("the graph has %d inputs besides its initializers; spgen takes one image input", #inputs) end
  local input = inputs[1]
  local x = define(input.name, "graph input")
  if input.elem_type ~= ELEM_FLOAT then raise("graph input '%s' is not float32", input.name) end
  if not input.dims or #input.dims ~= 4 then
    raise("graph input '%s' is not 4-dimensional (N, C, H, W)", input.name)
  end
  x.shape = {}
  for i, d in ipairs(input.dims) do
    if i == 1 and math.type(d) ~= "integer" then d = 1 end -- a symbolic batch: the spec's batch is 1
    if math.type(d) ~= "integer" or d < 1 or d > MAX_INPUT_DIM or (i == 1 and d > 65536) then
      raise("graph input '%s': dimension %d is %s (C, H and W must be fixed, 1 to 2^20: export with a fixed input size)",
        input.name, i - 1, math.type(d) == "integer" and tostring(d) or "unknown")
    end
    x.shape[i] = d
  end
  g.input = x
  if #gr.outputs ~= 1 then raise("the graph has %d outputs; spgen takes one", #gr.outputs) end
  g.output_name = gr.outputs[1].name

  -- nodes: names, then the producers of their inputs
  local all = {}
  for i, n in ipairs(gr.nodes) do
    if not name_ok(n.name) then raise("node %d: name '%s' is not printable ASCII without quotes (at most 256 characters)", i, shown(n.name)) end
    if not name_ok(n.op_type) then raise("node '%s': op type '%s' is not printable ASCII", n.name, shown(n.op_type)) end
    local node = { index = i, name = n.name ~= "" and n.name or ("#" .. i), op = n.op_type, attrs = n.attrs,
      attr_types = n.attr_types, inputs = n.inputs, outputs = n.outputs, domain = n.domain }
    node.label = string.format("node '%s' (%s)", node.name, node.op)
    for key, kind in pairs(n.attr_types) do
      if not name_ok(key) then raise("%s: attribute name '%s' is not printable ASCII", node.label, shown(key)) end
      if ATTR_TYPES[key] and ATTR_TYPES[key] ~= kind then
        raise("%s: attribute '%s' must be %s, not %s", node.label, key, ATTR_TYPES[key], kind)
      end
    end
    if #n.outputs == 0 or n.outputs[1] == "" then raise("%s has no output", node.label) end
    if n.domain ~= "" and n.domain ~= "ai.onnx" then
      raise("%s: domain '%s' is not supported (the default ONNX domain is)", node.label, shown(n.domain))
    end
    for _, o in ipairs(n.outputs) do
      if o ~= "" then define(o, "tensor").producer = node end
    end
    all[i] = node
  end
  -- topological order (Kahn): a node runs when every input it reads is defined
  local waiting, ready = {}, {}
  for _, node in ipairs(all) do
    local deps = 0
    for _, name in ipairs(node.inputs) do
      if name ~= "" then
        if not name_ok(name) then raise("%s reads tensor '%s', whose name is not printable ASCII", node.label, shown(name)) end
        local v = rawget(values, name)
        if not v then
          raise("%s reads tensor '%s', which no node, initializer or graph input defines", node.label, name)
        end
        if v.producer then
          deps = deps + 1
          v.readers = v.readers or {}
          v.readers[#v.readers + 1] = node
        end
      end
    end
    waiting[node] = deps
    if deps == 0 then ready[#ready + 1] = node end
  end
  local order, head = {}, 1
  while head <= #ready do
    local node = ready[head]
    head = head + 1
    order[#order + 1] = node
    for _, o in ipairs(node.outputs) do
      for _, r in ipairs(o ~= "" and values[o].readers or {}) do
        waiting[r] = waiting[r] - 1
        if waiting[r] == 0 then ready[#ready + 1] = r end
      end
    end
  end
  if #order < #all then
    for _, node in ipairs(all) do
      if waiting[node] > 0 then raise("%s is on a cycle: it depends on its own output", node.label) end
    end
  end
  if not rawget(values, g.output_name) or values[g.output_name].const then
    raise("graph output '%s' is not computed by any node", g.output_name)
  end

  -- folding and shapes, in order; an alias maps a dropped node's output to its input
  local alias, folded = {}, 0
  local function resolve(name) return alias[name] or name end
  for _, node in ipairs(order) do
    for i, name in ipairs(node.inputs) do if name ~= "" then node.inputs[i] = resolve(name) end end
    -- inputs past the node's own, or left out, read as absent
    local ins = {}
    for i = 1, math.max(#node.inputs, 5) do ins[i] = values[node.inputs[i]] end
    local op, out = node.op, values[node.outputs[1]]
    local all_int = true
    for i = 1, FOLD_INPUTS[op] or 1 do all_int = all_int and (node.inputs[i] or "") ~= "" end
    for _, name in ipairs(node.inputs) do all_int = all_int and (name == "" or ints(values[name]) ~= nil) end
    if op == "Identity" or op == "Dropout" then
      if (node.inputs[1] or "") == "" then raise("%s has no input", node.label) end
      -- Dropout is the identity at inference; its mask output must go unread
      local mask = values[node.outputs[2]]
      if mask.readers or (mask.name ~= "" and mask.name == g.output_name) then
        raise("%s: its mask output is read; only inference Dropout is supported", node.label)
      end
      if op == "Dropout" and node.inputs[3] and node.inputs[3] ~= "" then
        if M.scalar(ins[3].const) ~= 0 then
          raise("%s: training_mode must be a constant false", node.label)
        end
      end
      alias[node.outputs[1]] = node.inputs[1]
    end
    if not alias[node.outputs[1] or ""] then
      local const
      if op == "Constant" then const = constant_value(node)
      elseif op == "Shape" and ins[1].shape then const = FOLD.Shape(g, node, ins)
      elseif FOLD[op] and all_int and op ~= "Shape" then const = FOLD[op](g, node, ins)
      end
      if const then
        -- every folded constant is small, but nodes are many: a bound on all
        folded = folded + count(const.dims)
        if folded > MAX_FOLDED then raise("constant folding past %d elements (at %s)", MAX_FOLDED, node.label) end
        out.const, out.shape = const, const.dims
      else
        for _, name in ipairs(node.inputs) do
          if name ~= "" then table.insert(values[name].consumers, node) end
        end
        if SHAPE[op] and ins[1].shape then out.shape = SHAPE[op](g, node, ins) or nil end
        g.nodes[#g.nodes + 1] = node
      end
    end
  end
  g.output = values[resolve(g.output_name)]
  return g
end

return M
