-- Maps the graph's nodes, in order, to spec calls: the SPConvs found, then
-- every other node by its op type. A node the spec language cannot express
-- is an error naming it, its op type and what is supported.
--
-- layer = { fn = "conv2d", inputs = { tensor names }, output = tensor name,
--           opts = { { key, value }, ... }, hint = a name from the weights or nil,
--           weights = { { suffix, data = farray, shape = { dims } }, ... },
--           nodes = { ONNX nodes }, wrap = a call around it ("flatten") or nil }
local graph = require("spgen.import.graph")
local native = require("spgen.native")

local M = {}

M.SUPPORTED = "Conv, BatchNormalization, Relu, Add, MaxPool, AveragePool, GlobalAveragePool, "
  .. "ReduceMean (over H and W), Flatten, Reshape (to (N, -1)), Squeeze (of [N, C, 1, 1]), Gemm, MatMul (+ Add), "
  .. "Softmax, Identity, Dropout, a Pad of zeros around H and W before a Conv or an AveragePool, "
  .. "the option-A shortcut (Slice, Pad), "
  .. "the SPConv pattern, and the shape arithmetic feeding a Reshape"

local function ints_equal(list, want)
  if type(list) ~= "table" or #list ~= #want then return false end
  for i, v in ipairs(want) do if list[i] ~= v then return false end end
  return true
end

-- A layer's name from a weight initializer's: "layer1.0.conv1.weight" less
-- suffix, when the rest is a valid layer name.
local function hint(value, suffix)
  local name = value and value.name
  if name and name:sub(-#suffix) == suffix then
    local base = name:sub(1, -#suffix - 1)
    if base:match("^[%w_.]+$") and #base <= 200 then return base end
  end
  return nil
end

-- A layer's name from the module path torch.onnx.export writes into node
-- names, "/layer1/layer1.0/conv1/Conv" -> "layer1.0.conv1" (a scope that
-- repeats its parent's name, "layer1.0" in "layer1", is already qualified
-- by it): for weights the exporter renamed, as a batchnorm folded into them.
local function path_hint(node)
  local scopes = {}
  for part in node.name:gmatch("[^/]+") do scopes[#scopes + 1] = part end
  if node.name:sub(1, 1) ~= "/" or #scopes < 2 then return nil end
  local name, prev = "", nil
  for i = 1, #scopes - 1 do
    local scope = scopes[i]
    if prev and scope:sub(1, #prev + 1) == prev .. "." then name = name .. scope:sub(#prev + 1)
    else name = name == "" and scope or name .. "." .. scope end
    prev = scope
  end
  return name:match("^[%w_][%w_.]*$") and #name <= 200 and name or nil
end

local function transposed(const)
  local rows, cols = const.dims[1], const.dims[2]
  local out = native.farray(rows * cols)
  for i = 0, rows - 1 do out:set_scaled(i, rows, const.data, i * cols, 1, cols, 1) end
  return out
end

-- The float32 value v rounds to, in the fewest digits that give it back.
function M.float_text(v)
  local want = string.pack("<f", v)
  for digits = 1, 9 do
    local text = string.format("%." .. digits .. "g", v)
    if string.pack("<f", tonumber(text)) == want then return text end
  end
  return string.format("%.9g", v)
end

local function mapper(g)
  local values = g.values
  local function raise(node, fmt, ...)
    local msg = string.format(fmt, ...)
    -- the reason an SPConv-like subgraph near it is not one: its own, else the first
    local near = node.near_miss or g.near_misses[1]
    if near then msg = msg .. " (the SPConv pattern does not match " .. near .. ")" end
    g.raise("%s: %s", node.label, msg)
  end
  local function weight(node, i, what, rank)
    local v = values[node.inputs[i] or ""]
    if not v or not v.const or v.const.dtype ~= "float" then raise(node, "the %s is not a float initializer", what) end
    if rank and #v.const.dims ~= rank then raise(node, "the %s is not %d-dimensional", what, rank) end
    return v
  end
  local function activation(node, i)
    local v = values[node.inputs[i] or ""]
    if not v or v.const then raise(node, "input %d is a constant; spgen takes computed tensors there", i) end
    if not v.shape then raise(node, "the shape of input '%s' is unknown", v.name) end
    return v
  end
  local function only(node, keys)
    for k in pairs(node.attrs) do
      if not keys[k] then raise(node, "attribute '%s' is not supported", k) end
    end
  end
  local function unread_extra_outputs(node)
    for i = 2, #node.outputs do
      local v = values[node.outputs[i]]
      if v and (#v.consumers > 0 or v.name == g.output.name) then raise(node, "output %d is read; only the first is supported", i) end
    end
  end
  local function window(node, k_default)
    local a = node.attrs
    local k = a.kernel_shape or k_default
    if type(k) ~= "table" or #k ~= 2 then raise(node, "kernel_shape must have two entries") end
    if k[1] ~= k[2] then raise(node, "kernel %dx%d is not square (the spec takes k x k)", k[1], k[2]) end
    if k[1] < 1 then raise(node, "kernel %d is empty", k[1]) end
    local s = a.strides or { 1, 1 }
    if #s ~= 2 or s[1] ~= s[2] or s[1] < 1 then raise(node, "strides (%s) are not two equal positive numbers", table.concat(s, ", ")) end
    local d = a.dilations or { 1, 1 }
    if not ints_equal(d, { 1, 1 }) then
      raise(node, "dilation %s is not supported (only 1)", table.concat(d, "x"))
    end
    local p = a.pads or { 0, 0, 0, 0 }
    if a.auto_pad ~= nil and a.auto_pad ~= "NOTSET" and a.auto_pad ~= "VALID" then
      raise(node, "auto_pad %s is not supported (give explicit pads)", a.auto_pad)
    end
    if #p ~= 4 then raise(node, "pads must have four entries") end
    for _, q in ipairs(p) do if q < 0 then raise(node, "a negative pad (%d) crops; it is not supported", q) end end
    if not (p[1] == p[2] and p[2] == p[3] and p[3] == p[4]) then
      raise(node, "asymmetric padding (top %d, left %d, bottom %d, right %d) is not supported: the spec pads all sides alike",
        p[1], p[2], p[3], p[4])
    end
    return k[1], s[1], p[1]
  end
  return { raise = raise, weight = weight, activation = activation, only = only,
    unread_extra_outputs = unread_extra_outputs, window = window }
end

-- The attributes of the ops that do not check their own: any other is an error.
local ATTRS = { Relu = {}, Add = {}, GlobalAveragePool = {}, ReduceMean = { axes = 1, keepdims = 1 },
  Flatten = { axis = 1 }, Reshape = { allowzero = 1 }, Squeeze = { axes = 1 }, MatMul = {}, Softmax = { axis = 1 },
  Pad = { mode = 1, pads = 1 }, Slice = {} }

-- The mapping of one node: returns a layer, or false when the node is
-- dropped. taken[node] marks nodes an earlier layer absorbed.
local function map_node(g, node, taken, tools)
  local raise, weight, activation, only = tools.raise, tools.weight, tools.activation, tools.only
  local unread_extra_outputs, window = tools.unread_extra_outputs, tools.window
  local values = g.values
  local op, a = node.op, node.attrs
  local layer = { inputs = { node.inputs[1] }, output = node.outputs[1], nodes = { node }, weights = {} }
  local function set(fn, opts) layer.fn, layer.opts = fn, opts or {} return layer end
  if ATTRS[op] then only(node, ATTRS[op]) end
  -- the one node reading tensor name, when it is not also the graph output
  -- (a tensor a layer absorbs must be read nowhere else)
  local function only_reader(name)
    local list = values[name].consumers
    return #list == 1 and name ~= g.output.name and list[1] or nil
  end
  if op == "Conv" then
    only(node, { kernel_shape = 1, strides = 1, pads = 1, dilations = 1, group = 1, auto_pad = 1 })
    local x, w = activation(node, 1), weight(node, 2, "weight", 4)
    local k, s, p = window(node, { w.const.dims[3], w.const.dims[4] })
    if node.pad_before then
      -- a Pad of zeros around H and W that only this Conv reads
      p = p + node.pad_before.amount
      table.insert(layer.nodes, 1, node.pad_before.node)
    end
    local groups, dims = a.group or 1, w.const.dims
    if #x.shape ~= 4 then raise(node, "input is not [N, C, H, W]") end
    if dims[3] ~= k or dims[4] ~= k or groups < 1 or x.shape[2] % groups ~= 0 or dims[2] ~= x.shape[2] // groups then
      raise(node, "weight shape [%s] disagrees with kernel %dx%d, %d input channels and group %d",
        table.concat(dims, ", "), k, k, x.shape[2], groups)
    end
    if k > 15 or s > 8 or p >= k or p > 7 then
      raise(node, "kernel %d, stride %d, pad %d are outside the spec's conv2d (k 1 to 15, stride 1 to 8, pad below k and at most 7)", k, s, p)
    end
    local b = (node.inputs[3] or "") ~= "" and weight(node, 3, "bias", 1)
    if b and b.const.dims[1] ~= dims[1] then raise(node, "bias has %d entries for %d outputs", b.const.dims[1], dims[1]) end
    layer.weights = { { "weight", w } }
    if b then layer.weights[2] = { "bias", b } end
    layer.hint = hint(w, ".weight") or path_hint(node)
    return set("conv2d", { { "out", dims[1] }, { "k", k }, { "stride", s }, { "pad", p }, { "groups", groups },
      { "bias", b and true or false } })
  elseif op == "BatchNormalization" then
    only(node, { epsilon = 1, momentum = 1, training_mode = 1, spatial = 1 })
    local x = activation(node, 1)
    if (a.training_mode or 0) ~= 0 then raise(node, "training mode is not supported (export in eval mode)") end
    unread_extra_outputs(node)
    local c = x.shape[2]
    if #x.shape ~= 4 and #x.shape ~= 2 then raise(node, "input is not [N, C, H, W] or [N, C]") end
    for i, key in ipairs({ "weight", "bias", "running_mean", "running_var" }) do
      local v = weight(node, i + 1, key, 1)
      if v.const.dims[1] ~= c then raise(node, "%s has %d entries for %d channels", key, v.const.dims[1], c) end
      layer.weights[i] = { key, v }
    end
    layer.hint = hint(values[node.inputs[2]], ".weight") or path_hint(node)
    local eps = a.epsilon or 1e-5
    if not (eps > 0 and eps < 1) then raise(node, "epsilon %s is outside (0, 1)", tostring(eps)) end
    return set("batchnorm", M.float_text(eps) ~= M.float_text(1e-5) and { { "eps", { text = M.float_text(eps) } } } or {})
  elseif op == "Relu" then
    activation(node, 1)
    return set("relu")
  elseif op == "Add" then
    local x, y = values[node.inputs[1]], values[node.inputs[2] or ""]
    if not y or x.const or y.const then
      raise(node, "adds a constant; spgen takes an Add of two computed tensors, or a bias after a MatMul")
    end
    activation(node, 1); activation(node, 2)
    if not ints_equal(x.shape, y.shape) then raise(node, "the shapes [%s] and [%s] differ (no broadcasting)",
      table.concat(x.shape, ", "), table.concat(y.shape, ", ")) end
    layer.inputs = { node.inputs[1], node.inputs[2] }
    return set("add")
  elseif op == "MaxPool" or op == "AveragePool" then
    only(node, { kernel_shape = 1, strides = 1, pads = 1, dilations = 1, ceil_mode = 1, auto_pad = 1,
      count_include_pad = 1, storage_order = 1 })
    local x = activation(node, 1)
    unread_extra_outputs(node)
    local k, s, p = window(node, nil)
    if (a.ceil_mode or 0) ~= 0 then raise(node, "ceil_mode is not supported (floor mode only)") end
    if (a.storage_order or 0) ~= 0 then raise(node, "storage_order is not supported") end
    if k > 15 or s > 15 or 2 * p > k or p > 7 or #x.shape ~= 4 then
      raise(node, "kernel %d, stride %d, pad %d are outside the spec's pools (k 1 to 15, stride 1 to 15, pad at most k/2 and 7)", k, s, p)
    end
    local opts = { { "k", k }, { "stride", s }, { "pad", p } }
    -- ONNX's default is 0, the spec's true; they differ only with padding
    if op == "AveragePool" and p > 0 and (a.count_include_pad or 0) == 0 then
      opts[4] = { "count_include_pad", false }
    end
    return set(op == "MaxPool" and "maxpool" or "avgpool", opts)
  elseif op == "GlobalAveragePool" then
    local x = activation(node, 1)
    if #x.shape ~= 4 then raise(node, "input is not [N, C, H, W]") end
    return set("global_avgpool")
  elseif op == "ReduceMean" then
    local x = activation(node, 1)
    local axes = graph.axes(g, node, 2)
    local set_axes = {}
    for _, ax in ipairs(axes or {}) do set_axes[graph.axis_of(ax, #x.shape) or -1] = true end
    if #x.shape ~= 4 or not axes or #axes ~= 2 or not set_axes[2] or not set_axes[3] then
      raise(node, "only a mean over H and W (axes 2, 3) is supported")
    end
    layer.wrap = (a.keepdims or 1) == 0 and "flatten" or nil
    return set("global_avgpool")
  elseif op == "Flatten" or op == "Reshape" or op == "Squeeze" then
    local x = activation(node, 1)
    local out = values[node.outputs[1]].shape
    if not out then raise(node, "its output shape cannot be worked out (the shape must fold to constants)") end
    if #out ~= 2 or out[1] ~= x.shape[1] then
      raise(node, "only a reshape to (N, -1) is supported, not to [%s]", table.concat(out, ", "))
    end
    if #x.shape == 2 then return false end
    if #x.shape ~= 4 then raise(node, "input is not [N, C, H, W]") end
    return set("flatten")
  elseif op == "Gemm" then
    only(node, { alpha = 1, beta = 1, transA = 1, transB = 1 })
    local x = activation(node, 1)
    if (a.alpha or 1) ~= 1 or (a.beta or 1) ~= 1 or (a.transA or 0) ~= 0 then
      raise(node, "only alpha = 1, beta = 1 and transA = 0 are supported")
    end
    local w = weight(node, 2, "weight", 2)
    local out, inputs = (a.transB or 0) == 1 and w.const.dims[1] or w.const.dims[2], x.shape[2]
    if #x.shape ~= 2 or ((a.transB or 0) == 1 and w.const.dims[2] or w.const.dims[1]) ~= inputs then
      raise(node, "weight shape [%s] disagrees with the %d inputs", table.concat(w.const.dims, ", "), inputs)
    end
    local data = (a.transB or 0) == 1 and w.const.data or transposed(w.const)
    layer.weights = { { "weight", { name = w.name, const = { dims = { out, inputs }, data = data } } } }
    local b = (node.inputs[3] or "") ~= "" and weight(node, 3, "bias")
    if b and graph.count(b.const.dims) ~= out then raise(node, "bias has %d entries for %d outputs", graph.count(b.const.dims), out) end
    if b then layer.weights[2] = { "bias", { const = { dims = { out }, data = b.const.data } } } end
    layer.hint = hint(w, ".weight") or path_hint(node)
    return set("linear", { { "out", out }, { "bias", b and true or false } })
  elseif op == "MatMul" then
    local x = activation(node, 1)
    local w = weight(node, 2, "weight", 2)
    if #x.shape ~= 2 or w.const.dims[1] ~= x.shape[2] then
      raise(node, "weight shape [%s] disagrees with the %d inputs", table.concat(w.const.dims, ", "), x.shape[2])
    end
    local out = w.const.dims[2]
    layer.weights = { { "weight", { name = w.name, const = { dims = { out, x.shape[2] }, data = transposed(w.const) } } } }
    local add = only_reader(node.outputs[1])
    if add and add.op ~= "Add" then add = nil end
    local bias
    if add then
      local other = add.inputs[1] == node.outputs[1] and add.inputs[2] or add.inputs[1]
      bias = values[other]
      if not (bias and bias.const and bias.const.dtype == "float" and graph.count(bias.const.dims) == out) then bias = nil end
    end
    if bias then
      taken[add] = true
      layer.nodes[2], layer.output = add, add.outputs[1]
      layer.weights[2] = { "bias", { const = { dims = { out }, data = bias.const.data } } }
    end
    layer.hint = hint(w, ".weight") or path_hint(node)
    return set("linear", { { "out", out }, { "bias", bias and true or false } })
  elseif op == "Softmax" then
    local x = activation(node, 1)
    local axis = a.axis
    if axis == nil then axis = g.opset >= 13 and -1 or 1 end
    local ax = graph.axis_of(axis, #x.shape)
    local flat_after = #x.shape == 4 and x.shape[3] * x.shape[4] == 1
    if not (ax == 1 and (#x.shape == 2 or g.opset >= 13 or flat_after)) then
      raise(node, "only a softmax over the channels (axis 1) is supported")
    end
    return set("softmax")
  elseif op == "Pad" then
    -- zeros around H and W: before an AveragePool that pads nothing, the
    -- spec's avgpool, which counts its padding; before a Conv, more of its
    -- pad; zeros around the channels: the option-A shortcut
    local x = activation(node, 1)
    local pads = a.pads or (graph.ints(values[node.inputs[2] or ""]) or {}).data
    local fill = (node.inputs[3] or "") ~= "" and values[node.inputs[3]].const
    if type(pads) ~= "table" or #pads ~= 8 or (a.mode or "constant") ~= "constant" or
      ((node.inputs[3] or "") ~= "" and graph.scalar(fill) ~= 0) then
      raise(node, "only a constant Pad of zeros is supported")
    end
    local zero = true
    for _, q in ipairs(pads) do
      if q < 0 then raise(node, "a negative pad (%d) crops; it is not supported", q) end
      zero = zero and q == 0
    end
    if zero then return false end
    local reader = only_reader(node.outputs[1])
    if reader and reader.inputs[1] ~= node.outputs[1] then reader = nil end
    local p = pads[3]
    if reader and reader.op == "AveragePool" and pads[1] == 0 and pads[2] == 0 and pads[5] == 0 and pads[6] == 0 and
      pads[3] == pads[4] and pads[4] == pads[7] and pads[7] == pads[8] then
      local k, s, pool_pad = window(reader, nil)
      if pool_pad == 0 and (reader.attrs.ceil_mode or 0) == 0 and 2 * p <= k and p <= 7 and k <= 15 and s <= 15 then
        taken[reader] = true
        layer.nodes[2], layer.output = reader, reader.outputs[1]
        return set("avgpool", { { "k", k }, { "stride", s }, { "pad", p } })
      end
    end
    local spatial = pads[1] == 0 and pads[2] == 0 and pads[5] == 0 and pads[6] == 0
    if spatial and not (pads[3] == pads[4] and pads[4] == pads[7] and pads[7] == pads[8]) then
      raise(node, "asymmetric padding (top %d, left %d, bottom %d, right %d) is not supported: the spec pads all sides alike",
        pads[3], pads[4], pads[7], pads[8])
    end
    if spatial and reader and reader.op == "Conv" then
      reader.pad_before = { amount = p, node = node }
      return false
    end
    if #x.shape == 4 and pads[1] == 0 and pads[5] == 0 and pads[3] == 0 and pads[4] == 0 and pads[7] == 0 and
      pads[8] == 0 and pads[2] == pads[6] then
      return set("shortcut_a", { { "out", x.shape[2] + 2 * pads[2] }, { "stride", 1 } })
    end
    raise(node, "padding [%s] is supported only as zeros around H and W before an AveragePool, or as channels of the option-A shortcut",
      table.concat(pads, ", "))
  elseif op == "Slice" then
    -- the option-A shortcut: x[:, :, ::s, ::s] (one Slice or one per axis),
    -- then maybe a Pad of zero channels on each side
    local x = activation(node, 1)
    local steps, name, cur = {}, node.outputs[1], node
    while true do
      local v = values
      local starts, ends = graph.ints(v[cur.inputs[2] or ""]), graph.ints(v[cur.inputs[3] or ""])
      local axes = graph.ints(v[cur.inputs[4] or ""])
      local step = graph.ints(v[cur.inputs[5] or ""])
      if not starts or not ends or not axes or not step then
        raise(cur, "only a Slice of H and W with constant steps (the option-A shortcut) is supported")
      end
      for i, ax in ipairs(axes.data) do
        local axis = graph.axis_of(ax, 4)
        if (axis ~= 2 and axis ~= 3) or starts.data[i] ~= 0 or ends.data[i] < x.shape[axis + 1] or steps[axis] then
          raise(cur, "only a Slice of H and W from 0 to the end with a step (the option-A shortcut) is supported")
        end
        steps[axis] = step.data[i]
      end
      local next_node = only_reader(name)
      if not next_node or next_node.op ~= "Slice" or next_node.inputs[1] ~= name or (steps[2] and steps[3]) then break end
      cur = next_node
      taken[cur] = true
      layer.nodes[#layer.nodes + 1] = cur
      name = cur.outputs[1]
    end
    if steps[2] ~= steps[3] or not steps[2] or steps[2] < 1 or steps[2] > 8 then
      raise(node, "the option-A shortcut needs one step, 1 to 8, on both H and W")
    end
    local out = x.shape[2]
    local pad = only_reader(name)
    if pad and (pad.op ~= "Pad" or pad.inputs[1] ~= name) then pad = nil end
    if pad then
      local pads = pad.attrs.pads or (graph.ints(values[pad.inputs[2] or ""]) or {}).data
      if type(pads) == "table" and #pads == 8 and (pad.attrs.mode or "constant") == "constant" and
        ((pad.inputs[3] or "") == "" or graph.scalar(values[pad.inputs[3]].const) == 0) and pads[1] == 0 and pads[5] == 0 and pads[2] == pads[6] and pads[2] >= 0 and
        pads[3] == 0 and pads[4] == 0 and pads[7] == 0 and pads[8] == 0 then
        taken[pad] = true
        layer.nodes[#layer.nodes + 1] = pad
        name, out = pad.outputs[1], out + 2 * pads[2]
      end
    end
    layer.output = name
    return set("shortcut_a", { { "out", out }, { "stride", steps[2] } })
  end
  raise(node, "%s is not supported; spgen imports %s", op, M.SUPPORTED)
end

-- The layers of g in order (spconvs: the matches of import/spconv.lua).
function M.map(g, spconvs)
  local tools = mapper(g)
  local taken, at_end, list = {}, {}, {}
  g.alias = {}
  -- an SPConv takes the place of its last node, the Add of the two branches
  for _, sp in ipairs(spconvs) do
    for _, node in ipairs(sp.nodes) do taken[node] = sp end
    at_end[g.values[sp.y].producer] = sp
  end
  for _, node in ipairs(g.nodes) do
    if at_end[node] then
      list[#list + 1] = M.spconv_layer(at_end[node])
    elseif not taken[node] then
      local layer = map_node(g, node, taken, tools)
      if layer then
        list[#list + 1] = layer
      else
        -- a dropped node's output is its input
        g.alias[node.outputs[1]] = g.alias[node.inputs[1]] or node.inputs[1]
      end
    end
  end
  return list
end

function M.spconv_layer(sp)
  local w = sp.weights
  local zeros = native.farray(sp.out)
  local function bias(v) return v or { const = { dims = { sp.out }, data = zeros } } end
  local weights = {
    { "gwc.weight", w.gwc }, { "pwc.weight", w.pwc }, { "conv1x1.weight", w.conv1x1 },
    { "conv1x1.bias", bias(w.conv1x1_bias) },
  }
  if sp.bias == "all" then
    weights[#weights + 1] = { "gwc.bias", bias(w.gwc_bias) }
    weights[#weights + 1] = { "pwc.bias", bias(w.pwc_bias) }
  end
  for _, bn in ipairs({ "bn1", "bn2" }) do
    for i, key in ipairs(w[bn] and { "weight", "bias", "running_mean", "running_var" } or {}) do
      weights[#weights + 1] = { bn .. "." .. key, w[bn][i] }
    end
  end
  local opts = { { "out", sp.out }, { "stride", sp.stride }, { "ratio", { text = sp.ratio_text } },
    { "groups", sp.groups }, { "bias", sp.bias } }
  if M.float_text(sp.eps) ~= M.float_text(1e-5) then opts[#opts + 1] = { "eps", { text = M.float_text(sp.eps) } } end
  if not sp.bn2 then opts[#opts + 1] = { "bn2", false } end
  return { fn = "spconv", inputs = { sp.x }, output = sp.y, opts = opts, weights = weights, nodes = sp.nodes,
    hint = hint(w.gwc, ".gwc.weight"), spconv = sp }
end

return M
