/*
 * segloss_edt.h: one line of the exact squared Euclidean distance transform (Felzenszwalb and Huttenlocher,
 * "Distance Transforms of Sampled Functions"), defined ONCE for both devices: kernels-cl/edt.cl (OpenCL C,
 * included through the host's #include expansion, after segloss_terms.h) and kernels-cu/edt.cu (CUDA) call
 * edt_line. Written in the common subset of OpenCL C 1.2 and CUDA C++, like segloss_terms.h (SL_FN from there).
 *
 * The host runs one pass per axis, fastest axis first; each line is one work-item / thread. Element p of the line
 * is at g[base + p * stride]. With w = spacing^2 of the axis,
 *   g(p) = min_q ( w (p - q)^2 + f(q) )
 * over the finite f(q) (+inf marks "no feature"), by the lower envelope of parabolas: parabola k is rooted at
 * v[k] with value fv[k] and lowest from z[k] on; the parabolas of q and v meet at
 *   s = ((f(q) + w q^2) - (f(v) + w v^2)) / (2 w (q - v)).
 * Double arithmetic in the order of org.segloss.backend.cpu.DistanceTransform with no contraction into fused
 * multiply-adds (OpenCL: FP_CONTRACT OFF; CUDA: the __d*_rn intrinsics, which are never fused), each output
 * rounded once to float: the same bits as the CPU. Scratch of the line: vv, ff, zz (len entries each).
 */
#ifndef SEGLOSS_EDT_H
#define SEGLOSS_EDT_H

#ifdef __OPENCL_VERSION__
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL FP_CONTRACT OFF
#define EDT_GLOBAL __global
#define EDT_LONG long
#define EDT_NEG_INF (-INFINITY)
#define EDT_ADD(a, b) ((a) + (b))
#define EDT_SUB(a, b) ((a) - (b))
#define EDT_MUL(a, b) ((a) * (b))
#define EDT_DIV(a, b) ((a) / (b))
#define EDT_TO_FLOAT(a) ((float) (a))
#else
#define EDT_GLOBAL
#define EDT_LONG long long
#define EDT_NEG_INF (-HUGE_VAL)
#define EDT_ADD(a, b) __dadd_rn(a, b)
#define EDT_SUB(a, b) __dsub_rn(a, b)
#define EDT_MUL(a, b) __dmul_rn(a, b)
#define EDT_DIV(a, b) __ddiv_rn(a, b)
#define EDT_TO_FLOAT(a) __double2float_rn(a)
#endif

SL_FN void edt_line(EDT_GLOBAL float *g, EDT_GLOBAL int *vv, EDT_GLOBAL float *ff, EDT_GLOBAL double *zz,
                    EDT_LONG base, EDT_LONG len, EDT_LONG stride, double w) {
    EDT_LONG k = -1;
    for (EDT_LONG q = 0; q < len; q++) {
        float fq = g[base + q * stride];
        if (isinf(fq)) {
            continue;
        }
        double dq = (double) q;
        double s = EDT_NEG_INF;
        while (k >= 0) {
            double dv = (double) vv[k];
            double num = EDT_SUB(EDT_ADD((double) fq, EDT_MUL(EDT_MUL(w, dq), dq)),
                                 EDT_ADD((double) ff[k], EDT_MUL(EDT_MUL(w, dv), dv)));
            s = EDT_DIV(num, EDT_MUL(EDT_MUL(2.0, w), EDT_SUB(dq, dv)));
            if (s > zz[k]) {
                break;
            }
            k--;
            s = EDT_NEG_INF;
        }
        k++;
        vv[k] = (int) q;
        ff[k] = fq;
        zz[k] = s;
    }
    if (k < 0) {
        return;
    }
    EDT_LONG j = 0;
    for (EDT_LONG p = 0; p < len; p++) {
        double dp = (double) p;
        while (j < k && zz[j + 1] < dp) {
            j++;
        }
        double d = EDT_SUB(dp, (double) vv[j]);
        g[base + p * stride] = EDT_TO_FLOAT(EDT_ADD(EDT_MUL(EDT_MUL(w, d), d), (double) ff[j]));
    }
}

#endif
