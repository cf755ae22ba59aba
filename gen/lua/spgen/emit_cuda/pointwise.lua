-- CUDA for the kernels that visit each element once: a standalone batchnorm
-- and/or relu, an add (with relu), the option-A shortcut, one thread per
-- element; global average pool, one warp per channel; softmax over channels,
-- one thread per pixel. affine and add may run in place (the planner lets
-- them overwrite an input), so their pointers are not __restrict__ and each
-- thread reads its element before writing it.
local common = require("spgen.emit_cuda.common")

local M = {}

local function relu(k, v) return k.relu and string.format("%s > 0.0f ? %s : 0.0f", v, v) or v end

local per_item, finish = common.per_item, common.finish

function M.affine(k, ctx)
  local s = k.node.shape
  local w, P, launch = per_item(k, ctx, "const float *x, float *y", ctx.batch * s[1] * s[2] * s[3],
    { { "C", s[1] }, { "HW", s[2] * s[3] } }, 1, "elements over the batch")
  if k.bn then
    w.line("const int c = i / %s_HW %% %s_C;", P, P)
    w.line("const float v = __ldg(%s_A + c) * x[i] + __ldg(%s_B + c);", P, P)
  else
    w.line("const float v = x[i];")
  end
  w.line("y[i] = %s;", relu(k, "v"))
  return finish(w, launch)
end

function M.add(k, ctx)
  local s = k.node.shape
  local w, _, launch = per_item(k, ctx, "const float *a, const float *b, float *y", ctx.batch * s[1] * s[2] * s[3],
    {}, 2, "elements over the batch")
  w.line("const float v = a[i] + b[i];")
  w.line("y[i] = %s;", relu(k, "v"))
  return finish(w, launch)
end

function M.shortcut_a(k, ctx)
  local a, s, si = k.node.attrs, k.node.shape, k.in_shape
  local w, P, launch = per_item(k, ctx, "const float *__restrict__ x, float *y", ctx.batch * s[1] * s[2] * s[3],
    { { "CI", si[1] }, { "H", si[2] }, { "W", si[3] }, { "C", s[1] }, { "HO", s[2] }, { "WO", s[3] },
      { "BEFORE", a.before, "zero channels before the input's" } }, 1, "elements over the batch")
  w.line("const int n = i / (%s_C * %s_HO * %s_WO), c = i / (%s_HO * %s_WO) %% %s_C;", P, P, P, P, P, P)
  w.line("const int oy = i %% (%s_HO * %s_WO) / %s_WO, ox = i %% %s_WO;", P, P, P, P)
  w.line("const int ci = c - %s_BEFORE; /* the input channel, when inside */", P)
  w.line("y[i] = (unsigned)ci < %du ? __ldg(x + ((n * %s_CI + ci) * %s_H + %d * oy) * %s_W + %d * ox) : 0.0f;",
    si[1], P, P, a.stride, P, a.stride)
  return finish(w, launch)
end

-- Softmax over the channels at each pixel, shifted by the maximum so exp
-- never overflows; the same steps as the C backend.
function M.softmax(k, ctx)
  local s = k.node.shape
  local hw = s[2] * s[3]
  local w, P, launch = per_item(k, ctx, "const float *__restrict__ x, float *y", ctx.batch * hw,
    { { "C", s[1] }, { "HW", hw } }, 1, "pixels over the batch")
  w.line("const float *xp = x + i / %s_HW * (%s_C * %s_HW) + i %% %s_HW;", P, P, P, P)
  w.line("float *yp = y + i / %s_HW * (%s_C * %s_HW) + i %% %s_HW;", P, P, P, P)
  w.line("float m = xp[0], sum = 0.0f;")
  w.line("for (int c = 1; c < %s_C; ++c)", P)
  w.line("    m = xp[c * %s_HW] > m ? xp[c * %s_HW] : m;", P, P)
  w.open("for (int c = 0; c < %s_C; ++c) {", P)
  w.line("yp[c * %s_HW] = expf(xp[c * %s_HW] - m);", P, P)
  w.line("sum += yp[c * %s_HW];", P)
  w.close()
  w.line("for (int c = 0; c < %s_C; ++c)", P)
  w.line("    yp[c * %s_HW] /= sum;", P)
  return finish(w, launch)
end

-- A standalone global average pool: one warp per (sample, channel).
function M.gap(k, ctx)
  local s = k.in_shape
  local P, fn = common.names(k, ctx)
  local rows, warps = ctx.batch * s[1], 4
  local blocks = common.ceil_div(rows, warps)
  common.assert_cover(fn, blocks, warps, rows)
  local grid, block = { blocks }, { 32 * warps }
  common.check_grid(k, grid, block)
  local w = common.new_writer()
  common.macros(w, P, { { "HW", s[2] * s[3] }, { "ROWS", rows, "channels over the batch" } }, k, ctx)
  w.line("")
  common.kernel_head(w, 32 * warps, fn, "const float *__restrict__ x, float *y")
  w.line("const int lane = threadIdx.x %% 32, i = blockIdx.x * %d + threadIdx.x / 32; /* channel n * C + c */", warps)
  w.line("if (i >= %s_ROWS) /* the same for the whole warp */", P)
  w.line("    return;")
  w.line("float v = 0.0f;")
  w.line("for (int j = lane; j < %s_HW; j += 32)", P)
  w.line("    v += __ldg(x + i * %s_HW + j);", P)
  w.line("v = warp_sum(v);")
  w.line("if (lane == 0)")
  w.line("    y[i] = v * (1.0f / %d.0f);", s[2] * s[3])
  w.close()
  local label = string.format("layer %d (global_avgpool)", k.index)
  return {
    text = w.text(),
    launch = function(p) return common.launch(fn, grid, block, { p.inputs[1], p.output }, label) end,
  }
end

return M
