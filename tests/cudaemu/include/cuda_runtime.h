/* tests/cudaemu: the device side of the CUDA dialect spgen emits, as plain
   C++ for the CPU emulator (emu.cpp). A block's threads are fibers switched at
   __syncthreads and at warp shuffles; __shared__ is static (one block runs at
   a time). Launches are rewritten to emu_launch by nvcc_emu. */
#ifndef CUDAEMU_RUNTIME_H
#define CUDAEMU_RUNTIME_H
#include <string.h>

#include <functional>

#include "cuda_runtime_api.h"

struct dim3 {
    unsigned int x, y, z;
    dim3(unsigned int a = 1, unsigned int b = 1, unsigned int c = 1) : x(a), y(b), z(c) {}
};

extern dim3 threadIdx, blockIdx, blockDim, gridDim;

struct alignas(16) float4 {
    float x, y, z, w;
};

inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

#define __global__
#define __device__
#define __host__
#if defined(__SANITIZE_ADDRESS__)
#define __shared__ static
#else
/* one section for all of them, which the emulator fills with NaN before each
   block: a read of shared memory the block has not written shows in the
   output (without ASan only: it leaves sectioned variables unguarded) */
#define __shared__ static __attribute__((section("emu_shared")))
#endif
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

template <class T> inline T __ldg(const T *p) { return *p; }
float __shfl_xor_sync(unsigned int mask, float v, int lane_mask);
void emu_syncthreads(int line);
#define __syncthreads() emu_syncthreads(__LINE__)

/* Runs (or, while the stream captures, records) body on every thread of grid x block. */
void emu_launch(dim3 grid, dim3 block, cudaStream_t s, const char *name, std::function<void()> body);

template <class T>
cudaError_t cudaMemcpyToSymbol(T &symbol, const void *src, size_t bytes, size_t offset = 0,
                               enum cudaMemcpyKind kind = cudaMemcpyHostToDevice)
{
    (void)kind;
    if (offset + bytes > sizeof symbol)
        return cudaErrorInvalidValue;
    memcpy((char *)&symbol + offset, src, bytes);
    return cudaSuccess;
}

template <class T> cudaError_t cudaGetSymbolAddress(void **p, T &symbol)
{
    *p = (void *)&symbol;
    return cudaSuccess;
}

#endif
