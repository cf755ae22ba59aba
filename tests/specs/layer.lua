-- The test harness's layer: one spconv, optionally batchnorm and relu, every
-- dimension from --set.
local net = network {
  name = "layer",
  input = { args.cin, args.h, args.w },
  batch = args.batch or 1,
  naming = args.naming or "torch",
  seed = args.seed or 1,
}
local x = spconv(net.input, {
  out = args.out, stride = args.stride or 1, ratio = args.ratio or 0.5, groups = args.groups or 2,
  bias = args.bias or "official", name = "sp",
})
if (args.bn or 0) ~= 0 then x = batchnorm(x, "post") end
if (args.relu or 0) ~= 0 then x = relu(x) end
return output(x)
