-- spgen import MODEL.onnx [-o DIR] [--name NAME]: an ONNX model becomes
-- DIR/NAME.lua, a spec a person can read and edit, and DIR/NAME.safetensors,
-- its weights under the spec's names (docs/onnx.md). The passes: decode
-- (gen/onnx.c) -> check, sort and fold the graph (import/graph.lua) -> find
-- the SPConvs (import/spconv.lua) -> map the rest op by op
-- (import/layers.lua) -> name, write (here).
local native = require("spgen.native")
local fail = require("spgen.fail")
local spec = require("spgen.spec")
local graph = require("spgen.import.graph")
local spconv = require("spgen.import.spconv")
local layers = require("spgen.import.layers")

local M = {}

-- The graph's name made a network name: a C identifier of at most 64
-- characters, not a keyword.
local function network_name(name)
  local n = name:gsub("[^%w_]", "_"):sub(1, 60)
  if n == "" then n = "model" end
  if n:match("^%d") then n = "net_" .. n end
  if not spec.network_name_ok(n) then n = n .. "_net" end
  return n
end

local function literal(v)
  if type(v) == "table" then return v.text end
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

-- Layer names: the model's own where its weights carry one, else the
-- operation and a count. No two layers' weight keys may meet, so a name
-- whose keys another layer already has is replaced too.
local function name_layers(list)
  local keys, counts = {}, {}
  for _, layer in ipairs(list) do
    if #layer.weights > 0 then
      local function free(name)
        for _, w in ipairs(layer.weights) do if keys[name .. "." .. w[1]] then return false end end
        return not keys[name]
      end
      local name = layer.hint
      while not name or not free(name) do
        counts[layer.fn] = (counts[layer.fn] or 0) + 1
        name = layer.fn .. counts[layer.fn]
      end
      layer.name = name
      keys[name] = true
      for _, w in ipairs(layer.weights) do keys[name .. "." .. w[1]] = true end
      layer.opts[#layer.opts + 1] = { "name", name }
    end
  end
end

-- "-- " lines naming the nodes, wrapped near 100 columns.
local function node_comment(lines, nodes)
  local line = "--"
  for i, node in ipairs(nodes) do
    local item = " " .. node.name .. (i < #nodes and "," or "")
    if #line + #item > 100 and line ~= "--" then
      lines[#lines + 1] = line
      line = "--"
    end
    line = line .. item
  end
  lines[#lines + 1] = line
end

-- The spec's text. Tensors live in locals, reused once dead, so that no
-- network needs more than Lua's 200 locals.
local function spec_text(g, list, name, model_path)
  local function resolve(t) return g.alias[t] or t end
  local last_use = {}
  for i, layer in ipairs(list) do
    for _, t in ipairs(layer.inputs) do last_use[resolve(t)] = i end
  end
  local out_name = resolve(g.output.name)
  last_use[out_name] = #list + 1
  local var, free, declared, fresh = {}, {}, {}, 0
  -- text from the file or the command line goes into comments printable only
  local function printable(text) return (text:gsub("[^ -~]", "?")) end
  local lines = {
    string.format("-- %s: imported by `spgen import` from %s", name, printable(model_path:match("[^/]*$"))),
    string.format("-- (ONNX opset %d%s). One line per layer; the comment above each names the", g.opset,
      g.producer ~= "" and ", producer " .. printable(g.producer:sub(1, 64)) or ""),
    "-- ONNX nodes it came from. Generate with: spgen " .. name .. ".lua",
    string.format("local net = network { name = %q, input = { %d, %d, %d }, batch = %d, weights = %q }",
      name, g.input.shape[2], g.input.shape[3], g.input.shape[4], g.input.shape[1], name .. ".safetensors"),
    "local x = net.input",
  }
  var[g.input.name], declared.x = "x", true
  local function take_var()
    if #free > 0 then return table.remove(free) end
    fresh = fresh + 1
    return fresh == 1 and "y" or fresh == 2 and "z" or "t" .. fresh
  end
  for i, layer in ipairs(list) do
    local args = {}
    for j, t in ipairs(layer.inputs) do args[j] = var[resolve(t)] end
    -- inputs read for the last time free their names; the first is reused
    local result
    for j, t in ipairs(layer.inputs) do
      t = resolve(t)
      if last_use[t] == i and var[t] then
        if j == 1 and not result then result = var[t] else free[#free + 1] = var[t] end
        var[t] = nil
      end
    end
    result = result or take_var()
    local opts = {}
    for _, o in ipairs(layer.opts) do opts[#opts + 1] = o[1] .. " = " .. literal(o[2]) end
    local call = layer.fn .. "(" .. table.concat(args, ", ") .. (#opts > 0 and ", { " .. table.concat(opts, ", ") .. " }" or "") .. ")"
    if layer.wrap then call = layer.wrap .. "(" .. call .. ")" end
    node_comment(lines, layer.nodes)
    lines[#lines + 1] = (declared[result] and "" or "local ") .. result .. " = " .. call
    declared[result] = true
    var[resolve(layer.output)] = result
  end
  if not var[out_name] then fail.raise(g.path, "the graph output '%s' is not computed by any supported layer", g.output.name) end
  lines[#lines + 1] = "return output(" .. var[out_name] .. ")"
  return table.concat(lines, "\n") .. "\n"
end

-- opts: model, outdir (default out/import), name (default the graph's)
function M.run(opts)
  local path = opts.model
  local model, err = native.read_onnx(path)
  if not model then fail.raise(nil, "%s", err) end
  local name = opts.name or network_name(model.graph.name)
  if not spec.network_name_ok(name) then
    fail.raise(nil, "--name '%s' must be a C identifier of at most 64 characters (not a C keyword or main)", name)
  end
  local g = graph.build(model, path)
  local found = spconv.find(g)
  local list = layers.map(g, found)
  -- a flatten is a view, no operation of its own (as the generator counts)
  local computed = 0
  for _, layer in ipairs(list) do if layer.fn ~= "flatten" then computed = computed + 1 end end
  if computed == 0 then fail.raise(path, "the graph has no operations but reshapes") end
  name_layers(list)
  local text = spec_text(g, list, name, path)
  -- the weights, checked as the generator will read them
  local tensors = {}
  for _, layer in ipairs(list) do
    for _, w in ipairs(layer.weights) do
      local key, data = layer.name .. "." .. w[1], w[2].const.data
      local variance = w[1]:match("running_var$") ~= nil
      local bad = data:first_invalid(variance)
      if bad then
        fail.raise(path, "tensor '%s' (%s of the spec) holds %s at index %d", w[2].name or key, key,
          variance and data[bad] == data[bad] and data[bad] < 0 and "a negative variance" or "a non-finite value", bad)
      end
      tensors[#tensors + 1] = { name = key, shape = w[2].const.dims, data = data }
    end
  end
  table.sort(tensors, function(a, b) return a.name < b.name end)
  local dir = opts.outdir or "out/import"
  local ok, msg = native.write_outputs(dir, { { name = name .. ".lua", data = text } }, {
    { path = dir .. "/" .. name .. ".safetensors", write = function(file, staged)
      local done, why = native.write_safetensors(file, staged, tensors)
      if not done then fail.raise(nil, "%s", why) end
    end } })
  if not ok then fail.raise(nil, "%s", msg) end
  local report = { string.format("%s: %d layers, %d SPConv%s recognised", path, #list, #found, #found == 1 and "" or "s") }
  for _, layer in ipairs(list) do
    if layer.spconv then
      local names = {}
      for i, node in ipairs(layer.nodes) do names[i] = node.name end
      report[#report + 1] = string.format("  spconv '%s' (%d -> %d, stride %d, %s bias%s): %d ONNX nodes: %s", layer.name,
        layer.spconv.cin, layer.spconv.out, layer.spconv.stride, layer.spconv.bias,
        layer.spconv.bn2 and "" or ", bn2 folded into conv1x1", #names, table.concat(names, " "))
    end
  end
  report[#report + 1] = string.format("wrote %s/%s.lua and %s/%s.safetensors", dir, name, dir, name)
  native.stdout(table.concat(report, "\n") .. "\n")
end

return M
