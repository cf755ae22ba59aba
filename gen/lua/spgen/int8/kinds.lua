-- Each kind's int8 record (kinds/*.lua, int8: "module.field"), by kind name.
-- Resolved on first use, since the records' modules read the kind records.
local kinds = require("spgen.kinds")

local M = {}

function M.of(kind)
  local path = assert(kinds[kind].int8, kind .. " has no int8 record")
  local module, field = path:match("^(.+)%.([%w_]+)$")
  return assert(require(module)[field], path)
end

return M
