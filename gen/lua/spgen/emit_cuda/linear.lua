-- CUDA for a linear layer (fold/linear.lua: WT[out][in], B, batchnorm folded;
-- residual and relu in the store): one warp per output (sample, unit), the
-- lanes stride over the inputs with coalesced loads of the weight row and the
-- input, and a shuffle reduction sums them in a fixed order.
local common = require("spgen.emit_cuda.common")

local M = {}

M.WARPS = 4 -- warps (outputs) per block

function M.emit(k, ctx)
  local a = k.node.attrs
  local P, fn = common.names(k, ctx)
  local total = ctx.batch * a.out
  local blocks = common.ceil_div(total, M.WARPS)
  common.assert_cover(fn, blocks, M.WARPS, total)
  local w = common.new_writer()
  common.macros(w, P, { { "IN", a.cin }, { "OUT", a.out }, { "TOTAL", total, "outputs over the batch" },
    { "WARPS", M.WARPS, "outputs per block, one per warp" } }, k, ctx)
  w.line("")
  common.kernel_head(w, P .. "_WARPS * 32", fn, common.params(k))
  w.line("const int lane = threadIdx.x %% 32, i = blockIdx.x * %s_WARPS + threadIdx.x / 32; /* output n * OUT + o */", P)
  w.line("if (i >= %s_TOTAL) /* the same for the whole warp */", P)
  w.line("    return;")
  w.line("const float *xn = x + i / %s_OUT * %s_IN, *wo = %s_WT + i %% %s_OUT * %s_IN;", P, P, P, P, P)
  w.line("float v = 0.0f;")
  w.line("for (int j = lane; j < %s_IN; j += 32)", P)
  w.line("    v += __ldg(wo + j) * __ldg(xn + j);")
  w.line("v = warp_sum(v);")
  w.open("if (lane == 0) {")
  if k.w.B then w.line("v += __ldg(%s_B + i %% %s_OUT);", P, P) end
  local tail = common.epilogue(k, "i")
  if tail ~= "" then w.line("%s", tail) end
  w.line("y[i] = v;")
  w.close()
  w.close()
  local grid, block = { blocks }, { 32 * M.WARPS }
  common.check_grid(k, grid, block)
  local label = string.format("layer %d (linear '%s')", k.index, k.node.name or "")
  return {
    text = w.text(),
    launch = function(ptrs) return common.launch(fn, grid, block, common.args(k, ptrs), label) end,
  }
end

return M
