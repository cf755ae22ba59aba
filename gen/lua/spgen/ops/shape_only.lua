-- Operations without weights or MACs: one constructor per shape rule.
local M = {}

local function op(infer, schema, arity)
  return { schema = schema or {}, infer = infer, arity = arity or 1,
           params = function() return 0 end, macs = function() return 0 end }
end

M.relu = op(function(_, s) return { s[1], s[2], s[3] } end)
M.softmax = op(function(_, s) return { s[1], s[2], s[3] } end)
M.global_avgpool = op(function(_, s) return { s[1], 1, 1 } end)
M.flatten = op(function(_, s) return { s[1] * s[2] * s[3], 1, 1 } end)
M.flatten.flattens = true

M.add = op(function(_, a, raise, others)
  local b = others[1]
  if a[1] ~= b[1] or a[2] ~= b[2] or a[3] ~= b[3] then
    raise("shapes differ: %dx%dx%d and %dx%dx%d", a[1], a[2], a[3], b[1], b[2], b[3])
  end
  return { a[1], a[2], a[3] }
end, {}, 2)

-- The option-A shortcut of CIFAR ResNets: x[:, :, ::stride, ::stride] with
-- zero channels padded evenly before and after to reach `out` channels.
M.shortcut_a = op(function(a, s, raise)
  local extra = a.out - s[1]
  if extra < 0 or extra % 2 ~= 0 then
    raise("out = %d must exceed the %d input channels by an even number", a.out, s[1])
  end
  a.before = extra // 2
  return { a.out, (s[2] - 1) // a.stride + 1, (s[3] - 1) // a.stride + 1 }
end, {
  out = { type = "integer", required = true, min = 1, max = 1 << 16 },
  stride = { type = "integer", min = 1, max = 8, default = 2 },
})

return M
