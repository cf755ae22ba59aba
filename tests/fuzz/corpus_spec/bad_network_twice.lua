local net = network { name = "twice", input = { 1, 1, 1 } }
network { name = "again", input = { 1, 1, 1 } }
