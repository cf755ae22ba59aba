# Unit tests of the generator host's C modules (tests/unit).
# Included from the top Makefile; each test is a standalone program that
# prints PASS/FAIL lines and exits 0 iff all its cases pass.

UNIT_CFLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -O1 -g

build/test_safetensors: tests/unit/test_safetensors.c gen/safetensors.c gen/json.c gen/infile.c gen/safetensors.h gen/json.h gen/infile.h
	@mkdir -p build
	$(CC) $(UNIT_CFLAGS) -o $@ tests/unit/test_safetensors.c gen/safetensors.c gen/json.c gen/infile.c
