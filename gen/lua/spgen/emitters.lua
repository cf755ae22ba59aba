-- The kernel kinds fuse.lua makes, and a backend's emitter for each: the
-- module of the kind's name under the backend (emit_c, emit_cuda), the
-- elementwise kinds all in its pointwise module.
local OWN_MODULE = { "spconv", "conv2d", "linear", "pool" }
local POINTWISE = { "affine", "add", "gap", "softmax", "shortcut_a" }

-- backend: the module prefix, e.g. "spgen.emit_c". Returns kind -> emit(k, ctx).
return function(backend)
  local t, pointwise = {}, require(backend .. ".pointwise")
  for _, kind in ipairs(OWN_MODULE) do t[kind] = require(backend .. "." .. kind).emit end
  for _, kind in ipairs(POINTWISE) do t[kind] = assert(pointwise[kind], kind) end
  return t
end
