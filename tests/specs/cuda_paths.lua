-- The CUDA backend's less common paths, for tests/cuda.sh (run with
-- --cuda-threads 1 and 16777216 for the largest and the smallest tiles with
-- the most input-channel slices): a strided grouped conv2d stem; spconv at
-- both strides, with and without batchnorm, residual and relu; a global
-- average pool fused into a spconv and into a conv2d over a 20x20 map (wider
-- than one block: several rounds); an add of pooled vectors, linear layers.
local size = args.size or 20
local net = network {
  name = "cuda_paths", input = { 4, 2 * size, 2 * size }, batch = args.batch or 1, seed = args.seed or 3,
}
local x = relu(batchnorm(conv2d(net.input, { out = 48, k = 3, stride = 2, groups = 2, bias = true, name = "stem" }), "bn0"))
local y = relu(batchnorm(spconv(x, { out = 48, ratio = 0.5, groups = 2, name = "sp1" }), "bn1"))
local z = batchnorm(spconv(y, { out = 48, ratio = 0.25, groups = 1, bias = "all", name = "sp2" }), "bn2")
z = relu(add(z, x))
local a = global_avgpool(relu(spconv(z, { out = 16, ratio = 0.5, groups = 2, name = "sp3" })))
local b = global_avgpool(conv2d(z, { out = 16, k = 3, name = "c4" }))
local c = global_avgpool(spconv(z, { out = 16, stride = 2, ratio = 0.5, name = "sp5" }))
return output(linear(flatten(add(add(a, b), linear(flatten(c), { out = 16, name = "fc5" }))), { out = 5, name = "fc" }))
