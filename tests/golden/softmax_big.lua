-- Golden case softmax_big (written by tests/golden/make_golden.py; do not edit).
-- softmax straight on the network input, scaled by 40 (|x| up to ~100: exp
-- overflows float32 unless it is shifted by the maximum).
local net = network { name = "softmax_big", input = { 6, 3, 4 }, batch = 1,
                      naming = "torch", weights = "data/softmax_big.safetensors" }
local t1 = softmax(net.input)
return output(t1)
