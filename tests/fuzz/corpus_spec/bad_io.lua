local net = network { name = "io", input = { 1, 1, 1 } }
io.open("/tmp/x", "w")
