package org.segloss.backend.cpu;

import java.util.Arrays;

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
 * fused multiply-add, each result rounded once to float. The first pass reads the input (0 or +inf), where
 * the envelope's value is that of the nearest feature: it is found directly, with the same bits
 * ({@link #binaryLine}).
 */
public final class DistanceTransform {
    private DistanceTransform() {
    }

    /** Transforms {@code grid} in place (see the class comment); {@code spacing} in the order of {@code dims}. */
    public static void squared(float[] grid, int[] dims, double[] spacing) {
        squared(grid, dims, spacing, null, null);
    }

    /**
     * As {@link #squared(float[], int[], double[])} where only the values inside the box from
     * {@code lo} to {@code hi} (per axis, inclusive; null for the whole grid) are wanted: those are
     * the same bits, the others are left partly transformed. The pass along an axis transforms only
     * the lines that later passes read (inside the box on the axes already transformed, at every
     * position on the axes still to come) and writes only the positions inside the box on its axis.
     *
     * @param grid the grid, row-major with {@code dims} slowest first, transformed in place
     * @param dims the grid's dimensions, slowest first
     * @param spacing the spacing per axis, in the order of {@code dims}
     * @param lo the box's first position per axis, or null for the whole grid
     * @param hi the box's last position per axis (inclusive), or null for the whole grid
     */
    public static void squared(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi) {
        squared(grid, dims, spacing, lo, hi, null);
    }

    /**
     * As {@link #squared(float[], int[], double[], int[], int[])} where, further, only the lines along
     * the last pass's axis (dims[0]) that {@code lastLines} marks are wanted: the values inside the box
     * on those lines are the same bits, the other lines of the last pass are left partly transformed.
     * A line is marked at its offset in the grid's slowest slab ({@code index % (total / dims[0])}).
     *
     * @param lastLines per line of the last pass, whether it is wanted; null for every line in the box
     */
    public static void squared(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, boolean[] lastLines) {
        passes(grid, dims, spacing, lo, hi, lastLines, null, true);
    }

    /**
     * As {@link #squared(float[], int[], double[], int[], int[], boolean[])} on a grid whose first pass (along
     * the fastest axis) is done already: each line along that axis holds, at the box's positions on that
     * axis, what the first pass writes there ({@link #nearestFeature}: +inf on a line without features);
     * the other positions are not read. A caller that knows each line's features writes those values
     * directly and can leave the positions outside the box out of the grid (the box then spans the
     * whole fastest axis), the same bits as the whole transform inside the box.
     */
    public static void afterFirstPass(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, boolean[] lastLines) {
        passes(grid, dims, spacing, lo, hi, lastLines, null, false);
    }

    /**
     * As {@link #afterFirstPass(float[], int[], double[], int[], int[], boolean[])} where only the values at the
     * grid indices {@code wanted} (inside the box) are wanted: the last pass evaluates its lines' envelopes
     * there only; the same bits at those indices, the others are left partly transformed.
     */
    public static void afterFirstPass(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, int[] wanted) {
        passes(grid, dims, spacing, lo, hi, null, wanted, false);
    }

    private static void passes(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, boolean[] lastLines,
                               int[] wanted, boolean firstPass) {
        int rank = dims.length;
        int total = 1;
        int maxLen = 0;
        for (int d : dims) {
            total *= d;
            maxLen = Math.max(maxLen, d);
        }
        int[] v = new int[maxLen];
        float[] fv = new float[maxLen];
        double[] z = new double[maxLen];
        double[] h = new double[maxLen];
        float[] infinities = new float[maxLen];
        Arrays.fill(infinities, Float.POSITIVE_INFINITY);
        float[] block = new float[maxLen * BLOCK];
        int stride = 1;
        for (int axis = rank - 1; axis >= 0; axis--) {
            int len = dims[axis];
            double w = spacing[axis] * spacing[axis];
            int outers = total / (len * stride);
            int from = lo == null ? 0 : lo[axis];
            int to = hi == null ? len - 1 : hi[axis];
            if (axis == rank - 1) {
                // The first pass reads the input grid, 0 or +inf: its lines take the nearest-feature shortcut.
                for (int outer = 0; outer < outers && firstPass; outer++) {
                    if (!binaryLine(grid, outer * len, len, w, v, infinities, from, to)) {
                        line(grid, outer * len, 1, len, w, v, fv, z, h, from, to);
                    }
                }
                stride *= len;
                continue;
            }
            if (axis == 0 && wanted != null) {
                wantedOnly(grid, len, stride, w, wanted, v, fv, z, h);
                break;
            }
            // The lines along this axis that later passes read: inside the box on the axes after it,
            // as runs of neighbouring lines along the last axis.
            int runLength = lo == null ? stride : hi[rank - 1] - lo[rank - 1] + 1;
            int[] runs = runStarts(dims, axis, lo, hi);
            for (int outer = 0; outer < outers; outer++) {
                int base = outer * len * stride;
                for (int run : runs) {
                    // Lines along a strided axis, BLOCK neighbours at a time (see block).
                    for (int inner = run; inner < run + runLength; inner += BLOCK) {
                        int nb = Math.min(BLOCK, run + runLength - inner);
                        boolean[] only = axis == 0 ? lastLines : null;
                        if (only != null && !any(only, inner, inner + nb)) {
                            continue;
                        }
                        block(grid, base + inner, stride, len, nb, only, inner, w, v, fv, z, h, block, from, to);
                    }
                }
            }
            stride *= len;
        }
    }

    /**
     * Lines {@code b0 + j} (j below {@code nb}; where {@code only} is null or marks line {@code inner + j}) along
     * a strided axis ({@code len} values {@code stride} apart): copied row by row into {@code block} (cache lines
     * instead of one float per line), transformed there, copied back at {@code from..to}. A method of its own,
     * called per block: the JIT compiles it early and once, instead of all of {@link #passes} at each loop.
     */
    private static void block(float[] grid, int b0, int stride, int len, int nb, boolean[] only, int inner, double w,
                              int[] v, float[] fv, double[] z, double[] h, float[] block, int from, int to) {
        for (int p = 0; p < len; p++) {
            System.arraycopy(grid, b0 + p * stride, block, p * nb, nb);
        }
        for (int j = 0; j < nb; j++) {
            if (only == null || only[inner + j]) {
                line(block, j, nb, len, w, v, fv, z, h, from, to);
            }
        }
        for (int p = from; p <= to; p++) {
            System.arraycopy(block, p * nb, grid, b0 + p * stride, nb);
        }
    }

    /**
     * The last pass (along the slowest axis, lines {@code stride} apart) at the grid indices {@code wanted}
     * only: per line holding some, its envelope as {@link #line} builds it, evaluated at those positions (the
     * parabola of position p is the first j with z[j + 1] >= p, as in line's runs).
     */
    private static void wantedOnly(float[] grid, int len, int stride, double w, int[] wanted, int[] v, float[] fv, double[] z,
                                   double[] h) {
        // (line, position) of each, sorted: the lines one after the other, positions ascending within one
        long[] keys = new long[wanted.length];
        for (int k = 0; k < wanted.length; k++) {
            int i = wanted[k];
            keys[k] = (long) (i % stride) << 32 | i / stride;
        }
        Arrays.sort(keys);
        float[] values = new float[len];
        for (int k = 0; k < keys.length; ) {
            int line = (int) (keys[k] >>> 32);
            for (int p = 0; p < len; p++) {
                values[p] = grid[line + p * stride];
            }
            int top = envelope(values, 0, 1, len, w, v, fv, z, h);
            for (int j = 0; k < keys.length && (int) (keys[k] >>> 32) == line; k++) {
                if (top < 0) {
                    continue;
                }
                int p = (int) keys[k];
                while (j < top && z[j + 1] < p) {
                    j++;
                }
                double d = p - v[j];
                grid[line + p * stride] = (float) (w * d * d + fv[j]);
            }
        }
    }

    private static boolean any(boolean[] marks, int from, int to) {
        for (int i = from; i < to; i++) {
            if (marks[i]) {
                return true;
            }
        }
        return false;
    }

    /**
     * Offsets (within one line group of stride dims[axis+1] * ...) of the runs of lines to transform
     * along {@code axis}: each combination of the box's coordinates on the axes after it but the last,
     * plus the box's start on the last axis; one run from 0 without a box.
     */
    private static int[] runStarts(int[] dims, int axis, int[] lo, int[] hi) {
        if (lo == null) {
            return new int[] {0};
        }
        int rank = dims.length;
        int[] starts = {lo[rank - 1]};
        int step = dims[rank - 1];
        for (int a = rank - 2; a > axis; a--) {
            int n = hi[a] - lo[a] + 1;
            int[] next = new int[starts.length * n];
            for (int k = 0; k < n; k++) {
                for (int s = 0; s < starts.length; s++) {
                    next[k * starts.length + s] = (lo[a] + k) * step + starts[s];
                }
            }
            starts = next;
            step *= dims[a];
        }
        return starts;
    }

    /** Lines of a strided axis transformed together (the same per-line arithmetic, only the memory order differs). */
    static final int BLOCK = 16;

    /**
     * One line of the first pass, {@code n} values from {@code g[base]} on, when each is 0 (a feature) or
     * +inf: there the envelope's parabola at p is the one rooted at the nearest feature q (the parabolas
     * are translates, so the envelope's breakpoints are the midpoints between neighbouring features, and
     * at a midpoint both neighbours are as near), and its value {@code w (p - q)^2 + 0} takes the same
     * double steps as {@link #line}'s. Writes positions {@code from} to {@code to}; leaves a line without
     * features as it is. Returns false, having written nothing, when a value is neither 0 nor +inf.
     *
     * @param features scratch for the features' positions, at least n long
     * @param infinities n or more +inf values, to find the features by {@link Arrays#mismatch}
     */
    static boolean binaryLine(float[] g, int base, int n, double w, int[] features, float[] infinities, int from, int to) {
        int count = 0;
        for (int q = 0; q < n; q++) {
            int skip = Arrays.mismatch(g, base + q, base + n, infinities, 0, n - q);
            if (skip < 0) {
                break;
            }
            q += skip;
            if (g[base + q] != 0f) {
                return false;
            }
            features[count++] = q;
        }
        if (count == 0) {
            return true;
        }
        nearestFeature(g, base + from, features, count, w, from, to);
        return true;
    }

    /**
     * The first pass's values on a line of 0 (features, at the ascending positions {@code features[0..count)})
     * and +inf: at each position p from {@code from} to {@code to}, {@code w d^2 + 0} with d the distance to the
     * nearest feature (see {@link #binaryLine}), or +inf when the line has none; written to
     * {@code out[at + p - from]}.
     */
    public static void nearestFeature(float[] out, int at, int[] features, int count, double w, int from, int to) {
        if (count == 0) {
            Arrays.fill(out, at, at + to - from + 1, Float.POSITIVE_INFINITY);
            return;
        }
        // j: the last feature at or before p (or the first feature, while p is before it)
        int j = 0;
        for (int p = from; p <= to; p++) {
            while (j + 1 < count && features[j + 1] <= p) {
                j++;
            }
            int near = Math.abs(p - features[j]);
            if (j + 1 < count) {
                near = Math.min(near, features[j + 1] - p);
            }
            double d = near;
            out[at + p - from] = (float) (w * d * d + 0.0);
        }
    }

    /**
     * One line: {@code n} values at {@code g[base + i * stride]}. The envelope holds parabola k rooted
     * at v[k] with value fv[k], lowest from z[k] on; the parabolas of q and v meet at
     * {@code s = ((f(q) + w q^2) - (f(v) + w v^2)) / (2 w (q - v))}. Only positions {@code from} to
     * {@code to} (inclusive) are written.
     */
    static void line(float[] g, int base, int stride, int n, double w, int[] v, float[] fv, double[] z, double[] h, int from,
                     int to) {
        int k = envelope(g, base, stride, n, w, v, fv, z, h);
        if (k < 0) {
            return;
        }
        // Parabola j is the lowest at the positions p with z[j] < p <= z[j + 1] (z strictly increasing, z[0] = -inf,
        // +inf after the last): one run of positions per parabola.
        int p = from;
        for (int j = 0; j <= k && p <= to; j++) {
            int last = to;
            if (j < k) {
                double next = z[j + 1];
                if (next < p) {
                    continue;
                }
                if (next < to) {
                    last = (int) Math.floor(next);
                }
            }
            float fj = fv[j];
            int vj = v[j];
            for (; p <= last; p++) {
                double d = p - vj;
                g[base + p * stride] = (float) (w * d * d + fj);
            }
        }
    }

    /**
     * The lower envelope of one line's parabolas (see {@link #line}): fills v, fv, z and h from 0 to the
     * returned index of the last parabola, -1 when every value is +inf.
     */
    static int envelope(float[] g, int base, int stride, int n, double w, int[] v, float[] fv, double[] z, double[] h) {
        // h[k] = fv[k] + w v[k]^2, kept from the push: the same double as recomputing it at each pop.
        double twoW = 2.0 * w;
        int k = -1;
        for (int q = 0; q < n; q++) {
            float fq = g[base + q * stride];
            if (fq == Float.POSITIVE_INFINITY) {
                continue;
            }
            double dq = q;
            double hq = fq + w * dq * dq;
            double s = Double.NEGATIVE_INFINITY;
            while (k >= 0) {
                s = (hq - h[k]) / (twoW * (dq - v[k]));
                if (s > z[k]) {
                    break;
                }
                k--;
                s = Double.NEGATIVE_INFINITY;
            }
            k++;
            v[k] = q;
            fv[k] = fq;
            h[k] = hq;
            z[k] = s;
        }
        return k;
    }
}
