# libFuzzer harnesses (tests/fuzz). Included from the top Makefile.
#
#   make fuzz              each harness FUZZ_SECONDS (default 60) on a copy of its
#                          seed corpus in build/fuzz/<harness>/corpus, then the
#                          final statistics; `make -j2 fuzz` runs both at once
#   make fuzz-smoke        for CI: the regression inputs once each, then 15 s of
#                          fuzzing per harness; fails on any crash, leak, timeout
#                          or out-of-memory
#   make fuzz-safetensors, make fuzz-spec, make fuzz-onnx    one harness
#
# Extra libFuzzer flags: FUZZ_FLAGS=..., e.g. FUZZ_FLAGS=-jobs=4 or -seed=1.
# Needs clang with libFuzzer (Debian: clang and libclang-rt-NN-dev).
# Nothing is ever written under tests/: crashes land in
# build/fuzz/<harness>/artifacts/; a crash that is kept becomes a file in
# tests/fuzz/regress_<harness>/ (by hand, after the fix).

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_FLAGS ?=
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LUA_CFLAGS := $(shell pkg-config --cflags lua5.4 2>/dev/null || echo -I/usr/include/lua5.4)
FUZZ_LUA_LIBS := $(shell pkg-config --libs lua5.4 2>/dev/null || echo -llua5.4)
# The generator without its main(); HOST_SRC comes from the top Makefile.
FUZZ_HOST_SRC := $(filter-out gen/main.c,$(or $(HOST_SRC),$(wildcard gen/*.c)))

build/fuzz_safetensors: tests/fuzz/fuzz_safetensors.c tests/fuzz/fuzz_tmp.h gen/safetensors.c gen/json.c gen/infile.c gen/safetensors.h gen/json.h gen/infile.h
	@mkdir -p build
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Igen -o $@ tests/fuzz/fuzz_safetensors.c gen/safetensors.c gen/json.c gen/infile.c

# --wrap: the harness keeps a Lua line hook on spgen's Lua state, so that
# libFuzzer also sees coverage of the generator's Lua modules, scales the
# sandbox's CPU-time timer to the instrumented build's speed and reports an
# _exit from inside spgen_main and an internal error (see the comment at the
# top of fuzz_spec.c).
build/fuzz_spec: tests/fuzz/fuzz_spec.c tests/fuzz/fuzz_tmp.h $(FUZZ_HOST_SRC) $(wildcard gen/*.h) build/embedded.c
	@mkdir -p build
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LUA_CFLAGS) -Igen -Ibuild/onnx -o $@ tests/fuzz/fuzz_spec.c \
		$(FUZZ_HOST_SRC) build/embedded.c -Wl,--wrap=lua_newstate,--wrap=lua_sethook,--wrap=setitimer,--wrap=_exit,--wrap=luaL_traceback \
		$(FUZZ_LUA_LIBS) -lprotobuf-c -lm

# The importer: spgen_main(spgen import MODEL -o OUT); --wrap=luaL_traceback
# counts internal errors (fuzz_onnx.c).
build/fuzz_onnx: tests/fuzz/fuzz_onnx.c tests/fuzz/fuzz_tmp.h $(FUZZ_HOST_SRC) $(wildcard gen/*.h) build/embedded.c
	@mkdir -p build
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_LUA_CFLAGS) -Igen -Ibuild/onnx -o $@ tests/fuzz/fuzz_onnx.c \
		$(FUZZ_HOST_SRC) build/embedded.c -Wl,--wrap=luaL_traceback $(FUZZ_LUA_LIBS) -lprotobuf-c -lm

# Per harness: the libFuzzer flags. The spec sandbox caps a spec at ~50M Lua
# instructions and 256 MiB; the rest of the generator runs uncapped, hence
# the 10 s timeout and the 2 GiB RSS limit. -close_fd_mask=2 silences the
# generator's error messages (sanitizer reports and the harnesses' contract
# messages still show).
FUZZ_OPTS_safetensors := -dict=$(CURDIR)/tests/fuzz/safetensors.dict -max_len=4096 \
	-timeout=10 -rss_limit_mb=2048
FUZZ_OPTS_spec := -dict=$(CURDIR)/tests/fuzz/spec.dict -max_len=4096 -timeout=10 \
	-rss_limit_mb=2048 -close_fd_mask=2
FUZZ_OPTS_onnx := -dict=$(CURDIR)/tests/fuzz/onnx.dict -max_len=16384 -timeout=10 \
	-rss_limit_mb=2048 -close_fd_mask=2

# $(call fuzz_run,HARNESS,SECONDS): copies the seeds (and the regression
# inputs) into build/fuzz/HARNESS/corpus, which is kept between runs, and
# fuzzes there, in build/fuzz/HARNESS as the current directory (fuzz_spec
# checks that nothing appears in it). The log is build/fuzz/HARNESS/fuzz.log.
define fuzz_run
	@rm -rf build/fuzz/$(1)/artifacts && mkdir -p build/fuzz/$(1)/corpus build/fuzz/$(1)/artifacts
	@cp tests/fuzz/corpus_$(1)/* build/fuzz/$(1)/corpus/
	@if [ -n "$$(ls tests/fuzz/regress_$(1) 2>/dev/null)" ]; then cp tests/fuzz/regress_$(1)/* build/fuzz/$(1)/corpus/; fi
	@echo "fuzz_$(1): $(2) s on build/fuzz/$(1)/corpus ($$(ls build/fuzz/$(1)/corpus | wc -l) inputs)"
	@cd build/fuzz/$(1) && rc=0; \
	UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1} $(CURDIR)/build/fuzz_$(1) $(FUZZ_OPTS_$(1)) -max_total_time=$(2) -print_final_stats=1 \
		-artifact_prefix=artifacts/ $(FUZZ_FLAGS) corpus </dev/null >fuzz.log 2>&1 || rc=$$?; \
	if [ $$rc -ne 0 ]; then \
		echo "fuzz_$(1): FAILED (exit $$rc); last lines of build/fuzz/$(1)/fuzz.log:"; \
		tail -n 40 fuzz.log; ls -l artifacts; exit 1; \
	fi; \
	echo "fuzz_$(1): $$(grep -E '^#[0-9]+[[:space:]]+DONE' fuzz.log | tail -n 1)"; \
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' fuzz.log | sed 's/^/  /'
endef

fuzz-safetensors: build/fuzz_safetensors
	$(call fuzz_run,safetensors,$(FUZZ_SECONDS))

fuzz-spec: build/fuzz_spec
	$(call fuzz_run,spec,$(FUZZ_SECONDS))

fuzz-onnx: build/fuzz_onnx
	$(call fuzz_run,onnx,$(FUZZ_SECONDS))

fuzz: fuzz-safetensors fuzz-spec fuzz-onnx
	@echo "fuzz: final statistics"
	@for h in safetensors spec onnx; do \
		echo "  fuzz_$$h: $$(grep -E '^#[0-9]+[[:space:]]+DONE' build/fuzz/$$h/fuzz.log | tail -n 1)"; \
	done

# $(call fuzz_regress,HARNESS): each input in tests/fuzz/regress_HARNESS run
# once; fails when one still crashes, leaks, times out or runs out of memory.
define fuzz_regress
	@if [ -n "$$(ls tests/fuzz/regress_$(1) 2>/dev/null)" ]; then \
		mkdir -p build/fuzz/$(1) && cd build/fuzz/$(1) && \
		echo "fuzz_$(1): $$(ls $(CURDIR)/tests/fuzz/regress_$(1) | wc -l) regression inputs" && \
		if ! UBSAN_OPTIONS=$${UBSAN_OPTIONS:-print_stacktrace=1} \
			$(CURDIR)/build/fuzz_$(1) $(FUZZ_OPTS_$(1)) $(CURDIR)/tests/fuzz/regress_$(1)/* \
			</dev/null >regress.log 2>&1; then \
			echo "fuzz_$(1): a regression input FAILED; last lines of build/fuzz/$(1)/regress.log:"; \
			tail -n 40 regress.log; exit 1; \
		fi; \
	fi
endef

# CI: the regression inputs (every crash ever found, once fixed) once each,
# then a short fuzzing run per harness. Any crash, leak, timeout or OOM fails.
fuzz-smoke: build/fuzz_safetensors build/fuzz_spec build/fuzz_onnx
	$(call fuzz_regress,safetensors)
	$(call fuzz_regress,spec)
	$(call fuzz_regress,onnx)
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) fuzz-safetensors fuzz-spec fuzz-onnx FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS)

.PHONY: fuzz fuzz-smoke fuzz-safetensors fuzz-spec fuzz-onnx
