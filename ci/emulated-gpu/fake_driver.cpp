// A libcuda.so.1 stand-in that runs segloss.cu on the host (see emu_runtime.h): the driver-API
// calls libJCudaDriver makes for the segloss CUDA backend, with device memory = host memory.
// Built and used by ci/emulated-gpu-check.sh only.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <ucontext.h>
#include <functional>
#include <vector>
#include "emu_runtime.h"

Dim3* emu_thread_idx;
Dim3 blockIdx;
EmuBarrier* emu_block_barrier;
EmuWarp* emu_warps;
unsigned char* emu_dynamic_shared;

namespace {
const size_t FIBER_STACK = 256 * 1024;
struct Fiber {
    ucontext_t context;
    std::vector<char> stack = std::vector<char>(FIBER_STACK);
    Dim3 idx;
    EmuBarrier* waiting = nullptr;
    long waiting_generation = 0;
    bool finished = false;
};
ucontext_t scheduler;
Fiber* current;
std::function<void()>* body;

void fiber_main() {
    (*body)();
    current->finished = true;
    swapcontext(&current->context, &scheduler);
}

// Runs `kernel` as `threads` fibers to completion; returns false on a barrier deadlock.
bool run_block(unsigned threads, std::function<void()>& kernel) {
    static std::vector<Fiber> fibers(256);
    body = &kernel;
    for (unsigned t = 0; t < threads; t++) {
        Fiber& f = fibers[t];
        f.idx.x = t;
        f.finished = false;
        f.waiting = nullptr;
        getcontext(&f.context);
        f.context.uc_stack.ss_sp = f.stack.data();
        f.context.uc_stack.ss_size = f.stack.size();
        f.context.uc_link = nullptr;
        makecontext(&f.context, fiber_main, 0);
    }
    for (;;) {
        bool progress = false;
        bool all_done = true;
        for (unsigned t = 0; t < threads; t++) {
            Fiber& f = fibers[t];
            if (f.finished) continue;
            all_done = false;
            if (f.waiting != nullptr && f.waiting->generation == f.waiting_generation) continue;
            f.waiting = nullptr;
            current = &f;
            emu_thread_idx = &f.idx;
            swapcontext(&scheduler, &f.context);
            progress = true;
        }
        if (all_done) return true;
        if (!progress) {
            fprintf(stderr, "emulated gpu: barrier deadlock in block %u\n", blockIdx.x);
            return false;
        }
    }
}
}  // namespace

void emu_barrier_wait(EmuBarrier* b) {
    Fiber* self = current;
    self->waiting = b;
    self->waiting_generation = b->generation;
    if (++b->arrived == b->participants) {
        b->arrived = 0;
        b->generation++;
    }
    swapcontext(&self->context, &scheduler);
}

#include "segloss_emu.inc"
#include "edt_emu.inc"

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
struct Function { const char* name; };
static Function functions[] = {{"stats"}, {"grad"}, {"confusion"}, {"stream_read"}, {"combine"}, {"edt_pass"}};
static const size_t EMU_MEMORY = 4ull << 30;

extern "C" {
CUresult cuInit(unsigned) { return 0; }
CUresult cuDriverGetVersion(int* v) { *v = 12000; return 0; }
CUresult cuDeviceGetCount(int* c) { *c = 1; return 0; }
CUresult cuDeviceGet(int* d, int ordinal) { *d = ordinal; return ordinal == 0 ? 0 : 101; }
CUresult cuDeviceGetName(char* name, int len, int) { snprintf(name, len, "segloss host emulation"); return 0; }
CUresult cuDeviceTotalMem_v2(size_t* bytes, int) { *bytes = EMU_MEMORY; return 0; }
CUresult cuDeviceGetAttribute(int* v, int attribute, int) {
    *v = attribute == 75 ? 7 : attribute == 76 ? 5 : attribute == 16 ? 1 : 0;  // cc 7.5, 1 SM
    return 0;
}
CUresult cuMemGetInfo_v2(size_t* free_bytes, size_t* total) { *free_bytes = EMU_MEMORY; *total = EMU_MEMORY; return 0; }
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) { *ctx = (void*) 0x1000; return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int) { return 0; }
CUresult cuCtxSetCurrent(void*) { return 0; }
CUresult cuCtxGetCurrent(void** ctx) { *ctx = (void*) 0x1000; return 0; }
CUresult cuModuleLoadData(void** module, const void* image) {
    // a CUDA 12.0 (r525) driver: accepts PTX up to ISA 8.0, the oldest driver the shipped PTX is for
    const char* v = strstr((const char*) image, "\n.version ");
    int major = 0, minor = 0;
    if (v == nullptr || sscanf(v + 10, "%d.%d", &major, &minor) != 2) return 218;  // CUDA_ERROR_INVALID_PTX
    if (major * 10 + minor > 80) return 222;  // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
    *module = (void*) 0x2000;
    return 0;
}
CUresult cuModuleUnload(void*) { return 0; }
CUresult cuModuleGetFunction(void** f, void*, const char* name) {
    for (Function& fn : functions) {
        if (strcmp(fn.name, name) == 0) { *f = &fn; return 0; }
    }
    return 500;  // CUDA_ERROR_NOT_FOUND
}
CUresult cuStreamCreate(void** s, unsigned) { *s = (void*) 0x3000; return 0; }
CUresult cuStreamDestroy_v2(void*) { return 0; }
CUresult cuStreamSynchronize(void*) { return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t bytes) { *p = (CUdeviceptr) calloc(1, bytes ? bytes : 1); return *p ? 0 : 2; }
CUresult cuMemFree_v2(CUdeviceptr p) { free((void*) p); return 0; }
CUresult cuMemAllocHost_v2(void** p, size_t bytes) { *p = calloc(1, bytes); return *p ? 0 : 2; }
CUresult cuMemFreeHost(void* p) { free(p); return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void* h, size_t n) { memcpy((void*) d, h, n); return 0; }
CUresult cuMemcpyDtoH_v2(void* h, CUdeviceptr d, size_t n) { memcpy(h, (void*) d, n); return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void* h, size_t n, void*) { return cuMemcpyHtoD_v2(d, h, n); }
CUresult cuMemcpyDtoHAsync_v2(void* h, CUdeviceptr d, size_t n, void*) { return cuMemcpyDtoH_v2(h, d, n); }
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void*) { memmove((void*) dst, (const void*) src, n); return 0; }
CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { memset((void*) d, v, n); return 0; }
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void*) { return cuMemsetD8_v2(d, v, n); }
CUresult cuMemsetD32_v2(CUdeviceptr d, unsigned v, size_t n) { for (size_t i = 0; i < n; i++) ((unsigned*) d)[i] = v; return 0; }
CUresult cuMemsetD32Async(CUdeviceptr d, unsigned v, size_t n, void*) { return cuMemsetD32_v2(d, v, n); }

#define ARG(i, T) (*(T*) params[i])
CUresult cuLaunchKernel(void* f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        unsigned shared, void*, void** params, void**) {
    if (gy != 1 || gz != 1 || by != 1 || bz != 1 || bx != 256) return 1;  // CUDA_ERROR_INVALID_VALUE
    std::string name = ((Function*) f)->name;
    std::vector<unsigned char> dynamic(shared + 16);
    for (unsigned b = 0; b < gx; b++) {
        EmuBarrier block{(int) bx};
        EmuWarp warps[8];
        emu_block_barrier = &block;
        emu_warps = warps;
        emu_dynamic_shared = dynamic.data();
        blockIdx.x = b;
        std::function<void()> kernel = [&] {
                if (name == "stats") {
                    stats(ARG(0, const float*), ARG(1, const void*), ARG(2, double*), ARG(3, long long), ARG(4, long long),
                          ARG(5, int), ARG(6, int), ARG(7, int), ARG(8, int), ARG(9, int), ARG(10, int), ARG(11, int),
                          ARG(12, float), ARG(13, float), ARG(14, float), ARG(15, int), ARG(16, const float*),
                          ARG(17, float), ARG(18, float), ARG(19, int), ARG(20, int), ARG(21, int), ARG(22, int));
                } else if (name == "grad") {
                    grad(ARG(0, const float*), ARG(1, const void*), ARG(2, const float*), ARG(3, float*),
                         ARG(4, long long), ARG(5, long long), ARG(6, long long), ARG(7, int), ARG(8, int), ARG(9, int),
                         ARG(10, int), ARG(11, int), ARG(12, int), ARG(13, int), ARG(14, int), ARG(15, float),
                         ARG(16, float), ARG(17, float), ARG(18, int), ARG(19, int), ARG(20, float), ARG(21, float),
                         ARG(22, int), ARG(23, int), ARG(24, int), ARG(25, int));
                } else if (name == "confusion") {
                    confusion(ARG(0, const float*), ARG(1, const void*), ARG(2, unsigned long long*), ARG(3, long long),
                              ARG(4, long long), ARG(5, int), ARG(6, int), ARG(7, int), ARG(8, int), ARG(9, int),
                              ARG(10, int), ARG(11, double), ARG(12, int), ARG(13, int), ARG(14, int));
                } else if (name == "edt_pass") {
                    edt_pass(ARG(0, float*), ARG(1, int*), ARG(2, float*), ARG(3, double*), ARG(4, long long),
                             ARG(5, long long), ARG(6, long long), ARG(7, double));
                } else if (name == "stream_read") {
                    stream_read(ARG(0, const float*), ARG(1, double*), ARG(2, long long), ARG(3, int));
                } else {
                    combine(ARG(0, const double*), ARG(1, double*), ARG(2, int), ARG(3, int), ARG(4, int));
                }
        };
        if (getenv("EMU_TRACE")) fprintf(stderr, "emulated gpu: %s block %u of %u\n", name.c_str(), b, gx);
        if (!run_block(bx, kernel)) return 719;  // CUDA_ERROR_LAUNCH_FAILED
    }
    return 0;
}
}
