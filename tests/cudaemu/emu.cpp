/* tests/cudaemu/emu.cpp: runs the CUDA that spgen emits on the CPU, so that its
 * index math, barriers and numerics are tested on machines without a GPU.
 *
 * A block's threads are fibers with their own stacks. Each runs until it
 * reaches __syncthreads or a warp shuffle, or ends; then the next one runs.
 * A shuffle completes when all 32 lanes of the warp have reached the same
 * shuffle, a barrier when every live thread of the block has. Anything else
 * (a shuffle with exited or diverged lanes, threads of a block waiting at
 * different barriers) is a bug in the kernel: the emulator says which kernel
 * and stops the process. Blocks run one after another, so __shared__ can be
 * static, in a scrambled order (a fixed pseudo-random permutation per
 * launch): a kernel whose blocks depend on each other's writes, which a GPU
 * does not order, gives a wrong result here instead of passing by luck.
 * Odd blocks resume their threads in reverse, for missing barriers. Built
 * without ASan, shared memory starts each block as NaN, for reads of slots
 * the block never wrote. Memory is host memory; built with -fsanitize=address
 * the fiber switches are announced to ASan, so an out-of-bounds index into a
 * __device__ array or a cudaMalloc buffer is reported.
 *
 * Not emulated: concurrency between blocks (a kernel whose blocks race would
 * pass here), the memory model, timing, the device's expf rounding.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numeric>
#include <vector>

#include "cuda_runtime.h"

#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#ifdef EMU_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

dim3 threadIdx, blockIdx, blockDim, gridDim;

/* ---- fibers: a stack switch that saves the callee-saved registers ---- */

#if defined(__x86_64__)
extern "C" void emu_switch(void **save_sp, void *to_sp);
__asm__(".text\n"
        ".globl emu_switch\n"
        ".type emu_switch, @function\n"
        "emu_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size emu_switch, .-emu_switch\n");
#else
#error "tests/cudaemu needs x86-64"
#endif

enum { RUNNING, AT_BARRIER, AT_SHUFFLE, DONE };

struct Fiber {
    void *sp;
    char *stack;
    int state;
    unsigned shuffles; /* shuffles this thread has completed or entered */
    int barrier;       /* where it waits: the line of its __syncthreads */
    void *asan_fake;
};

static const size_t STACK = 256 * 1024;
/* the fibers of the largest block so far; their stacks are reused */
static struct Fibers : std::vector<Fiber> {
    ~Fibers()
    {
        for (Fiber &f : *this)
            free(f.stack);
    }
} fibers;
static int current;
static void *scheduler_sp;
static const std::function<void()> *kernel_body;
static const char *kernel_name = "?";
static float shuffle_slot[2][1024];
#ifdef EMU_ASAN
static void *scheduler_fake;
static const void *scheduler_bottom;
static size_t scheduler_size;
#endif

static void die(const char *fmt, const char *what)
{
    fprintf(stderr, "cudaemu: block (%u, %u, %u) of %s: ", blockIdx.x, blockIdx.y, blockIdx.z, kernel_name);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    exit(3);
}

/* From a fiber back to the scheduler. */
static void yield_to_scheduler(int state)
{
    Fiber &f = fibers[current];
    f.state = state;
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(state == DONE ? NULL : &f.asan_fake, scheduler_bottom, scheduler_size);
#endif
    emu_switch(&f.sp, scheduler_sp);
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(f.asan_fake, NULL, NULL);
#endif
}

static void fiber_entry(void)
{
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(NULL, &scheduler_bottom, &scheduler_size);
#endif
    (*kernel_body)();
    yield_to_scheduler(DONE);
    abort(); /* a finished fiber is never resumed */
}

static void start_fiber(Fiber &f)
{
    if (!f.stack && !(f.stack = (char *)malloc(STACK))) {
        fprintf(stderr, "cudaemu: out of memory\n");
        exit(3);
    }
    /* a frame for emu_switch to pop: six registers, then fiber_entry as the
       return address, placed so that fiber_entry starts as if called
       (rsp = 8 mod 16) */
    uintptr_t top = ((uintptr_t)(f.stack + STACK) & ~(uintptr_t)15) - 16;
    void **frame = (void **)top;
    frame[0] = (void *)fiber_entry;
    for (int i = 1; i <= 6; i++)
        frame[-i] = NULL;
    f.sp = frame - 6;
    f.state = RUNNING;
    f.shuffles = 0;
    f.asan_fake = NULL;
}

static void resume(int i)
{
    unsigned n = blockDim.x * blockDim.y;
    current = i;
    threadIdx = dim3(i % blockDim.x, i / blockDim.x % blockDim.y, i / n);
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(&scheduler_fake, fibers[i].stack, STACK);
#endif
    emu_switch(&scheduler_sp, fibers[i].sp);
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(scheduler_fake, NULL, NULL);
#endif
}

/* the kernels' __shared__ variables, where cuda_runtime.h sections them */
extern char __start_emu_shared[] __attribute__((weak));
extern char __stop_emu_shared[] __attribute__((weak));

/* reverse: resume the threads last to first. Between two barriers the
   threads run one after another, so a missing __syncthreads shows only when
   a reader runs before its writer; alternating the order between blocks
   shows both directions. */
static void run_block(int threads, bool reverse)
{
    if (__start_emu_shared != __stop_emu_shared) /* all ones: a NaN in every float */
        memset(__start_emu_shared, 0xff, (size_t)(__stop_emu_shared - __start_emu_shared));
    for (int i = 0; i < threads; i++)
        start_fiber(fibers[i]);
    for (;;) {
        for (int k = 0; k < threads; k++) {
            int i = reverse ? threads - 1 - k : k;
            if (fibers[i].state == RUNNING)
                resume(i);
        }
        /* everyone is waiting or done: release what can go on */
        int done = 0, released = 0;
        for (int i = 0; i < threads; i++)
            done += fibers[i].state == DONE;
        if (done == threads)
            return;
        for (int w = 0; w < threads; w += 32) {
            int at = 0, gone = 0;
            for (int i = w; i < w + 32 && i < threads; i++) {
                at += fibers[i].state == AT_SHUFFLE;
                gone += fibers[i].state == DONE;
            }
            if (at == 0)
                continue;
            if (w + 32 > threads)
                die("%s", "a warp shuffle in a block that is not whole warps");
            if (at < 32) {
                if (gone > 0)
                    die("%s", "a full-mask warp shuffle with lanes that have exited");
                continue; /* the others are at a barrier: found below */
            }
            for (int i = w; i < w + 32; i++) {
                if (fibers[i].shuffles != fibers[w].shuffles)
                    die("%s", "the lanes of a warp are at different shuffles");
                fibers[i].state = RUNNING;
            }
            released = 1;
        }
        if (released)
            continue;
        int barrier = 0;
        for (int i = 0; i < threads; i++)
            barrier += fibers[i].state == AT_BARRIER;
        if (barrier != threads - done)
            die("%s", "threads wait at a barrier and at a shuffle at once (divergent __syncthreads?)");
        int site = -1;
        for (int i = 0; i < threads; i++)
            if (fibers[i].state == AT_BARRIER) {
                if (site >= 0 && fibers[i].barrier != site)
                    die("%s", "threads wait at different __syncthreads calls");
                site = fibers[i].barrier;
                fibers[i].state = RUNNING;
            }
    }
}

/* line: the source line of the __syncthreads call (a macro passes it), so
   threads waiting at two different barriers are told apart even where the
   compiler has duplicated one */
void emu_syncthreads(int line)
{
    fibers[current].barrier = line;
    yield_to_scheduler(AT_BARRIER);
}

float __shfl_xor_sync(unsigned int mask, float v, int lane_mask)
{
    if (mask != 0xffffffffu)
        die("%s", "only full-mask shuffles are emulated");
    int t = current;
    Fiber &f = fibers[t];
    /* two slots per thread: a lane that runs ahead to the next shuffle writes
       the other one while its partners still read this one */
    int gen = f.shuffles++ & 1;
    shuffle_slot[gen][t] = v;
    yield_to_scheduler(AT_SHUFFLE);
    return shuffle_slot[gen][(t & ~31) | ((t & 31) ^ lane_mask)];
}

/* ---- launches, streams, graphs ---- */

struct Launch {
    dim3 grid, block;
    const char *name;
    std::function<void()> body;
};

struct CUstream_st {
    int capturing;
    std::vector<Launch> recorded;
};
struct CUgraph_st {
    std::vector<Launch> launches;
};
struct CUgraphExec_st {
    std::vector<Launch> launches;
};

static cudaError_t last_error = cudaSuccess;

static cudaError_t fail(cudaError_t e)
{
    last_error = e;
    return e;
}

static void execute(const Launch &l)
{
    unsigned threads = l.block.x * l.block.y * l.block.z;
    if (fibers.size() < threads)
        fibers.resize(threads, Fiber{NULL, NULL, DONE, 0, 0, NULL});
    gridDim = l.grid;
    blockDim = l.block;
    kernel_body = &l.body;
    kernel_name = l.name;
    unsigned long long n = (unsigned long long)l.grid.x * l.grid.y * l.grid.z;
    /* visits every block once: i -> (i * step + start) mod n, step coprime to n */
    static unsigned long long launches;
    unsigned long long state = ++launches * 0x9e3779b97f4a7c15ull, step, start;
    state ^= state >> 29;
    start = state % n;
    step = (state >> 17) % n | 1;
    while (std::gcd(step, n) != 1)
        step += 2;
    for (unsigned long long i = 0; i < n; i++) {
        unsigned long long b = (i * step + start) % n;
        blockIdx = dim3((unsigned)(b % l.grid.x), (unsigned)(b / l.grid.x % l.grid.y),
                        (unsigned)(b / l.grid.x / l.grid.y));
        run_block((int)threads, b % 2 == 1);
    }
}

void emu_launch(dim3 grid, dim3 block, cudaStream_t s, const char *name, std::function<void()> body)
{
    unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
    if (threads == 0 || threads > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
        grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
        fail(cudaErrorInvalidConfiguration);
        return;
    }
    Launch l{grid, block, name, std::move(body)};
    if (s && s->capturing)
        s->recorded.push_back(std::move(l));
    else
        execute(l);
}

extern "C" {

cudaError_t cudaMalloc(void **p, size_t bytes)
{
    *p = malloc(bytes ? bytes : 1);
    return *p ? cudaSuccess : fail(cudaErrorMemoryAllocation);
}

cudaError_t cudaFree(void *p)
{
    free(p);
    return cudaSuccess;
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind)
{
    (void)kind;
    memcpy(dst, src, bytes);
    return cudaSuccess;
}

cudaError_t cudaMemset(void *p, int value, size_t bytes)
{
    memset(p, value, bytes);
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void)
{
    return cudaSuccess;
}

cudaError_t cudaGetDevice(int *device)
{
    *device = 0; /* one device */
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}

const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    default: return "unspecified launch failure";
    }
}

const char *cudaGetErrorName(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    default: return "cudaErrorLaunchFailure";
    }
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned int flags)
{
    (void)flags;
    *s = new CUstream_st();
    return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, enum cudaStreamCaptureMode mode)
{
    (void)mode;
    if (!s || s->capturing)
        return fail(cudaErrorInvalidValue);
    s->capturing = 1;
    s->recorded.clear();
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g)
{
    if (!s || !s->capturing)
        return fail(cudaErrorInvalidValue);
    s->capturing = 0;
    *g = new CUgraph_st{std::move(s->recorded)};
    s->recorded.clear();
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t *e, cudaGraph_t g, unsigned long long flags)
{
    (void)flags;
    *e = new CUgraphExec_st{g->launches};
    return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t g)
{
    delete g;
    return cudaSuccess;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t e)
{
    delete e;
    return cudaSuccess;
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t e, cudaStream_t s)
{
    (void)s;
    for (const Launch &l : e->launches)
        execute(l);
    return cudaSuccess;
}

} /* extern "C" */
