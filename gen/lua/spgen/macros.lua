-- A layer's #define lines, the same in both backends: P_X value for each
-- { "X", value [, comment] } of list, then each folded weight array of k at
-- its place in the array `weights` (the host or the device copy of the blob),
-- or with base, at its offset from the blob's float `base`, `weights` then
-- pointing there.
return function(w, P, list, k, weights, base)
  for _, m in ipairs(list) do
    if m[3] then w.line("#define %s_%s %d /* %s */", P, m[1], m[2], m[3])
    else w.line("#define %s_%s %d", P, m[1], m[2]) end
  end
  local arrays = {}
  for name in pairs(k.w) do arrays[#arrays + 1] = name end
  table.sort(arrays)
  for _, name in ipairs(arrays) do
    w.line("#define %s_%s (%s + %d)", P, name, weights, k.w[name] - (base or 0))
  end
end
