# tests/ref/ref.mk - the independent reference and the test tools.
# Included by the top Makefile; every path is relative to the repository root.
#
#   build/ref_spconv   reference SPConv layer (tests/ref/ref_spconv_main.c)
#   build/mknpy        deterministic random .npy (tests/tools/mknpy.c)
#   build/npycmp       compare two .npy files (tests/tools/npycmp.c)
#   build/mkfix        fixture writer: .npy / .safetensors from given values
#   build/ref_net      reference network of the model zoo (tests/ref/ref_net_main.c,
#                      ops_ref.c, spconv_ref.c)
#   make ref-tools     builds all five
#   make test-ref      runs tests/ref/test_ref.sh (PASS/FAIL ref/... lines)
#   make test-ref-net  runs tests/ref/test_ref_net.sh (PASS/FAIL refnet/... lines)
#
# Shares no source with gen/. REF_CC / REF_CFLAGS can be overridden.

REF_CC      ?= $(CC)
REF_CFLAGS  ?= -std=c11 -O2 -Wall -Wextra -Werror
REF_LDLIBS  ?= -lm
REF_BUILD   ?= build

REF_NPY     := tests/ref/npy.c tests/ref/npy.h
REF_TOOLS   := $(REF_BUILD)/ref_spconv $(REF_BUILD)/mknpy $(REF_BUILD)/npycmp $(REF_BUILD)/mkfix \
               $(REF_BUILD)/ref_net

.PHONY: ref-tools test-ref test-ref-net

ref-tools: $(REF_TOOLS)

$(REF_BUILD)/ref_spconv: tests/ref/ref_spconv_main.c tests/ref/cli.h tests/ref/spconv_ref.c tests/ref/spconv_ref.h \
                         tests/ref/st.c tests/ref/st.h $(REF_NPY)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_CFLAGS) -o $@ tests/ref/ref_spconv_main.c tests/ref/spconv_ref.c \
	    tests/ref/st.c tests/ref/npy.c $(REF_LDLIBS)

$(REF_BUILD)/ref_net: tests/ref/ref_net_main.c tests/ref/cli.h tests/ref/ops_ref.c tests/ref/ops_ref.h \
                      tests/ref/spconv_ref.c tests/ref/spconv_ref.h tests/ref/st.c tests/ref/st.h $(REF_NPY)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_CFLAGS) -o $@ tests/ref/ref_net_main.c tests/ref/ops_ref.c tests/ref/spconv_ref.c \
	    tests/ref/st.c tests/ref/npy.c $(REF_LDLIBS)

$(REF_BUILD)/mknpy: tests/tools/mknpy.c tests/tools/prng.h $(REF_NPY)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_CFLAGS) -o $@ tests/tools/mknpy.c tests/ref/npy.c $(REF_LDLIBS)

$(REF_BUILD)/npycmp: tests/tools/npycmp.c $(REF_NPY)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_CFLAGS) -o $@ tests/tools/npycmp.c tests/ref/npy.c $(REF_LDLIBS)

$(REF_BUILD)/mkfix: tests/tools/mkfix.c tests/tools/prng.h tests/ref/cli.h $(REF_NPY)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_CFLAGS) -o $@ tests/tools/mkfix.c tests/ref/npy.c $(REF_LDLIBS)

test-ref: $(REF_TOOLS)
	sh tests/ref/test_ref.sh $(REF_BUILD)

test-ref-net: $(REF_TOOLS)
	sh tests/ref/test_ref_net.sh $(REF_BUILD)
