// segloss CUDA kernel: one pass of the exact squared Euclidean distance transform along one axis
// (Felzenszwalb and Huttenlocher, "Distance Transforms of Sampled Functions"); the host runs one
// pass per axis, fastest axis first. Its own PTX module (ci/build-ptx.sh -> ptx/edt.ptx), loaded by
// CudaBackend on the first distanceTransform.
//
// One thread per line: element p of line `line` is at g[base + p * stride] with
// base = (line / stride) * len * stride + line % stride. With w = spacing^2 of the axis,
//   g(p) = min_q ( w (p - q)^2 + f(q) )
// over the finite f(q) (+inf marks "no feature"), by the lower envelope of parabolas: parabola k is
// rooted at v[k] with value fv[k] and lowest from z[k] on; the parabolas of q and v meet at
//   s = ((f(q) + w q^2) - (f(v) + w v^2)) / (2 w (q - v)).
// Double arithmetic in the order of org.segloss.backend.cpu.DistanceTransform; __dmul_rn / __dadd_rn /
// __dsub_rn / __ddiv_rn are never fused into multiply-adds, so the bits equal the CPU's; each output is
// rounded once to float. Scratch per line: v, fv, z (len entries each) at line * len.

#include <math.h>
#include <stdint.h>

#define EDT_THREADS 256

extern "C" __global__ void __launch_bounds__(EDT_THREADS)
edt_pass(float* g, int* v, float* fv, double* z, long long lines, long long len, long long stride, double w) {
    long long line = (long long) blockIdx.x * EDT_THREADS + threadIdx.x;
    if (line >= lines) {
        return;
    }
    long long base = (line / stride) * len * stride + line % stride;
    int* vv = v + line * len;
    float* ff = fv + line * len;
    double* zz = z + line * len;
    long long k = -1;
    for (long long q = 0; q < len; q++) {
        float fq = g[base + q * stride];
        if (isinf(fq)) {
            continue;
        }
        double dq = (double) q;
        double s = -HUGE_VAL;
        while (k >= 0) {
            double dv = (double) vv[k];
            double num = __dsub_rn(__dadd_rn((double) fq, __dmul_rn(__dmul_rn(w, dq), dq)),
                                   __dadd_rn((double) ff[k], __dmul_rn(__dmul_rn(w, dv), dv)));
            s = __ddiv_rn(num, __dmul_rn(__dmul_rn(2.0, w), __dsub_rn(dq, dv)));
            if (s > zz[k]) {
                break;
            }
            k--;
            s = -HUGE_VAL;
        }
        k++;
        vv[k] = (int) q;
        ff[k] = fq;
        zz[k] = s;
    }
    if (k < 0) {
        return;
    }
    long long j = 0;
    for (long long p = 0; p < len; p++) {
        double dp = (double) p;
        while (j < k && zz[j + 1] < dp) {
            j++;
        }
        double d = __dsub_rn(dp, (double) vv[j]);
        g[base + p * stride] = __double2float_rn(__dadd_rn(__dmul_rn(__dmul_rn(w, d), d), (double) ff[j]));
    }
}
