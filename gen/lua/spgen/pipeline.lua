-- The generator pipeline: load spec -> bind weights -> fuse -> tile -> fold
-- -> plan memory -> emit -> write. Each stage is its own module; each adds
-- fields to the kernel records (kinds.lua lists them with the pass that sets each).
local native = require("spgen.native")
local fail = require("spgen.fail")
local spec = require("spgen.spec")
local weights = require("spgen.weights")
local fuse = require("spgen.fuse")
local fold = require("spgen.fold")
local tiling = require("spgen.tiling")
local plan = require("spgen.plan")
local plan_svg = require("spgen.plan_svg")
local emit_c = require("spgen.emit_c")
local emit_cuda = require("spgen.emit_cuda")
local summary = require("spgen.summary")
local limits = require("spgen.limits")
local calibrate = require("spgen.calibrate")
local quantize = require("spgen.int8.quantize")
local model = require("spgen.int8.model")

local M = {}

-- The spec checked every tensor against limits.elements at its own batch;
-- --batch (at most 65536, so no product here wraps) may take one past it.
local function check_sizes(g)
  for _, node in ipairs(g.nodes) do
    local s = node.shape
    local n = g.net.batch * s[1] * s[2] * s[3]
    if n >= limits.elements then
      local tensor = node.op == "input" and "the network input" or node.op .. " output"
      fail.raise(node.where, "%s of %d x %dx%dx%d = %d elements is past 2^31", tensor,
        g.net.batch, s[1], s[2], s[3], n)
    end
  end
end

-- Arena and weights must be addressable by a 32-bit target, and their float
-- offsets must fit the C ints of the emitted kernels.
local function check_limits(g, p, blob)
  local limit = 1 << 31
  if p.arena_bytes >= limit then
    fail.raise(g.net.where, "the activation arena of %d bytes is past what a 32-bit target can address", p.arena_bytes)
  end
  if 4 * blob.floats >= limit then
    fail.raise(g.net.where, "the weights of %d bytes are past what a 32-bit target can address", 4 * blob.floats)
  end
end

-- The emitted files of the target: c, cuda or all. Both backends read the
-- same kernels, folded blob and plan. The CUDA build shares the C build's
-- header (sizes), weights object and runner source; with --target cuda the
-- C kernels, static arena, Makefile and CMakeLists.txt are left out.
local function backends(target, g, kernels, p, blob, source, simd, cuda, q)
  local files = emit_c.run(g, kernels, p, blob, source, simd, q)
  if target == "c" then return files end
  local c_makefile
  local kept = {}
  local c_only = { [g.net.name .. ".c"] = true, [g.net.name .. "_arena.c"] = true, ["CMakeLists.txt"] = true }
  for _, f in ipairs(files) do
    if f.name == "Makefile" then c_makefile = f.data
    elseif target == "all" or not c_only[f.name] then kept[#kept + 1] = f end
  end
  for _, f in ipairs(emit_cuda.run(g, kernels, blob, source, target, c_makefile, cuda)) do kept[#kept + 1] = f end
  return kept
end

-- opts: the command line as gen/spgen.c's option table reads it, its
-- defaults filled in: spec, outdir, target, weights, batch, set, summary,
-- dump_weights, plan, plan_svg, strict, simd, cuda_threads, cuda_tiles,
-- cuda_tile_channels, cuda_stats, cuda_spconv, dtype, calibration, percentile
-- (text, checked), attention, dump_int8
function M.run(opts)
  local target = opts.target
  local g = spec.load(opts.spec, opts.set)
  g.spec_name = opts.spec:match("[^/]*$")
  if opts.batch then g.net.batch = opts.batch end
  check_sizes(g)
  local samples, sample_count
  if opts.dtype == "int8" then samples, sample_count = calibrate.read(opts.calibration, g.nodes[1].shape) end
  local w, need, source = weights.bind(g, opts.weights, opts.strict)
  local kernels, views = fuse.run(g)
  if #kernels == 0 then fail.raise(g.output.where, "the network has no operations") end
  for i, k in ipairs(kernels) do k.index, k.in_shape = i, g.nodes[k.inputs[1]].shape end
  tiling.run(g, kernels, views, opts.simd)
  -- the CUDA backend reads the plain arrays; the C code of a blocked layer only its blocked copies
  local blob = fold.run(g, kernels, w, target ~= "c")
  local q
  if samples then
    local ranges = calibrate.run(g, kernels, blob, samples, sample_count, opts.percentile and tonumber(opts.percentile))
    local qblob, order, final, tail = quantize.run(g, kernels, blob, ranges, opts.attention)
    q = { blob_data = qblob.data(), input = order[1], output = final, attention = opts.attention,
          model = model.text(g, kernels, order, final, tail, opts.attention) }
  end
  local element_bytes = q and 1 or 4
  local p = plan.run(g, kernels, views, element_bytes)
  check_limits(g, p, blob)
  local files = backends(target, g, kernels, p, blob, source, opts.simd,
    { tiling = { threads = opts.cuda_threads, tiles = opts.cuda_tiles, channels = opts.cuda_tile_channels },
      stats = opts.cuda_stats, spconv = opts.cuda_spconv }, q)
  local extras = {}
  if opts.plan then extras[#extras + 1] = { path = opts.plan, data = plan.text(p, kernels) } end
  if opts.dump_int8 then
    extras[#extras + 1] = { path = opts.dump_int8, data = q.model }
  end
  if opts.plan_svg then extras[#extras + 1] = { path = opts.plan_svg, data = plan_svg.draw(g, kernels, p) } end
  if opts.dump_weights then
    extras[#extras + 1] = { path = opts.dump_weights, write = function(file, path) weights.dump(file, path, w, need) end }
  end
  -- every destination is checked before the first write, and nothing is
  -- renamed into place before everything is written
  local ok, err = native.write_outputs(opts.outdir or ("out/" .. g.net.name), files, extras)
  if not ok then fail.raise(nil, "%s", err) end
  if opts.summary then native.stdout(summary.text(g, p, q and #q.blob_data or 4 * blob.floats, files, element_bytes)) end
end

return M
