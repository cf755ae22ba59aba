-- The channel-blocked layout's arithmetic, shared by the tiling pass, the
-- folds and the emitters: channels padded to whole blocks of B, and weight
-- rows laid out for a blocked tile at generation time.
local native = require("spgen.native")

local M = {}

-- channels rounded up to whole blocks
function M.padded(channels, block)
  return (channels + block - 1) // block * block
end

-- The rows x per_row array src (row o: per_row floats from o * per_row) as
-- [row block][per_row][block]: element i of rows b * block .. b * block +
-- block - 1 in one vector; the padding rows zero, so a tile never reads
-- garbage.
function M.rows(src, rows, per_row, block)
  local dst = native.farray(M.padded(rows, block) * per_row)
  for o = 0, rows - 1 do
    dst:set_scaled(o // block * per_row * block + o % block, block, src, o * per_row, 1, per_row, 1.0)
  end
  return dst
end

-- A per-channel Lua array (1-based) or farray (0-based), padded with zeros.
function M.vector(values, channels, block)
  local dst = native.farray(M.padded(channels, block))
  for c = 0, channels - 1 do dst[c] = type(values) == "table" and values[c + 1] or values[c] end
  return dst
end

return M
