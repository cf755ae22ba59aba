-- Builds emitted source line by line with the indentation of its blocks.
local M = {}

function M.new()
  local lines, depth = {}, 0
  local w = {}
  function w.line(fmt, ...)
    local text = select("#", ...) > 0 and string.format(fmt, ...) or fmt
    lines[#lines + 1] = string.rep("    ", depth) .. text
  end
  function w.open(fmt, ...) w.line(fmt, ...) depth = depth + 1 end
  function w.close(text) depth = depth - 1 w.line(text or "}") end
  function w.reopen(text) w.close(text) depth = depth + 1 end
  -- items, `per` to a line joined by sep, each line fmt's %s (or bare)
  function w.rows(items, per, sep, fmt)
    for i = 1, #items, per do
      local s = table.concat(items, sep, i, math.min(i + per - 1, #items))
      w.line(fmt and string.format(fmt, s) or s)
    end
  end
  function w.text() return table.concat(lines, "\n") .. "\n" end
  return w
end

return M

