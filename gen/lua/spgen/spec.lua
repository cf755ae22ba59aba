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

-- Whether name may be a network's name: a C identifier of at most 64
-- characters, not a C keyword or main (the importer makes names by it too).
function M.network_name_ok(name)
  return name:match("^[%a_][%w_]*$") ~= nil and #name <= 64 and not C_KEYWORDS[name]
end

-- The product of non-negative integers, or nil when it would reach limit:
-- checked before each multiplication, so it never wraps.
local function product_below(limit, ...)
  local n = 1
  for i = 1, select("#", ...) do
    local f = select(i, ...)
    if n > 0 and f > (limit - 1) // n then return nil end
    n = n * f
  end
  return n
end

local function copy(t, drop)
  local c = {}
  for k, v in pairs(t) do if not (drop and drop[k]) then c[k] = v end end
  return c
end

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

-- A layer's weight tensors: each under the element limit, each under a key
-- no other layer has (names such as "a" and "a.bn1" can make the same key);
-- kept in g.weights, in graph order, with the node that needs each.
local function claim_tensors(g, node, tensors, raise)
  for _, t in ipairs(tensors) do
    if not product_below(limits.elements, table.unpack(t.shape)) then
      raise("%s: weight '%s' of shape [%s] has 2^31 elements or more", node.op, t.key, table.concat(t.shape, ", "))
    end
    local other = g.weight_owners[t.key]
    if other then
      raise("%s: weight '%s' is also a weight of %s '%s' at %s", node.op, t.key, other.op, other.name, other.where)
    end
    g.weight_owners[t.key] = node
    t.node, g.weights[#g.weights + 1] = node, t
  end
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
    if not product_below(limits.elements, g.net.batch, shape[1], shape[2], shape[3]) then
      raise("%s output of %d x %dx%dx%d elements is past 2^31", op, g.net.batch, shape[1], shape[2], shape[3])
    end
    local handle = new_node(g, op, inputs, attrs, shape, where)
    local node = g.node_of[handle]
    -- flatten and linear make [N, C] tensors; elementwise ops keep the rank
    node.flat = impl.flattens or g.nodes[inputs[1]].flat
    if impl.weights then
      claim_name(g, node, raise)
      local tensors = impl.weights(node, g.net.naming)
      claim_tensors(g, node, tensors, raise)
      limits.declare_weights(g, node, tensors, raise)
    end
    return handle
  end
end

local function network_function(g)
  return function(cfg)
    local raise, where = raiser(g)
    if g.net then raise("network: called twice (first at %s)", g.net.where) end
    local net = options.check("network", cfg, NETWORK_SCHEMA, raise)
    if not M.network_name_ok(net.name) then
      raise("network: name '%s' must be a C identifier of at most 64 characters", net.name)
    end
    -- read once, raw, into a copy (as options.check does)
    local given = net.input
    if rawlen(given) ~= 3 then raise("network: input must be { C, H, W }") end
    local dims = { rawget(given, 1), rawget(given, 2), rawget(given, 3) }
    for i = 1, 3 do
      if math.type(dims[i]) ~= "integer" or dims[i] < 1 or dims[i] > 1 << 20 then
        raise("network: input[%d] must be an integer from 1 to 1048576, got %s", i, fail.shown(dims[i]))
      end
    end
    if not product_below(limits.elements, net.batch, dims[1], dims[2], dims[3]) then
      raise("network: input of %d x %d x %d x %d elements is too large (the limit is 2^31)",
        net.batch, dims[1], dims[2], dims[3])
    end
    net.input, net.where = dims, where
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

-- Compiles the text of the spec or of a file it imports. load reads it a line
-- at a time, so that an error its parser raises without a line (nesting past
-- its limit: "C stack overflow") can name the line it had reached. Returns
-- the function, or nil, "path:line" and the message.
local function compile(g, src, path, env)
  local chunk = "@" .. path
  -- the file as Lua names it in a message: shortened ("...") past 60 bytes
  local short = debug.getinfo(load("", chunk), "S").short_src
  g.chunks[chunk] = path
  -- two files Lua shortens alike are ambiguous (false): their messages keep
  -- the shortened name rather than blame the wrong file
  local known = g.short_paths[short]
  g.short_paths[short] = (known == nil or known == path) and path or false
  local pos, line = 1, 0
  g.parsing = true
  local fn, err = load(function()
    if pos > #src then return nil end
    local start, stop = pos, src:find("\n", pos, true) or #src
    pos, line = stop + 1, line + 1
    return src:sub(start, stop)
  end, chunk, "t", env)
  g.parsing = false
  if fn then return fn end
  -- Lua's message starts with the file as it shortens it, and the line
  local at, text = err:match("^:(%d+): (.*)$", #short + 1)
  if err:sub(1, #short) ~= short or not at then at, text = line, err end
  if text == "C stack overflow" then text = "the code nests too deeply for Lua's parser (C stack overflow)" end
  return nil, path .. ":" .. at, text
end

-- import("name"): runs name.lua from the spec's directory in the same sandbox
-- and returns its value, once per name (shared blocks of a model zoo).
local function import_function(g, env)
  local loaded, loading = {}, {}
  return function(name)
    local raise, where = raiser(g)
    if type(name) ~= "string" or not name:match("^[%a_][%w_]*$") then
      raise("import: the name must be a plain identifier (a file beside the spec), got %s", fail.shown(name))
    end
    if loaded[name] ~= nil then return loaded[name] end
    if loading[name] then raise("import: '%s' imports itself", name) end
    local dir = g.path:match("^(.*)/[^/]*$")
    local path = (dir and dir .. "/" or "") .. name .. ".lua"
    local src, err = native.read_file(path, dir or ".", limits.spec_bytes)
    if not src then raise("import: %s", err) end
    local fn, at, text = compile(g, src, path, env)
    if not fn then fail.raise(at .. " (from " .. where .. ")", "%s", text) end
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
    -- `return output(x)`, a tail call, must still show the spec's line
    output = native.keep_caller(output_function(g)),
  }
  -- Checked here, so that a refusal names the spec's line. A finalizer
  -- would run later, outside the sandbox's limits.
  env.setmetatable = function(t, mt)
    local function refuse(fmt, ...)
      local raise = raiser(g)
      raise("setmetatable: " .. fmt, ...)
    end
    if type(t) ~= "table" then refuse("the first argument must be a table, got %s", type(t)) end
    if g.node_of[t] then refuse("tensors are read-only") end
    if mt ~= nil and type(mt) ~= "table" then refuse("the metatable must be a table or nil, got %s", type(mt)) end
    local current = debug.getmetatable(t)
    if current and rawget(current, "__metatable") ~= nil then refuse("the table's metatable is protected") end
    if mt and rawget(mt, "__gc") ~= nil then refuse("__gc is not allowed in a spec") end
    return setmetatable(t, mt)
  end
  for op in pairs(ops) do env[op] = op_function(g, op) end
  env.import = import_function(g, env)
  return setmetatable(env, { __index = function(_, key)
    local raise = raiser(g)
    raise("unknown name '%s'", fail.shown(key))
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
      raise("a tensor has no field '%s' (it has channels, height, width)", fail.shown(key))
    end,
    __newindex = function()
      local raise = raiser(g)
      raise("tensors are read-only")
    end,
  }
end

-- A message positioned by Lua names the file as it shortens it ("...tail"):
-- the file's full path is put back.
local function full_path(g, e)
  local file, rest = e:match("^([^\n]-)(:%d+: .*)$")
  local path = file and g.short_paths[file]
  return path and path .. rest or e
end

-- The sandbox's message handler: runs where an error was raised, under the
-- limits. It never converts a value that is not a string (its __tostring
-- would be spec code). Returns "@@file:line: message" for an error of the
-- spec, or a traceback for an error of the generator's own code.
local function message_handler(g)
  return function(e)
    -- load returns a parse error as a value: compile() places it
    if g.parsing then return e end
    -- the innermost Lua function: the spec's code, or one of the generator's
    -- (a C function such as error or string.rep raises for its caller)
    local level, info = 2, debug.getinfo(2, "Sl")
    while info and info.what == "C" do
      level = level + 1
      info = debug.getinfo(level, "Sl")
    end
    local is_string = type(e) == "string"
    if not (info and g.chunks[info.source]) then
      if is_string and e:sub(1, 2) == "@@" then return e end
      return debug.traceback(is_string and e or ("an error value of type " .. type(e)), level)
    end
    local where = spec_where(g)
    if not is_string then
      return string.format("@@%s: the spec raised an error value of type %s, not a message string", where, type(e))
    end
    -- Lua's own position for that line is replaced by the spec's where
    -- (the full path; the spec's line for an imported file)
    local own = info.short_src .. ":" .. info.currentline .. ": "
    local placed = e:sub(1, #own) == own
    if placed then e = e:sub(#own + 1) end
    local positioned = "^[^\n]-:%d+: "
    if e:sub(1, 2) == "@@" then
      -- a DSL error the spec caught and raised again keeps its position
      e = e:sub(3)
      if e:match(positioned) then return "@@" .. full_path(g, e) end
    elseif not placed and e:match(positioned) then
      -- error(message, 2), or a message caught and raised again: a
      -- position Lua chose
      return "@@" .. full_path(g, e)
    end
    return "@@" .. where .. ": " .. e
  end
end

-- Returns the graph: { path, net = {...}, nodes = { ... }, output = node,
-- weights = { { key, shape, init, fan_in, node }, ... } }.
-- Nothing of the spec's survives it: every value the graph holds was read
-- raw and copied, so no spec code can run after the sandbox ends.
function M.load(path, set)
  local src, err = native.read_file(path, nil, limits.spec_bytes)
  if not src then fail.raise(nil, "%s", err) end
  local g = { path = path, chunk = "@" .. path, chunks = {}, short_paths = {}, nodes = {}, weights = {},
              node_of = setmetatable({}, { __mode = "k" }), names = {}, counts = {}, weight_owners = {} }
  g.handle_mt = handle_mt(g)
  local env = make_env(g, spec_args(set))
  local ok, result = native.run_sandboxed(function()
    local fn, at, text = compile(g, src, path, env)
    if not fn then fail.raise(at, "%s", text) end
    return fn()
  end, path, message_handler(g))
  if not ok then error(result, 0) end
  if not g.net then fail.raise(path, "the spec never calls network{...}") end
  if not g.output then fail.raise(path, "the spec never calls output(x)") end
  if result ~= nil and g.node_of[result] ~= g.output then
    fail.raise(g.output.where, "the spec must return output(x)")
  end
  g.node_of, g.handle_mt, g.parsing = nil, nil, nil
  return g
end

return M
