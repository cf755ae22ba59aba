-- What every emitted layer shares: its macros, the per-sample wrapper with
-- the pointers it needs, and the fused store (residual add, relu, and either
-- a plain store or a global-average-pool accumulation).
local writer = require("spgen.writer")
local macros = require("spgen.macros")

local M = {}

-- The macro prefix and C function name of kernel k.
function M.names(k, ctx)
  return string.upper(ctx.prefix) .. "_L" .. k.index, ctx.prefix .. "_l" .. k.index
end

-- The float offset in the blob of k's first weight array, nil without
-- weights. A layer's functions address its weights from there through their
-- parameter wt, so layers of the same shape, fusions and weight layout emit
-- the same text and share it (emit_c.lua).
function M.weight_base(k)
  local base
  for _, offset in pairs(k.w) do base = math.min(base or offset, offset) end
  return base
end

-- ", const float *wt" for the functions of a layer with weights.
function M.weight_param(k)
  return M.weight_base(k) and ", const float *wt" or ""
end

function M.macros(w, P, list, k)
  macros(w, P, list, k, "wt", M.weight_base(k) or 0)
end

-- The store of `value` for output channel c0 + c at output index idx; with
-- vec ({ t, it, lanes, load }) a vector of that many pixels from idx, of
-- which the first `skip` lanes hold final values already: they are kept
-- (and left out of a pooled sum).
function M.store_at(w, k, value, c, idx, vec, skip)
  local t = { (vec and vec.t or "float") .. " v = " .. value .. ";" }
  if k.residual then
    t[#t + 1] = vec and string.format("v += %s(r + %s);", vec.load, idx) or "v += r[" .. idx .. "];"
  end
  if k.relu then
    t[#t + 1] = vec and string.format("v = (%s)((%s)v & (v > 0.0f));", vec.t, vec.it) or "v = v > 0.0f ? v : 0.0f;"
  end
  if vec and (skip or 0) > 0 then
    -- the first skip lanes: zero when pooling (counted by the earlier tile),
    -- else kept as y holds them; lane i of the second operand is lanes + i
    local lanes = {}
    for l = 0, vec.lanes - 1 do
      if k.gap then lanes[#lanes + 1] = l < skip and vec.lanes or l
      else lanes[#lanes + 1] = l < skip and l or vec.lanes + l end
    end
    t[#t + 1] = k.gap
      and string.format("v = __builtin_shufflevector(v, (%s){0}, %s);", vec.t, table.concat(lanes, ", "))
      or string.format("v = __builtin_shufflevector(%s(y + %s), v, %s);", vec.load, idx, table.concat(lanes, ", "))
  end
  if k.gap then
    local sum = "v"
    if vec then
      local lanes = {}
      for i = 0, vec.lanes - 1 do lanes[#lanes + 1] = string.format("v[%d]", i) end
      sum = table.concat(lanes, " + ")
    end
    t[#t + 1] = string.format("y[c0 + %d] += %s;", c, sum)
  elseif vec then
    t[#t + 1] = string.format("memcpy(y + %s, &v, sizeof v);", idx)
  else
    t[#t + 1] = "y[" .. idx .. "] = v;"
  end
  w.line("{ %s }", table.concat(t, " "))
end

-- The store of output channel c0 + c, pixel p of the scalar tile at (oy, ox).
function M.store(w, P, k, value, c, p)
  M.store_at(w, k, value, c, string.format("(c0 + %d) * %s_HO * %s_WO + oy * %s_WO + ox + %d", c, P, P, P, p))
end

-- The kernel function: loops over the batch and calls `body(w)` with xn, rn,
-- yn (and the caller's scratch and weights wt) in scope; sizes are per
-- sample. values: the C types of the activations, the scratch and the
-- weights (nil: the layer has none), float when values is nil; then a fused
-- global average pool sums into yn here, else the store pools.
-- Returns the text and the call builder.
function M.wrapper(w, fn, P, k, ctx, sizes, body, values)
  local t, scratch = values and values.type or "float", values and values.scratch or "float"
  local pools = k.gap and not values
  local params = { "const " .. t .. " *x" }
  if k.residual then params[#params + 1] = "const " .. t .. " *r" end
  params[#params + 1] = t .. " *y"
  local weights = values and values.weights or (not values and M.weight_base(k) and "float")
  if weights then params[#params + 1] = "const " .. weights .. " *wt" end
  if k.scratch > 0 then params[#params + 1] = scratch .. " *scratch" end
  w.line("static void %s(%s)", fn, table.concat(params, ", "))
  w.open("{")
  w.line("int n%s;", pools and ", c" or "")
  w.open("for (n = 0; n < %d; ++n) {", ctx.batch)
  w.line("const %s *xn = x + n * %d;", t, sizes.input)
  if k.residual then w.line("const %s *rn = r + n * %d;", t, sizes.output) end
  local out = k.gap and sizes.channels or sizes.output
  w.line("%s *yn = y + n * %d;", t, out)
  if pools then
    w.line("for (c = 0; c < %d; ++c)", out)
    w.line("    yn[c] = 0.0f;")
  end
  body(w)
  if pools then
    w.line("for (c = 0; c < %d; ++c) /* the fused global average pool */", out)
    w.line("    yn[c] *= 1.0f / (float)(%s_HO * %s_WO);", P, P)
  end
  w.close()
  w.close()
  return M.call(fn, k, weights)
end

-- The call of a wrapper's function fn: input, residual, output, weights
-- (when with_weights), scratch.
function M.call(fn, k, with_weights)
  return function(ptrs)
    local args = { ptrs.inputs[1] }
    if k.residual then args[#args + 1] = ptrs.inputs[2] end
    args[#args + 1] = ptrs.output
    if with_weights then args[#args + 1] = ptrs.weights end
    if k.scratch > 0 then args[#args + 1] = ptrs.scratch end
    return string.format("%s(%s);", fn, table.concat(args, ", "))
  end
end

function M.new_writer() return writer.new() end

return M
