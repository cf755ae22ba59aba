/* Bare-metal check of an emitted network (FW_NET, default sp_tiny_cifar; its
   macro prefix FW_NET_UC) on a QEMU mps2 board (FW_BOARD: the Cortex-M4F of
   mps2-an386 or the Cortex-M3 of mps2-an385): paints the free stack, runs
   <FW_NET>_run once on the input stored in flash, timing it with timer 0, measures the stack high-water mark, prints
   the logits (decimal and the exact float bits) and the figures over
   semihosting, and returns 0 when the run succeeded, every logit is finite,
   the output matches the expected output (float32: the golden; int8: the int8
   reference's) within FW_TOL (max |got - want| / max |want|; 0 for int8) and
   the stack did not run out. The startup code exits with that status.

   No libc calls: the output is formatted here, so nothing needs a heap or
   newlib's syscalls. */
#include <stdint.h>

#include "semihost.h"

#ifndef FW_NET
#define FW_NET sp_tiny_cifar
#define FW_NET_UC SP_TINY_CIFAR
#endif
#define FW_STR_(x) #x
#define FW_STR(x) FW_STR_(x)
#define FW_CAT_(a, b) a##b
#define FW_CAT(a, b) FW_CAT_(a, b)
#include FW_STR(FW_NET.h)
#define NET_RUN FW_CAT(FW_NET, _run)
#define NET_IN_SIZE FW_CAT(FW_NET_UC, _IN_SIZE)
#define NET_OUT_SIZE FW_CAT(FW_NET_UC, _OUT_SIZE)
#define NET_ARENA_BYTES FW_CAT(FW_NET_UC, _ARENA_BYTES)

#ifndef FW_TOL
#define FW_TOL 1e-5
#endif
#ifndef FW_BOARD
#define FW_BOARD "Cortex-M4F (mps2-an386)"
#endif
#define STACK_PAINT 0x5EED5EEDu

/* The MPS2 boards' CMSDK timer 0, counting down at 25 MHz. Under QEMU's
   -icount shift=0 every guest instruction advances the clocks by 1 ns, so a
   tick is 40 instructions. */
#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)

/* golden.S: raw float32 in flash */
extern const float fw_input[], fw_expected[];
extern const char fw_input_end[], fw_expected_end[];
/* mps2_an386.ld */
extern uint32_t __stack_bottom[], __stack_top[];
extern char __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];

static float output[NET_OUT_SIZE];
static char line[160];

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static char *put_u32(char *p, uint32_t v)
{
    char tmp[10];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

static char *put_hex32(char *p, uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    int i;
    p = put_str(p, "0x");
    for (i = 28; i >= 0; i -= 4)
        *p++ = hex[(v >> i) & 0xFu];
    return p;
}

/* v in scientific notation with `digits` (1..9) significant digits. Scaling
   in double costs at most ~1e-14 relative, far below the 9th digit. */
static char *put_sci(char *p, double v, int digits)
{
    uint32_t scale = 1, m;
    int e = 0, i;
    char tmp[9];

    if (v != v)
        return put_str(p, "nan");
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    if (v > 1e300)
        return put_str(p, "inf");
    for (i = 1; i < digits; i++)
        scale *= 10u;
    if (v != 0.0) {
        while (v >= 10.0) {
            v /= 10.0;
            e++;
        }
        while (v < 1.0) {
            v *= 10.0;
            e--;
        }
    }
    m = (uint32_t)(v * scale + 0.5);
    if (m >= scale * 10u) {
        m /= 10u;
        e++;
    }
    for (i = digits - 1; i >= 0; i--) {
        tmp[i] = (char)('0' + m % 10u);
        m /= 10u;
    }
    *p++ = tmp[0];
    if (digits > 1) {
        *p++ = '.';
        for (i = 1; i < digits; i++)
            *p++ = tmp[i];
    }
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    if (e < 0)
        e = -e;
    if (e >= 100)
        *p++ = (char)('0' + e / 100);
    *p++ = (char)('0' + e / 10 % 10);
    *p++ = (char)('0' + e % 10);
    return p;
}

static void put_line(char *end)
{
    *end++ = '\n';
    *end = '\0';
    sh_write0(line);
}

static uint32_t float_bits(float f)
{
    union {
        float f;
        uint32_t u;
    } b;
    b.f = f;
    return b.u;
}

static int is_finite(float f)
{
    return (float_bits(f) & 0x7F800000u) != 0x7F800000u;
}

static double absd(double v)
{
    return v < 0 ? -v : v;
}

int main(void)
{
    uint32_t sp, used, stack_bytes, data_bytes, bss_bytes, t0, t1;
    const volatile uint32_t *low;
    volatile uint32_t *w;
    double max_abs = 0.0, max_want = 0.0, rel;
    int rc, i, finite = 1, ok;
    char *p;

    if ((uintptr_t)(fw_input_end - (const char *)fw_input) != NET_IN_SIZE * 4u ||
        (uintptr_t)(fw_expected_end - (const char *)fw_expected) != NET_OUT_SIZE * 4u) {
        sh_write0("result: FAIL: the embedded golden data has the wrong size\n");
        return 1;
    }

    /* Paint everything below the current stack pointer. Nothing below sp is
       live (no interrupts are enabled) and this loop calls nothing. */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (w = __stack_bottom; (uintptr_t)w < sp; w++)
        *w = STACK_PAINT;

    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1u; /* enable, no interrupt */
    t0 = TIMER0_VALUE;
    rc = NET_RUN(fw_input, output);
    t1 = TIMER0_VALUE;

    /* The lowest word that is no longer the paint is the high-water mark. */
    for (low = __stack_bottom; (uintptr_t)low < (uintptr_t)__stack_top && *low == STACK_PAINT; low++)
        ;
    stack_bytes = (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom);
    used = (uint32_t)((uintptr_t)__stack_top - (uintptr_t)low);
    data_bytes = (uint32_t)(__data_end__ - __data_start__);
    bss_bytes = (uint32_t)(__bss_end__ - __bss_start__);

    sh_write0(FW_STR(FW_NET) " on " FW_BOARD ", input from flash\n");
    p = put_u32(put_str(line, "run: "), (uint32_t)rc);
    put_line(p);
    for (i = 0; i < NET_OUT_SIZE; i++) {
        double got = output[i], want = fw_expected[i];
        if (!is_finite(output[i]))
            finite = 0;
        if (absd(got - want) > max_abs)
            max_abs = absd(got - want);
        if (absd(want) > max_want)
            max_want = absd(want);
        p = put_str(line, "logit[");
        p = put_u32(p, (uint32_t)i);
        p = put_str(p, "] = ");
        p = put_sci(p, got, 9);
        *p++ = ' ';
        p = put_hex32(p, float_bits(output[i]));
        put_line(p);
    }
    rel = max_abs / (max_want > 1e-30 ? max_want : 1e-30);
    p = put_sci(put_str(line, "expected: max_abs="), max_abs, 3);
    p = put_sci(put_str(p, " rel="), rel, 3);
    p = put_sci(put_str(p, " tol="), FW_TOL, 1);
    put_line(p);
    p = put_u32(put_str(line, "timer: "), t0 - t1);
    p = put_str(p, " ticks of 25 MHz");
    put_line(p);
    p = put_u32(put_str(line, "stack: high-water "), used);
    p = put_u32(put_str(p, " bytes of "), stack_bytes);
    put_line(p);
    p = put_u32(put_str(line, "ram: data "), data_bytes);
    p = put_u32(put_str(p, " bss "), bss_bytes);
    p = put_u32(put_str(p, " stack "), used);
    p = put_u32(put_str(p, " total "), data_bytes + bss_bytes + used);
    p = put_u32(put_str(p, " arena "), (uint32_t)NET_ARENA_BYTES);
    put_line(p);

    ok = rc == 0 && finite && rel <= FW_TOL && low != __stack_bottom;
    p = put_str(line, ok ? "result: PASS" : "result: FAIL:");
    if (rc != 0)
        p = put_str(p, " run failed;");
    if (!finite)
        p = put_str(p, " non-finite output;");
    if (!(rel <= FW_TOL))
        p = put_str(p, " output differs from the expected;");
    if (low == __stack_bottom)
        p = put_str(p, " stack exhausted;");
    put_line(p);
    return ok ? 0 : 1;
}
