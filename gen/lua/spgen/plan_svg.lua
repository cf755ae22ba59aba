-- The memory plan as an SVG picture (--plan-svg): kernels in execution order
-- across, arena byte offsets up, one rectangle per buffer from the kernel
-- that writes it to the last kernel that reads it. It reads the kernels'
-- refs, the same plan that --plan prints, and draws no other <rect>, so
-- a test can count buffers by counting rectangles.
local M = {}

local PLOT_HEIGHT = 480
local LEFT, RIGHT, TOP, BOTTOM = 88, 24, 64, 56
local FONT, SMALL_FONT = 11, 9
local CHAR = 0.6 * FONT -- the average width of a character, for fitting text
local COLOURS = {
  activation = { fill = "#a6cee3", stroke = "#1f78b4", text = "activation buffer" },
  scratch = { fill = "#fdbf6f", stroke = "#e6550d", text = "scratch buffer (one kernel's workspace)" },
}

local function escape(s)
  return (s:gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

-- "544 B", "64 KiB", "1.5 MiB"
local function size_text(bytes)
  local function trim(x) return (string.format("%.1f", x):gsub("%.0$", "")) end
  if bytes < 1024 then return bytes .. " B" end
  if bytes < 1024 * 1024 then return trim(bytes / 1024) .. " KiB" end
  return trim(bytes / (1024 * 1024)) .. " MiB"
end

-- The largest power of two that gives at least 4 ticks up to the arena's top.
local function tick_step(arena)
  local step = 1
  while arena // (step * 2) >= 4 do step = step * 2 end
  return step
end

-- The label inside a w x h rectangle at (x, y): the name and size on two
-- lines, else on one, else the size alone; in the larger font where it
-- fits, upright where only that fits; nil when nothing fits.
local function label(x, y, w, h, name, size)
  local cx, cy = x + w / 2, y + h / 2
  local function place(lines, font, upright)
    local along, across = w, h
    if upright then along, across = h, w end
    if #lines * (font + 2) + 2 > across then return nil end
    for _, text in ipairs(lines) do
      if #text * 0.6 * font + 6 > along then return nil end
    end
    local font_attr = font == FONT and "" or string.format(' font-size="%d"', font)
    local out = {}
    for i, text in ipairs(lines) do
      local shift = (i - (#lines + 1) / 2) * (font + 2) -- from the centre, across the text
      if upright then
        out[i] = string.format('<text x="%.1f" y="%.1f" text-anchor="middle"%s transform="rotate(-90 %.1f %.1f)">%s</text>',
          cx, cy + shift + font / 3, font_attr, cx, cy, escape(text))
      else
        out[i] = string.format('<text x="%.1f" y="%.1f" text-anchor="middle"%s>%s</text>', cx, cy + shift + font / 3,
          font_attr, escape(text))
      end
    end
    return table.concat(out)
  end
  for _, lines in ipairs({ { name, size }, { name .. " " .. size }, { size } }) do
    for _, font in ipairs({ FONT, SMALL_FONT }) do
      for _, upright in ipairs({ false, true }) do
        local text = place(lines, font, upright)
        if text then return text end
      end
    end
  end
  return nil
end

-- The SVG text for plan p (plan.run's result) of the kernels of graph g.
function M.draw(g, kernels, p)
  local list = p.buffers
  local arena = math.max(p.arena_bytes, 1)
  local column = math.max(16, 960 // #kernels)
  local plot_width = column * #kernels
  local width, height = LEFT + plot_width + RIGHT, TOP + PLOT_HEIGHT + BOTTOM
  local function y_of(offset) return TOP + PLOT_HEIGHT * (1 - offset / arena) end
  local out = {}
  local function add(fmt, ...) out[#out + 1] = string.format(fmt, ...) end

  add('<?xml version="1.0" encoding="UTF-8"?>')
  add('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="%d">',
    width, height, width, height, FONT)
  add('<path d="M0 0H%dV%dH0Z" fill="#ffffff"/>', width, height)
  add('<text x="%d" y="20" font-size="14" font-weight="bold">%s: memory plan, arena %d bytes (%s), %d kernel%s</text>',
    LEFT, escape(g.net.name), p.arena_bytes, size_text(p.arena_bytes), #kernels, #kernels == 1 and "" or "s")
  add('<text x="%d" y="36">lower bound %d bytes, sum of all buffers %d bytes; input and output are outside the arena</text>',
    LEFT, p.lower_bound, p.sum_bytes)
  -- legend
  local lx = LEFT
  for _, kind in ipairs({ "activation", "scratch" }) do
    local c = COLOURS[kind]
    add('<path d="M%d 44h12v12h-12Z" fill="%s" stroke="%s"/>', lx, c.fill, c.stroke)
    add('<text x="%d" y="54">%s</text>', lx + 16, c.text)
    lx = lx + 16 + math.ceil(#c.text * CHAR) + 24
  end

  -- y axis: offsets, a grid line at each tick
  local step = tick_step(arena)
  for offset = 0, arena, step do
    local y = y_of(offset)
    add('<path d="M%d %.1fH%d" stroke="#dddddd"/>', LEFT, y, LEFT + plot_width)
    add('<text x="%d" y="%.1f" text-anchor="end">%s</text>', LEFT - 6, y + FONT / 3, size_text(offset))
  end
  add('<path d="M%d %.1fH%d" stroke="#666666" stroke-dasharray="4 3"/>', LEFT, y_of(arena), LEFT + plot_width)
  add('<text x="16" y="%.1f" text-anchor="middle" transform="rotate(-90 16 %.1f)">arena offset</text>',
    TOP + PLOT_HEIGHT / 2, TOP + PLOT_HEIGHT / 2)
  -- x axis: kernel indices, as many as have room
  local every = 1
  while every * column < 3 * CHAR + 6 do every = every + 1 end
  for i = 1, #kernels do
    if i % every == 0 then
      add('<text x="%.1f" y="%d" text-anchor="middle">%d</text>', LEFT + (i - 0.5) * column, TOP + PLOT_HEIGHT + 16, i)
    end
  end
  add('<text x="%.1f" y="%d" text-anchor="middle">kernel (in execution order)</text>',
    LEFT + plot_width / 2, TOP + PLOT_HEIGHT + 40)
  add('<path d="M%d %dV%dH%d" fill="none" stroke="#333333"/>', LEFT, TOP, TOP + PLOT_HEIGHT, LEFT + plot_width)

  -- the buffers; a sliver is drawn at least 2 pixels high to stay visible
  for _, b in ipairs(list) do
    local c = COLOURS[b.scratch and "scratch" or "activation"]
    local x, w = LEFT + (b.first - 1) * column, (b.last - b.first + 1) * column
    local h = math.max(2, PLOT_HEIGHT * b.bytes / arena)
    local y = y_of(b.offset + b.bytes)
    local name = table.concat(b.names, ", ")
    local kernels_text = b.first == b.last and ("kernel " .. b.first) or string.format("kernels %d-%d", b.first, b.last)
    add('<g><title>%s%s: %d bytes at offset %d, %s</title>', escape(name), b.scratch and " (scratch)" or "", b.bytes,
      b.offset, kernels_text)
    add('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s"/>', x + 0.5, y, w - 1, h, c.fill, c.stroke)
    local text = label(x, y, w, h, b.names[1], size_text(b.bytes))
    if text then add("%s", text) end
    add("</g>")
  end
  add("</svg>")
  return table.concat(out, "\n") .. "\n"
end

return M
