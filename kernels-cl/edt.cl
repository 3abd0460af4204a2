/*
 * Exact squared Euclidean distance transform, one pass along one axis (Felzenszwalb and Huttenlocher,
 * "Distance Transforms of Sampled Functions"); the host runs one pass per axis, fastest axis first.
 * One work-item per line: element p of line `line` is at g[base + p * stride] with
 * base = (line / stride) * len * stride + line % stride. With w = spacing^2 of the axis,
 *   g(p) = min_q ( w (p - q)^2 + f(q) )
 * over the finite f(q) (+inf marks "no feature"), by the lower envelope of parabolas: parabola k is
 * rooted at v[k] with value fv[k] and lowest from z[k] on; the parabolas of q and v meet at
 *   s = ((f(q) + w q^2) - (f(v) + w v^2)) / (2 w (q - v)).
 * Double arithmetic in the order of org.segloss.backend.cpu.DistanceTransform, no contraction into fused
 * multiply-adds, each output rounded once to float: the same bits as the CPU. Scratch per line: v, fv, z
 * (len entries each) at line * len.
 */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#pragma OPENCL FP_CONTRACT OFF

__kernel void edt_pass(__global float *g, __global int *v, __global float *fv, __global double *z,
                       ulong lines, ulong len, ulong stride, double w) {
    ulong line = get_global_id(0);
    if (line >= lines) {
        return;
    }
    ulong base = (line / stride) * len * stride + line % stride;
    __global int *vv = v + line * len;
    __global float *ff = fv + line * len;
    __global double *zz = z + line * len;
    long k = -1;
    for (ulong q = 0; q < len; q++) {
        float fq = g[base + q * stride];
        if (isinf(fq)) {
            continue;
        }
        double dq = (double) q;
        double s = -INFINITY;
        while (k >= 0) {
            double dv = (double) vv[k];
            s = (((double) fq + w * dq * dq) - ((double) ff[k] + w * dv * dv)) / (2.0 * w * (dq - dv));
            if (s > zz[k]) {
                break;
            }
            k--;
            s = -INFINITY;
        }
        k++;
        vv[k] = (int) q;
        ff[k] = fq;
        zz[k] = s;
    }
    if (k < 0) {
        return;
    }
    long j = 0;
    for (ulong p = 0; p < len; p++) {
        double dp = (double) p;
        while (j < k && zz[j + 1] < dp) {
            j++;
        }
        double d = dp - (double) vv[j];
        g[base + p * stride] = (float) (w * d * d + (double) ff[j]);
    }
}
