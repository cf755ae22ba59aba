-- The model file that the int8 reference reads (docs/int8.md, section 8):
-- the quantized network as text, written by --dump-int8.
local M = {}

-- The layer's name in the file: the spec's, or op@line for an unnamed one.
function M.label(node)
  return node.name or string.format("%s@%s", node.op, node.where:match(":(%d+)") or "0")
end

-- "KEY COUNT v..." over lines of at most 16 values; values are integers,
-- float32 values (%.9g gives them back exactly) or, as a string, int8 bytes.
function M.array(key, values, float)
  if type(values) == "string" then
    local t = {}
    for i = 1, #values do t[i] = string.unpack("i1", values, i) end
    values = t
  end
  local lines = { string.format("    %s %d", key, #values) }
  for i = 1, #values, 16 do
    local row = {}
    for j = i, math.min(i + 15, #values) do
      row[#row + 1] = float and string.format("%.9g", values[j]) or string.format("%d", values[j])
    end
    lines[#lines + 1] = "      " .. table.concat(row, " ")
  end
  return table.concat(lines, "\n")
end

-- The whole file: tensors (in order), each kernel's flat views and ops,
-- then tail (the lines that make the output tensor final).
function M.text(g, kernels, tensors, final, tail, attention)
  local out = { "spgen-int8 1", string.format("network %s attention %s", g.net.name, attention) }
  for _, t in ipairs(tensors) do
    out[#out + 1] = string.format("tensor %d %d %d %d %.9g %d", t.id, t.shape[1], t.shape[2], t.shape[3], t.scale, t.zp)
  end
  out[#out + 1] = "input 1"
  for _, k in ipairs(kernels) do
    for _, line in ipairs(k.q.views) do out[#out + 1] = line end
    for _, line in ipairs(k.q.model) do out[#out + 1] = line end
  end
  for _, line in ipairs(tail) do out[#out + 1] = line end
  out[#out + 1] = "output " .. final.id
  out[#out + 1] = "end"
  return table.concat(out, "\n") .. "\n"
end

-- The ops after a producer's own: the fused residual add and global average pool.
function M.epilogue(k)
  local q, name, lines = k.q, M.label(k.node), {}
  if k.residual then
    lines[#lines + 1] = string.format("add %s a %d b %d out %d relu %d", name, q.own.id, q.residual.id, q.sum.id,
      k.relu and 1 or 0)
  end
  if k.gap then
    lines[#lines + 1] = string.format("global_avgpool %s in %d out %d", name, (q.sum or q.own).id, q.out.id)
  end
  return lines
end

return M
