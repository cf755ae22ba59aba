local net = network { name = "syntax", input = { 2, 2, 2 } 
return output(
