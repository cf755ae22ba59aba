-- Per-layer figures shared by --summary and the emitted comments.
local ops = require("spgen.ops")

local M = {}

function M.group(n)
  local s = tostring(math.tointeger(n) or n)
  local sign, digits = s:match("^(-?)(%d+)$")
  if not digits then return s end
  return sign .. digits:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
end

function M.shape(s) return table.concat(s, "x") end

-- { node, params, macs, act_bytes, vanilla = {params, macs} | nil } per
-- operation; element_bytes: an activation's bytes per value (4 when nil).
function M.rows(g, element_bytes)
  local rows = {}
  for _, node in ipairs(g.nodes) do
    local op = ops[node.op]
    if op then
      local s = node.shape
      rows[#rows + 1] = {
        node = node, params = op.params(node), macs = op.macs(node),
        act_bytes = (element_bytes or 4) * g.net.batch * s[1] * s[2] * s[3],
        vanilla = op.vanilla and op.vanilla(node),
      }
    end
  end
  return rows
end

function M.totals(rows)
  local params, macs = 0, 0
  for _, r in ipairs(rows) do params, macs = params + r.params, macs + r.macs end
  return params, macs
end

return M
