-- Golden case add_relu_maxpool (written by tests/golden/make_golden.py; do not edit).
-- add of two branches no producer owns: relu(x) + maxpool(x, k=3 stride 1 pad 1).
local net = network { name = "add_relu_maxpool", input = { 4, 6, 7 }, batch = 1,
                      naming = "torch", weights = "data/add_relu_maxpool.safetensors" }
local t1 = relu(net.input)
local t2 = maxpool(net.input, { k = 3, stride = 1, pad = 1 })
local t3 = add(t1, t2)
return output(t3)
