package org.segloss.backend;

import org.segloss.InvalidInputException;
import org.segloss.Layout;

/**
 * What the Lovasz pass ({@link Backend#lovasz}) computes, in the terms every backend shares (spec
 * "Lovasz losses"). Immutable.
 *
 * <p>Segments: one per {@code (n, c)}, or one per {@code c} with {@code batch}; segment {@code seg} is
 * {@code (nb, c) = (seg / C, seg % C)} and holds {@link #length()} elements {@code k}: pixel
 * {@code (n, s) = (nb, k)}, or with batch {@code (k / S, k % S)}. {@code k} is the element index that
 * breaks ties (lower first). An element counts when its target is not the ignore value.
 * <ul>
 * <li>binary/multilabel (hinge): {@code e = 1 - x (2t - 1)}, positive {@code g = t}, target exactly 0 or 1;</li>
 * <li>multiclass: {@code e = |g - p_c|} with {@code p} the softmax of the logits (or pred itself),
 *     positive {@code g = (y == c)}.</li>
 * </ul>
 *
 * <p>The pass, on every backend: (1) counts per segment ({@link #COUNTS} longs, below) and hands them to
 * the caller's {@link Weights}, which may refuse the input by throwing, or returns one gradient weight
 * per segment; (2) sorts each segment's errors in decreasing order, ties by lower {@code k}; (3) walks
 * the sorted order with the Lovasz gradient {@link #lovaszGradient} and returns per segment the term
 * {@code sum_k max(e_(k), 0) L_k}; (4) with a gradient buffer writes, for each counted element with
 * {@code e > 0}, {@code weight * (g ? -1 : +1) * L_rank} (binary: dL/dx; multiclass: dL/dp, then the
 * softmax chain when from logits), and 0 elsewhere.
 *
 * <p>Device memory: the OpenCL and CUDA passes hold one item of 8 bytes per pred element (the 32-bit
 * sort key and the 32-bit element index), i.e. two pred-sized buffers, plus per-block partials.
 */
public final class LovaszProblem {
    /** Count slots per segment: counted elements, positives (G), refused pred values, refused target values. */
    public static final int COUNT_VALID = 0;
    public static final int COUNT_POSITIVE = 1;
    public static final int COUNT_BAD_PRED = 2;
    public static final int COUNT_BAD_TARGET = 3;
    public static final int COUNTS = 4;
    /** Longest segment: the element index and the counts are 32-bit on the devices. */
    public static final long MAX_SEGMENT = (1L << 32) - 2;

    public final Problem problem;
    public final boolean batch;

    /** Gradient weights per segment from the counts ({@code [seg * COUNTS + slot]}); may throw to refuse. */
    public interface Weights {
        float[] weights(long[] counts);
    }

    public LovaszProblem(Problem problem, boolean batch) {
        this.problem = problem;
        this.batch = batch;
        if (length() > MAX_SEGMENT) {
            throw new InvalidInputException("lovasz segments hold at most " + MAX_SEGMENT + " elements, was " + length()
                    + (batch ? " (N * S with batch)" : " (S)"));
        }
    }

    /** Number of segments: {@code N * C}, or {@code C} with batch. */
    public int segments() {
        return Math.toIntExact((batch ? 1 : problem.n) * problem.c);
    }

    /** Elements per segment: {@code S}, or {@code N * S} with batch. */
    public long length() {
        return batch ? problem.n * problem.s : problem.s;
    }

    /** Index in pred of element {@code k} of segment {@code seg}. */
    public long predIndex(int seg, long k) {
        long c = seg % problem.c;
        long n = batch ? k / problem.s : seg / problem.c;
        long s = batch ? k % problem.s : k;
        return problem.layout == Layout.NHWC ? (n * problem.s + s) * problem.c + c : (n * problem.c + c) * problem.s + s;
    }

    /** Index in the target of element {@code k} of segment {@code seg}. */
    public long targetIndex(int seg, long k) {
        if (!problem.multiclass) {
            return predIndex(seg, k);
        }
        long n = batch ? k / problem.s : seg / problem.c;
        long s = batch ? k % problem.s : k;
        return n * problem.s + s;
    }

    /**
     * The Lovasz gradient at 0-based rank {@code r} of a segment with {@code positives} = G, where
     * {@code before} positives precede rank r and {@code positive} is g at rank r. With
     * {@code J_k = 1 - I_k / U_k}, {@code I_k = G - c_k}, {@code U_k = G + k - c_k} ({@code c_k} the positives
     * among the first k), {@code L_k = J_k - J_{k-1}} is, without the cancellation of the difference:
     * {@code 1 / U_{k-1}} when {@code g_k = 1}; {@code I_{k-1} / (U_{k-1} (U_{k-1} + 1))} when {@code g_k = 0};
     * and 1 at the first rank of a segment without positives ({@code U_0 = 0}, {@code J_1 = 1}).
     * The kernels use the same form in float.
     */
    public static double lovaszGradient(long positives, long r, long before, boolean positive) {
        double u = positives + r - before;
        if (positive) {
            return 1.0 / u;
        }
        return u == 0 ? 1.0 : (positives - before) / (u * (u + 1));
    }

    /**
     * Sort key of an error: ascending unsigned order of the key is descending order of {@code e}
     * ({@code -0} counts as {@code +0}). The key {@code 0xFFFFFFFF} (from no finite error) marks an
     * element that does not count.
     */
    public static int descendingKey(float e) {
        int bits = Float.floatToRawIntBits(e + 0.0f);
        int sortable = bits < 0 ? ~bits : bits | 0x80000000;
        return ~sortable;
    }

    /** The error of a key made by {@link #descendingKey}. */
    public static float errorOfKey(int key) {
        int sortable = ~key;
        return Float.intBitsToFloat(sortable < 0 ? sortable & 0x7FFFFFFF : ~sortable);
    }
}
