-- A backend's emitter for each kernel kind, found at the dotted path its
-- record gives (kinds/*.lua, emit): "spgen.emit_c.pointwise.affine" is
-- require("spgen.emit_c.pointwise").affine. The records hold paths, not
-- functions, so that an emitter module may itself read the records.
local kinds = require("spgen.kinds")

-- field: "c", "cuda" or "cuda_describe". Returns kind -> function for the
-- kinds whose record has one.
return function(field)
  local t = {}
  for name, kind in pairs(kinds) do
    local path = kind.emit[field]
    if path then
      local module, fn = path:match("^(.+)%.([%w_]+)$")
      t[name] = assert(require(module)[fn], path)
    end
  end
  return t
end
