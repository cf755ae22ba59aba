/* Arm semihosting calls: r0 = operation, r1 = argument, bkpt 0xab; the
   result comes back in r0. */
#include "semihost.h"

#include <stdint.h>

#define SYS_WRITE0 0x04u
#define SYS_EXIT 0x18u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR_UNKNOWN 0x20023u

static uint32_t semihost(uint32_t op, uint32_t arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register uint32_t r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_write0(const char *s)
{
    (void)semihost(SYS_WRITE0, (uint32_t)(uintptr_t)s);
}

void sh_exit(int status)
{
    /* On AArch32, SYS_EXIT takes the reason code itself in r1 (no block). */
    (void)semihost(SYS_EXIT, status == 0 ? ADP_STOPPED_APPLICATION_EXIT : ADP_STOPPED_RUNTIME_ERROR_UNKNOWN);
    for (;;) /* no semihosting host: stop here */
        __asm__ volatile("bkpt 0");
}
