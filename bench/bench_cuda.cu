/* Times one emitted network's CUDA build (scripts/bench_cuda.sh builds it once
   per network and batch, with -DNET=name -DUNET=NAME): whole-network graph
   launches timed with CUDA events after a warm-up, the median over RUNS
   samples of REPS back-to-back inferences each. Prints one line:
       spgen NET batch N: median MS ms, min MS ms per inference (of the batch)
   With -DLAYERS (the .cu built with -DNAME_CUDA_LAYER_TIMES and
   -DNAME_CUDA_NO_GRAPH) it prints each layer's median GPU time instead,
   each run queued behind a kernel that holds the GPU until all its launches
   are in:
       layer I MS
   Exit 1 with the reason on any CUDA error. */
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <vector>

#include <cuda_runtime.h>

#include "paste.h"

#define HDR(n) STR(CAT(n, _cuda).h)
#include HDR(NET)

#define IN_SIZE CAT(UNET, _IN_SIZE)
#define OUT_SIZE CAT(UNET, _OUT_SIZE)

static const int WARM = 50, RUNS = 31, REPS = 20;

static int check(cudaError_t e, const char *what)
{
    if (e != cudaSuccess) {
        fprintf(stderr, "bench_cuda %s: %s: %s\n", STR(NET), what, cudaGetErrorString(e));
        exit(1);
    }
    return 0;
}

#ifdef LAYERS
/* Keeps the GPU busy (about 0.5 ms) while the host enqueues the network's
   kernels one by one, so the layer events time the GPU, not the launches. */
__global__ void hold(long long cycles)
{
    const long long start = clock64();
    while (clock64() - start < cycles) {
    }
}
#endif

static void run(const float *in, float *out, cudaStream_t s)
{
    if (CAT(NET, _cuda_run)(in, out, s) != 0) {
        fprintf(stderr, "bench_cuda: %s\n", CAT(NET, _cuda_error)());
        exit(1);
    }
}

int main(void)
{
    float *in, *out;
    cudaStream_t s;
    cudaEvent_t t0, t1;
    if (CAT(NET, _cuda_init)() != 0) {
        fprintf(stderr, "bench_cuda: %s\n", CAT(NET, _cuda_error)());
        return 1;
    }
    check(cudaMalloc((void **)&in, sizeof(float) * IN_SIZE), "cudaMalloc");
    check(cudaMalloc((void **)&out, sizeof(float) * OUT_SIZE), "cudaMalloc");
    std::vector<float> host(IN_SIZE);
    for (size_t i = 0; i < host.size(); i++)
        host[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    check(cudaMemcpy(in, host.data(), sizeof(float) * IN_SIZE, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaDeviceSynchronize(), "cudaMemcpy"); /* the stream below does not wait for the legacy one */
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
    check(cudaEventCreate(&t0), "cudaEventCreate");
    check(cudaEventCreate(&t1), "cudaEventCreate");
    for (int i = 0; i < WARM; i++)
        run(in, out, s);
    check(cudaStreamSynchronize(s), "warm-up");
#ifdef LAYERS
    std::vector<std::vector<float>> layer(CAT(UNET, _CUDA_LAYERS));
    std::vector<float> ms(CAT(UNET, _CUDA_LAYERS));
    for (int r = 0; r < RUNS * REPS; r++) {
        hold<<<1, 1, 0, s>>>(1000000);
        check(cudaGetLastError(), "launching the hold kernel");
        run(in, out, s);
        if (CAT(NET, _cuda_layer_ms)(ms.data()) != 0) {
            fprintf(stderr, "bench_cuda: %s\n", CAT(NET, _cuda_error)());
            return 1;
        }
        for (size_t i = 0; i < ms.size(); i++)
            layer[i].push_back(ms[i]);
    }
    for (size_t i = 0; i < layer.size(); i++) {
        std::sort(layer[i].begin(), layer[i].end());
        printf("layer %zu %.5f\n", i + 1, layer[i][layer[i].size() / 2]);
    }
#else
    std::vector<float> t;
    for (int r = 0; r < RUNS; r++) {
        float ms;
        check(cudaEventRecord(t0, s), "cudaEventRecord");
        for (int i = 0; i < REPS; i++)
            run(in, out, s);
        check(cudaEventRecord(t1, s), "cudaEventRecord");
        check(cudaEventSynchronize(t1), "running");
        check(cudaEventElapsedTime(&ms, t0, t1), "cudaEventElapsedTime");
        t.push_back(ms / REPS);
    }
    std::sort(t.begin(), t.end());
    printf("spgen %s batch %d: median %.4f ms, min %.4f ms per inference\n", STR(NET), CAT(UNET, _BATCH),
           t[t.size() / 2], t[0]);
#endif
    CAT(NET, _cuda_free)();
    return 0;
}
