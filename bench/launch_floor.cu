/* The floor under a whole-network graph (scripts/bench_cuda.sh): a graph of
   KERNELS kernels that do nothing but the programmatic-launch wait of the
   emitted kernels, replayed like bench_cuda.cu times a network, with plain
   launches and with overlapping ones (what the emitted code does on sm_90).
   Prints one line:
       launch floor: K empty kernels of B blocks in a graph: plain MS ms, overlapped MS ms
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
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;\n\tgriddepcontrol.launch_dependents;" ::: "memory");
#endif
}

/* ms per replay of a graph of KERNELS launches of empty, median */
static float time_graph(cudaStream_t s, int overlap)
{
    cudaLaunchAttribute a[1];
    a[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    a[0].val.programmaticStreamSerializationAllowed = overlap;
    cudaLaunchConfig_t c = {};
    c.gridDim = dim3(BLOCKS);
    c.blockDim = dim3(128);
    c.stream = s;
    c.attrs = a;
    c.numAttrs = 1;
    cudaGraph_t g;
    cudaGraphExec_t exec;
    check(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "capture");
    for (int i = 0; i < KERNELS; i++)
        check(cudaLaunchKernelEx(&c, empty), "launch");
    check(cudaStreamEndCapture(s, &g), "capture");
    check(cudaGraphInstantiateWithFlags(&exec, g, 0), "instantiate");
    cudaEvent_t t0, t1;
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
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(g);
    return t[t.size() / 2];
}

int main(void)
{
    cudaStream_t s;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "stream");
    const float plain = time_graph(s, 0), overlapped = time_graph(s, 1);
    printf("launch floor: %d empty kernels of %d blocks in a graph: plain %.4f ms, overlapped %.4f ms\n", KERNELS,
           BLOCKS, plain, overlapped);
    return 0;
}
