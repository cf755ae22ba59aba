/* Minimal Arm semihosting for Cortex-M (bkpt 0xab): just enough to print and
   to exit with a status. QEMU serves it with -semihosting; a debugger serves
   it on hardware. No newlib syscalls, no heap. */
#ifndef FW_SEMIHOST_H
#define FW_SEMIHOST_H

/* Writes a NUL-terminated string to the host console (SYS_WRITE0). */
void sh_write0(const char *s);

/* Ends the program (SYS_EXIT): status 0 reports ADP_Stopped_ApplicationExit,
   which QEMU turns into exit status 0; anything else reports a run-time error,
   exit status 1. Does not return. */
void sh_exit(int status) __attribute__((noreturn));

#endif
