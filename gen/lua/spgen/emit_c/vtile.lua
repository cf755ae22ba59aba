-- The output pass of a convolution in vector register tiles (--simd; the
-- tiling pass chose k.vt): pixel_vectors vectors of `lanes` output pixels x
-- `channels` output channels accumulate in named locals. Per input channel
-- and tap each pixel vector is built once (one unaligned load, or loads and
-- a shuffle that brings in zeros where the tap reads padding) and meets one
-- broadcast weight per channel. Tiles whose loads are the same relative to
-- their base share a loop.
local tiling = require("spgen.tiling")
local tile = require("spgen.emit_c.tile")
local lower = require("spgen.lower")

local M = {}

local function signed(n)
  return n < 0 and (" - " .. -n) or (" + " .. n)
end

local function load(vt, rel)
  return string.format("spgen_ld%d(xc + ib%s)", vt.geometry.lanes, signed(rel))
end

local function shuffle(a, b, idx, L)
  local t = {}
  for l = 0, L - 1 do t[#t + 1] = tostring(idx[l]) end
  return string.format("__builtin_shufflevector(%s, %s, %s)", a, b, table.concat(t, ", "))
end

-- The C expression for one access relative to the tile's input base ib.
local function expr(vt, a, ib)
  local L, rel = vt.geometry.lanes, a.off - ib
  if a.kind == "load" then return load(vt, rel) end
  local idx, keep = {}, {}
  for l = 0, L - 1 do
    idx[l] = a.idx[l] or (a.kind == "shuf1" and L or 0) -- a zero lane: z's, or any (cleared below)
    keep[l] = a.idx[l] and l or L
  end
  if a.kind == "shuf1" then return shuffle(load(vt, rel), "z", idx, L) end
  local v = shuffle(load(vt, rel), load(vt, rel + L), idx, L)
  return a.zero and shuffle(v, "z", keep, L) or v
end

-- The accumulation steps of conv's parts for the output channels of group
-- g (nil: at run time, its first input channel gb) over input planes of
-- `plane` floats, in order: one per part and range of input channels j,
-- { first, stop, taps, xchan (the offset of j's plane), wbase (j's weights
-- for tile channel 0), widx(c, ti) (the offset of tile channel c, tap ti)
-- }; and { save = true } where the branch changes: the accumulators a_c_p
-- move to h_c_p and restart. steps.stride: the window's.
function M.steps(P, conv, g, plane)
  local steps, branch = { stride = conv.stride }, conv.parts[1].branch
  for _, part in ipairs(conv.parts) do
    if part.branch ~= branch then
      steps[#steps + 1] = { save = true }
      branch = part.branch
    end
    local weights, row = part.weights, lower.row_floats(conv, part)
    if part.inputs.kind == "group" then -- j: the place in the group
      local n = conv.sizes.group_inputs
      local first = g and tostring(g * n) or "gb"
      steps[#steps + 1] = { first = 0, stop = n, taps = part.taps,
        xchan = first == "0" and "j * " .. plane or string.format("(%s + j) * %d", first, plane),
        wbase = string.format("%s_%s + (c0 * %d + j) * %d", P, weights.array, n, weights.taps),
        widx = function(c, ti) return c * row + ti - 1 end }
    else
      assert(not weights.taps, "a weight per input channel")
      for _, r in ipairs(lower.ranges(conv, part, g)) do
        steps[#steps + 1] = { first = r.first, stop = r.stop, taps = part.taps, xchan = "j * " .. plane,
          wbase = string.format("%s_%s + c0 * %d + j", P, weights.array, row),
          widx = function(c) return c * row end }
      end
    end
  end
  return steps
end

-- The taps of an accumulation step (none for a save step).
local function taps_of(step)
  return step.save and {} or step.taps.taps
end

-- Per step and tap, the expression of each of the tile's vectors (false
-- where all its lanes read padding), for the tile at output pixel q0.
local function tile_exprs(vt, steps, q0)
  local g = vt.geometry
  local oy, ox = q0 // g.wo, q0 % g.wo
  local ib = steps.stride * (oy * g.w + ox)
  local out, sig = {}, {}
  for pi, step in ipairs(steps) do
    out[pi] = {}
    for ti, t in ipairs(taps_of(step)) do
      out[pi][ti] = {}
      for p = 0, vt.pixel_vectors - 1 do
        local a = tiling.access(g, tiling.lane_map(g, q0 + p * g.lanes, t[1], t[2], step.taps.pad, step.taps.stride))
        local e = a and expr(vt, a, ib) or false
        out[pi][ti][p] = e
        sig[#sig + 1] = e or "-"
      end
    end
  end
  return out, table.concat(sig, "\n")
end

-- The taps that share one weight: each on its own, or all of a pool window.
local function tap_groups(ts)
  local groups = {}
  for ti = 1, #ts.taps do
    if ts.pooled and groups[1] then table.insert(groups[1], ti) else groups[#groups + 1] = { ti } end
  end
  return groups
end

local function body(w, vt, steps, exprs, store, conds, skip)
  local L, np, nc, s = vt.geometry.lanes, vt.pixel_vectors, vt.channels, steps.stride
  local VT = M.vec(vt).t
  w.open("{")
  w.line("const int ib = %d * oy + %sox, ob = %d * oy + ox; /* first input and output pixel */",
    s * vt.geometry.w, s == 1 and "" or s .. " * ", vt.geometry.wo)
  local decl, vs = {}, {}
  for c = 0, nc - 1 do
    for p = 0, np - 1 do decl[#decl + 1] = string.format("a_%d_%d = z", c, p) end
  end
  for p = 0, np - 1 do vs[#vs + 1] = "v" .. p end
  w.line("%s %s;", VT, table.concat(decl, ", "))
  w.line("%s %s;", VT, table.concat(vs, ", "))
  for pi, step in ipairs(steps) do
    if step.save then
      local saved, restart = {}, {}
      for c = 0, nc - 1 do
        for p = 0, np - 1 do
          saved[#saved + 1] = string.format("h_%d_%d = a_%d_%d", c, p, c, p)
          restart[#restart + 1] = string.format("a_%d_%d = z;", c, p)
        end
      end
      w.line("%s %s;", VT, table.concat(saved, ", "))
      w.line(table.concat(restart, " "))
    else
      w.open("for (j = %d; j < %d; ++j) {", step.first, step.stop)
      w.line("const float *xc = x + %s;", step.xchan)
      w.line("const float *wc = %s;", step.wbase)
      local open = "" -- the row condition of the open block: taps of one kernel row share it
      for _, grp in ipairs(tap_groups(step.taps)) do
        local cond = conds and conds[pi][grp[1]] or ""
        if cond ~= open then
          if open ~= "" then w.close() end
          if cond ~= "" then w.open("if (%s) {", cond) end
          open = cond
        end
        local live = {}
        for p = 0, np - 1 do
          local terms = {}
          for _, ti in ipairs(grp) do
            if exprs[pi][ti][p] then terms[#terms + 1] = exprs[pi][ti][p] end
          end
          if #terms > 0 then
            live[#live + 1] = p
            w.line("v%d = %s;", p, table.concat(terms, " + "))
          end
        end
        local f = {}
        for c = 0, nc - 1 do
          for _, p in ipairs(live) do
            f[#f + 1] = string.format("a_%d_%d += v%d * wc[%d];", c, p, p, step.widx(c, grp[1]))
          end
        end
        if #f > 0 then w.line(table.concat(f, " ")) end
      end
      if open ~= "" then w.close() end
      w.close()
    end
  end
  if steps.before_store then steps.before_store(w) end
  for c = 0, nc - 1 do
    for p = 0, np - 1 do
      store(w, c, p, string.format("(c0 + %d) * %d + ob + %d", c, vt.geometry.ho * vt.geometry.wo, p * L), skip)
    end
  end
  w.close()
end

-- Runs of equal keys in list: { { first, last, key }, ... }.
local function runs(list, key)
  local out = {}
  for i, item in ipairs(list) do
    local last = out[#out]
    if last and last.key == key(item) then last.last = i
    else out[#out + 1] = { first = i, last = i, key = key(item) } end
  end
  return out
end

-- How many tiles cover the output plane.
function M.positions(vt)
  return #tiling.tiles(vt.geometry, vt.pixel_vectors)
end

-- The tiles of one row: runs of equal code share a loop over ox.
local function columns(w, vt, steps, tiles, store, conds)
  for _, cr in ipairs(runs(tiles, function(t) return t.sig end)) do
    local t = tiles[cr.first]
    if cr.last > cr.first then
      w.open("for (ox = %d; ox <= %d; ox += %d) {", t.ox, tiles[cr.last].ox, vt.pixel_vectors * vt.geometry.lanes)
    else
      w.open("{")
      w.line("ox = %d;", t.ox)
    end
    body(w, vt, steps, t.exprs, store, conds, t.skip)
    w.close()
  end
end

-- A tile of tiling.tiles with the code it needs: its column, expressions and
-- signature (equal signatures, equal code).
local function tile_record(vt, steps, t)
  local exprs, sig = tile_exprs(vt, steps, t.q0)
  return { ox = t.q0 % vt.geometry.wo, exprs = exprs, sig = sig .. "\nskip " .. t.skip, skip = t.skip }
end

-- Row tiles: one loop over the rows, the tiles of a row where every tap
-- reads inside, and each kernel row under its literal row condition. Returns
-- false when no row reads inside for every tap.
local function merged_rows(w, vt, steps, store)
  local g = vt.geometry
  local ref
  for oy = 0, g.ho - 1 do
    local inside = true
    for _, step in ipairs(steps) do
      for _, t in ipairs(taps_of(step)) do
        local iy = step.taps.stride * oy + t[1] - step.taps.pad
        if iy < 0 or iy >= g.h then inside = false end
      end
    end
    if inside then ref = oy break end
  end
  if not ref then return false end
  -- every tap reads inside in row ref, so no condition is nil (never)
  local conds, tiles = {}, {}
  for pi, step in ipairs(steps) do
    conds[pi] = {}
    for ti, t in ipairs(taps_of(step)) do
      conds[pi][ti] = tile.row_condition(g.ho, g.h, step.taps.stride, step.taps.pad, t[1])
    end
  end
  for _, t in ipairs(tiling.tiles(g, vt.pixel_vectors)) do
    if t.q0 // g.wo == ref then tiles[#tiles + 1] = tile_record(vt, steps, t) end
  end
  w.open("for (oy = 0; oy < %d; ++oy) {", g.ho)
  columns(w, vt, steps, tiles, store, conds)
  w.close()
  return true
end

-- All tiles of the output plane for the channel tile at c0. steps: the
-- accumulation steps (M.steps); steps.before_store(w) emits code between
-- the accumulation and the stores.
-- store(w, c, p, idx, skip) emits the store of tile output (c, p) at index
-- idx, leaving its first skip lanes as they are (written by an earlier tile).
function M.plane(w, vt, steps, store)
  local g = vt.geometry
  if g.row and merged_rows(w, vt, steps, store) then return end
  local rows, by_oy = {}, {}
  for _, t in ipairs(tiling.tiles(g, vt.pixel_vectors)) do
    local oy = t.q0 // g.wo
    if not by_oy[oy] then
      by_oy[oy] = { oy = oy, tiles = {} }
      rows[#rows + 1] = by_oy[oy]
    end
    local tiles = by_oy[oy].tiles
    tiles[#tiles + 1] = tile_record(vt, steps, t)
  end
  for _, row in ipairs(rows) do
    local sigs = {}
    for _, t in ipairs(row.tiles) do sigs[#sigs + 1] = t.sig end
    row.sig = table.concat(sigs, "\n\n")
  end
  local dy = rows[2] and rows[2].oy - rows[1].oy or 1
  for _, rr in ipairs(runs(rows, function(r) return r.sig end)) do
    local first = rows[rr.first]
    if rr.last > rr.first then
      w.open("for (oy = %d; oy <= %d; oy += %d) {", first.oy, rows[rr.last].oy, dy)
    else
      w.open("{")
      w.line("oy = %d;", first.oy)
    end
    columns(w, vt, steps, first.tiles, store)
    w.close()
  end
end

-- Before a loop over channel tiles: with OpenMP (-fopenmp), the tiles go to
-- threads; the loop's other counters are per thread. One thread otherwise.
function M.parallel(w, private)
  w.line("#ifdef _OPENMP")
  w.line("#pragma omp parallel for private(%s) schedule(static)", private)
  w.line("#endif")
end

-- The vector type of layer.store_at for this tiling.
function M.vec(vt)
  local L = vt.geometry.lanes
  return { t = "spgen_f" .. L, it = "spgen_i" .. L, lanes = L, load = "spgen_ld" .. L }
end

return M
