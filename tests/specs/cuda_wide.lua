-- For tests/cuda.sh: a depthwise conv2d whose batch-1 grid (4800 channel
-- tiles of 32 threads) is past what launch bounds may ask of one SM, so it
-- keeps ptxas's own occupancy, and whose store sums the statistics of the
-- SPConv after it.
local net = network { name = "cuda_wide", input = { 4800, 4, 4 }, batch = 1, seed = args.seed or 5 }
local x = relu(conv2d(net.input, { out = 4800, k = 3, groups = 4800, bias = true, name = "dw" }))
return output(spconv(x, { out = 64, ratio = 0.5, groups = 2, name = "sp" }))
