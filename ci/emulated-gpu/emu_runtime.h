// Host emulation of the CUDA features segloss.cu uses, for ci/emulated-gpu-check.sh. Every block
// runs as THREADS fibers (started with ucontext, switched with _setjmp / _longjmp) on one OS thread, one block at a time (so `__shared__` can be
// `static`). A fiber runs until it reaches a barrier (__syncthreads, __syncwarp, or the exchange
// steps of __shfl_down_sync) and may continue only once every thread of that barrier has arrived;
// a barrier that some thread never reaches is reported as a deadlock. This checks the kernels'
// logic (indexing, codes, reductions, barriers) and the Java host code without a GPU; float
// rounding differs from the device (no FMA contraction, glibc expf/logf).
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __shared__ static

struct Dim3 { unsigned x = 0, y = 0, z = 0; };
extern Dim3* emu_thread_idx;
extern Dim3 blockIdx;
#define threadIdx (*emu_thread_idx)

struct EmuBarrier {
    int participants;
    int arrived = 0;
    long generation = 0;
};
struct EmuWarp {
    EmuBarrier barrier{32};
    double exchange[32];
};
extern EmuBarrier* emu_block_barrier;
extern EmuWarp* emu_warps;
extern unsigned char* emu_dynamic_shared;

// Arrive at b and yield to the scheduler until every participant has arrived.
void emu_barrier_wait(EmuBarrier* b);

inline void __syncthreads() { emu_barrier_wait(emu_block_barrier); }
inline void __syncwarp() { emu_barrier_wait(&emu_warps[threadIdx.x >> 5].barrier); }

template <class T>
inline T __shfl_down_sync(unsigned /*mask*/, T v, int offset) {
    EmuWarp& w = emu_warps[threadIdx.x >> 5];
    int lane = threadIdx.x & 31;
    w.exchange[lane] = (double) v;
    emu_barrier_wait(&w.barrier);
    double r = lane + offset < 32 ? w.exchange[lane + offset] : (double) v;
    emu_barrier_wait(&w.barrier);
    return (T) r;
}

inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) { unsigned long long o = *p; *p += v; return o; }
inline unsigned int atomicAdd(unsigned int* p, unsigned int v) { unsigned int o = *p; *p += v; return o; }

// IEEE double operations that CUDA never fuses into multiply-adds (edt.cu); plain operations on the host
// (x86-64 without -mfma emits no FMA).
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline float __double2float_rn(double a) { return (float) a; }

// Bit casts of lovasz.cu.
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
