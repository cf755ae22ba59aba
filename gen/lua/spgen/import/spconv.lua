-- Recognises SPConv (Zhang et al., IJCAI 2020) in the node soup that
-- torch.onnx.export writes for the official module (docs/onnx.md draws it):
--
--   x3 = Slice(x, channels 0:r)            x1 = Slice(x, channels r:C)
--   o3 = BN1(Conv3x3(x3) + Conv1x1(P(x3)))  o1 = [BN2](Conv1x1(P(x1)))
--   P  = identity, or at stride 2 AveragePool 2x2/2 (after a Pad of zeros)
--   m3, m1 = GlobalAveragePool or ReduceMean over H, W, reshaped to [N, Co]
--   w = Softmax(Concat(Unsqueeze(m3, 2), Unsqueeze(m1, 2)), axis 2)
--   y = o3 * Expand(Reshape(Gather(w, 0, axis 2))) + o1 * (the same of index 1)
--
-- with the biases of either variant (official: conv1x1 only; Paddle: all
-- three) and BN2 as a node or folded by the exporter into conv1x1. Every
-- tensor inside must be read only inside; any difference leaves the nodes to
-- the op-by-op mapping, which names the difference if it cannot take them.
local graph = require("spgen.import.graph")

local M = {}

local function ints_equal(list, want)
  if type(list) ~= "table" or #list ~= #want then return false end
  for i, v in ipairs(want) do if list[i] ~= v then return false end end
  return true
end

-- The attributes the pattern's nodes may have; any other ends the match.
local KNOWN = {
  Conv = { kernel_shape = 1, strides = 1, pads = 1, dilations = 1, group = 1, auto_pad = 1 },
  BatchNormalization = { epsilon = 1, momentum = 1, training_mode = 1, spatial = 1 },
  AveragePool = { kernel_shape = 1, strides = 1, pads = 1, ceil_mode = 1, count_include_pad = 1, auto_pad = 1 },
  Pad = { mode = 1, pads = 1 }, Slice = {}, Squeeze = { axes = 1 }, Unsqueeze = { axes = 1 }, GlobalAveragePool = {},
  ReduceMean = { axes = 1, keepdims = 1 }, Concat = { axis = 1 }, Softmax = { axis = 1 }, Gather = { axis = 1 },
  Reshape = { allowzero = 1 }, Flatten = { axis = 1 }, Expand = {}, Shape = { start = 1, ["end"] = 1 }, Mul = {}, Add = {},
}

-- A matcher over g: each check either holds or ends the match with a reason.
local function matcher(g)
  local m = { nodes = {}, seen = {}, values = g.values }
  local function miss(fmt, ...) error({ reason = string.format(fmt, ...), nodes = m.nodes }, 0) end
  m.miss = miss
  function m.take(node)
    if not m.seen[node] then
      m.seen[node] = true
      m.nodes[#m.nodes + 1] = node
      for key in pairs(node.attrs) do
        if not (KNOWN[node.op] or {})[key] then m.miss("%s has attribute '%s'", node.label, key) end
      end
    end
    return node
  end
  -- the live node producing tensor name, of op type op (one of a list)
  function m.producer(name, ops, what)
    local v = g.values[name]
    local node = v and not v.const and v.producer
    if not node or (ops and not ops[node.op]) then
      miss("%s ('%s') is not computed by %s", what, name, table.concat((function()
        local t = {}
        for k in pairs(ops or {}) do t[#t + 1] = k end
        table.sort(t)
        return t
      end)(), " or "))
    end
    return m.take(node)
  end
  function m.only_reader(name, what)
    local v = g.values[name]
    if #v.consumers ~= 1 then miss("%s ('%s') is read by %d nodes", what, name, #v.consumers) end
    return m.take(v.consumers[1])
  end
  function m.shape(name) return g.values[name].shape end
  function m.weight(name, what)
    local v = name and name ~= "" and g.values[name]
    if not v or not v.const or v.const.dtype ~= "float" then miss("%s is not a float initializer", what) end
    return v
  end
  return m
end

local function one_of(...)
  local t = {}
  for _, k in ipairs({ ... }) do t[k] = true end
  return t
end

-- A Conv with kernel k, stride s, pad p, dilation 1; returns node, weight, bias value (or nil).
local function conv(m, node, k, s, p, what)
  local a = node.attrs
  local w = m.weight(node.inputs[2], what .. " weight")
  local kernel = a.kernel_shape or { w.const.dims[3], w.const.dims[4] }
  if not ints_equal(kernel, { k, k }) then m.miss("%s is not %dx%d", what, k, k) end
  if not ints_equal(a.strides or { 1, 1 }, { s, s }) then m.miss("%s's stride is not %d", what, s) end
  if not ints_equal(a.pads or { 0, 0, 0, 0 }, { p, p, p, p }) then m.miss("%s's padding is not %d", what, p) end
  if not ints_equal(a.dilations or { 1, 1 }, { 1, 1 }) then m.miss("%s is dilated", what) end
  if a.auto_pad ~= nil and a.auto_pad ~= "NOTSET" then m.miss("%s uses auto_pad", what) end
  local b = node.inputs[3] and node.inputs[3] ~= "" and m.weight(node.inputs[3], what .. " bias") or nil
  return w, b
end

-- P(t) at stride 2: AveragePool 2x2 stride 2, maybe after a Pad of zeros;
-- returns the tensor pooled.
local function pooled(m, name, what)
  local pool = m.producer(name, one_of("AveragePool"), what)
  local a = pool.attrs
  if not ints_equal(a.kernel_shape, { 2, 2 }) or not ints_equal(a.strides or { 1, 1 }, { 2, 2 }) or
    not ints_equal(a.pads or { 0, 0, 0, 0 }, { 0, 0, 0, 0 }) or (a.ceil_mode or 0) ~= 0 then
    m.miss("%s is not a 2x2 average pool of stride 2", what)
  end
  local src = pool.inputs[1]
  local pad = m.values[src].producer
  if pad and pad.op == "Pad" then
    m.take(pad)
    local pads = pad.attrs.pads or (graph.ints(m.values[pad.inputs[2] or ""]) or {}).data
    if type(pads) ~= "table" or (pad.attrs.mode or "constant") ~= "constant" or
      ((pad.inputs[3] or "") ~= "" and graph.scalar(m.values[pad.inputs[3]].const) ~= 0) then
      m.miss("the Pad before %s is not a constant pad of zeros", what)
    end
    for _, q in ipairs(pads) do if q ~= 0 then m.miss("the Pad before %s pads", what) end end
    src = pad.inputs[1]
  end
  return src
end

-- The input of a branch: P(x) at stride 2, x at stride 1.
local function branch_input(m, name, stride, what)
  if stride == 2 then return pooled(m, name, what) end
  return name
end

-- Slice(x, channels from:to); returns x, from, to (clamped to C).
local function channel_slice(m, name, what)
  local node = m.producer(name, one_of("Slice"), what)
  local v = m.values
  local starts, ends = graph.ints(v[node.inputs[2] or ""]), graph.ints(v[node.inputs[3] or ""])
  local axes = (node.inputs[4] or "") ~= "" and graph.ints(v[node.inputs[4]])
  local steps = (node.inputs[5] or "") ~= "" and graph.ints(v[node.inputs[5]])
  local x = v[node.inputs[1]].shape
  if not starts or not ends or #starts.data ~= 1 or #ends.data ~= 1 or not x or #x ~= 4 or
    ((node.inputs[4] or "") ~= "" and (not axes or graph.axis_of(axes.data[1], 4) ~= 1)) or
    ((node.inputs[4] or "") == "" ) or
    ((node.inputs[5] or "") ~= "" and (not steps or steps.data[1] ~= 1)) then
    m.miss("%s is not a slice of the channels", what)
  end
  local c = x[2]
  local from, to = starts.data[1], ends.data[1]
  if from < 0 then from = from + c end
  if to < 0 then to = to + c end
  return node.inputs[1], math.max(0, math.min(from, c)), math.max(0, math.min(to, c))
end

-- The branch tensor whose per-channel mean name is: GlobalAveragePool or
-- ReduceMean over H and W, then reshapes that keep [N, Co] in order.
local function mean_of(m, name, n, co, what)
  local node = m.producer(name, one_of("Squeeze", "Unsqueeze", "Reshape", "Flatten", "GlobalAveragePool",
    "ReduceMean"), what)
  while node.op ~= "GlobalAveragePool" and node.op ~= "ReduceMean" do
    local s = m.shape(node.outputs[1])
    if not s or s[1] ~= n or s[2] ~= co or graph.count(s) ~= n * co then m.miss("%s reshapes the means", what) end
    node = m.producer(node.inputs[1], one_of("Squeeze", "Unsqueeze", "Reshape", "Flatten", "GlobalAveragePool",
      "ReduceMean"), what)
  end
  if node.op == "ReduceMean" then
    local axes = graph.axes({ values = m.values }, node, 2)
    local x = m.shape(node.inputs[1])
    local set = {}
    for _, a in ipairs(axes or {}) do set[graph.axis_of(a, 4) or -1] = true end
    if not x or #x ~= 4 or not axes or #axes ~= 2 or not set[2] or not set[3] then
      m.miss("%s averages over other axes than H and W", what)
    end
  end
  return node.inputs[1]
end

-- The weight chain from Gather index k to its Mul; returns the Mul and the
-- tensor it scales.
local function scaled(m, gather, n, co, what)
  local name = gather.outputs[1]
  -- a weight per sample and channel, [N, Co, 1, 1], broadcast over H and W
  local function per_channel(t)
    local s = m.shape(t)
    if not s or #s ~= 4 or s[1] ~= n or s[2] ~= co or s[3] ~= 1 or s[4] ~= 1 then
      m.miss("%s is not [N, C, 1, 1] where it is broadcast", what)
    end
  end
  local expanded = false
  while true do
    local node = m.only_reader(name, what)
    if node.op == "Mul" then
      if not expanded then per_channel(name) end
      return node, node.inputs[1] == name and node.inputs[2] or node.inputs[1]
    elseif node.op == "Reshape" or node.op == "Unsqueeze" then
      local s = m.shape(node.outputs[1])
      if not s or s[1] ~= n or s[2] ~= co or graph.count(s) ~= n * co then m.miss("%s is reshaped out of order", what) end
    elseif node.op == "Expand" and not expanded then
      per_channel(name)
      local s = m.shape(node.outputs[1])
      if not s or #s ~= 4 or s[1] ~= n or s[2] ~= co then m.miss("%s is expanded across channels", what) end
      expanded = true
      local shape_of = m.values[node.inputs[2]].producer
      if shape_of then m.take(shape_of) end
    else
      m.miss("%s is used by %s", what, node.label)
    end
    name = node.outputs[1]
  end
end

-- The smallest ratio, in the fewest decimal digits, that floor(C * ratio) = r
-- (the spec's rule) gives back.
local function ratio_for(c, r)
  for digits = 1, 17 do
    local scale = 10.0 ^ digits
    local v = math.ceil(r / c * scale) / scale
    local text = string.format("%." .. digits .. "g", v)
    local back = tonumber(text)
    if back > 0 and back < 1 and math.floor(c * back) == r then return back, text end
  end
  return nil
end

local function match(g, softmax)
  local m = matcher(g)
  m.take(softmax)
  local v = m.values
  local s = m.shape(softmax.inputs[1])
  if not s or #s ~= 3 or s[3] ~= 2 then m.miss("the Softmax input is not [N, C, 2]") end
  local axis = softmax.attrs.axis
  if axis == nil then axis = g.opset >= 13 and -1 or 1 end
  if graph.axis_of(axis, 3) ~= 2 then m.miss("the Softmax is not over the last axis") end
  local n, co = s[1], s[2]
  local cat = m.producer(softmax.inputs[1], one_of("Concat"), "the Softmax input")
  if graph.axis_of(cat.attrs.axis, 3) ~= 2 or #cat.inputs ~= 2 then m.miss("the Concat is not of two means on axis 2") end
  m.only_reader(cat.outputs[1], "the Concat output")
  local branches = {}
  for i = 1, 2 do
    local u = m.producer(cat.inputs[i], one_of("Unsqueeze", "Reshape"), "a Concat input")
    local us = m.shape(u.outputs[1])
    if not us or us[1] ~= n or us[2] ~= co or us[3] ~= 1 or #us ~= 3 then m.miss("a Concat input is not [N, C, 1]") end
    branches[i] = mean_of(m, u.inputs[1], n, co, "a branch mean")
  end
  -- the two weights, each scaling its own branch, summed
  local readers = v[softmax.outputs[1]].consumers
  if #readers ~= 2 then m.miss("the Softmax output is read by %d nodes", #readers) end
  local muls = {}
  for _, gather in ipairs(readers) do
    m.take(gather)
    local idx = graph.ints(v[gather.inputs[2] or ""])
    if gather.op ~= "Gather" or graph.axis_of(gather.attrs.axis or 0, 3) ~= 2 or not idx or #idx.data ~= 1 or #idx.dims ~= 0 then
      m.miss("%s does not take one softmax weight", gather.label)
    end
    local k = idx.data[1] < 0 and idx.data[1] + 2 or idx.data[1]
    if k ~= 0 and k ~= 1 or muls[k + 1] then m.miss("the softmax weights are not taken once each") end
    local mul, scaled_tensor = scaled(m, gather, n, co, "softmax weight " .. k)
    if scaled_tensor ~= branches[k + 1] then m.miss("softmax weight %d does not scale its own branch", k) end
    muls[k + 1] = mul
  end
  local add = m.only_reader(muls[1].outputs[1], "a weighted branch")
  if add.op ~= "Add" or m.only_reader(muls[2].outputs[1], "a weighted branch") ~= add then
    m.miss("the weighted branches are not added")
  end
  -- which branch is which: the 3x3 one is BN(Add(Conv3x3, Conv1x1))
  local function is_3x3(name)
    local p = v[name].producer
    local q = p and p.op == "BatchNormalization" and v[p.inputs[1]].producer
    return q and q.op == "Add"
  end
  local i3 = is_3x3(branches[1]) and 1 or 2
  local b3, b1 = branches[i3], branches[3 - i3]
  local bn1 = m.producer(b3, one_of("BatchNormalization"), "the 3x3 branch")
  local sum = m.producer(bn1.inputs[1], one_of("Add"), "the 3x3 branch's batchnorm input")
  local gwc = m.producer(sum.inputs[1], one_of("Conv"), "a 3x3 branch term")
  local pwc = m.producer(sum.inputs[2], one_of("Conv"), "a 3x3 branch term")
  if (gwc.attrs.kernel_shape or {})[1] ~= 3 then gwc, pwc = pwc, gwc end
  local stride = (gwc.attrs.strides or { 1, 1 })[1]
  if stride ~= 1 and stride ~= 2 then m.miss("the 3x3 convolution's stride is not 1 or 2") end
  local groups = gwc.attrs.group or 1
  local wg, bg = conv(m, gwc, 3, stride, 1, "the 3x3 convolution")
  local wp, bp = conv(m, pwc, 1, 1, 0, "the pointwise convolution")
  if (pwc.attrs.group or 1) ~= 1 then m.miss("the pointwise convolution is grouped") end
  local x3 = gwc.inputs[1]
  if branch_input(m, pwc.inputs[1], stride, "the pointwise convolution's input") ~= x3 then
    m.miss("the pointwise convolution does not read the 3x3 convolution's input")
  end
  local bn2, c1 = nil, v[b1].producer
  if c1 and c1.op == "BatchNormalization" then bn2 = m.take(c1); c1 = nil end
  c1 = m.producer(bn2 and bn2.inputs[1] or b1, one_of("Conv"), "the 1x1 branch")
  if (c1.attrs.group or 1) ~= 1 then m.miss("the 1x1 branch's convolution is grouped") end
  local w1, b1v = conv(m, c1, 1, 1, 0, "the 1x1 branch's convolution")
  local x1 = branch_input(m, c1.inputs[1], stride, "the 1x1 branch's input")
  local x, from3, to3 = channel_slice(m, x3, "the 3x3 branch's input")
  local x_other, from1, to1 = channel_slice(m, x1, "the 1x1 branch's input")
  local shape = v[x].shape
  local c = shape[2]
  if x_other ~= x or from3 ~= 0 or from1 ~= to3 or to1 ~= c or to3 < 1 or to3 >= c then
    m.miss("the two branches do not split the same input's channels into 0:r and r:C")
  end
  local r = to3
  local ratio, ratio_text = ratio_for(c, r)
  if not ratio then m.miss("no ratio gives %d of %d channels", r, c) end
  if groups < 1 or r % groups ~= 0 or co % groups ~= 0 then m.miss("groups = %d does not divide r = %d and out = %d", groups, r, co) end
  -- the weights' shapes, the batchnorms' epsilon
  local function shaped(w, want, what)
    if not ints_equal(w.const.dims, want) then m.miss("%s has shape [%s], not [%s]", what,
      table.concat(w.const.dims, ", "), table.concat(want, ", ")) end
  end
  shaped(wg, { co, r // groups, 3, 3 }, "the 3x3 weight")
  shaped(wp, { co, r, 1, 1 }, "the pointwise weight")
  shaped(w1, { co, c - r, 1, 1 }, "the 1x1 branch's weight")
  for _, b in ipairs({ bg or false, bp or false, b1v or false }) do
    if b then shaped(b, { co }, "a bias") end
  end
  local bns = { bn1, bn2 }
  for _, bn in ipairs(bns) do
    for i = 2, 5 do shaped(m.weight(bn.inputs[i], "a batchnorm parameter"), { co }, "a batchnorm parameter") end
    if (#bn.outputs > 1 and bn.outputs[2] ~= "") or (bn.attrs.training_mode or 0) ~= 0 then
      m.miss("%s is in training mode", bn.label)
    end
  end
  local eps = bn1.attrs.epsilon or 1e-5
  if bn2 and (bn2.attrs.epsilon or 1e-5) ~= eps then m.miss("the two batchnorms' epsilons differ") end
  if not (eps > 0 and eps < 1) then m.miss("the batchnorm epsilon %s is outside (0, 1)", tostring(eps)) end
  -- the weighted sum has the branches' shape, [N, Co, Ho, Wo]
  local y = add.outputs[1]
  local want = m.shape(b3)
  for _, t in ipairs({ b1, muls[1].outputs[1], muls[2].outputs[1], y }) do
    if not want or #want ~= 4 or want[1] ~= n or want[2] ~= co or not ints_equal(m.shape(t), want) then
      m.miss("the branches and their weighted sum differ in shape")
    end
  end
  -- nothing inside is read from outside
  for _, node in ipairs(m.nodes) do
    for _, o in ipairs(node.outputs) do
      if o ~= "" and o ~= y then
        if o == g.output.name then m.miss("%s's output is the graph output", node.label) end
        for _, reader in ipairs(v[o].consumers) do
          if not m.seen[reader] then m.miss("%s's output is read by %s", node.label, reader.label) end
        end
      end
    end
  end
  return {
    x = x, y = y, nodes = m.nodes, ratio_text = ratio_text, r = r, cin = c,
    out = co, stride = stride, groups = groups, eps = eps, bn2 = bn2 ~= nil,
    bias = (bg or bp) and "all" or "official",
    weights = { gwc = wg, pwc = wp, conv1x1 = w1, gwc_bias = bg, pwc_bias = bp, conv1x1_bias = b1v,
      bn1 = { v[bn1.inputs[2]], v[bn1.inputs[3]], v[bn1.inputs[4]], v[bn1.inputs[5]] },
      bn2 = bn2 and { v[bn2.inputs[2]], v[bn2.inputs[3]], v[bn2.inputs[4]], v[bn2.inputs[5]] } },
  }
end

-- Every SPConv in g: a list of matches (above) in graph order. A Softmax
-- that is not one leaves its reason in g.near_misses (in graph order) and on
-- the nodes the match had reached (.near_miss), for the mapping's message.
function M.find(g)
  local found = {}
  g.near_misses = {}
  for _, node in ipairs(g.nodes) do
    if node.op == "Softmax" then
      local ok, result = pcall(match, g, node)
      if ok then
        table.sort(result.nodes, function(a, b) return a.index < b.index end)
        found[#found + 1] = result
      elseif type(result) == "table" and result.reason then
        local reason = string.format("at %s: %s", node.label, result.reason)
        g.near_misses[#g.near_misses + 1] = reason
        for _, seen in ipairs(result.nodes) do seen.near_miss = seen.near_miss or reason end
      else
        error(result, 0)
      end
    end
  end
  return found
end

return M
