# Contract checker (tests/contract): libclang walks the emitted C and fails
# on heap calls, VLAs, recursion and non-constant loop bounds.
# Included from the top Makefile; defines CONTRACT_CFLAGS, CONTRACT_LIBS and
# the rule for build/contract_check.

# Prefer llvm-config (versioned first); fall back to the Debian LLVM 14 path.
CONTRACT_LLVM_CONFIG := $(firstword $(shell command -v llvm-config-14 llvm-config 2>/dev/null))
ifneq ($(CONTRACT_LLVM_CONFIG),)
CONTRACT_LLVM_INCDIR := $(shell $(CONTRACT_LLVM_CONFIG) --includedir)
CONTRACT_LLVM_LIBDIR := $(shell $(CONTRACT_LLVM_CONFIG) --libdir)
else
CONTRACT_LLVM_INCDIR := /usr/lib/llvm-14/include
CONTRACT_LLVM_LIBDIR := /usr/lib/llvm-14/lib
endif

CONTRACT_CFLAGS := -std=c11 -Wall -Wextra -Werror -O1 -g -I$(CONTRACT_LLVM_INCDIR)
# rpath: libclang lives outside the default search path on Debian/Ubuntu.
CONTRACT_LIBS := -L$(CONTRACT_LLVM_LIBDIR) -Wl,-rpath,$(CONTRACT_LLVM_LIBDIR) -lclang

build/contract_check: tests/contract/contract_check.c
	@mkdir -p build
	$(CC) $(CONTRACT_CFLAGS) -o $@ $< $(CONTRACT_LIBS)
