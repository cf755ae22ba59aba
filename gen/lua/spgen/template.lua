-- Templates hold the shape of the emitted code; this fills ${name} slots.
-- A slot with no value is an error, so a template and its caller cannot drift.
local native = require("spgen.native")

local M = {}

function M.render(name, vars)
  local text = native.embedded("templates/" .. name)
  if not text then error("missing template " .. name) end
  return (text:gsub("%${([%w_]+)}", function(key)
    local v = vars[key]
    if v == nil then error("template " .. name .. ": no value for ${" .. key .. "}") end
    return tostring(v)
  end))
end

return M
