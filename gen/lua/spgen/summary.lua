-- The --summary report: a per-layer table and one machine-readable line.
local costs = require("spgen.costs")

local M = {}

-- weight_bytes: the emitted weights blob's bytes; element_bytes: an
-- activation's (4 for float32, 1 for int8).
function M.text(g, plan, weight_bytes, files, element_bytes)
  local rows = costs.rows(g, element_bytes)
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end
  local fmt = "%-28s %-14s %-14s %12s %16s %14s"
  add(fmt, "layer", "op", "output", "params", "MACs/image", "act bytes")
  for _, r in ipairs(rows) do
    add(fmt, r.node.name or ("#" .. r.node.id), r.node.op, costs.shape(r.node.shape),
      costs.group(r.params), costs.group(r.macs), costs.group(r.act_bytes))
    if r.vanilla then
      add(fmt, "  vanilla 3x3 it replaces", "", "", costs.group(r.vanilla.params), costs.group(r.vanilla.macs),
        string.format("(%.1f%%)", 100 * r.params / r.vanilla.params))
    end
  end
  local params, macs = costs.totals(rows)
  -- the ops with a vanilla 3x3 counterpart (ops/*.lua: vanilla), each replaced by it
  local vparams, vmacs, replaced, seen = params, macs, {}, {}
  for _, r in ipairs(rows) do
    if r.vanilla then
      vparams, vmacs = vparams - r.params + r.vanilla.params, vmacs - r.macs + r.vanilla.macs
      if not seen[r.node.op] then seen[r.node.op], replaced[#replaced + 1] = true, r.node.op end
    end
  end
  if vparams ~= params then
    local names = table.concat(replaced, " and ")
    add("the same network with each %s a vanilla 3x3 conv: params %s, MACs/image %s (%s: %.1f%%, %.1f%%)",
      names, costs.group(vparams), costs.group(vmacs), names, 100 * params / vparams, 100 * macs / vmacs)
  end
  add("arena %s bytes (lower bound %s, sum of activations and scratch %s); batch %d",
    costs.group(plan.arena_bytes), costs.group(plan.lower_bound), costs.group(plan.sum_bytes), g.net.batch)
  for _, f in ipairs(files) do
    if f.name:match("%.c$") or f.name:match("%.bin$") then add("%-28s %s bytes", f.name, costs.group(#f.data)) end
  end
  add("total: params=%d macs=%d arena_bytes=%d weight_bytes=%d", params, macs, plan.arena_bytes, weight_bytes)
  return table.concat(out, "\n") .. "\n"
end

return M
