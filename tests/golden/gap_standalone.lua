-- Golden case gap_standalone (written by tests/golden/make_golden.py; do not edit).
-- maxpool k=2, a standalone global_avgpool (no producer before it), flatten,
-- linear 4 -> 3 without bias.
local net = network { name = "gap_standalone", input = { 4, 7, 7 }, batch = 1,
                      naming = "torch", weights = "data/gap_standalone.safetensors" }
local t1 = maxpool(net.input, { k = 2 })
local t2 = global_avgpool(t1)
local t3 = flatten(t2)
local t4 = linear(t3, { out = 3, bias = false, name = "fc" })
return output(t4)
