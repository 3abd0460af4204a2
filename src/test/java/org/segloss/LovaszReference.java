package org.segloss;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An independent double-precision implementation of the spec's "Lovasz losses", written from its
 * formulas: errors sorted with a comparator (decreasing error, then increasing element index), the
 * Lovasz gradient as the difference {@code J_k - J_{k-1}} of the spec's {@code J_k}, the terms and
 * means as the spec states them, and the gradient of the spec (hinge: {@code -(2t-1) L}; softmax:
 * {@code sign(p - t) L} then the softmax chain). Shares nothing with the library but the enums.
 *
 * <p>With {@code floatErrors} the errors are rounded to float before sorting, as every backend computes
 * them, so that ties between them (which decide the gradient's ranks) are the same ties here. Values do not
 * depend on the order of tied errors.
 */
final class LovaszReference {
    private LovaszReference() {
    }

    static final class Result {
        final double value;
        final double[] grad;

        Result(double value, double[] grad) {
            this.value = value;
            this.grad = grad;
        }
    }

    /**
     * @param target binary/multilabel: pred-shaped values (0, 1 or the ignore value); multiclass: the class map
     * @param ignore the ignore value or null
     */
    static Result compute(Mode mode, boolean batch, Layout layout, long[] shape, double[] x, double[] target,
                          Integer ignore, boolean fromLogits, boolean floatErrors) {
        Reference.Geometry g = new Reference.Geometry(shape, layout);
        boolean multiclass = mode == Mode.MULTICLASS;
        double[] p = new double[g.size()];
        for (int n = 0; n < g.n; n++) {
            for (int s = 0; s < g.s; s++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < g.c; c++) {
                    max = Math.max(max, x[g.index(n, c, s)]);
                }
                double sum = 0;
                for (int c = 0; c < g.c; c++) {
                    sum += Math.exp(x[g.index(n, c, s)] - max);
                }
                for (int c = 0; c < g.c; c++) {
                    int i = g.index(n, c, s);
                    p[i] = multiclass && fromLogits ? Math.exp(x[i] - max) / sum : x[i];
                }
            }
        }
        int groups = batch ? 1 : g.n;
        double[] dTerm = new double[g.size()]; // d term / d x (binary) or d term / d p (multiclass)
        double[][] terms = new double[groups][g.c];
        boolean[][] present = new boolean[groups][g.c];
        for (int nb = 0; nb < groups; nb++) {
            for (int c = 0; c < g.c; c++) {
                // the segment's counted elements, in element order k = (n, s)
                List<double[]> elems = new ArrayList<>(); // {error, k, gt, pred index, sign}
                int k = 0;
                for (int n = batch ? 0 : nb; n < (batch ? g.n : nb + 1); n++) {
                    for (int s = 0; s < g.s; s++, k++) {
                        int i = g.index(n, c, s);
                        double t = multiclass ? target[n * g.s + s] : target[i];
                        if (ignore != null && t == ignore) {
                            continue;
                        }
                        double gt = multiclass ? (t == c ? 1 : 0) : t;
                        double e;
                        double sign;
                        if (multiclass) {
                            e = Math.abs(gt - p[i]);
                            if (floatErrors) {
                                e = (float) e;
                            }
                            sign = Math.signum(p[i] - gt);
                        } else {
                            e = 1 - x[i] * (2 * gt - 1);
                            if (floatErrors) {
                                e = (float) e;
                            }
                            sign = -(2 * gt - 1);
                        }
                        elems.add(new double[] {e, k, gt, i, sign});
                    }
                }
                elems.sort(Comparator.<double[]>comparingDouble(a -> -a[0]).thenComparingDouble(a -> a[1]));
                double gsum = 0;
                for (double[] a : elems) {
                    gsum += a[2];
                }
                present[nb][c] = gsum > 0;
                double prevJ = 0;
                double cumG = 0;
                double cumNotG = 0;
                double term = 0;
                for (double[] a : elems) {
                    cumG += a[2];
                    cumNotG += 1 - a[2];
                    double j = 1 - (gsum - cumG) / (gsum + cumNotG);
                    double lk = j - prevJ;
                    prevJ = j;
                    double e = multiclass ? a[0] : Math.max(a[0], 0);
                    term += e * lk;
                    if (a[0] > 0) {
                        dTerm[(int) a[3]] = a[4] * lk;
                    }
                }
                terms[nb][c] = term;
            }
        }
        double value = 0;
        double[] grad = new double[g.size()];
        double[] weight = new double[g.size()];
        for (int nb = 0; nb < groups; nb++) {
            int nPresent = 0;
            for (int c = 0; c < g.c; c++) {
                nPresent += present[nb][c] ? 1 : 0;
            }
            for (int c = 0; c < g.c; c++) {
                double w = multiclass ? (present[nb][c] ? 1.0 / (nPresent * groups) : 0) : 1.0 / (groups * g.c);
                value += w * terms[nb][c];
                for (int n = batch ? 0 : nb; n < (batch ? g.n : nb + 1); n++) {
                    for (int s = 0; s < g.s; s++) {
                        weight[g.index(n, c, s)] = w;
                    }
                }
            }
        }
        for (int i = 0; i < grad.length; i++) {
            grad[i] = dTerm[i] * weight[i];
        }
        if (multiclass && fromLogits) { // dL/dx_c = p_c (g_c - sum_k p_k g_k)
            double[] chained = new double[g.size()];
            for (int n = 0; n < g.n; n++) {
                for (int s = 0; s < g.s; s++) {
                    double dot = 0;
                    for (int c = 0; c < g.c; c++) {
                        dot += p[g.index(n, c, s)] * grad[g.index(n, c, s)];
                    }
                    for (int c = 0; c < g.c; c++) {
                        int i = g.index(n, c, s);
                        chained[i] = p[i] * (grad[i] - dot);
                    }
                }
            }
            grad = chained;
        }
        return new Result(value, grad);
    }
}
