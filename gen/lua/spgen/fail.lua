-- User-facing errors: "file:line: message", exit 1. The "@@" marker tells the
-- host that this is a message for the user, not an internal bug.
local M = {}

function M.raise(where, fmt, ...)
  local msg = select("#", ...) > 0 and string.format(fmt, ...) or fmt
  if where then msg = where .. ": " .. msg end
  error("@@" .. msg, 0)
end

-- A value as a message shows it, without running any of its metamethods
-- (a spec's __tostring or __name is spec code): strings and numbers as
-- themselves, anything else by its type.
function M.shown(v)
  local kind = type(v)
  if kind == "string" then return v end
  if kind == "number" or kind == "boolean" or kind == "nil" then return tostring(v) end
  return "a " .. kind
end

return M
