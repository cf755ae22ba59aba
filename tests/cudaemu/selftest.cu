/* tests/cudaemu/selftest.cu: the emulator finds what it is there to find.
   selftest MODE, MODE one of
     ok        a block reduction with shuffles and shared memory: prints the sum, exit 0
     diverge   half of each warp at __syncthreads, half at a shuffle: stopped
     barriers  two __syncthreads that different threads reach: stopped
     exited    a full-mask shuffle after some lanes returned: stopped
     oob       reads one past a __device__ array: ASan reports it (built with ASan)
     config    a block of 2048 threads: the launch fails with a CUDA error
     order     each block reads what the block before it wrote: the scrambled
               block order breaks the chain
     race      the last thread reads what thread 0 wrote to shared memory,
               with no __syncthreads between: a stale value is read
     unwritten reads a shared slot no thread wrote: NaN, in the build without
               ASan */
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>

__device__ float data[256];

static __device__ __forceinline__ float warp_sum(float v)
{
    for (int m = 16; m > 0; m /= 2)
        v += __shfl_xor_sync(0xffffffffu, v, m);
    return v;
}

__global__ void sum(float *out, int mode)
{
    __shared__ float part[8];
    const int t = threadIdx.x;
    if (mode == 2 && t % 32 == 5)
        return;
    float v = warp_sum(data[t + (mode == 3 && t == 255 ? 1 : 0)]);
    if (t % 32 == 0)
        part[t / 32] = v;
    if (mode == 1 && t % 32 >= 16)
        v = warp_sum(v);
    if (mode == 5 && t >= 128)
        __syncthreads();
    else
        __syncthreads();
    if (t == 0) {
        float s = 0.0f;
        for (int i = 0; i < 8; i++)
            s += part[i];
        *out = s;
    }
}

__global__ void chain(float *link)
{
    const int b = blockIdx.x;
    link[b] = b == 0 ? 1.0f : link[b - 1] + 1.0f;
}

__global__ void unsynced(float *out)
{
    __shared__ float first;
    if (threadIdx.x == 0)
        first = (float)(blockIdx.x + 1);
    if (threadIdx.x == blockDim.x - 1)
        out[blockIdx.x] = first;
}

__global__ void half_written(float *out)
{
    __shared__ float slot[2];
    if (threadIdx.x == 0)
        slot[0] = 1.0f;
    __syncthreads();
    if (threadIdx.x == 0)
        out[0] = slot[0] + slot[1];
}

int main(int argc, char **argv)
{
    static const char *modes[] = {"ok", "diverge", "exited", "oob", "config", "barriers", "order", "race", "unwritten"};
    int mode = -1;
    for (int i = 0; i < (int)(sizeof modes / sizeof *modes); i++)
        if (argc > 1 && strcmp(argv[1], modes[i]) == 0)
            mode = i;
    if (mode < 0)
        return 2;
    if (mode == 6) {
        float link[64] = {0.0f}, *d_link, last = 0.0f;
        cudaStream_t s = 0;
        cudaMalloc((void **)&d_link, sizeof link);
        cudaMemcpy(d_link, link, sizeof link, cudaMemcpyHostToDevice);
        chain<<<dim3(64, 1, 1), dim3(32, 1, 1), 0, s>>>(d_link);
        cudaMemcpy(&last, d_link + 63, sizeof last, cudaMemcpyDeviceToHost);
        cudaFree(d_link);
        printf("chain %s\n", last == 64.0f ? "intact" : "broken");
        return 0;
    }
    if (mode == 7) {
        float seen[2] = {0.0f, 0.0f}, *d_seen;
        cudaStream_t s = 0;
        cudaMalloc((void **)&d_seen, sizeof seen);
        unsynced<<<dim3(2, 1, 1), dim3(64, 1, 1), 0, s>>>(d_seen);
        cudaMemcpy(seen, d_seen, sizeof seen, cudaMemcpyDeviceToHost);
        cudaFree(d_seen);
        printf("shared value %s\n", seen[0] == 1.0f && seen[1] == 2.0f ? "fresh" : "stale");
        return 0;
    }
    if (mode == 8) {
        float got = 0.0f, *d_got;
        cudaStream_t s = 0;
        cudaMalloc((void **)&d_got, sizeof got);
        half_written<<<dim3(1, 1, 1), dim3(32, 1, 1), 0, s>>>(d_got);
        cudaMemcpy(&got, d_got, sizeof got, cudaMemcpyDeviceToHost);
        cudaFree(d_got);
        printf("unwritten slot %s\n", got != got ? "NaN" : "a number");
        return 0;
    }
    float host[256], *out, result = 0.0f;
    for (int i = 0; i < 256; i++)
        host[i] = (float)i;
    cudaMemcpyToSymbol(data, host, sizeof host);
    cudaMalloc((void **)&out, sizeof(float));
    cudaStream_t s = 0;
    if (mode == 4)
        sum<<<dim3(1, 1, 1), dim3(2048, 1, 1), 0, s>>>(out, mode);
    else
        sum<<<dim3(1, 1, 1), dim3(256, 1, 1), 0, s>>>(out, mode);
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess)
        cudaMemcpy(&result, out, sizeof(float), cudaMemcpyDeviceToHost);
    cudaFree(out);
    if (e != cudaSuccess) {
        printf("launch failed: %s\n", cudaGetErrorName(e));
        return 1;
    }
    printf("sum %g\n", result);
    return 0;
}
