-- Weights rearranged on the device at init: the 3x3 weights of the SPConvs
-- in map form (mapconv.lua) tap-major. The folded blob keeps G[co][j][tap]
-- (the C build's layout, the same bytes); a map kernel's lanes take
-- consecutive input channels j, so reading G there a warp's load spans 9
-- lines, while GT[co][tap][j] gives it one. The blob is not changed: it is
-- the C build's too, where these copies would only take flash.
local common = require("spgen.emit_cuda.common")

local M = {}

-- floats each copy starts on: a multiple of a 128-byte line
local ALIGN = 32

function M.new() return { floats = 0, copies = {} } end

-- Places a tap-major copy of SPConv k's G (co channels of rg x 9 weights)
-- in reg; returns its offset in floats.
function M.add(reg, k)
  local a = k.node.attrs
  local co, rg = a.out, a.r // a.groups
  local at = reg.floats
  reg.copies[#reg.copies + 1] = { index = k.index, g = k.w.G, gt = at, co = co, rg = rg }
  reg.floats = at + common.ceil_div(co * rg * 9, ALIGN) * ALIGN
  return at
end

-- The device array and the kernel that fills it.
function M.declare(reg, name, NAME)
  return string.format([[
/* The 3x3 weights of the SPConvs in map form, tap-major (G[co][tap][j]):
   a warp's lanes read consecutive channels j. The blob keeps G[co][j][tap];
   init makes this copy. */
__device__ __align__(256) float %s_dtaps[%s_CUDA_TAPS_BYTES / 4];
/* Copies one layer's G (offset g in the blob) tap-major to offset gt of
   %s_dtaps, a block per output channel. */
__global__ void __launch_bounds__(256) %s_taps_major(int g, int gt, int rg)
{
    const float *src = %s_dweights + g + blockIdx.x * rg * 9;
    float *dst = %s_dtaps + gt + blockIdx.x * rg * 9;
    for (int e = threadIdx.x; e < rg * 9; e += 256)
        dst[e %% 9 * rg + e / 9] = src[e];
}
]], name, NAME, name, name, name, name)
end

-- The launches that fill it, for init (after the weights' upload, on the
-- legacy stream).
function M.launches(reg, name)
  local t = { "    const cudaStream_t s = 0; /* the legacy stream: after the upload */\n" }
  for _, c in ipairs(reg.copies) do
    t[#t + 1] = common.launch(name .. "_taps_major", { c.co }, { 256 }, { c.g, c.gt, c.rg },
      string.format("rearranging the weights of layer %d", c.index))
  end
  return table.concat(t)
end

return M
