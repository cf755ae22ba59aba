/* The floor under a whole-network graph (scripts/bench_cuda.sh): a graph of
   KERNELS empty kernels of BLOCKS blocks, replayed as bench_cuda.cu replays a
   network. What is left of a network's time is its kernels' work. Prints
       launch floor: K empty kernels of B blocks in a graph: MS ms
   Build: nvcc -O3 -arch=native -DKERNELS=21 -DBLOCKS=256. Exit 1 on a CUDA error. */
#include <stdio.h>
#include <stdlib.h>

#include <algorithm>
#include <vector>

#include <cuda_runtime.h>

static const int WARM = 50, RUNS = 31, REPS = 20;

static void check(cudaError_t e, const char *what)
{
    if (e != cudaSuccess) {
        fprintf(stderr, "launch_floor: %s: %s\n", what, cudaGetErrorString(e));
        exit(1);
    }
}

__global__ void empty(void)
{
}

int main(void)
{
    cudaStream_t s;
    cudaGraph_t g;
    cudaGraphExec_t exec;
    cudaEvent_t t0, t1;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "stream");
    check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "capture");
    for (int i = 0; i < KERNELS; i++) {
        empty<<<BLOCKS, 128, 0, s>>>();
        check(cudaGetLastError(), "launch");
    }
    check(cudaStreamEndCapture(s, &g), "capture");
    check(cudaGraphInstantiateWithFlags(&exec, g, 0), "instantiate");
    check(cudaEventCreate(&t0), "event");
    check(cudaEventCreate(&t1), "event");
    for (int i = 0; i < WARM; i++)
        check(cudaGraphLaunch(exec, s), "warm-up");
    std::vector<float> t;
    for (int r = 0; r < RUNS; r++) {
        float ms;
        check(cudaEventRecord(t0, s), "event");
        for (int i = 0; i < REPS; i++)
            check(cudaGraphLaunch(exec, s), "replay");
        check(cudaEventRecord(t1, s), "event");
        check(cudaEventSynchronize(t1), "replay");
        check(cudaEventElapsedTime(&ms, t0, t1), "event");
        t.push_back(ms / REPS);
    }
    std::sort(t.begin(), t.end());
    printf("launch floor: %d empty kernels of %d blocks in a graph: %.4f ms\n", KERNELS, BLOCKS, t[t.size() / 2]);
    return 0;
}
