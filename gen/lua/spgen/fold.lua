-- Folding: turns each kernel's raw weights into the arrays its emitted code
-- reads (BN scales multiplied in, branches merged, pooling factors applied),
-- and lays them out in one weights blob.
local native = require("spgen.native")
local kinds = require("spgen.kinds")

local M = {}

-- Arrays start on 64-byte boundaries so kernels may use aligned vector loads.
local ALIGN = 16

local function new_blob()
  local blob = { arrays = {}, floats = 0 }
  -- Adds a Lua array (1-based doubles) or farray; returns its offset in floats.
  function blob.add(values)
    local a = values
    if type(values) == "table" then
      a = native.farray(#values)
      for i = 1, #values do a[i - 1] = values[i] end
    end
    local off = blob.floats
    blob.arrays[#blob.arrays + 1] = { offset = off, data = a }
    blob.floats = off + (#a + ALIGN - 1) // ALIGN * ALIGN
    return off
  end
  return blob
end

-- Sets k.w (array name -> blob offset) and k.scratch (floats) on each
-- kernel, with its kind's fold (kinds/*.lua); a kind without weights has none.
-- plain: a layer laid out for a blocked tile (k.bt) keeps its plain arrays
-- too (the CUDA backend reads them).
function M.run(g, kernels, weights, plain)
  local blob = new_blob()
  for _, k in ipairs(kernels) do
    k.w, k.scratch = {}, 0
    local fold = kinds[k.kind].fold
    if fold then fold(k, g.net.naming, weights, blob, plain) end
  end
  return blob
end

-- The blob as bytes: arrays at their offsets, zero padding between.
function M.bytes(blob)
  local parts, at = {}, 0
  for _, a in ipairs(blob.arrays) do
    if a.offset > at then parts[#parts + 1] = string.rep("\0", 4 * (a.offset - at)) end
    parts[#parts + 1] = a.data:bytes()
    at = a.offset + #a.data
  end
  if blob.floats > at then parts[#parts + 1] = string.rep("\0", 4 * (blob.floats - at)) end
  return table.concat(parts)
end

return M
