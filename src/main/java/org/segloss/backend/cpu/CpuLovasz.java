package org.segloss.backend.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.segloss.Layout;
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.Problem;

/**
 * The Lovasz pass on the CPU (see {@link LovaszProblem}), parallel over segments.
 *
 * <p>Pass 1 (per segment): the counts, and the sort input: only the counted elements with {@code e > 0}
 * (the rest add nothing to the term and get gradient 0, and they follow every positive error in the
 * sorted order, so the ranks of the sorted ones do not depend on them), each as a key
 * ({@link LovaszProblem#descendingKey}) and a value (pred index, with the ground truth in bit 31), in
 * element order. Pass 2 (per segment, after the weights): an LSD radix sort of the keys (digits of 11,
 * 11 and 10 bits; a digit that is the same for every key is skipped), stable, so equal errors keep the
 * lower element index first; the scan in double; the scatter. Multiclass logits: the max and the sum of
 * {@code exp(x - max)} of each pixel are computed once, {@code p_c = exp(x_c - max) / sum} (so pixels whose
 * logits differ by a constant get the same p, and tie), and the softmax chain follows the scatter.
 */
final class CpuLovasz {
    private static final int POSITIVE = 0x80000000;

    private CpuLovasz() {
    }

    /** Pass 1's output of one segment. */
    private static final class Sorted {
        int[] keys;
        int[] values;
        int m;
    }

    static double[] run(LovaszProblem q, CpuBuffer x, CpuBuffer t, LovaszProblem.Weights weights, CpuBuffer grad) {
        Problem p = q.problem;
        int segments = q.segments();
        Softmax lse = p.multiclass && p.fromLogits ? softmax(p, x.floats) : null;
        long[] counts = new long[segments * LovaszProblem.COUNTS];
        Sorted[] sorted = new Sorted[segments];
        IntStream.range(0, segments).parallel().forEach(seg -> sorted[seg] = collect(q, x.floats, t, lse, seg, counts));
        float[] w = weights.weights(counts);
        double[] terms = new double[segments];
        IntStream.range(0, segments).parallel().forEach(seg -> {
            Sorted s = sorted[seg];
            sorted[seg] = null;
            terms[seg] = scan(q, seg, s, counts[seg * LovaszProblem.COUNTS + LovaszProblem.COUNT_POSITIVE], w[seg], grad);
        });
        if (grad != null && p.multiclass && p.fromLogits) {
            softmaxChain(p, x.floats, lse, grad.floats);
        }
        return terms;
    }

    /** Per pixel (index n * S + s): the max of the logits and the sum of exp(x - max). */
    private static final class Softmax {
        final float[] max;
        final double[] sum;

        Softmax(int pixels) {
            max = new float[pixels];
            sum = new double[pixels];
        }

        double p(int pixel, float x) {
            return Math.exp(x - max[pixel]) / sum[pixel];
        }
    }

    private static Softmax softmax(Problem p, FloatBuffer x) {
        int c = (int) p.c;
        int s = (int) p.s;
        Softmax out = new Softmax(Math.toIntExact(p.n * p.s));
        boolean nhwc = p.layout == Layout.NHWC;
        IntStream.range(0, Math.toIntExact(p.n)).parallel().forEach(n -> {
            for (int si = 0; si < s; si++) {
                int first = nhwc ? (n * s + si) * c : n * c * s + si;
                int step = nhwc ? 1 : s;
                float max = Float.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) {
                    max = Math.max(max, x.get(first + k * step));
                }
                double sum = 0;
                for (int k = 0; k < c; k++) {
                    sum += Math.exp(x.get(first + k * step) - max);
                }
                out.max[n * s + si] = max;
                out.sum[n * s + si] = sum;
            }
        });
        return out;
    }

    /** Target state: 1 positive, 0 negative, -1 ignored, -2 refused. */
    private static int label(Problem p, CpuBuffer t, int ti, int c) {
        if (p.multiclass) {
            long y = t.classIndex(ti);
            if (p.hasIgnoreIndex && y == p.ignoreIndex) {
                return -1;
            }
            return y < 0 || y >= p.c ? -2 : y == c ? 1 : 0;
        }
        double v = t.target(ti);
        if (p.hasIgnoreIndex && v == p.ignoreIndex) {
            return -1;
        }
        return v == 1 ? 1 : v == 0 ? 0 : -2;
    }

    /** Pass 1 over the elements of one segment, in element order (sample, then pixel). */
    private static Sorted collect(LovaszProblem q, FloatBuffer x, CpuBuffer t, Softmax lse, int seg, long[] counts) {
        Problem p = q.problem;
        int cc = (int) p.c;
        int sc = (int) p.s;
        int c = seg % cc;
        boolean nhwc = p.layout == Layout.NHWC;
        int n0 = q.batch ? 0 : seg / cc;
        int n1 = q.batch ? (int) p.n : n0 + 1;
        int len = (int) q.length();
        Sorted out = new Sorted();
        out.keys = new int[len];
        out.values = new int[len];
        int m = 0;
        long valid = 0;
        long positive = 0;
        long badPred = 0;
        long badTarget = 0;
        boolean countTarget = !p.multiclass || c == 0; // multiclass: a pixel's target once, in class 0
        int pstep = nhwc ? cc : 1;
        for (int n = n0; n < n1; n++) {
            int pbase = nhwc ? n * sc * cc + c : (n * cc + c) * sc;
            int tbase = p.multiclass ? n * sc : pbase;
            int tstep = p.multiclass ? 1 : pstep;
            for (int s = 0; s < sc; s++) {
                int pi = pbase + s * pstep;
                float v = x.get(pi);
                boolean bad = p.fromLogits ? !Float.isFinite(v) : !(v >= 0 && v <= 1);
                badPred += bad ? 1 : 0;
                int l = label(p, t, tbase + s * tstep, c);
                if (l == -2) {
                    badTarget += countTarget ? 1 : 0;
                    continue;
                }
                if (l < 0) {
                    continue;
                }
                valid++;
                positive += l;
                float e;
                if (!p.multiclass) {
                    e = 1.0f - (l == 1 ? v : -v);
                } else {
                    double prob = lse == null ? v : lse.p(n * sc + s, v);
                    e = (float) Math.abs(l - prob);
                }
                if (e > 0) {
                    out.keys[m] = LovaszProblem.descendingKey(e);
                    out.values[m++] = pi | (l == 1 ? POSITIVE : 0);
                }
            }
        }
        out.m = m;
        int b = seg * LovaszProblem.COUNTS;
        counts[b + LovaszProblem.COUNT_VALID] = valid;
        counts[b + LovaszProblem.COUNT_POSITIVE] = positive;
        counts[b + LovaszProblem.COUNT_BAD_PRED] = badPred;
        counts[b + LovaszProblem.COUNT_BAD_TARGET] = badTarget;
        return out;
    }

    /** Pass 2: sort, scan, scatter (zeros first for the elements not sorted); returns the term. */
    private static double scan(LovaszProblem q, int seg, Sorted s, long positives, float weight, CpuBuffer grad) {
        Problem p = q.problem;
        if (grad != null) {
            zeroSegment(q, seg, grad.floats);
        }
        if (s.m == 0 || (weight == 0 && p.multiclass)) { // nothing sorted, or an absent class (term and gradient 0)
            return 0;
        }
        radixSort(s.keys, s.values, s.m);
        double term = 0;
        long before = 0;
        for (int r = 0; r < s.m; r++) {
            int value = s.values[r];
            boolean g = value < 0;
            double lg = LovaszProblem.lovaszGradient(positives, r, before, g);
            term += LovaszProblem.errorOfKey(s.keys[r]) * lg;
            if (grad != null) {
                grad.floats.put(value & ~POSITIVE, (float) ((g ? -lg : lg) * weight));
            }
            before += g ? 1 : 0;
        }
        return term;
    }

    private static void zeroSegment(LovaszProblem q, int seg, FloatBuffer g) {
        Problem p = q.problem;
        int cc = (int) p.c;
        int sc = (int) p.s;
        int c = seg % cc;
        boolean nhwc = p.layout == Layout.NHWC;
        int n0 = q.batch ? 0 : seg / cc;
        int n1 = q.batch ? (int) p.n : n0 + 1;
        for (int n = n0; n < n1; n++) {
            int base = nhwc ? n * sc * cc + c : (n * cc + c) * sc;
            int step = nhwc ? cc : 1;
            for (int s = 0; s < sc; s++) {
                g.put(base + s * step, 0f);
            }
        }
    }

    /** Stable LSD radix sort of keys[0, m) (unsigned, ascending) carrying values[]; digits of 11, 11, 10 bits. */
    static void radixSort(int[] keys, int[] values, int m) {
        int[] k2 = new int[m];
        int[] v2 = new int[m];
        int[] srcK = keys;
        int[] srcV = values;
        int[] dstK = k2;
        int[] dstV = v2;
        int[] histogram = new int[2048];
        for (int shift = 0; shift < 32; shift += 11) {
            int mask = shift == 22 ? 0x3FF : 0x7FF;
            Arrays.fill(histogram, 0);
            for (int i = 0; i < m; i++) {
                histogram[(srcK[i] >>> shift) & mask]++;
            }
            if (histogram[(srcK[0] >>> shift) & mask] == m) {
                continue; // every key has this digit: the pass would not move anything
            }
            for (int d = 0, sum = 0; d <= mask; d++) {
                int c = histogram[d];
                histogram[d] = sum;
                sum += c;
            }
            for (int i = 0; i < m; i++) {
                int key = srcK[i];
                int at = histogram[(key >>> shift) & mask]++;
                dstK[at] = key;
                dstV[at] = srcV[i];
            }
            int[] tk = srcK;
            srcK = dstK;
            dstK = tk;
            int[] tv = srcV;
            srcV = dstV;
            dstV = tv;
        }
        if (srcK != keys) {
            System.arraycopy(srcK, 0, keys, 0, m);
            System.arraycopy(srcV, 0, values, 0, m);
        }
    }

    /** dL/dx_c = p_c (g_c - sum_k p_k g_k) per pixel, g = dL/dp as written by the scatter. */
    private static void softmaxChain(Problem p, FloatBuffer x, Softmax lse, FloatBuffer grad) {
        int c = (int) p.c;
        int s = (int) p.s;
        boolean nhwc = p.layout == Layout.NHWC;
        IntStream.range(0, Math.toIntExact(p.n)).parallel().forEach(n -> {
            double[] prob = new double[c];
            for (int si = 0; si < s; si++) {
                int first = nhwc ? (n * s + si) * c : n * c * s + si;
                int step = nhwc ? 1 : s;
                double dot = 0;
                for (int k = 0; k < c; k++) {
                    prob[k] = lse.p(n * s + si, x.get(first + k * step));
                    dot += prob[k] * grad.get(first + k * step);
                }
                for (int k = 0; k < c; k++) {
                    int i = first + k * step;
                    grad.put(i, (float) (prob[k] * (grad.get(i) - dot)));
                }
            }
        });
    }
}
