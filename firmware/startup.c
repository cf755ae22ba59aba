/* Startup for a Cortex-M4F or Cortex-M3: the vector table at address 0 and
   the reset handler, which enables the FPU where the code uses one, copies
   .data from flash to RAM, zeroes .bss and calls main. Faults print their
   name over semihosting and exit with status 1. */
#include <stdint.h>

#include "semihost.h"

int main(void);

/* from mps2_an386.ld */
extern uint32_t __stack_top[];
extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern uint32_t __bss_start__[], __bss_end__[];

void Reset_Handler(void) __attribute__((noreturn));

static void fault(const char *name) __attribute__((noreturn));
static void fault(const char *name)
{
    sh_write0("FAULT: ");
    sh_write0(name);
    sh_write0("\n");
    sh_exit(1);
}

static void NMI_Handler(void) { fault("NMI"); }
static void HardFault_Handler(void) { fault("HardFault"); }
static void MemManage_Handler(void) { fault("MemManage"); }
static void BusFault_Handler(void) { fault("BusFault"); }
static void UsageFault_Handler(void) { fault("UsageFault"); }
static void Default_Handler(void) { fault("unexpected exception"); }

#define CPACR (*(volatile uint32_t *)0xE000ED88u)

void Reset_Handler(void)
{
#ifdef __ARM_FP
    /* Full access to CP10 and CP11 (the FPU) before any float instruction:
       the code is built with -mfloat-abi=hard. A Cortex-M3 has neither. */
    CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

    /* volatile: keep these loops as loops (no memcpy/memset call before the
       C environment exists) */
    volatile uint32_t *dst = __data_start__;
    const volatile uint32_t *src = __data_load__;
    while (dst < __data_end__)
        *dst++ = *src++;
    for (dst = __bss_start__; dst < __bss_end__;)
        *dst++ = 0;

    sh_exit(main());
}

/* Cortex-M vector table: the initial stack pointer, then the 15 system
   exception handlers (0 = reserved). No external interrupt is enabled. */
struct vector_table {
    uint32_t *initial_sp;
    void (*handler[15])(void);
};

__attribute__((used, section(".isr_vector"))) const struct vector_table fw_vector_table = {
    __stack_top,
    {
        Reset_Handler,     /* 1 reset */
        NMI_Handler,       /* 2 NMI */
        HardFault_Handler, /* 3 hard fault */
        MemManage_Handler, /* 4 memory management */
        BusFault_Handler,  /* 5 bus fault */
        UsageFault_Handler,/* 6 usage fault */
        0, 0, 0, 0,        /* 7-10 reserved */
        Default_Handler,   /* 11 SVCall */
        Default_Handler,   /* 12 debug monitor */
        0,                 /* 13 reserved */
        Default_Handler,   /* 14 PendSV */
        Default_Handler,   /* 15 SysTick */
    },
};
