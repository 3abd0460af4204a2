// A libcuda.so.1 stand-in that runs segloss.cu on the host (see emu_runtime.h): the driver-API
// calls libJCudaDriver makes for the segloss CUDA backend, with device memory = host memory.
// Built and used by ci/emulated-gpu-check.sh only.
// _longjmp between fiber stacks: not the checked __longjmp_chk that _FORTIFY_SOURCE (on by default in some
// compilers) substitutes, which refuses a jump to another stack.
#undef _FORTIFY_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <string>
#include <setjmp.h>
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
// A fiber starts on its own stack through makecontext / setcontext; after that, fibers and the scheduler switch
// with _setjmp / _longjmp, which save and restore registers only. swapcontext would also save and restore the
// signal mask with a system call at every switch: two per fiber per barrier, the bulk of the emulation's time.
struct Fiber {
    ucontext_t context;
    jmp_buf resume;
    bool started = false;
    std::vector<char> stack = std::vector<char>(FIBER_STACK);
    Dim3 idx;
    EmuBarrier* waiting = nullptr;
    long waiting_generation = 0;
    bool finished = false;
};
jmp_buf scheduler;
Fiber* current;
std::function<void()>* body;

void fiber_main() {
    (*body)();
    current->finished = true;
    _longjmp(scheduler, 1);
}

// Runs fiber f until it waits at a barrier or finishes.
void resume(Fiber& f) {
    if (_setjmp(scheduler) == 0) {
        if (!f.started) {
            f.started = true;
            setcontext(&f.context);
        }
        _longjmp(f.resume, 1);
    }
}

// Runs `kernel` as `threads` fibers to completion; returns false on a barrier deadlock.
bool run_block(unsigned threads, std::function<void()>& kernel) {
    static std::vector<Fiber> fibers(256);
    body = &kernel;
    for (unsigned t = 0; t < threads; t++) {
        Fiber& f = fibers[t];
        f.idx.x = t;
        f.finished = false;
        f.started = false;
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
            resume(f);
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
    if (_setjmp(self->resume) == 0) _longjmp(scheduler, 1);
}

#include "segloss_emu.inc"
#include "edt_emu.inc"
#include "lovasz_emu.inc"

typedef int CUresult;
typedef unsigned long long CUdeviceptr;
// The specialised stats / grad / confusion entries of segloss.cu (the SEGLOSS_*_ENTRIES lists of segloss_gen.h)
// share one parameter list per pass: a launch calls the entry through a pointer of that pass's type.
enum Kind { KIND_NAMED, KIND_STATS, KIND_GRAD, KIND_CONFUSION };
using StatsFn = decltype(&stats_binary_logits_none_float32);
using GradFn = decltype(&grad_binary_logits_none_float32);
using ConfusionFn = decltype(&confusion_binary_logits_float32);
struct Function { const char* name; Kind kind = KIND_NAMED; void* entry = nullptr; };
#define STATS_ROW(name, ...) {#name, KIND_STATS, (void*) &name},
#define GRAD_ROW(name, ...) {#name, KIND_GRAD, (void*) &name},
#define CONFUSION_ROW(name, ...) {#name, KIND_CONFUSION, (void*) &name},
static Function functions[] = {
    SEGLOSS_STATS_BINARY_ENTRIES(STATS_ROW) SEGLOSS_STATS_MULTICLASS_ENTRIES(STATS_ROW)
    SEGLOSS_GRAD_BINARY_ENTRIES(GRAD_ROW) SEGLOSS_GRAD_MULTICLASS_ENTRIES(GRAD_ROW)
    SEGLOSS_CONFUSION_BINARY_ENTRIES(CONFUSION_ROW) SEGLOSS_CONFUSION_MULTICLASS_ENTRIES(CONFUSION_ROW)
    {"stream_read"}, {"combine"}, {"lovasz_keys"}, {"lovasz_sort_local"}, {"lovasz_merge_local"}, {"lovasz_sort_step"},
    {"lovasz_count"}, {"lovasz_apply"}, {"lovasz_softmax_chain"}, {"edt_pass"}};
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
    const Function& fn = *(const Function*) f;
    std::string name = fn.name;
    std::vector<unsigned char> dynamic(shared + 16);
    for (unsigned b = 0; b < gx; b++) {
        EmuBarrier block{(int) bx};
        EmuWarp warps[8];
        emu_block_barrier = &block;
        emu_warps = warps;
        emu_dynamic_shared = dynamic.data();
        blockIdx.x = b;
        std::function<void()> kernel = [&] {
                if (fn.kind == KIND_STATS) {
                    ((StatsFn) fn.entry)(ARG(0, const float*), ARG(1, const void*), ARG(2, double*), ARG(3, long long),
                                         ARG(4, long long), ARG(5, long long), ARG(6, long long), ARG(7, int),
                                         ARG(8, float), ARG(9, int), ARG(10, int), ARG(11, float), ARG(12, float),
                                         ARG(13, float), ARG(14, const float*), ARG(15, float), ARG(16, float),
                                         ARG(17, int), ARG(18, int));
                } else if (fn.kind == KIND_GRAD) {
                    ((GradFn) fn.entry)(ARG(0, const float*), ARG(1, const void*), ARG(2, const float*), ARG(3, float*),
                                        ARG(4, long long), ARG(5, long long), ARG(6, long long), ARG(7, long long),
                                        ARG(8, long long), ARG(9, int), ARG(10, float), ARG(11, int), ARG(12, int),
                                        ARG(13, float), ARG(14, float), ARG(15, float), ARG(16, float), ARG(17, float),
                                        ARG(18, float), ARG(19, float), ARG(20, int), ARG(21, int));
                } else if (fn.kind == KIND_CONFUSION) {
                    ((ConfusionFn) fn.entry)(ARG(0, const float*), ARG(1, const void*), ARG(2, unsigned long long*),
                                             ARG(3, long long), ARG(4, long long), ARG(5, long long), ARG(6, long long),
                                             ARG(7, int), ARG(8, float), ARG(9, int), ARG(10, int), ARG(11, double),
                                             ARG(12, int), ARG(13, int));
                } else if (name == "edt_pass") {
                    edt_pass(ARG(0, float*), ARG(1, int*), ARG(2, float*), ARG(3, double*), ARG(4, long long),
                             ARG(5, long long), ARG(6, long long), ARG(7, double));
                } else if (name == "lovasz_keys") {
                    lovasz_keys(ARG(0, const float*), ARG(1, const void*), ARG(2, lz_u64*), ARG(3, unsigned*), ARG(4, int),
                                ARG(5, long long), ARG(6, long long), ARG(7, long long), ARG(8, int), ARG(9, int),
                                ARG(10, int), ARG(11, int), ARG(12, int), ARG(13, int), ARG(14, int));
                } else if (name == "lovasz_sort_local") {
                    lovasz_sort_local(ARG(0, lz_u64*), ARG(1, long long), ARG(2, int));
                } else if (name == "lovasz_merge_local") {
                    lovasz_merge_local(ARG(0, lz_u64*), ARG(1, long long), ARG(2, int));
                } else if (name == "lovasz_sort_step") {
                    lovasz_sort_step(ARG(0, lz_u64*), ARG(1, long long), ARG(2, long long), ARG(3, long long), ARG(4, int),
                                     ARG(5, int));
                } else if (name == "lovasz_count") {
                    lovasz_count(ARG(0, const lz_u64*), ARG(1, const void*), ARG(2, unsigned*), ARG(3, int),
                                 ARG(4, long long), ARG(5, long long), ARG(6, long long), ARG(7, int), ARG(8, int),
                                 ARG(9, int), ARG(10, int), ARG(11, int), ARG(12, int), ARG(13, int));
                } else if (name == "lovasz_apply") {
                    lovasz_apply(ARG(0, const lz_u64*), ARG(1, const void*), ARG(2, const unsigned*), ARG(3, const unsigned*),
                                 ARG(4, const float*), ARG(5, float*), ARG(6, float*), ARG(7, int), ARG(8, int),
                                 ARG(9, long long), ARG(10, long long), ARG(11, long long), ARG(12, int), ARG(13, int),
                                 ARG(14, int), ARG(15, int), ARG(16, int), ARG(17, int), ARG(18, int));
                } else if (name == "lovasz_softmax_chain") {
                    lovasz_softmax_chain(ARG(0, const float*), ARG(1, float*), ARG(2, long long), ARG(3, long long),
                                         ARG(4, int), ARG(5, int));
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
