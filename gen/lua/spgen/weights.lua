-- Weights: the tensors the spec's operations need, read from a safetensors
-- file (checked against the spec) or drawn from the seed.
local native = require("spgen.native")
local fail = require("spgen.fail")
local limits = require("spgen.limits")

local M = {}

local function shape_text(s) return "[" .. table.concat(s, ", ") .. "]" end

-- Each init kind draws uniformly from [lo, hi): its bounds for tensor t.
local BOUNDS = {
  -- kaiming-uniform-like bounds keep activations O(1) through a layer
  conv = function(t) local b = 1 / math.sqrt(t.fan_in) return -b, b end,
  bn_weight = function() return 0.5, 1.5 end,
  bn_bias = function() return -0.5, 0.5 end,
  bn_mean = function() return -0.5, 0.5 end,
  bn_var = function() return 0.5, 1.5 end,
}

-- Each tensor draws from its own stream for (seed, key) (gen/rng.c).
local function random_tensor(seed, t)
  return native.random_uniform(limits.count(t.shape), seed, t.key, BOUNDS[t.init](t))
end

local function check_values(path, t, a)
  local i = a:first_invalid(t.init == "bn_var")
  if not i then return end
  local v = a[i]
  if v ~= v or v == math.huge or v == -math.huge then
    fail.raise(path, "tensor '%s' holds a non-finite value (%s) at index %d", t.key, tostring(v), i)
  end
  fail.raise(path, "tensor '%s' is a variance but holds %s at index %d", t.key, tostring(v), i)
end

-- named: { name, where } when the spec names the file (its network{} line),
-- nil for --weights.
local function from_file(path, within, named, need, strict)
  local file, err = native.read_safetensors(path, within)
  if not file and named then
    -- the spec's line and the name as the spec wrote it, then the reason
    local reason = err:sub(1, #path + 2) == path .. ": " and err:sub(#path + 3) or err
    fail.raise(named.where, "network: weights '%s': %s", named.name, reason)
  end
  if not file then fail.raise(nil, "%s", err) end
  local out, used = {}, {}
  for _, t in ipairs(need) do
    local got = file[t.key]
    if not got then
      fail.raise(path, "tensor '%s' is missing (needed by %s '%s' at %s)", t.key, t.node.op, t.node.name, t.node.where)
    end
    if #got.shape ~= #t.shape or shape_text(got.shape) ~= shape_text(t.shape) then
      fail.raise(path, "tensor '%s' has shape %s but %s '%s' at %s needs %s", t.key, shape_text(got.shape),
        t.node.op, t.node.name, t.node.where, shape_text(t.shape))
    end
    check_values(path, t, got.data)
    out[t.key], used[t.key] = got.data, true
  end
  local unused = {}
  for key in pairs(file) do if not used[key] then unused[#unused + 1] = key end end
  if #unused > 0 then
    table.sort(unused)
    local msg = string.format("%d tensor(s) not used by the spec, first '%s'", #unused, unused[1])
    if strict then fail.raise(path, "%s (--strict)", msg) end
    native.warn(path .. ": warning: " .. msg)
  end
  return out
end

-- A file the spec names: relative to the spec's directory and inside its
-- tree (symlinks are resolved when it is opened). Returns the path and the
-- directory.
local function spec_relative(g, path)
  if path:sub(1, 1) == "/" or ("/" .. path .. "/"):find("/../", 1, true) then
    fail.raise(g.net.where, "network: weights '%s' must be a path inside the spec's directory (relative, without '..')", path)
  end
  local dir = g.path:match("^(.*)/[^/]*$")
  return dir and (dir .. "/" .. path) or path, dir or "."
end

-- Returns { key -> farray }, the list of required tensors, and where the
-- values came from (the file's base name or "seed N") for the emitted comments.
function M.bind(g, override, strict)
  local need = g.weights
  local path, within, named = override, nil, nil -- the command line's file may lie anywhere
  if not path and g.net.weights then
    path, within = spec_relative(g, g.net.weights)
    named = { name = g.net.weights, where = g.net.where }
  end
  if path then return from_file(path, within, named, need, strict), need, path:match("[^/]*$") end
  local out = {}
  for _, t in ipairs(need) do out[t.key] = random_tensor(g.net.seed, t) end
  return out, need, "seed " .. g.net.seed
end

-- Writes the weights used, under their spec key names, sorted, to file (the
-- stream write_outputs opened for the new file path).
function M.dump(file, path, weights, need)
  local list = {}
  for _, t in ipairs(need) do list[#list + 1] = { name = t.key, shape = t.shape, data = weights[t.key] } end
  table.sort(list, function(x, y) return x.name < y.name end)
  local ok, err = native.write_safetensors(file, path, list)
  if not ok then fail.raise(nil, "%s", err) end
end

return M
