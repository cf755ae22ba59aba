-- The output pass of a convolution in the channel-blocked layout (--simd B;
-- tiling.lua chose k.bt): a register tile of `blocks` vectors of B output
-- channels x `pixels` pixels of one output row accumulates in named locals;
-- per input channel and tap each weight vector is loaded once and each input
-- value, read as a scalar, is broadcast into the multiply-adds of every
-- block. The parts come from lower.lua. The input may be blocked or NCHW (a
-- scalar read either way), the output and its residual blocked or NCHW.
-- Taps outside the input are left out at generation time: border rows under
-- one literal condition per kernel row, border columns per pixel of the
-- tiles at the row's ends; the tiles between share one loop.
local tile = require("spgen.emit_c.tile")
local lower = require("spgen.lower")
local blocks = require("spgen.blocks")
local vtile = require("spgen.emit_c.vtile")

local M = {}

-- the blocked copy of each folded array (fold/*.lua)
local BLOCKED = { WT = "WB", G = "GB", Q = "QB" }

-- The vector type and load of block size B.
function M.vec(B)
  return { t = "spgen_f" .. B, it = "spgen_i" .. B, load = "spgen_ld" .. B }
end

-- d: P, conv, bt (k.bt), h, w, ho, wo, in_blocked, group (literal, or nil:
-- the run-time gb), pooled (an SPConv at stride 2 over a blocked input: its
-- statistics pass wrote the 2x2 window sums of the input to xp, blocked, HO
-- x WO). The C expression of input channel ch's pixel 0 (of xp when
-- pooled), and the floats from one pixel to the next.
local function plane(d, ch, pooled)
  if not d.in_blocked then return string.format("x + (%s) * %d", ch, d.h * d.w), 1 end
  local B, name, size = d.bt.block, "x", d.h * d.w
  if pooled then name, size = "xp", d.ho * d.wo end
  return string.format("%s + (%s) / %d * %d + (%s) %% %d", name, ch, B, size * B, ch, B), B
end

-- The weight vectors of a tap: w_b = block b's weights at float `at` of the
-- tile's row (wc: block 0's).
local function weight_loads(d, part, at)
  local vec, row = M.vec(d.bt.block), lower.row_floats(d.conv, part) * d.bt.block
  local t = {}
  for b = 0, d.bt.blocks - 1 do t[#t + 1] = string.format("w%d = %s(wc + %d)", b, vec.load, b * row + at) end
  return table.concat(t, "; ") .. ";"
end

local function fmas(w, acc, nb, pixels)
  local t = {}
  for b = 0, nb - 1 do
    for _, p in ipairs(pixels) do t[#t + 1] = string.format("%s_%d_%d += w%d * x%d;", acc, b, p, b, p) end
  end
  w.line(table.concat(t, " "))
end

-- The pixels of a tile: pixels[p] = { dy, dx, literal }: from the tile's
-- first pixel (oy, ox) at run time, dy = 0 and dx = p; in a flat tile of a
-- small plane, its own literal (dy, dx) = (oy, ox), and literal = true.

-- The window part over the group's input channels. A tap of a pixel that
-- reads outside is left out: a row tile's border rows test oy (one literal
-- condition per kernel row), its columns come from inside(p, kx) (nil: all
-- inside); a flat tile's pixels are literal.
local function window_part(w, d, part, pixels, inside)
  local taps, B = part.taps, d.bt.block
  local k, s, pad = taps.size, taps.stride, taps.pad
  local n = d.conv.sizes.group_inputs
  local first = d.group and tostring(d.group * n) or "gb"
  local base, ps = plane(d, first == "0" and "j" or first .. " + j")
  local arr = string.format("%s_%s", d.P, BLOCKED[part.weights.array])
  local flat = pixels[1].literal
  if not flat then
    w.line("const int o = ((%d * oy - %d) * %d + %d * ox - %d) * %d; /* first tap of pixel 0 */", s, pad, d.w, s, pad, ps)
  end
  w.open("for (j = 0; j < %d; ++j) {", n)
  w.line("const float *xc = %s;", base)
  w.line("const float *wc = %s + cb * %d + j * %d;", arr, lower.row_floats(d.conv, part) * B, part.weights.taps * B)
  for ky = 0, k - 1 do
    local cond = flat and "" or tile.row_condition(d.ho, d.h, s, pad, ky)
    if cond then
      if cond ~= "" then w.open("if (%s) {", cond) end
      for kx = 0, k - 1 do
        local live, loads = {}, {}
        for p, px in ipairs(pixels) do
          local iy, ix = s * px.dy + ky - pad, s * px.dx + kx - pad
          local read
          if flat then
            read = iy >= 0 and iy < d.h and ix >= 0 and ix < d.w and tostring((iy * d.w + ix) * ps)
          elseif not inside or inside(p - 1, kx) then
            read = string.format("o + %d", (ky * d.w + kx + s * px.dx) * ps)
          end
          if read then
            live[#live + 1] = p - 1
            loads[#loads + 1] = string.format("x%d = xc[%s]", p - 1, read)
          end
        end
        if #live > 0 then
          w.line("%s %s;", weight_loads(d, part, (ky * k + kx) * B), table.concat(loads, "; "))
          fmas(w, part.branch, d.bt.blocks, live)
        end
      end
      if cond ~= "" then w.close() end
    end
  end
  w.close()
end

-- A point part (1x1 at the output pixel, or the 2x2 pool window summed; its
-- 1/4 is in the weights) over input channels [first, stop). With d.pooled
-- the window sums come from xp, a 1x1 at stride 1 over its HO x WO plane:
-- one read per pixel instead of four reads and three adds per channel tile.
local function point_part(w, d, part, range, pixels)
  local B, taps, width = d.bt.block, part.taps, d.w
  local pooled = taps.pooled and d.pooled
  if pooled then taps, width = lower.point(1), d.wo end
  local s = taps.stride
  local base, ps = plane(d, "ci", pooled)
  local flat = pixels[1].literal
  w.open("for (ci = %d; ci < %d; ++ci) {", range.first, range.stop)
  if flat then w.line("const float *xc = %s;", base)
  else w.line("const float *xc = %s + %d * (oy * %d + ox) * %d;", base, s, width, ps) end
  w.line("const float *wc = %s_%s + cb * %d + ci * %d;", d.P, BLOCKED[part.weights.array],
    lower.row_floats(d.conv, part) * B, B)
  local loads, live = {}, {}
  for p, px in ipairs(pixels) do
    local terms = {}
    for _, tap in ipairs(taps.taps) do
      local at = (s * px.dy + tap[1]) * width + s * px.dx + tap[2]
      terms[#terms + 1] = string.format("xc[%d]", at * ps)
    end
    live[#live + 1] = p - 1
    loads[#loads + 1] = string.format("x%d = %s", p - 1, table.concat(terms, " + "))
  end
  w.line("%s %s;", weight_loads(d, part, 0), table.concat(loads, "; "))
  fmas(w, part.branch, d.bt.blocks, live)
  w.close()
end

local function names(prefix, n)
  local t = {}
  for i = 0, n - 1 do t[#t + 1] = prefix .. i end
  return table.concat(t, ", ")
end

-- One register tile; store(w, b, p, pixel) stores block b, pixel p
-- (pixel: its index in the output plane, a C expression).
local function tile_body(w, d, pixels, inside, store)
  local VT, np = M.vec(d.bt.block).t, #pixels
  local decl = {}
  for _, acc in ipairs(d.conv.branches) do
    for b = 0, d.bt.blocks - 1 do
      for p = 0, np - 1 do decl[#decl + 1] = string.format("%s_%d_%d = z", acc, b, p) end
    end
  end
  w.line("%s %s;", VT, table.concat(decl, ", "))
  w.line("%s %s;", VT, names("w", d.bt.blocks))
  w.line("float %s;", names("x", np))
  for _, part in ipairs(d.conv.parts) do
    if part.taps.kind == "window" then window_part(w, d, part, pixels, inside)
    else
      for _, range in ipairs(lower.ranges(d.conv, part, d.group)) do point_part(w, d, part, range, pixels) end
    end
  end
  for b = 0, d.bt.blocks - 1 do
    for p, px in ipairs(pixels) do
      store(w, b, p - 1, px.literal and tostring(px.dy * d.wo + px.dx)
        or string.format("oy * %d + ox + %d", d.wo, px.dx))
    end
  end
end

-- A small plane (bt.flat) in tiles of literal pixels, split evenly, row
-- after row.
local function flat_tiles(w, d, store)
  local plane_size = d.ho * d.wo
  local count = (plane_size + d.bt.pixels - 1) // d.bt.pixels
  local q = 0
  for i = 0, count - 1 do
    local n = plane_size // count + (i < plane_size % count and 1 or 0)
    local pixels = {}
    for p = 0, n - 1 do pixels[#pixels + 1] = { dy = (q + p) // d.wo, dx = (q + p) % d.wo, literal = true } end
    w.open("{")
    tile_body(w, d, pixels, nil, store)
    w.close()
    q = q + n
  end
end

-- All output pixels of the channel tile at block cb. A row is split into
-- tiles of bt.pixels (the last may be narrower); a tile whose taps all read
-- inside shares a loop with its like neighbours, one at a row's end gets
-- its own code with the outside taps left out. A small plane (bt.flat) is
-- tiled as a whole instead. d.split_rows: threads split the rows.
function M.rows(w, d, store)
  if d.bt.flat then return flat_tiles(w, d, store) end
  local win, np = d.conv.window, d.bt.pixels
  local k, s, pad = win.size, win.stride, win.pad
  local list = {}
  for ox0 = 0, d.wo - 1, np do
    local n = math.min(np, d.wo - ox0)
    local all_inside = s * ox0 - pad >= 0 and s * (ox0 + n - 1) + k - 1 - pad < d.w
    local last = list[#list]
    if all_inside and last and last.inside and last.n == n then last.count = last.count + 1
    else list[#list + 1] = { ox = ox0, n = n, inside = all_inside, count = 1 } end
  end
  if d.split_rows then
    local private = M.counters(d):gsub("^oy, ", "")
    vtile.parallel(w, private)
  end
  w.open("for (oy = 0; oy < %d; ++oy) {", d.ho)
  for _, t in ipairs(list) do
    if t.count > 1 then
      w.open("for (ox = %d; ox < %d; ox += %d) {", t.ox, t.ox + t.count * t.n, t.n)
    else
      w.open("{")
      w.line("ox = %d;", t.ox)
    end
    local inside
    if not t.inside then
      inside = function(p, kx)
        local ix = s * (t.ox + p) + kx - pad
        return ix >= 0 and ix < d.w
      end
    end
    local pixels = {}
    for p = 0, t.n - 1 do pixels[#pixels + 1] = { dy = 0, dx = p } end
    tile_body(w, d, pixels, inside, store)
    w.close()
  end
  w.close()
end

-- The counters the tiles use besides cb, as a C list: the row and column
-- of a row tile, the input channel of a window part (j) and of a point part
-- (ci).
function M.counters(d)
  local list = d.bt.flat and {} or { "oy", "ox" }
  list[#list + 1] = "j"
  for _, part in ipairs(d.conv.parts) do
    if part.taps.kind == "point" then
      list[#list + 1] = "ci"
      break
    end
  end
  return table.concat(list, ", ")
end

-- The store of `value` (a vector: block b of the tile at cb, at `pixel` of
-- the output plane) with the residual, relu and pool that k absorbed;
-- d.out_blocked: the output's layout (the residual's is the same);
-- d.channels: the output's real channels (an NCHW output holds no padding).
function M.store(w, k, d, value, b, pixel)
  local B, vec = d.bt.block, M.vec(d.bt.block)
  local plane_size = d.ho * d.wo
  local t = { string.format("%s v = %s;", vec.t, value) }
  if d.out_blocked then
    local idx = string.format("((cb + %d) * %d + %s) * %d", b, plane_size, pixel, B)
    if k.residual then t[#t + 1] = string.format("v += %s(r + %s);", vec.load, idx) end
    if k.relu then t[#t + 1] = string.format("v = (%s)((%s)v & (v > 0.0f));", vec.t, vec.it) end
    if k.gap then
      t[#t + 1] = string.format("%s s = %s(y + (cb + %d) * %d) + v;", vec.t, vec.load, b, B)
      t[#t + 1] = string.format("memcpy(y + (cb + %d) * %d, &s, sizeof s);", b, B)
    else
      t[#t + 1] = string.format("memcpy(y + %s, &v, sizeof v);", idx)
    end
    w.line("{ %s }", table.concat(t, " "))
    return
  end
  -- NCHW: lane by lane, the padding lanes left out
  w.line("{ %s int l;", t[1])
  w.open("for (l = 0; l < %d; ++l) {", B)
  w.line("const int c = (cb + %d) * %d + l;", b, B)
  w.open("if (c < %d) {", d.channels)
  local lane = { "float s = v[l];" }
  if k.residual then lane[#lane + 1] = string.format("s += r[c * %d + %s];", plane_size, pixel) end
  if k.relu then lane[#lane + 1] = "s = s > 0.0f ? s : 0.0f;" end
  lane[#lane + 1] = k.gap and "y[c] += s;" or string.format("y[c * %d + %s] = s;", plane_size, pixel)
  w.line(table.concat(lane, " "))
  w.close()
  w.close()
  w.line("}")
end

-- The per-sample sizes for layer.wrapper of a kernel reading cin x hw and
-- writing out x hwo floats, each padded to whole blocks where its tensor is
-- channel-blocked (k.layout; none without --simd).
function M.sizes(k, cin, hw, out, hwo)
  local lay = k.layout or { inputs = {} }
  local function pad(c, is_blocked) return is_blocked and blocks.padded(c, lay.block) or c end
  local channels = pad(out, lay.output)
  return { input = pad(cin, lay.inputs[1]) * hw, output = channels * hwo, channels = channels }
end

return M
