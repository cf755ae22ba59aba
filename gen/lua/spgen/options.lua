-- Checks an operation's option table against its schema: unknown keys, types,
-- ranges and defaults, each error naming the operation and the option.
local fail = require("spgen.fail")

local M = {}

local function conforms(v, rule)
  if rule.type == "integer" then
    return math.type(v) == "integer" or (math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53)
  end
  return type(v) == rule.type
end

local function allowed(v, rule)
  if not rule.values then return true end
  for _, a in ipairs(rule.values) do if v == a then return true end end
  return false
end

local function describe(rule)
  if not rule.values then return rule.type end
  local vs = {}
  for _, v in ipairs(rule.values) do vs[#vs + 1] = string.format("%q", v) end
  return "one of " .. table.concat(vs, ", ")
end

local function in_range(v, rule)
  return not ((rule.min and v < rule.min) or (rule.max and v > rule.max)
    or (rule.gt and v <= rule.gt) or (rule.lt and v >= rule.lt))
end

local function range_text(rule)
  local lo = rule.min and ("[" .. rule.min) or rule.gt and ("(" .. rule.gt) or "(-inf"
  local hi = rule.max and (rule.max .. "]") or rule.lt and (rule.lt .. ")") or "inf)"
  return lo .. ", " .. hi
end

-- schema: { key = { type = "integer"|"number"|"string"|"boolean", values = {...},
--           min =, max =, gt =, lt =, default =, required = true } }
-- raise(fmt, ...) reports an error at the caller's spec line.
function M.check(op, opts, schema, raise)
  if type(opts) ~= "table" then raise("%s: options must be a table, got %s", op, type(opts)) end
  -- Raw reads, each key once, into a copy: a metamethod of the spec's table
  -- could answer differently on each read.
  for k in next, opts do
    if type(k) ~= "string" or not schema[k] then raise("%s: unknown option '%s'", op, fail.shown(k)) end
  end
  local out = {}
  for key, rule in pairs(schema) do
    local v = rawget(opts, key)
    if v == nil then
      if rule.required then raise("%s: option '%s' is required", op, key) end
      v = rule.default
    else
      if not conforms(v, rule) or not allowed(v, rule) then
        raise("%s: option '%s' must be %s, got %s", op, key, describe(rule), fail.shown(v))
      end
      if rule.type == "integer" then v = math.tointeger(v) end
      if rule.type ~= "string" and rule.type ~= "boolean" and (v ~= v or not in_range(v, rule)) then
        raise("%s: option '%s' = %s is outside %s", op, key, tostring(v), range_text(rule))
      end
    end
    out[key] = v
  end
  return out
end

return M
