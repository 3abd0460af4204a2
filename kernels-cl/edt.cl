/*
 * The distance transform pass (one axis; host: OpenClBackend.distanceTransform): one work-item per line, the
 * line's body is edt_line of segloss_edt.h, shared with kernels-cu/edt.cu. Element p of line `line` is at
 * g[base + p * stride] with base = (line / stride) * len * stride + line % stride; scratch per line: v, fv, z
 * (len entries each) at line * len.
 */
#include "segloss_edt.h"

__kernel void edt_pass(__global float *g, __global int *v, __global float *fv, __global double *z,
                       ulong lines, ulong len, ulong stride, double w) {
    ulong line = get_global_id(0);
    if (line >= lines) {
        return;
    }
    ulong base = (line / stride) * len * stride + line % stride;
    edt_line(g, v + line * len, fv + line * len, z + line * len, (long) base, (long) len, (long) stride, w);
}
