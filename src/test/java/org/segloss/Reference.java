package org.segloss;

/**
 * An independent double-precision implementation of {@code shared/spec/losses.md}, written straight
 * from the spec's formulas over plain {@code double} arrays. It shares nothing with the library but
 * the public enums and the {@link LossSpec} getters, so the contract tests can compare every backend
 * against it. Gradients are central finite differences of {@link #value} (see {@link #gradient}).
 *
 * <p>Geometry as in the spec: {@code pred} has shape {@code (N, C, *S)} (nchw) or {@code (N, *S, C)}
 * (nhwc); a binary/multilabel target has pred's shape and layout, a multiclass target is the class map
 * {@code (N, *S)} with class indices stored as doubles.
 */
final class Reference {
    /** Spec: probabilities are clamped to [eps, 1 - eps] inside log for bce, focal, ce. */
    static final double PROB_EPS = 1e-7;
    /** Spec: the log-Dice part is -log(max(mean D, eps)). */
    static final double LOG_DICE_EPS = 1e-7;

    private Reference() {
    }

    /** N, C, S and the element index of (n, c, s) in pred's layout. */
    static final class Geometry {
        final int n;
        final int c;
        final int s;
        final Layout layout;

        Geometry(long[] shape, Layout layout) {
            long total = 1;
            for (long d : shape) {
                total *= d;
            }
            this.layout = layout;
            this.n = (int) shape[0];
            this.c = (int) (layout == Layout.NHWC ? shape[shape.length - 1] : shape[1]);
            this.s = (int) (total / ((long) n * c));
        }

        /** nchw: ((n C + c) S + s); nhwc: ((n S + s) C + c). */
        int index(int ni, int ci, int si) {
            return layout == Layout.NHWC ? (ni * s + si) * c + ci : (ni * c + ci) * s + si;
        }

        int size() {
            return n * c * s;
        }
    }

    // ---- elementary functions, written from their definitions --------------------------------

    /** sigmoid(x) = 1 / (1 + e^-x), in the form that does not overflow. */
    static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }

    /** softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|). */
    static double softplus(double z) {
        return Math.max(z, 0.0) + Math.log1p(Math.exp(-Math.abs(z)));
    }

    static double clampProbability(double p) {
        return Math.min(1 - PROB_EPS, Math.max(PROB_EPS, p));
    }

    // ---- the loss value ------------------------------------------------------------------------

    /** The mean-reduced loss of {@code spec} for pred {@code x} (probabilities or logits) and {@code target}. */
    static double value(LossSpec spec, double[] x, long[] shape, double[] target) {
        Geometry g = new Geometry(shape, spec.layout());
        boolean multiclass = spec.mode() == Mode.MULTICLASS;
        if (x.length != g.size() || target.length != (multiclass ? g.n * g.s : g.size())) {
            throw new IllegalArgumentException("reference: pred/target lengths do not match the shape");
        }
        double[] weights = new double[g.c];
        java.util.Arrays.fill(weights, 1.0);
        if (spec.classWeights() != null) {
            weights = spec.classWeights();
        }
        Loss loss = spec.loss();
        double pixel = 0;
        switch (loss) {
            case BCE:
            case BCE_LOGDICE:
                pixel = binaryPixel(spec, g, x, target, weights, false);
                break;
            case FOCAL:
                pixel = multiclass ? multiclassPixel(spec, g, x, target, weights, true)
                        : binaryPixel(spec, g, x, target, weights, true);
                break;
            case CE:
            case CE_LOGDICE:
                pixel = multiclassPixel(spec, g, x, target, weights, false);
                break;
            default:
                break;
        }
        double region = 0;
        switch (loss) {
            case DICE:
            case IOU:
            case TVERSKY:
                region = 1 - meanCoefficient(spec, g, x, target, weights, loss);
                break;
            case BCE_LOGDICE:
            case CE_LOGDICE:
                region = -Math.log(Math.max(meanCoefficient(spec, g, x, target, weights, Loss.DICE), LOG_DICE_EPS));
                break;
            default:
                break;
        }
        return pixel + region;
    }

    /**
     * bce: -(t log p + (1-t) log(1-p)); focal: -a t (1-p)^g log p - (1-a)(1-t) p^g log(1-p) (a = 1 for both
     * terms when alpha = none). From logits log p = -softplus(-x), log(1-p) = -softplus(x); from
     * probabilities p is clamped to [eps, 1 - eps] first. Weighted sum / sum of weights (M without weights).
     */
    private static double binaryPixel(LossSpec spec, Geometry g, double[] x, double[] target, double[] w,
                                      boolean focal) {
        double posWeight = spec.alphaNone() ? 1.0 : spec.alpha();
        double negWeight = spec.alphaNone() ? 1.0 : 1.0 - spec.alpha();
        double gamma = spec.gamma();
        double sum = 0;
        double weightSum = 0;
        for (int ni = 0; ni < g.n; ni++) {
            for (int ci = 0; ci < g.c; ci++) {
                for (int si = 0; si < g.s; si++) {
                    int i = g.index(ni, ci, si);
                    double t = target[i];
                    double p;
                    double q;
                    double logP;
                    double logQ;
                    if (spec.fromLogits()) {
                        p = sigmoid(x[i]);
                        q = sigmoid(-x[i]);
                        logP = -softplus(-x[i]);
                        logQ = -softplus(x[i]);
                    } else {
                        p = clampProbability(x[i]);
                        q = 1 - p;
                        logP = Math.log(p);
                        logQ = Math.log(q);
                    }
                    double term;
                    if (focal) {
                        term = -posWeight * t * Math.pow(q, gamma) * logP - negWeight * (1 - t) * Math.pow(p, gamma) * logQ;
                    } else if (spec.fromLogits()) {
                        // the spec's stable form: max(x, 0) - x t + log1p(exp(-|x|))
                        term = Math.max(x[i], 0) - x[i] * t + Math.log1p(Math.exp(-Math.abs(x[i])));
                    } else {
                        term = -(t * logP + (1 - t) * logQ);
                    }
                    sum += w[ci] * term;
                    weightSum += w[ci];
                }
            }
        }
        return weightSum > 0 ? sum / weightSum : 0.0;
    }

    /** Is the class map value an ignored pixel? */
    private static boolean ignored(LossSpec spec, double y) {
        return spec.ignoreIndex() != null && y == spec.ignoreIndex();
    }

    private static int classOf(double y, int c) {
        if (y != Math.rint(y) || y < 0 || y >= c) {
            throw new IllegalArgumentException("reference: class index out of range: " + y);
        }
        return (int) y;
    }

    /**
     * ce: -log p_y (from logits: logsumexp(x) - x_y); focal: -(1 - p_y)^g log p_y; per valid pixel,
     * weighted by the weight of the target class, divided by the sum of those weights (M without weights).
     */
    private static double multiclassPixel(LossSpec spec, Geometry g, double[] x, double[] target, double[] w,
                                          boolean focal) {
        double sum = 0;
        double weightSum = 0;
        for (int ni = 0; ni < g.n; ni++) {
            for (int si = 0; si < g.s; si++) {
                double yv = target[ni * g.s + si];
                if (ignored(spec, yv)) {
                    continue;
                }
                int y = classOf(yv, g.c);
                double logPy;
                double py;
                if (spec.fromLogits()) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int ci = 0; ci < g.c; ci++) {
                        max = Math.max(max, x[g.index(ni, ci, si)]);
                    }
                    double z = 0;
                    for (int ci = 0; ci < g.c; ci++) {
                        z += Math.exp(x[g.index(ni, ci, si)] - max);
                    }
                    double logSumExp = max + Math.log(z);
                    logPy = x[g.index(ni, y, si)] - logSumExp;
                    py = Math.exp(logPy);
                } else {
                    py = clampProbability(x[g.index(ni, y, si)]);
                    logPy = Math.log(py);
                }
                double term = focal ? -Math.pow(1 - py, spec.gamma()) * logPy : -logPy;
                sum += w[y] * term;
                weightSum += w[y];
            }
        }
        return weightSum > 0 ? sum / weightSum : 0.0;
    }

    /**
     * The weighted mean region coefficient: per (n, c) (or per c with batch) I = sum p t, P = sum p,
     * T = sum t; dice (2I+s)/(P+T+s), iou (I+s)/(P+T-I+s), tversky (I+s)/(I + a FP + b FN + s); a zero
     * denominator gives 1. Mean over groups of sum_c w_c coef / sum_c w_c, with w_0 = 0 when background
     * is excluded.
     */
    static double meanCoefficient(LossSpec spec, Geometry g, double[] x, double[] target, double[] classWeights,
                                  Loss kind) {
        double[][][] sums = regionSums(spec, g, x, target);
        double[] w = classWeights.clone();
        if (!spec.includeBackground()) {
            w[0] = 0;
        }
        double wSum = 0;
        for (double v : w) {
            wSum += v;
        }
        int groups = spec.batch() ? 1 : g.n;
        double s = spec.smooth();
        double total = 0;
        for (int grp = 0; grp < groups; grp++) {
            double weighted = 0;
            for (int ci = 0; ci < g.c; ci++) {
                double inter = 0;
                double predSum = 0;
                double targetSum = 0;
                for (int ni = 0; ni < g.n; ni++) {
                    if (spec.batch() || ni == grp) {
                        inter += sums[ni][ci][0];
                        predSum += sums[ni][ci][1];
                        targetSum += sums[ni][ci][2];
                    }
                }
                double num;
                double den;
                if (kind == Loss.IOU) {
                    num = inter + s;
                    den = predSum + targetSum - inter + s;
                } else if (kind == Loss.TVERSKY) {
                    num = inter + s;
                    den = inter + spec.alpha() * (predSum - inter) + spec.beta() * (targetSum - inter) + s;
                } else {
                    num = 2 * inter + s;
                    den = predSum + targetSum + s;
                }
                double coef = den == 0 ? 1.0 : num / den;
                weighted += w[ci] * coef;
            }
            total += weighted / wSum;
        }
        return total / groups;
    }

    /** [n][c][I, P, T] over the pixels that count (multiclass: softmax p, one-hot t, ignored pixels left out). */
    private static double[][][] regionSums(LossSpec spec, Geometry g, double[] x, double[] target) {
        double[][][] sums = new double[g.n][g.c][3];
        for (int ni = 0; ni < g.n; ni++) {
            for (int si = 0; si < g.s; si++) {
                if (spec.mode() == Mode.MULTICLASS) {
                    double yv = target[ni * g.s + si];
                    if (ignored(spec, yv)) {
                        continue;
                    }
                    int y = classOf(yv, g.c);
                    double[] p = new double[g.c];
                    double z = 0;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int ci = 0; ci < g.c; ci++) {
                        p[ci] = x[g.index(ni, ci, si)];
                        max = Math.max(max, p[ci]);
                    }
                    if (spec.fromLogits()) {
                        for (int ci = 0; ci < g.c; ci++) {
                            p[ci] = Math.exp(p[ci] - max);
                            z += p[ci];
                        }
                        for (int ci = 0; ci < g.c; ci++) {
                            p[ci] /= z;
                        }
                    }
                    for (int ci = 0; ci < g.c; ci++) {
                        double t = ci == y ? 1 : 0;
                        sums[ni][ci][0] += p[ci] * t;
                        sums[ni][ci][1] += p[ci];
                        sums[ni][ci][2] += t;
                    }
                } else {
                    for (int ci = 0; ci < g.c; ci++) {
                        int i = g.index(ni, ci, si);
                        double p = spec.fromLogits() ? sigmoid(x[i]) : x[i];
                        double t = target[i];
                        sums[ni][ci][0] += p * t;
                        sums[ni][ci][1] += p;
                        sums[ni][ci][2] += t;
                    }
                }
            }
        }
        return sums;
    }

    // ---- the gradient ----------------------------------------------------------------------

    /**
     * dL/dx by central finite differences of {@link #value} in double: {@code (L(x + h) - L(x - h)) / 2h}
     * with {@code h = 1e-5 max(1, |x|)} for logits and {@code h = 1e-6} for probabilities. Valid only at
     * points at least h away from the probability clamp, the log-Dice floor and empty denominators.
     */
    static double[] gradient(LossSpec spec, double[] x, long[] shape, double[] target) {
        double[] work = x.clone();
        double[] grad = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double h = spec.fromLogits() ? 1e-5 * Math.max(1.0, Math.abs(x[i])) : 1e-6;
            work[i] = x[i] + h;
            double up = value(spec, work, shape, target);
            work[i] = x[i] - h;
            double down = value(spec, work, shape, target);
            work[i] = x[i];
            grad[i] = (up - down) / (2 * h);
        }
        return grad;
    }

    // ---- hard confusion counts -----------------------------------------------------------------

    /**
     * {TP, FP, FN, TN} per class over the non-ignored pixels. Binary/multilabel: predicted positive where
     * p >= threshold (from logits: x >= log(threshold / (1 - threshold))), actual positive where t == 1
     * (targets must be hard 0/1). Multiclass: predicted class = argmax over C, ties to the lowest index.
     */
    static long[][] confusion(Mode mode, boolean fromLogits, Layout layout, Integer ignoreIndex, double threshold,
                              double[] x, long[] shape, double[] target) {
        Geometry g = new Geometry(shape, layout);
        long[][] counts = new long[4][g.c];
        for (int ni = 0; ni < g.n; ni++) {
            for (int si = 0; si < g.s; si++) {
                if (mode == Mode.MULTICLASS) {
                    double yv = target[ni * g.s + si];
                    if (ignoreIndex != null && yv == ignoreIndex) {
                        continue;
                    }
                    int y = classOf(yv, g.c);
                    int best = 0;
                    for (int ci = 1; ci < g.c; ci++) {
                        if (x[g.index(ni, ci, si)] > x[g.index(ni, best, si)]) {
                            best = ci;
                        }
                    }
                    for (int ci = 0; ci < g.c; ci++) {
                        count(counts, ci, ci == best, ci == y);
                    }
                } else {
                    for (int ci = 0; ci < g.c; ci++) {
                        int i = g.index(ni, ci, si);
                        if (target[i] != 0 && target[i] != 1) {
                            throw new IllegalArgumentException("reference: hard counts need 0/1 targets, got " + target[i]);
                        }
                        boolean predicted = fromLogits ? x[i] >= Math.log(threshold / (1 - threshold)) : x[i] >= threshold;
                        count(counts, ci, predicted, target[i] == 1);
                    }
                }
            }
        }
        return counts;
    }

    private static void count(long[][] counts, int c, boolean predicted, boolean actual) {
        int k = predicted ? (actual ? 0 : 1) : (actual ? 2 : 3);
        counts[k][c]++;
    }
}
