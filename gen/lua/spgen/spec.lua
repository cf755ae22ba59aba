-- Loads a spec: runs the untrusted Lua file in a sandbox whose only powers are
-- the graph-building DSL, and returns the graph it built.
local native = require("spgen.native")
local fail = require("spgen.fail")
local limits = require("spgen.limits")
local options = require("spgen.options")
local ops = require("spgen.ops")

local M = {}

local NETWORK_SCHEMA = {
  name = { type = "string", required = true },
  input = { type = "table", required = true },
  batch = { type = "integer", min = 1, max = 65536, default = 1 },
  weights = { type = "string" },
  naming = { type = "string", values = { "torch", "paddle" }, default = "torch" },
  seed = { type = "integer", default = 1 },
}

local C_KEYWORDS = {}
for w in ([[auto break case char const continue default do double else enum extern float for goto
  if inline int long register restrict return short signed sizeof static struct switch typedef
  union unsigned void volatile while main]]):gmatch("%a+") do C_KEYWORDS[w] = true end

local function copy(t, drop)
  local c = {}
  for k, v in pairs(t) do if not (drop and drop[k]) then c[k] = v end end
  return c
end

-- The innermost frame of the spec file: where a DSL call came from.
-- The innermost frame of the spec or of a file it imported: where a DSL
-- call came from. Inside an imported file, the spec's own line is added.
local function spec_where(g)
  local inner
  for level = 2, 200 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    local path = g.chunks[info.source]
    if path and info.currentline > 0 then
      local here = path .. ":" .. info.currentline
      if info.source == g.chunk then
        return inner and (inner .. " (from " .. here .. ")") or here
      end
      inner = inner or here
    end
  end
  return inner or g.path
end

local function raiser(g)
  local where = spec_where(g)
  return function(fmt, ...) fail.raise(where, fmt, ...) end, where
end

local function new_node(g, op, inputs, attrs, shape, where)
  local node = { id = #g.nodes + 1, op = op, inputs = inputs, attrs = attrs, shape = shape,
                 where = where, name = attrs and attrs.name }
  g.nodes[node.id] = node
  local handle = setmetatable({}, g.handle_mt)
  g.node_of[handle] = node
  return handle
end

local ORDINAL = { "first", "second" }

local function tensor_arg(g, x, op, i, raise)
  local node = g.node_of[x]
  if not node then raise("%s: %s argument must be a tensor, got %s", op, ORDINAL[i], type(x)) end
  if node.op == "output" then raise("%s: the input is already the network output", op) end
  return node
end

local function claim_name(g, node, raise)
  local name = node.attrs.name
  if name == nil then
    g.counts[node.op] = (g.counts[node.op] or 0) + 1
    name = node.op .. g.counts[node.op]
  elseif not name:match("^[%w_][%w_%.]*$") or #name > 200 then
    raise("%s: name '%s' must be letters, digits, '_' and '.' (a state_dict key prefix)", node.op, name)
  end
  if g.names[name] then raise("%s: name '%s' is already used at %s", node.op, name, g.names[name]) end
  g.names[name] = node.where
  node.attrs.name, node.name = name, name
end

local function op_function(g, op)
  local impl = ops[op]
  local arity = impl.arity or 1
  return function(...)
    local raise, where = raiser(g)
    if not g.net then raise("%s: call network{...} first", op) end
    limits.declare_operation(g, op, raise)
    local args, inputs, shapes = table.pack(...), {}, {}
    for i = 1, arity do
      local src = tensor_arg(g, args[i], op, i, raise)
      inputs[i], shapes[i] = src.id, src.shape
    end
    local opts = args[arity + 1]
    if type(opts) == "string" then opts = { name = opts } end
    local attrs = options.check(op, opts or {}, impl.schema, raise)
    local shape = impl.infer(attrs, shapes[1], function(fmt, ...)
      raise(op .. ": " .. fmt, ...)
    end, { table.unpack(shapes, 2) })
    local handle = new_node(g, op, inputs, attrs, shape, where)
    local node = g.node_of[handle]
    -- flatten and linear make [N, C] tensors; elementwise ops keep the rank
    node.flat = impl.flattens or g.nodes[inputs[1]].flat
    if impl.weights then
      claim_name(g, node, raise)
      limits.declare_weights(g, node, impl.weights(node, g.net.naming), raise)
    end
    return handle
  end
end

local function network_function(g)
  return function(cfg)
    local raise, where = raiser(g)
    if g.net then raise("network: called twice (first at %s)", g.net.where) end
    local net = options.check("network", cfg, NETWORK_SCHEMA, raise)
    if not net.name:match("^[%a_][%w_]*$") or #net.name > 64 or C_KEYWORDS[net.name] then
      raise("network: name '%s' must be a C identifier of at most 64 characters", net.name)
    end
    local dims = net.input
    if #dims ~= 3 then raise("network: input must be { C, H, W }") end
    for i = 1, 3 do
      if math.type(dims[i]) ~= "integer" or dims[i] < 1 or dims[i] > 1 << 20 then
        raise("network: input[%d] must be a positive integer, got %s", i, tostring(dims[i]))
      end
    end
    if dims[1] * dims[2] * dims[3] * net.batch >= 1 << 31 then
      raise("network: input of %d x %d x %d x %d elements is too large", net.batch, dims[1], dims[2], dims[3])
    end
    net.where = where
    g.net = net
    local input = new_node(g, "input", {}, {}, { dims[1], dims[2], dims[3] }, where)
    return { input = input, name = net.name }
  end
end

local function output_function(g)
  return function(x)
    local raise, where = raiser(g)
    local src = tensor_arg(g, x, "output", 1, raise)
    if g.output then raise("output: called twice (first at %s)", g.output.where) end
    local handle = new_node(g, "output", { src.id }, {}, src.shape, where)
    g.output = g.node_of[handle]
    g.output.flat = src.flat
    return handle
  end
end

-- import("name"): runs name.lua from the spec's directory in the same sandbox
-- and returns its value, once per name (shared blocks of a model zoo).
local function import_function(g, env)
  local loaded, loading = {}, {}
  return function(name)
    local raise = raiser(g)
    if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
      raise("import: the name must be a plain identifier (a file beside the spec), got %s", tostring(name))
    end
    if loaded[name] ~= nil then return loaded[name] end
    if loading[name] then raise("import: '%s' imports itself", name) end
    local dir = g.path:match("^(.*)/[^/]*$")
    local path = (dir and dir .. "/" or "") .. name .. ".lua"
    local src, err = native.read_file(path, dir or ".", limits.spec_bytes)
    if not src then raise("import: %s", err) end
    g.chunks["@" .. path] = path
    local fn, perr = load(src, "@" .. path, "t", env)
    if not fn then fail.pass(perr) end
    loading[name] = true
    local value = fn()
    loading[name] = nil
    loaded[name] = value == nil and true or value
    return loaded[name]
  end
end

local function make_env(g, args)
  local env = {
    assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs,
    pcall = native.sandbox_pcall, select = select, tonumber = tonumber, tostring = tostring,
    type = type, rawequal = rawequal, rawget = rawget, rawlen = rawlen, rawset = rawset,
    math = copy(math, { random = true, randomseed = true }),
    string = copy(string), table = copy(table), utf8 = copy(utf8),
    args = args,
    network = network_function(g),
    output = output_function(g),
  }
  -- A finalizer would run later, outside the sandbox's limits.
  env.setmetatable = function(t, mt)
    if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
      local raise = raiser(g)
      raise("setmetatable: __gc is not allowed in a spec")
    end
    return setmetatable(t, mt)
  end
  for op in pairs(ops) do env[op] = op_function(g, op) end
  env.import = import_function(g, env)
  return setmetatable(env, { __index = function(_, key)
    local raise = raiser(g)
    raise("unknown name '%s'", tostring(key))
  end })
end

-- --set values arrive as strings: numbers when they parse as one.
local function spec_args(set)
  local args = {}
  for k, v in pairs(set or {}) do args[k] = math.tointeger(tonumber(v)) or tonumber(v) or v end
  return args
end

local function handle_mt(g)
  return {
    __metatable = false,
    __index = function(h, key)
      local node = g.node_of[h]
      local dims = { channels = 1, height = 2, width = 3 }
      if dims[key] then return node.shape[dims[key]] end
      local raise = raiser(g)
      raise("a tensor has no field '%s' (it has channels, height, width)", tostring(key))
    end,
    __newindex = function()
      local raise = raiser(g)
      raise("tensors are read-only")
    end,
  }
end

-- Returns the graph: { path, net = {...}, nodes = { ... }, output = node }.
function M.load(path, set)
  local src, err = native.read_file(path, nil, limits.spec_bytes)
  if not src then fail.raise(nil, "%s", err) end
  local g = { path = path, chunk = "@" .. path, chunks = { ["@" .. path] = path }, nodes = {},
              node_of = setmetatable({}, { __mode = "k" }), names = {}, counts = {} }
  g.handle_mt = handle_mt(g)
  local fn, perr = load(src, g.chunk, "t", make_env(g, spec_args(set)))
  if not fn then fail.pass(perr) end
  local ok, result = native.run_sandboxed(fn, nil, path)
  if not ok then
    result = tostring(result)
    -- a memory error carries no line: name at least the file
    if not result:find(path, 1, true) then fail.raise(path, "%s", result) end
    fail.pass(result)
  end
  if not g.net then fail.raise(path, "the spec never calls network{...}") end
  if not g.output then fail.raise(path, "the spec never calls output(x)") end
  if result ~= nil and g.node_of[result] ~= g.output then
    fail.raise(g.output.where, "the spec must return output(x)")
  end
  g.node_of, g.handle_mt = nil, nil
  return g
end

return M
