/* The golden input and expected output, pulled from raw little-endian float32
   files into flash (.rodata) by the assembler, like the network's weights.
   The Makefile cuts input.bin and expected.bin out of the golden .npy files
   and assembles this with -I<its build directory>. */
    .syntax unified
    .section .rodata.fw_golden, "a"

    .balign 4
    .globl fw_input
    .type fw_input, %object
fw_input:
    .incbin "input.bin"
    .size fw_input, . - fw_input
    .globl fw_input_end
fw_input_end:

    .balign 4
    .globl fw_expected
    .type fw_expected, %object
fw_expected:
    .incbin "expected.bin"
    .size fw_expected, . - fw_expected
    .globl fw_expected_end
fw_expected_end:
