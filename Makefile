# spgen: `make` builds the generator, `make demo` runs the shipped one-layer
# network end to end, `make test` runs the suite (every kind of case once,
# about 10 minutes on 2 cores), `make test-full` adds the expensive
# repetitions, `make snapshots` rewrites tests/snapshots/. Missing Debian
# packages are installed by scripts/install-deps.sh (as root) first.
CC = gcc
CFLAGS = -std=c11 -O2 -g -Wall -Wextra -Werror -pedantic -D_POSIX_C_SOURCE=200809L
LUA_CFLAGS := $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
LUA_LIBS := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)

comma := ,
HOST_SRC = gen/main.c gen/spgen.c gen/lua_host.c gen/farray.c gen/rng.c gen/outdir.c gen/safetensors.c gen/json.c gen/infile.c \
	gen/npy.c gen/interp.c gen/onnx.c build/onnx/onnx.pb-c.c
HOST_HDR = $(wildcard gen/*.h) build/onnx/onnx.pb-c.h
# ONNX's own schema (Debian's libonnx-dev), compiled to C by protoc-c for the
# importer (gen/onnx.c); the generated code is not committed.
ONNX_PROTO ?= $(firstword $(wildcard /usr/include/onnx/onnx.proto /usr/lib/python3/dist-packages/onnx/onnx.proto))
PROTOBUF_LIBS = -lprotobuf-c
EMBEDDED = $(shell find gen/lua -name '*.lua' | sort) $(sort $(wildcard templates/*.in))

all: build/spgen

build/.deps:
	@scripts/install-deps.sh
	@scripts/install-deps.sh firmware || echo "(without them the firmware checks are skipped)"
	@mkdir -p build && touch $@

build/embed: gen/tools/embed.c | build/.deps
	$(CC) $(CFLAGS) -o $@ $<

build/embedded.c: build/embed $(EMBEDDED)
	build/embed $@ gen/ $(EMBEDDED)

build/onnx/onnx.pb-c.c: $(ONNX_PROTO) | build/.deps
	@mkdir -p build/onnx
	protoc-c --c_out=build/onnx -I$(dir $(ONNX_PROTO)) $(ONNX_PROTO)
build/onnx/onnx.pb-c.h: build/onnx/onnx.pb-c.c

# $(call link_spgen,EXTRA CFLAGS,LUA LIBRARY[,PROTOBUF LIBRARY]): the generator's one link line
link_spgen = $(CC) $(CFLAGS) $(1) $(LUA_CFLAGS) -Igen -Ibuild/onnx -o $@ $(HOST_SRC) build/embedded.c $(2) \
	$(or $(3),$(PROTOBUF_LIBS)) -lm

build/spgen: $(HOST_SRC) $(HOST_HDR) build/embedded.c | build/.deps
	$(call link_spgen,,$(LUA_LIBS))

# For a GPU machine without a Lua library (tests/gpu_check.sh, docs/cuda.md):
# the generator with Lua linked in; `make gpu-carry` builds the three files to
# copy there (all of build/ is over a gigabyte).
LUA_STATIC = $(firstword $(wildcard /usr/lib/*/liblua5.4.a /usr/lib/liblua5.4.a))
PROTOBUF_STATIC = $(firstword $(wildcard /usr/lib/*/libprotobuf-c.a /usr/lib/libprotobuf-c.a))
build/spgen-static: $(HOST_SRC) $(HOST_HDR) build/embedded.c | build/.deps
	$(call link_spgen,,$(or $(LUA_STATIC),$(LUA_LIBS)),$(PROTOBUF_STATIC))

gpu-carry: build/spgen-static build/mknpy build/npycmp

# The generator under AddressSanitizer and UBSan, for the bad-input suites.
build/asan/spgen: $(HOST_SRC) $(HOST_HDR) build/embedded.c | build/.deps
	@mkdir -p build/asan
	$(call link_spgen,-O1 -fsanitize=address$(comma)undefined -fno-sanitize-recover=all -fno-omit-frame-pointer,$(LUA_LIBS))

include tests/contract/contract.mk
include tests/ref/ref.mk
include tests/unit/unit.mk
include tests/fuzz/fuzz.mk

build/plan_check: tests/plan/plan_check.c | build/.deps
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ $<

build/top1: tests/digits/top1.c tests/ref/npy.c tests/ref/npy.h | build/.deps
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -o $@ tests/digits/top1.c tests/ref/npy.c -lm

# hand-made ONNX models for tests/onnx_errors.sh
build/mkonnx: tests/onnx/mkonnx.c build/onnx/onnx.pb-c.c build/onnx/onnx.pb-c.h | build/.deps
	$(CC) -std=c11 -O1 -Wall -Wextra -Werror -Ibuild/onnx -o $@ tests/onnx/mkonnx.c build/onnx/onnx.pb-c.c $(PROTOBUF_LIBS)

TEST_TOOLS = build/spgen build/asan/spgen build/contract_check build/ref_spconv build/ref_net build/mknpy build/npycmp \
	build/mkfix build/test_safetensors build/plan_check build/ref_net_q build/asan/ref_net_q build/asan/test_int8_ref build/top1 \
	build/mkonnx

$(TEST_TOOLS): | build/.deps

demo: $(TEST_TOOLS)
	@scripts/demo.sh

test: $(TEST_TOOLS)
	@tests/run.sh

test-full: $(TEST_TOOLS)
	@tests/run.sh --full

# after an intended change of the emitted code: rewrite the snapshots, then
# read and commit their diff with the change
snapshots: build/spgen
	@tests/snapshots.sh --update

bench: build/spgen
	@scripts/bench.sh

# the CUDA build against PyTorch (a GPU and nvcc needed; says skipped without)
bench-cuda: build/spgen
	@scripts/bench_cuda.sh

firmware-test: build/spgen build/npycmp build/mknpy build/ref_net_q
	@firmware/run.sh

clean:
	rm -rf build out

.PHONY: all demo test test-full snapshots bench bench-cuda gpu-carry firmware-test clean
