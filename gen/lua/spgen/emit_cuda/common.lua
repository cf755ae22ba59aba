-- What every CUDA kernel emitter shares: names and macros, the launch line,
-- literal-or-dropped bounds tests, and the checks that a launch covers its
-- outputs exactly once (generator assertions: the kernels cannot be run
-- where they are generated, so their index math is proved here instead).
local writer = require("spgen.writer")
local fail = require("spgen.fail")
local macros = require("spgen.macros")
local tiling = require("spgen.emit_cuda.tiling")

local M = {}

M.EW_THREADS = 256 -- block size of the kernels that visit each element once
M.GRID_YZ = 65535 -- CUDA's limit on gridDim.y and gridDim.z

function M.new_writer() return writer.new() end

-- The macro prefix and kernel name of kernel k. The macros live only in the
-- .cu, so a short prefix keeps the kernels readable; the kernels are symbols,
-- so they carry the network's name.
function M.names(k, ctx)
  return "L" .. k.index, ctx.prefix .. "_l" .. k.index
end

-- The layer's macros, its weight arrays in the device copy of the blob.
function M.macros(w, P, list, k, ctx)
  macros(w, P, list, k, ctx.prefix .. "_dweights")
end

-- One launch statement on stream s, on one line (the CPU emulator of the
-- tests rewrites exactly this form), and the error check after it.
function M.launch(fn, grid, block, args, what)
  local function dim(t) return string.format("dim3(%d, %d, %d)", t[1], t[2] or 1, t[3] or 1) end
  return string.format("    %s<<<%s, %s, 0, s>>>(%s);\n    LAUNCHED(\"%s\");\n",
    fn, dim(grid), dim(block), table.concat(args, ", "), what)
end

-- A kernel's head: its signature and the opening brace. bounds: the
-- __launch_bounds__ arguments.
function M.kernel_head(w, bounds, fn, params)
  w.line("__global__ void __launch_bounds__(%s) %s(%s)", bounds, fn, params)
  w.open("{")
end

-- The kernel head of a one-thread-per-item kernel over `total` items;
-- returns the writer and the launch builder (nargs inputs, then the output).
function M.per_item(k, ctx, params, total, macros, nargs, what)
  local T = M.EW_THREADS
  local P, fn = M.names(k, ctx)
  local blocks = M.ceil_div(total, T)
  M.assert_cover(fn, blocks, T, total)
  local grid, block = { blocks }, { T }
  M.check_grid(k, grid, block)
  local w = M.new_writer()
  macros[#macros + 1] = { "TOTAL", total, what }
  M.macros(w, P, macros, k, ctx)
  w.line("")
  M.kernel_head(w, T, fn, params)
  w.line("const int i = blockIdx.x * %d + threadIdx.x;", T)
  w.line("if (i >= %s_TOTAL)", P)
  w.line("    return;")
  local label = string.format("layer %d (%s)", k.index, k.node.op)
  return w, P, function(p)
    local args = {}
    for j = 1, nargs do args[j] = p.inputs[j] end
    args[#args + 1] = p.output
    return M.launch(fn, grid, block, args, label)
  end
end

-- Closes the kernel: the emitter's result.
function M.finish(w, launch)
  w.close()
  return { text = w.text(), launch = launch }
end

-- A grid dimension past CUDA's limits is a configuration this backend does
-- not support: a user error, not a crash at run time.
function M.check_grid(k, grid, block)
  local threads = (block[1] or 1) * (block[2] or 1) * (block[3] or 1)
  assert(threads >= 1 and threads <= 1024, "block of " .. threads .. " threads")
  for i, limit in ipairs({ (1 << 31) - 1, M.GRID_YZ, M.GRID_YZ }) do
    local v = grid[i] or 1
    assert(v >= 1, "empty grid")
    if v > limit then
      fail.raise(k.node.where, "--target cuda: %s needs a grid dimension of %d blocks, past CUDA's %d"
        .. " (fewer channels or a smaller batch)", k.node.op, v, limit)
    end
  end
end

-- `blocks` blocks of `per` items cover `need` items exactly once when every
-- item has a block and no block is wholly idle: blocks = ceil(need / per).
function M.assert_cover(what, blocks, per, need)
  assert(blocks * per >= need and (blocks - 1) * per < need,
    string.format("%s: %d blocks of %d do not cover %d items exactly", what, blocks, per, need))
end

function M.ceil_div(a, b) return (a + b - 1) // b end

-- The literal condition under which window row (or column) tap t of the
-- outputs o in `outs` reads inside [0, n_in): "" when all of them do, so the
-- test is dropped; false when none does (the tap only reads padding: no
-- code); otherwise the run-time test of `var` (the input index of the tap,
-- for this thread's output).
function M.inside(outs, s, pad, t, n_in, var)
  local ins = 0
  for _, o in ipairs(outs) do
    local i = s * o + t - pad
    if i >= 0 and i < n_in then ins = ins + 1 end
  end
  if ins == #outs then return "" end
  if ins == 0 then return false end
  return string.format("(unsigned)(%s) < %du", var, n_in)
end

-- Outputs 0, step, 2*step, ... below n: the first outputs of the pixel groups.
function M.range(n, step)
  local t = {}
  for o = 0, n - 1, step or 1 do t[#t + 1] = o end
  return t
end

-- The C expression of input channel j (an expression) of a part of conv
-- (lower.lua), for the output channels of group grp: with has_grp false,
-- the kernel has no grp (one group) and a group part starts at 0.
function M.input_channel(P, conv, part, j, has_grp)
  local i = part.inputs
  local n = P .. "_" .. conv.macros.group_inputs
  if i.kind == "group" then return string.format("%s + %s", has_grp and "grp * " .. n or "0", j) end
  if i.kind == "outside_group" then
    return string.format("%s + (%s >= grp * %s ? %s : 0)", j, j, n, n)
  end
  return string.format("%s_%s + %s", P, conv.macros[i.start], j)
end

-- The number of input channels of a part of conv (lower.count) in macros.
function M.input_count(P, conv, part)
  local i, m = part.inputs, conv.macros
  if i.kind == "group" then return P .. "_" .. m.group_inputs end
  local start = i.kind == "outside_group" and m.group_inputs or m[i.start]
  return string.format("%s_%s - %s_%s", P, m[i.stop], P, start)
end

-- "a && b" of the non-empty conditions, "" when none, false when one is
-- false (never).
function M.all(...)
  local t = {}
  for _, c in ipairs({ ... }) do
    if c == false then return false end
    if c ~= "" then t[#t + 1] = c end
  end
  return table.concat(t, " && ")
end

-- Block-wide sums of the per-thread floats named in `vals`, in a fixed
-- order: each segment's of `seg` lanes (a power of two up to the warp's 32,
-- default 32) by shuffles, then its first lane's into shared
-- part[i][tid / seg]; then a barrier. The block's threads are numbered
-- `tid`; `parts` is the number of segments.
function M.warp_partials(w, part, vals, parts, seg)
  seg = seg or 32
  w.line("__shared__ float %s[%d][%s];", part, #vals, parts)
  local sums, stores = {}, {}
  for i, v in ipairs(vals) do
    if seg == 32 then sums[#sums + 1] = string.format("%s = warp_sum(%s);", v, v)
    else sums[#sums + 1] = string.format("%s = lanes_sum(%s, %d);", v, v, seg) end
    stores[#stores + 1] = string.format("%s[%d][tid / %d] = %s;", part, i - 1, seg, v)
  end
  w.rows(sums, 5, " ")
  w.open("if (tid %% %d == 0) {", seg)
  w.rows(stores, 5, " ")
  w.close()
  w.line("__syncthreads();")
end

-- After M.warp_partials: float v, the sum of row `row` (default tid) of
-- part over `count` segments from segment `first` (default 0).
function M.partial_total(w, part, count, row, first)
  w.line("float v = 0.0f;")
  w.line("for (int j = 0; j < %s; ++j)", count)
  w.line("    v += %s[%s][%sj];", part, row or "tid", first and (first .. " + ") or "")
end

-- The sums over a direct convolution's block (tile t, macro prefix P) of
-- the per-thread floats `vals`, each channel tile's over its own threads
-- (tiling.segments), in a fixed order; then opens the loop in which the
-- tile's threads take rows `var` = 0 .. rows - 1 (row i: vals[i + 1]), with
-- float v the row's total. The caller writes the body and closes the loop.
function M.tile_totals(w, P, t, part, vals, rows, var)
  local seg, per = tiling.segments(t)
  local nseg = string.format("%s_NT / %d", P, seg)
  M.warp_partials(w, part, vals, nseg, seg)
  if t.channel_tiles == 1 then
    w.open("for (int %s = tid; %s < %s; %s += %s_NT) {", var, var, rows, var, P)
    M.partial_total(w, part, nseg, var)
  else
    w.open("for (int %s = tx; %s < %s; %s += %s_TX) { /* the tile's rows */", var, var, rows, var, P)
    M.partial_total(w, part, per, var, "threadIdx.z * " .. per)
  end
end

-- The fused epilogue of a value v at output index `idx`, before the caller
-- stores or pools it: residual add, relu.
function M.epilogue(k, idx)
  local t = {}
  if k.residual then t[#t + 1] = "v += r[" .. idx .. "];" end
  if k.relu then t[#t + 1] = "v = v > 0.0f ? v : 0.0f;" end
  return table.concat(t, " ")
end

-- Parameter lists: the main input, the residual when fused, the output.
-- x never aliases y; r may (the planner writes in place over a residual),
-- so only x is __restrict__.
function M.params(k)
  local p = { "const float *__restrict__ x" }
  if k.residual then p[#p + 1] = "const float *r" end
  p[#p + 1] = "float *y"
  return table.concat(p, ", ")
end

function M.args(k, ptrs)
  local a = { ptrs.inputs[1] }
  if k.residual then a[#a + 1] = ptrs.inputs[2] end
  a[#a + 1] = ptrs.output
  return a
end

return M
