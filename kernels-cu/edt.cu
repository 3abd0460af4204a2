// segloss CUDA kernel: one pass of the exact squared Euclidean distance transform along one axis; the host
// runs one pass per axis, fastest axis first. Its own PTX module (ci/build-ptx.sh -> ptx/edt.ptx), loaded by
// CudaBackend on the first distanceTransform. One thread per line; the line's body is edt_line of
// kernels-cl/segloss_edt.h, shared with kernels-cl/edt.cl (the algorithm and its bit-exactness are described there).
// Element p of line `line` is at g[base + p * stride] with base = (line / stride) * len * stride + line % stride;
// scratch per line: v, fv, z (len entries each) at line * len.

#include <math.h>
#include <stdint.h>
#include "segloss_gen.h"
#include "segloss_terms.h"
#include "segloss_edt.h"

#define EDT_THREADS 256

extern "C" __global__ void __launch_bounds__(EDT_THREADS)
edt_pass(float* g, int* v, float* fv, double* z, long long lines, long long len, long long stride, double w) {
    long long line = (long long) blockIdx.x * EDT_THREADS + threadIdx.x;
    if (line >= lines) {
        return;
    }
    long long base = (line / stride) * len * stride + line % stride;
    edt_line(g, v + line * len, fv + line * len, z + line * len, base, len, stride, w);
}
