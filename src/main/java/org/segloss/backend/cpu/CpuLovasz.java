package org.segloss.backend.cpu;

import java.util.stream.IntStream;
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.Problem;

/**
 * The Lovasz pass on the CPU (see {@link LovaszProblem}), parallel over segments. Only the elements with
 * {@code e > 0} are sorted: the rest add nothing to the term and get gradient 0, and they follow every
 * positive error in the sorted order, so the ranks (and Lovasz gradients) of the sorted ones do not
 * depend on them. The sort is an LSD radix sort of the 32-bit keys of {@link LovaszProblem#descendingKey}
 * (8-bit digits, a digit that is the same for every key is skipped); it is stable and starts in element
 * order, so equal errors keep the lower element index first. The scan is in double.
 */
final class CpuLovasz {
    private CpuLovasz() {
    }

    static double[] run(LovaszProblem q, CpuBuffer x, CpuBuffer t, LovaszProblem.Weights weights, CpuBuffer grad) {
        Problem p = q.problem;
        int segments = q.segments();
        long[] counts = new long[segments * LovaszProblem.COUNTS];
        IntStream.range(0, segments).parallel().forEach(seg -> count(q, x, t, seg, counts));
        float[] w = weights.weights(counts);
        double[] terms = new double[segments];
        IntStream.range(0, segments).parallel().forEach(seg ->
                terms[seg] = segment(q, x, t, seg, counts[seg * LovaszProblem.COUNTS + LovaszProblem.COUNT_POSITIVE],
                        w[seg], grad));
        if (grad != null && p.multiclass && p.fromLogits) {
            softmaxChain(p, x, t, grad);
        }
        return terms;
    }

    /** Target state of element k: 1 positive, 0 negative, -1 ignored, -2 refused. */
    private static int label(LovaszProblem q, CpuBuffer t, int seg, long k) {
        Problem p = q.problem;
        int ti = (int) q.targetIndex(seg, k);
        if (p.multiclass) {
            long y = t.classIndex(ti);
            if (p.hasIgnoreIndex && y == p.ignoreIndex) {
                return -1;
            }
            if (y < 0 || y >= p.c) {
                return -2;
            }
            return y == seg % p.c ? 1 : 0;
        }
        double v = t.target(ti);
        if (p.hasIgnoreIndex && v == p.ignoreIndex) {
            return -1;
        }
        return v == 1 ? 1 : v == 0 ? 0 : -2;
    }

    private static boolean badPred(Problem p, float v) {
        return p.fromLogits ? !Float.isFinite(v) : !(v >= 0 && v <= 1);
    }

    private static void count(LovaszProblem q, CpuBuffer x, CpuBuffer t, int seg, long[] counts) {
        Problem p = q.problem;
        long valid = 0;
        long positive = 0;
        long badPred = 0;
        long badTarget = 0;
        boolean countTarget = !p.multiclass || seg % p.c == 0; // multiclass: a pixel's target once, in class 0
        for (long k = 0, len = q.length(); k < len; k++) {
            if (badPred(p, x.floats.get((int) q.predIndex(seg, k)))) {
                badPred++;
            }
            int l = label(q, t, seg, k);
            if (l == -2) {
                badTarget += countTarget ? 1 : 0;
            } else if (l >= 0) {
                valid++;
                positive += l;
            }
        }
        int b = seg * LovaszProblem.COUNTS;
        counts[b + LovaszProblem.COUNT_VALID] = valid;
        counts[b + LovaszProblem.COUNT_POSITIVE] = positive;
        counts[b + LovaszProblem.COUNT_BAD_PRED] = badPred;
        counts[b + LovaszProblem.COUNT_BAD_TARGET] = badTarget;
    }

    /** p_c at pixel (n, s): softmax over C of the logits (max subtracted, double), or pred itself. */
    static double probability(Problem p, CpuBuffer x, long n, long s, long c) {
        if (!p.fromLogits) {
            return x.floats.get(index(p, n, c, s));
        }
        double max = Double.NEGATIVE_INFINITY;
        for (long k = 0; k < p.c; k++) {
            max = Math.max(max, x.floats.get(index(p, n, k, s)));
        }
        double sum = 0;
        for (long k = 0; k < p.c; k++) {
            sum += Math.exp(x.floats.get(index(p, n, k, s)) - max);
        }
        return Math.exp(x.floats.get(index(p, n, c, s)) - max) / sum;
    }

    private static int index(Problem p, long n, long c, long s) {
        return (int) (p.layout == org.segloss.Layout.NHWC ? (n * p.s + s) * p.c + c : (n * p.c + c) * p.s + s);
    }

    /** Error of element k: hinge {@code 1 - x (2t - 1)} or {@code |g - p_c|}, in float. */
    private static float error(LovaszProblem q, CpuBuffer x, int seg, long k, int label) {
        Problem p = q.problem;
        if (!p.multiclass) {
            float v = x.floats.get((int) q.predIndex(seg, k));
            return 1.0f - (label == 1 ? v : -v);
        }
        long n = q.batch ? k / p.s : seg / p.c;
        long s = q.batch ? k % p.s : k;
        return (float) Math.abs(label - probability(p, x, n, s, seg % p.c));
    }

    /** Sorts, scans and scatters one segment; returns its term. */
    private static double segment(LovaszProblem q, CpuBuffer x, CpuBuffer t, int seg, long positives, float weight,
                                  CpuBuffer grad) {
        int len = (int) q.length();
        boolean skip = weight == 0 && q.problem.multiclass; // an absent class: term and gradient 0
        int[] keys = new int[skip ? 0 : len];
        int[] order = new int[skip ? 0 : len];
        int m = 0;
        for (int k = 0; k < len; k++) {
            int l = skip ? -1 : label(q, t, seg, k);
            float e = l >= 0 ? error(q, x, seg, k, l) : 0f;
            if (e > 0) {
                keys[m] = LovaszProblem.descendingKey(e);
                order[m++] = k;
            } else if (grad != null) {
                grad.floats.put((int) q.predIndex(seg, k), 0f);
            }
        }
        if (m == 0) {
            return 0;
        }
        radixSort(keys, order, m);
        double term = 0;
        long before = 0;
        for (int r = 0; r < m; r++) {
            int k = order[r];
            boolean positive = label(q, t, seg, k) == 1;
            double lg = LovaszProblem.lovaszGradient(positives, r, before, positive);
            term += LovaszProblem.errorOfKey(keys[r]) * lg;
            if (grad != null) {
                grad.floats.put((int) q.predIndex(seg, k), (float) ((positive ? -lg : lg) * weight));
            }
            before += positive ? 1 : 0;
        }
        return term;
    }

    /** Stable LSD radix sort of keys[0, m) (unsigned, ascending) carrying order[]; digits of 8 bits. */
    static void radixSort(int[] keys, int[] order, int m) {
        int[] k2 = new int[m];
        int[] o2 = new int[m];
        int[] srcK = keys;
        int[] srcO = order;
        int[] dstK = k2;
        int[] dstO = o2;
        int[] histogram = new int[256];
        for (int shift = 0; shift < 32; shift += 8) {
            java.util.Arrays.fill(histogram, 0);
            for (int i = 0; i < m; i++) {
                histogram[(srcK[i] >>> shift) & 0xFF]++;
            }
            if (histogram[(srcK[0] >>> shift) & 0xFF] == m) {
                continue; // every key has this digit: the pass would not move anything
            }
            for (int d = 0, sum = 0; d < 256; d++) {
                int c = histogram[d];
                histogram[d] = sum;
                sum += c;
            }
            for (int i = 0; i < m; i++) {
                int key = srcK[i];
                int at = histogram[(key >>> shift) & 0xFF]++;
                dstK[at] = key;
                dstO[at] = srcO[i];
            }
            int[] tk = srcK;
            srcK = dstK;
            dstK = tk;
            int[] to = srcO;
            srcO = dstO;
            dstO = to;
        }
        if (srcK != keys) {
            System.arraycopy(srcK, 0, keys, 0, m);
            System.arraycopy(srcO, 0, order, 0, m);
        }
    }

    /** dL/dx_c = p_c (g_c - sum_k p_k g_k) per counted pixel, g = dL/dp as written by the scatter. */
    private static void softmaxChain(Problem p, CpuBuffer x, CpuBuffer t, CpuBuffer grad) {
        int c = (int) p.c;
        IntStream.range(0, Math.toIntExact(p.n)).parallel().forEach(n -> {
            double[] prob = new double[c];
            for (long s = 0; s < p.s; s++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) {
                    max = Math.max(max, x.floats.get(index(p, n, k, s)));
                }
                double sum = 0;
                for (int k = 0; k < c; k++) {
                    prob[k] = Math.exp(x.floats.get(index(p, n, k, s)) - max);
                    sum += prob[k];
                }
                double dot = 0;
                for (int k = 0; k < c; k++) {
                    prob[k] /= sum;
                    dot += prob[k] * grad.floats.get(index(p, n, k, s));
                }
                for (int k = 0; k < c; k++) {
                    int i = index(p, n, k, s);
                    grad.floats.put(i, (float) (prob[k] * (grad.floats.get(i) - dot)));
                }
            }
        });
    }
}
