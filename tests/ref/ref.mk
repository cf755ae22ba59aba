# tests/ref/ref.mk - the independent reference and the test tools.
# Included by the top Makefile; every path is relative to the repository root.
#
#   build/ref_spconv   reference SPConv layer (tests/ref/ref_spconv_main.c)
#   build/mknpy        deterministic random .npy (tests/tools/mknpy.c)
#   build/npycmp       compare two .npy files (tests/tools/npycmp.c)
#   build/mkfix        fixture writer: .npy / .safetensors from given values
#   build/ref_net      reference network of the model zoo (tests/ref/ref_net_main.c,
#                      ops_ref.c, spconv_ref.c)
#   build/ref_net_q    the int8 reference network from a model file (tests/ref/ref_net_q_main.c,
#                      int8_ref.c; docs/int8.md)
#   build/asan/ref_net_q, build/asan/test_int8_ref
#                      the same and the int8 arithmetic's unit tests under ASan and UBSan
#   make ref-tools     builds all of them
#   make test-ref      runs tests/ref/test_ref.sh (PASS/FAIL ref/... lines)
#   make test-ref-net  runs tests/ref/test_ref_net.sh (PASS/FAIL refnet/... lines)
#   make test-ref-q    runs tests/ref/test_ref_q.sh (PASS/FAIL int8ref/... lines)
#
# Shares no source with gen/. REF_CC / REF_CFLAGS can be overridden.

REF_CC      ?= $(CC)
REF_CFLAGS  ?= -std=c11 -O2 -Wall -Wextra -Werror
REF_LDLIBS  ?= -lm
REF_BUILD   ?= build

REF_NPY     := tests/ref/npy.c tests/ref/npy.h
# the int8 attention and softmax round every float operation as written (docs/int8.md, 5.4)
REF_Q_CFLAGS = $(REF_CFLAGS) -ffp-contract=off
REF_SAN     := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
REF_Q_SRC   := tests/ref/int8_ref.c tests/ref/int8_ref.h
REF_Q_TOOLS := $(REF_BUILD)/ref_net_q $(REF_BUILD)/asan/ref_net_q $(REF_BUILD)/asan/test_int8_ref
REF_TOOLS   := $(REF_BUILD)/ref_spconv $(REF_BUILD)/mknpy $(REF_BUILD)/npycmp $(REF_BUILD)/mkfix \
               $(REF_BUILD)/ref_net $(REF_Q_TOOLS)

.PHONY: ref-tools test-ref test-ref-net test-ref-q

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

$(REF_BUILD)/ref_net_q: tests/ref/ref_net_q_main.c $(REF_Q_SRC) $(REF_NPY)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_Q_CFLAGS) -o $@ tests/ref/ref_net_q_main.c tests/ref/int8_ref.c tests/ref/npy.c $(REF_LDLIBS)

$(REF_BUILD)/asan/ref_net_q: tests/ref/ref_net_q_main.c $(REF_Q_SRC) $(REF_NPY)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_Q_CFLAGS) $(REF_SAN) -o $@ tests/ref/ref_net_q_main.c tests/ref/int8_ref.c tests/ref/npy.c \
	    $(REF_LDLIBS)

$(REF_BUILD)/asan/test_int8_ref: tests/ref/test_int8_ref.c $(REF_Q_SRC)
	@mkdir -p $(@D)
	$(REF_CC) $(REF_Q_CFLAGS) $(REF_SAN) -o $@ tests/ref/test_int8_ref.c tests/ref/int8_ref.c $(REF_LDLIBS)

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

test-ref-q: $(REF_TOOLS)
	sh tests/ref/test_ref_q.sh $(REF_BUILD)
