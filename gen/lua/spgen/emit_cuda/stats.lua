-- The input statistics of each SPConv on CUDA (docs/design.md, "The one-pass form"): the
-- window sums T[ci][9] of the representative channels and the channel sums
-- S[ci], per sample, which the attention turns into the branch means.
--
-- Where they are summed: when a direct convolution (conv2d or an SPConv's
-- output pass) writes the input of exactly one SPConv and each of its blocks
-- lies in one sample, its store sums them while the values are in registers
-- and each block writes one partial; the SPConv's attention adds the NB
-- partials of its sample. That saves a launch and a second read of the map
-- per layer. Otherwise the SPConv runs a statistics kernel of its own (one
-- partial per sample).
--
-- Each SPConv's statistics get a buffer in one static device buffer, live
-- from the layer that writes them to the layer that reads them, placed like
-- the arena (plan.place).
local common = require("spgen.emit_cuda.common")
local plan = require("spgen.plan")

local M = {}

M.STATS_THREADS = 256
-- every block of the reader sums the partials again in its attention: past
-- this many per sample, the statistics kernel's one read of the map is cheaper
M.MAX_PARTIALS = 8

-- Row (or column) t of the window (lower.lua: stride s, pad) reads input
-- row i for some output o < n_out iff i = s * o + t - pad: the literal test
-- of i = var + at, or "true" when every row is.
local function reads(window, t, n_out, n_in, var, at)
  local s, all = window.stride, true
  for i = 0, n_in - 1 do
    local d = i + window.pad - t
    if not (d >= 0 and d < s * n_out and d % s == 0) then all = false end
  end
  if all then return "true" end
  local shift = (at or 0) + window.pad - t
  local shifted = shift == 0 and var or string.format("%s %s %d", var, shift > 0 and "+" or "-", math.abs(shift))
  local test = string.format("(unsigned)(%s) < %du", shifted, s * n_out)
  if s > 1 then test = test .. string.format(" && (%s) %% %d == 0", shifted, s) end
  return test
end

-- Stores v, sum i (0-8: T[ch][i], 9: S[ch]) of input channel ch, into the
-- partial st (T of the r representative channels, then S).
local function put(w, r, ch, i)
  w.line("if (%s == 9)", i)
  w.line("    st[%s * 9 + %s] = v;", r, ch)
  w.line("else if (%s < %s)", ch, r)
  w.line("    st[%s * 9 + %s] = v;", ch, i)
end

-- What the store of writer kernel k (described by d, after direct.layout)
-- sums for SPConv reader (described by l: representative, stats_floats,
-- conv, h, w, ho, wo): { P, index, partials, reader (l), rows, cols }, or
-- nil when its blocks straddle samples or would leave too many partials.
local function sums(k, d, reader, l, batch)
  local t = d.tile
  if k.gap or not (batch == 1 or d.pixels % (t.block_groups * t.pixels) == 0) then return nil end
  local partials = d.pixel_blocks // batch
  assert(partials * batch == d.pixel_blocks, "statistics partials")
  if partials > M.MAX_PARTIALS then return nil end
  assert(l.h * l.w == d.pixels, "statistics of another shape")
  local f = { P = "L" .. reader.index, index = reader.index, partials = partials, reader = l, rows = {}, cols = {} }
  for kt = 0, 2 do
    f.rows[kt] = reads(l.conv.window, kt, l.ho, l.h, "oy")
    f.cols[kt] = {}
    for p = 0, t.pixels - 1 do f.cols[kt][p] = reads(l.conv.window, kt, l.wo, l.w, "ox", p) end
  end
  return f
end

-- Where each SPConv's statistics are summed, given the direct convolutions'
-- descriptions (kernel index -> d, after direct.layout): sets d.sums on
-- each writer that sums them in its store (in_store: not spgen --cuda-stats
-- kernel) and d.partials, d.own_stats, d.stats_writer on each SPConv.
-- Returns the buffers to place (M.place): one per SPConv, live from the
-- kernel that writes it to the SPConv. An SPConv emitted by mapconv.lua (d.map) needs
-- none, and its store sums none.
function M.plan(kernels, descs, batch, in_store)
  local writer, readers = {}, {}
  for _, k in ipairs(kernels) do
    writer[k.output] = k
    if k.kind == "spconv" then
      local t = k.inputs[1]
      readers[t] = readers[t] or {}
      readers[t][#readers[t] + 1] = k
    end
  end
  local buffers = {}
  for _, k in ipairs(kernels) do
    if k.kind == "spconv" and not descs[k.index].map then
      local d, w = descs[k.index], writer[k.inputs[1]]
      local wd = w and descs[w.index]
      local f = in_store and wd and not wd.map and #readers[k.inputs[1]] == 1 and
        sums(w, wd, k, d, batch) or nil
      if f then descs[w.index].sums = f end
      d.partials, d.own_stats, d.stats_writer = f and f.partials or 1, f == nil, f and w.index
      buffers[#buffers + 1] = { bytes = 4 * batch * d.partials * d.stats_floats, first = f and w.index or k.index,
                                last = k.index, index = #buffers + 1, reader = k.index }
    end
  end
  return buffers
end

-- The sums a thread keeps per channel c of its tile: u<c> over its stored
-- values, u<c>_<kx> over those that tap column kx reads (when not all).
local function column_sum(f, c, kx)
  for _, cond in pairs(f.cols[kx]) do
    if cond ~= "true" then return string.format("u%d_%d", c, kx) end
  end
  return "u" .. c
end

function M.declare(w, f, nc)
  local t = {}
  for c = 0, nc - 1 do
    t[#t + 1] = string.format("u%d = 0.0f", c)
    for kx = 0, 2 do
      if column_sum(f, c, kx) ~= "u" .. c then t[#t + 1] = string.format("u%d_%d = 0.0f", c, kx) end
    end
  end
  w.line("float %s; /* layer %d's input statistics, this thread's part */", table.concat(t, ", "), f.index)
end

-- The statements adding the stored v of channel c, pixel p.
function M.add(f, c, p)
  local t = { string.format("u%d += v;", c) }
  for kx = 0, 2 do
    local name = column_sum(f, c, kx)
    if name ~= "u" .. c then t[#t + 1] = string.format("%s += %s ? v : 0.0f;", name, f.cols[kx][p]) end
  end
  return table.concat(t, " ")
end

-- The block's sums of T[c][9] (row masks times column sums) and S[c] of its
-- channels (each tile's over its threads), into partial blockIdx.x (this
-- block's sample, its place in it) of the reader's buffer. d: the writer's
-- direct-convolution description.
function M.store(w, f, d)
  local P, nc = d.P, d.tile.channels
  w.open("{ /* layer %d's input statistics: this block's part of T[c][9], S[c] of its channels */", f.index)
  local rows = {}
  for ky = 0, 2 do
    if f.rows[ky] ~= "true" then rows[#rows + 1] = string.format("r%d = %s", ky, f.rows[ky]) end
  end
  if #rows > 0 then w.line("const bool %s; /* does kernel row ky read this row? */", table.concat(rows, ", ")) end
  local names, decl = {}, {}
  for c = 0, nc - 1 do
    for ky = 0, 2 do
      for kx = 0, 2 do
        local name = string.format("t%d_%d", c, ky * 3 + kx)
        local sum = column_sum(f, c, kx)
        names[#names + 1] = name
        decl[#decl + 1] = string.format("%s = %s", name,
          f.rows[ky] == "true" and sum or string.format("r%d ? %s : 0.0f", ky, sum))
      end
    end
    names[#names + 1] = "u" .. c
  end
  w.rows(decl, 3, ", ", "float %s;")
  common.tile_totals(w, P, d.tile, "spart", names, 10 * nc, "e")
  w.line("const int ch = c0 + e / 10, i = e % 10;")
  w.line("float *st = %s_STATS + blockIdx.x * %s_TSST;", f.P, P)
  put(w, P .. "_TR", "ch", "i")
  w.close()
  w.close()
end

-- The writer's macros for the reader's buffer layout.
function M.macros(f)
  return {
    { "TR", f.reader.representative,
      string.format("representative channels of layer %d, which reads this output", f.index) },
    { "TSST", f.reader.stats_floats, "its statistics floats per partial" },
    { "TNB", f.partials, "partials per sample: this kernel's blocks of one sample" },
  }
end

-- Places the buffers of M.plan; returns their bytes and the macros naming
-- each (before the kernels, which use them as the writers' and readers'
-- L<reader>_STATS).
function M.place(buffers, symbol)
  if #buffers == 0 then return 0, "" end
  local bytes = plan.place(buffers)
  local t = { "/* SPConv input statistics: one buffer per SPConv, live from the layer that sums them to the SPConv */" }
  for _, b in ipairs(buffers) do
    local from = b.first == b.reader and "its statistics kernel" or "layer " .. b.first
    t[#t + 1] = string.format("#define L%d_STATS (%s + %d) /* %d floats, from %s */", b.reader, symbol, b.offset // 4,
      b.bytes // 4, from)
  end
  return bytes, table.concat(t, "\n") .. "\n"
end

-- The statistics kernel of SPConv layer P (d: layer_fn, conv, h, w, ho, wo).
function M.kernel(w, d)
  local P = d.P
  w.line("/* Window sums T[ci][ky][kx] of the representative channels (the inputs each 3x3 tap")
  w.line("   reads, summed over the output positions: what the 3x3 branch's mean needs) and")
  w.line("   channel sums S[ci]; one block per (channel, sample), in a fixed order. */")
  common.kernel_head(w, P .. "_STN", d.layer_fn .. "_stats", "const float *__restrict__ x")
  w.line("const int c = blockIdx.x, n = blockIdx.y, tid = threadIdx.x;")
  w.line("const float *xc = x + (n * %s_C + c) * (%s_H * %s_W);", P, P, P)
  w.line("float t0 = 0.0f, t1 = 0.0f, t2 = 0.0f, t3 = 0.0f, t4 = 0.0f, t5 = 0.0f, t6 = 0.0f, t7 = 0.0f, t8 = 0.0f, sum = 0.0f;")
  w.open("for (int e = tid; e < %s_H * %s_W; e += %s_STN) {", P, P, P)
  w.line("const int iy = e / %s_W, ix = e %% %s_W;", P, P)
  w.line("const float v = __ldg(xc + e);")
  w.line("/* does kernel row ky (column kx) read this input row (column) for some output? */")
  local rows, cols = {}, {}
  for t = 0, 2 do
    rows[#rows + 1] = string.format("r%d = %s", t, reads(d.conv.window, t, d.ho, d.h, "iy"))
    cols[#cols + 1] = string.format("k%d = %s", t, reads(d.conv.window, t, d.wo, d.w, "ix"))
  end
  w.line("const bool %s;", table.concat(rows, ", "))
  w.line("const bool %s;", table.concat(cols, ", "))
  w.line("sum += v;")
  local adds = {}
  for ky = 0, 2 do
    for kx = 0, 2 do adds[#adds + 1] = string.format("t%d += r%d && k%d ? v : 0.0f;", ky * 3 + kx, ky, kx) end
  end
  w.line(table.concat(adds, " "))
  w.close()
  common.warp_partials(w, "part", { "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "sum" }, P .. "_STN / 32")
  w.open("if (tid < 10) {")
  w.line("float *st = %s_STATS + n * %s_SST; /* this sample's T[R][9], then S[C] */", P, P)
  common.partial_total(w, "part", P .. "_STN / 32")
  put(w, P .. "_R", "c", "tid")
  w.close()
  w.close()
end

-- Its threads per block: whole warps, no more than the map has values.
function M.kernel_threads(h, w)
  return math.min(M.STATS_THREADS, math.max(32, common.ceil_div(h * w, 32) * 32))
end

return M
