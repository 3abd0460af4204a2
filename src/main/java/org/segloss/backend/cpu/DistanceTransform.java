package org.segloss.backend.cpu;

/**
 * The exact squared Euclidean distance transform on the CPU (Felzenszwalb and Huttenlocher,
 * "Distance Transforms of Sampled Functions", 2012), the reference the OpenCL ({@code kernels-cl/edt.cl})
 * and CUDA ({@code kernels-cu/edt.cu}) kernels follow step for step, so every backend gives the same bits.
 *
 * <p>In place on a float grid, row-major with {@code dims} slowest first: 0 at feature voxels, +inf
 * elsewhere; afterwards each voxel holds its squared physical distance to the nearest feature (+inf
 * when there is none). One pass per axis, fastest axis first; each pass transforms every line along
 * the axis independently: with {@code w = spacing^2} of the axis and f the line's values,
 * <pre>  g(p) = min_q ( w (p - q)^2 + f(q) )</pre>
 * by the lower envelope of the parabolas rooted at the finite f(q). Arithmetic in double, without
 * fused multiply-add, each result rounded once to float.
 */
public final class DistanceTransform {
    private DistanceTransform() {
    }

    /** Transforms {@code grid} in place (see the class comment); {@code spacing} in the order of {@code dims}. */
    public static void squared(float[] grid, int[] dims, double[] spacing) {
        int total = 1;
        for (int d : dims) {
            total *= d;
        }
        int maxLen = 0;
        for (int d : dims) {
            maxLen = Math.max(maxLen, d);
        }
        int[] v = new int[maxLen];
        float[] fv = new float[maxLen];
        double[] z = new double[maxLen];
        float[] block = new float[maxLen * BLOCK];
        int stride = 1;
        for (int axis = dims.length - 1; axis >= 0; axis--) {
            int len = dims[axis];
            double w = spacing[axis] * spacing[axis];
            int outers = total / (len * stride);
            for (int outer = 0; outer < outers; outer++) {
                int base = outer * len * stride;
                if (stride == 1) {
                    line(grid, base, 1, len, w, v, fv, z);
                    continue;
                }
                // Lines along a strided axis, BLOCK neighbours at a time: copied row by row into a small
                // contiguous block (cache lines instead of one float per line), transformed there, copied back.
                for (int inner = 0; inner < stride; inner += BLOCK) {
                    int nb = Math.min(BLOCK, stride - inner);
                    int b0 = base + inner;
                    for (int p = 0; p < len; p++) {
                        System.arraycopy(grid, b0 + p * stride, block, p * nb, nb);
                    }
                    for (int j = 0; j < nb; j++) {
                        line(block, j, nb, len, w, v, fv, z);
                    }
                    for (int p = 0; p < len; p++) {
                        System.arraycopy(block, p * nb, grid, b0 + p * stride, nb);
                    }
                }
            }
            stride *= len;
        }
    }

    /** Lines of a strided axis transformed together (the same per-line arithmetic, only the memory order differs). */
    static final int BLOCK = 16;

    /**
     * One line: {@code n} values at {@code g[base + i * stride]}. The envelope holds parabola k rooted
     * at v[k] with value fv[k], lowest from z[k] on; the parabolas of q and v meet at
     * {@code s = ((f(q) + w q^2) - (f(v) + w v^2)) / (2 w (q - v))}.
     */
    static void line(float[] g, int base, int stride, int n, double w, int[] v, float[] fv, double[] z) {
        int k = -1;
        for (int q = 0; q < n; q++) {
            float fq = g[base + q * stride];
            if (fq == Float.POSITIVE_INFINITY) {
                continue;
            }
            double dq = q;
            double s = Double.NEGATIVE_INFINITY;
            while (k >= 0) {
                double dv = v[k];
                s = ((fq + w * dq * dq) - (fv[k] + w * dv * dv)) / (2.0 * w * (dq - dv));
                if (s > z[k]) {
                    break;
                }
                k--;
                s = Double.NEGATIVE_INFINITY;
            }
            k++;
            v[k] = q;
            fv[k] = fq;
            z[k] = s;
        }
        if (k < 0) {
            return;
        }
        int j = 0;
        for (int p = 0; p < n; p++) {
            while (j < k && z[j + 1] < p) {
                j++;
            }
            double d = p - v[j];
            g[base + p * stride] = (float) (w * d * d + fv[j]);
        }
    }
}
