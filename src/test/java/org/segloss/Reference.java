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

    // ---- the loss value and its analytic gradient ------------------------------------------------

    /** The mean-reduced loss of {@code spec} for pred {@code x} (probabilities or logits) and {@code target}. */
    static double value(LossSpec spec, double[] x, long[] shape, double[] target) {
        return new Evaluation(spec, x, shape, target, false).value;
    }

    /**
     * dL/dx written from the spec's derivatives (pixel terms, region coefficients, sigmoid and softmax chains), in
     * double. {@link #gradient} (finite differences of {@link #value}) checks it.
     */
    static double[] analyticGradient(LossSpec spec, double[] x, long[] shape, double[] target) {
        return new Evaluation(spec, x, shape, target, true).gradient();
    }

    /**
     * One evaluation of the spec: per element the probability p, 1 - p, the target t and whether it counts; then
     * the pixel part and the region part, each with dL/dp when asked.
     *
     * <p>Targets: binary/multilabel the target of pred's shape (elements equal to ignore_index do not count);
     * multiclass either the class map (N, *S) (one-hot t, ignored pixels do not count) or, when it has pred's
     * length, soft targets: t[n,c,s] the class probabilities.
     */
    private static final class Evaluation {
        final LossSpec spec;
        final Geometry g;
        final double[] x;
        final boolean multiclass;
        final double[] p;
        final double[] q;
        final double[] t;
        final boolean[] valid;
        final double[] w;
        final double[] dp;
        double value;

        Evaluation(LossSpec spec, double[] x, long[] shape, double[] target, boolean withGradient) {
            this.spec = spec;
            this.g = new Geometry(shape, spec.layout());
            this.x = x;
            this.multiclass = spec.mode() == Mode.MULTICLASS;
            int size = g.size();
            boolean soft = multiclass && target.length == size;
            if (x.length != size || target.length != (multiclass && !soft ? g.n * g.s : size)) {
                throw new IllegalArgumentException("reference: pred/target lengths do not match the shape");
            }
            p = new double[size];
            q = new double[size];
            t = new double[size];
            valid = new boolean[size];
            w = new double[g.c];
            java.util.Arrays.fill(w, 1.0);
            if (spec.classWeights() != null) {
                System.arraycopy(spec.classWeights(), 0, w, 0, g.c);
            }
            dp = withGradient ? new double[size] : null;
            for (int ni = 0; ni < g.n; ni++) {
                for (int si = 0; si < g.s; si++) {
                    probabilities(ni, si);
                    if (multiclass && !soft) {
                        double yv = target[ni * g.s + si];
                        boolean keep = !ignored(spec, yv);
                        int y = keep ? classOf(yv, g.c) : -1;
                        for (int ci = 0; ci < g.c; ci++) {
                            int i = g.index(ni, ci, si);
                            t[i] = ci == y ? 1 : 0;
                            valid[i] = keep;
                        }
                    } else {
                        for (int ci = 0; ci < g.c; ci++) {
                            int i = g.index(ni, ci, si);
                            t[i] = target[i];
                            valid[i] = soft || !ignored(spec, target[i]);
                        }
                    }
                }
            }
            Loss loss = spec.loss();
            double pixel = 0;
            double region = 0;
            boolean combined = loss == Loss.BCE_LOGDICE || loss == Loss.CE_LOGDICE || loss == Loss.DICE_CE
                    || loss == Loss.DICE_FOCAL;
            double lp = combined ? spec.lambdaPixel() : 1.0;
            double lr = combined ? spec.lambdaRegion() : 1.0;
            if (loss.hasPixelTerm()) {
                boolean focal = loss == Loss.FOCAL || loss == Loss.DICE_FOCAL;
                pixel = multiclass ? multiclassPixel(focal, lp) : binaryPixel(focal, lp);
            }
            if (loss.hasRegionTerm()) {
                region = loss == Loss.GENERALIZED_DICE ? generalizedDice(lr) : region(lr);
            }
            value = lp * pixel + lr * region;
        }

        /** p and 1 - p of every class of pixel (n, s): sigmoid / softmax of logits, or the probabilities themselves. */
        private void probabilities(int ni, int si) {
            if (!spec.fromLogits()) {
                for (int ci = 0; ci < g.c; ci++) {
                    int i = g.index(ni, ci, si);
                    p[i] = x[i];
                    q[i] = 1 - x[i];
                }
            } else if (!multiclass) {
                for (int ci = 0; ci < g.c; ci++) {
                    int i = g.index(ni, ci, si);
                    p[i] = sigmoid(x[i]);
                    q[i] = sigmoid(-x[i]);
                }
            } else {
                double max = Double.NEGATIVE_INFINITY;
                for (int ci = 0; ci < g.c; ci++) {
                    max = Math.max(max, x[g.index(ni, ci, si)]);
                }
                double z = 0;
                for (int ci = 0; ci < g.c; ci++) {
                    z += Math.exp(x[g.index(ni, ci, si)] - max);
                }
                for (int ci = 0; ci < g.c; ci++) {
                    int i = g.index(ni, ci, si);
                    p[i] = Math.exp(x[i] - max) / z;
                    q[i] = 1 - p[i];
                }
            }
        }

        /** log p of element i: -softplus(-x) (binary logits), x - logsumexp (softmax logits) or log(clamp(p)). */
        private double logP(int i, int ni, int si) {
            if (!spec.fromLogits()) {
                return Math.log(clampProbability(x[i]));
            } else if (!multiclass) {
                return -softplus(-x[i]);
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int ci = 0; ci < g.c; ci++) {
                max = Math.max(max, x[g.index(ni, ci, si)]);
            }
            double z = 0;
            for (int ci = 0; ci < g.c; ci++) {
                z += Math.exp(x[g.index(ni, ci, si)] - max);
            }
            return x[i] - max - Math.log(z);
        }

        /** g * d(q^g)/dq without 0 * inf when g = 0. */
        private static double powDerivative(double base, double gamma) {
            return gamma == 0 ? 0.0 : gamma * Math.pow(base, gamma - 1);
        }

        /**
         * bce: -(pw_c t' log p + (1-t') log(1-p)) with t' = t (1 - e) + e / 2; focal: -a t (1-p)^g log p -
         * (1-a)(1-t) p^g log(1-p) (a = 1 for both terms when alpha = none). Over the counted elements, weighted by
         * the class weight of the channel, divided by the sum of those weights (M without weights). From logits
         * log p = -softplus(-x), log(1-p) = -softplus(x); from probabilities p is clamped to [eps, 1 - eps] first
         * and the derivative is taken at the clamped value.
         */
        private double binaryPixel(boolean focal, double scale) {
            double posA = spec.alphaNone() ? 1.0 : spec.alpha();
            double negA = spec.alphaNone() ? 1.0 : 1.0 - spec.alpha();
            double gamma = spec.gamma();
            double e = spec.labelSmoothing();
            double[] pw = spec.posWeight();
            double sum = 0;
            double weightSum = 0;
            double[] dterm = new double[p.length];
            for (int ni = 0; ni < g.n; ni++) {
                for (int ci = 0; ci < g.c; ci++) {
                    for (int si = 0; si < g.s; si++) {
                        int i = g.index(ni, ci, si);
                        if (!valid[i]) {
                            continue;
                        }
                        double pp;
                        double qq;
                        double logP;
                        double logQ;
                        if (spec.fromLogits()) {
                            pp = p[i];
                            qq = q[i];
                            logP = -softplus(-x[i]);
                            logQ = -softplus(x[i]);
                        } else {
                            pp = clampProbability(x[i]);
                            qq = clampProbability(1 - x[i]);
                            logP = Math.log(pp);
                            logQ = Math.log(qq);
                        }
                        double term;
                        double d;
                        if (focal) {
                            double tt = t[i];
                            term = -posA * tt * Math.pow(qq, gamma) * logP - negA * (1 - tt) * Math.pow(pp, gamma) * logQ;
                            d = -posA * tt * (-powDerivative(qq, gamma) * logP + Math.pow(qq, gamma) / pp)
                                    - negA * (1 - tt) * (powDerivative(pp, gamma) * logQ - Math.pow(pp, gamma) / qq);
                        } else {
                            double ts = t[i] * (1 - e) + e / 2;
                            double pwc = pw == null ? 1.0 : pw[ci];
                            term = -(pwc * ts * logP + (1 - ts) * logQ);
                            d = -pwc * ts / pp + (1 - ts) / qq;
                        }
                        sum += w[ci] * term;
                        weightSum += w[ci];
                        dterm[i] = w[ci] * d;
                    }
                }
            }
            if (dp != null && weightSum > 0) {
                for (int i = 0; i < dp.length; i++) {
                    dp[i] += scale * dterm[i] / weightSum;
                }
            }
            return weightSum > 0 ? sum / weightSum : 0.0;
        }

        /**
         * ce: -sum_c w_c t'_c log p_c with t' = (1 - e) t + e / C; focal: -sum_c w_c t_c (1 - p_c)^g log p_c; per
         * counted pixel, divided by sum over the pixels of sum_c w_c t_c (the unsmoothed targets; w_y for a class
         * map). From probabilities p_c is clamped inside log and (1 - p_c)^g.
         */
        private double multiclassPixel(boolean focal, double scale) {
            double e = focal ? 0.0 : spec.labelSmoothing();
            double gamma = spec.gamma();
            double sum = 0;
            double weightSum = 0;
            double[] dterm = new double[p.length];
            for (int ni = 0; ni < g.n; ni++) {
                for (int si = 0; si < g.s; si++) {
                    if (!valid[g.index(ni, 0, si)]) {
                        continue;
                    }
                    for (int ci = 0; ci < g.c; ci++) {
                        int i = g.index(ni, ci, si);
                        double pc = spec.fromLogits() ? p[i] : clampProbability(x[i]);
                        double logPc = logP(i, ni, si);
                        weightSum += w[ci] * t[i];
                        if (focal) {
                            sum += -w[ci] * t[i] * Math.pow(1 - pc, gamma) * logPc;
                            dterm[i] = -w[ci] * t[i] * (-powDerivative(1 - pc, gamma) * logPc + Math.pow(1 - pc, gamma) / pc);
                        } else {
                            double ts = (1 - e) * t[i] + e / g.c;
                            sum += -w[ci] * ts * logPc;
                            dterm[i] = -w[ci] * ts / pc;
                        }
                    }
                }
            }
            if (dp != null && weightSum > 0) {
                for (int i = 0; i < dp.length; i++) {
                    dp[i] += scale * dterm[i] / weightSum;
                }
            }
            return weightSum > 0 ? sum / weightSum : 0.0;
        }

        /** Per (n, c): I = sum p t, P = sum p (p^2 with squared_pred), T = sum t (t^2), Tlin = sum t, V = count. */
        private double[][][] sums() {
            double[][][] sums = new double[g.n][g.c][5];
            boolean squared = spec.squaredPred();
            for (int ni = 0; ni < g.n; ni++) {
                for (int ci = 0; ci < g.c; ci++) {
                    for (int si = 0; si < g.s; si++) {
                        int i = g.index(ni, ci, si);
                        if (!valid[i]) {
                            continue;
                        }
                        double[] k = sums[ni][ci];
                        k[0] += p[i] * t[i];
                        k[1] += squared ? p[i] * p[i] : p[i];
                        k[2] += squared ? t[i] * t[i] : t[i];
                        k[3] += t[i];
                        k[4] += 1;
                    }
                }
            }
            return sums;
        }

        /** sums of (group, c): over sample grp, or over the whole batch with batch. */
        private double[] groupSums(double[][][] sums, int grp, int ci) {
            double[] k = new double[5];
            for (int ni = 0; ni < g.n; ni++) {
                if (spec.batch() || ni == grp) {
                    for (int j = 0; j < 5; j++) {
                        k[j] += sums[ni][ci][j];
                    }
                }
            }
            return k;
        }

        /** Adds {@code dI t_i + dP dP/dp_i} to dp over the counted elements of (group, c). */
        private void scatter(int grp, int ci, double dI, double dP) {
            if (dp == null || (dI == 0 && dP == 0)) {
                return;
            }
            for (int ni = 0; ni < g.n; ni++) {
                if (!(spec.batch() || ni == grp)) {
                    continue;
                }
                for (int si = 0; si < g.s; si++) {
                    int i = g.index(ni, ci, si);
                    if (valid[i]) {
                        dp[i] += dI * t[i] + dP * (spec.squaredPred() ? 2 * p[i] : 1.0);
                    }
                }
            }
        }

        /**
         * The region part of dice, iou, tversky, mcc and of the combined losses (their Dice), with its gradient.
         * Per (group, c) the coefficient (a zero denominator gives 1, or for mcc 1 when FP = FN = 0 else 0, with
         * gradient 0); each averaged term l = 1 - coef, or -log(max(coef, eps)) with log_loss; mean over groups of
         * sum_c w_c l_c / sum_c w_c (w_0 = 0 without background). Then tversky: max(mean, 0)^gamma;
         * bce_logdice, ce_logdice: -log(max(mean D, eps)) instead of 1 - mean D.
         */
        private double region(double scale) {
            Loss loss = spec.loss();
            Loss kind = loss == Loss.IOU || loss == Loss.TVERSKY || loss == Loss.MCC ? loss : Loss.DICE;
            boolean logDice = loss == Loss.BCE_LOGDICE || loss == Loss.CE_LOGDICE;
            double[][][] sums = sums();
            double[] cw = w.clone();
            if (!spec.includeBackground()) {
                cw[0] = 0;
            }
            double wSum = 0;
            for (double v : cw) {
                wSum += v;
            }
            int groups = spec.batch() ? 1 : g.n;
            double nr = spec.smoothNr();
            double dr = spec.smoothDr();
            double[][] coef = new double[groups][g.c];
            double[][][] partial = new double[groups][g.c][2];
            double mean = 0;
            for (int grp = 0; grp < groups; grp++) {
                for (int ci = 0; ci < g.c; ci++) {
                    double[] k = groupSums(sums, grp, ci);
                    double inter = k[0];
                    double pSum = k[1];
                    double tSum = k[2];
                    double num;
                    double den;
                    double c;
                    double dI = 0;
                    double dP = 0;
                    if (kind == Loss.MCC) {
                        double s = spec.smooth();
                        double tp = inter + s;
                        double fp = pSum - inter + s;
                        double fn = tSum - inter + s;
                        double tn = k[4] - pSum - tSum + inter + s;
                        double d = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
                        if (d == 0) {
                            c = fp == 0 && fn == 0 ? 1.0 : 0.0;
                        } else {
                            double root = Math.sqrt(d);
                            c = (tp * tn - fp * fn) / root;
                            double dTp = tn / root - c / 2 * (1 / (tp + fp) + 1 / (tp + fn));
                            double dTn = tp / root - c / 2 * (1 / (tn + fp) + 1 / (tn + fn));
                            double dFp = -fn / root - c / 2 * (1 / (tp + fp) + 1 / (tn + fp));
                            double dFn = -fp / root - c / 2 * (1 / (tp + fn) + 1 / (tn + fn));
                            dI = dTp - dFp - dFn + dTn;
                            dP = dFp - dTn;
                        }
                    } else {
                        if (kind == Loss.IOU) {
                            num = inter + nr;
                            den = pSum + tSum - inter + dr;
                        } else if (kind == Loss.TVERSKY) {
                            num = inter + nr;
                            den = inter + spec.alpha() * (pSum - inter) + spec.beta() * (tSum - inter) + dr;
                        } else {
                            num = 2 * inter + nr;
                            den = pSum + tSum + dr;
                        }
                        if (den == 0) {
                            c = 1.0;
                        } else {
                            c = num / den;
                            if (kind == Loss.IOU) {
                                dI = (den + num) / (den * den);
                            } else if (kind == Loss.TVERSKY) {
                                dI = (den - num * (1 - spec.alpha() - spec.beta())) / (den * den);
                            } else {
                                dI = 2 / den;
                            }
                            dP = -num * (kind == Loss.TVERSKY ? spec.alpha() : 1.0) / (den * den);
                        }
                    }
                    coef[grp][ci] = c;
                    partial[grp][ci][0] = dI;
                    partial[grp][ci][1] = dP;
                    double term = spec.logLoss() ? -Math.log(Math.max(c, LOG_DICE_EPS)) : 1 - c;
                    mean += cw[ci] * term / wSum / groups;
                }
            }
            double result;
            double outer;
            if (logDice) {
                double meanD = 1 - mean;
                result = -Math.log(Math.max(meanD, LOG_DICE_EPS));
                outer = meanD >= LOG_DICE_EPS ? 1 / meanD : 0.0; // d result / d mean = -d result / d meanD
            } else if (loss == Loss.TVERSKY) {
                double base = Math.max(mean, 0.0);
                result = Math.pow(base, spec.gamma());
                outer = base > 0 ? spec.gamma() * Math.pow(base, spec.gamma() - 1) : 0.0;
            } else {
                result = mean;
                outer = 1.0;
            }
            if (dp != null) {
                for (int grp = 0; grp < groups; grp++) {
                    for (int ci = 0; ci < g.c; ci++) {
                        double c = coef[grp][ci];
                        double dTerm = spec.logLoss() ? (c >= LOG_DICE_EPS ? -1 / c : 0.0) : -1.0;
                        double f = scale * outer * cw[ci] / wSum / groups * dTerm;
                        scatter(grp, ci, f * partial[grp][ci][0], f * partial[grp][ci][1]);
                    }
                }
            }
            return result;
        }

        /**
         * generalized_dice: per group w_c = 1/T_c^2 (square), 1/T_c (simple) or 1 (uniform) from the plain target
         * sums; a class with T_c = 0 gets the largest finite w of its group (0 if none); GD = (2 sum_c w_c I_c +
         * s_nr) / (sum_c w_c (P_c + T_c) + s_dr) (1 when the denominator is 0); loss 1 - mean GD; the weights are
         * constants for the gradient; without background class 0 is left out of every sum.
         */
        private double generalizedDice(double scale) {
            double[][][] sums = sums();
            int groups = spec.batch() ? 1 : g.n;
            int first = spec.includeBackground() ? 0 : 1;
            double total = 0;
            for (int grp = 0; grp < groups; grp++) {
                double[][] k = new double[g.c][];
                double[] wc = new double[g.c];
                double largest = 0;
                boolean anyFinite = false;
                for (int ci = first; ci < g.c; ci++) {
                    k[ci] = groupSums(sums, grp, ci);
                    double tl = k[ci][3];
                    switch (spec.gdWeight()) {
                        case SQUARE:
                            wc[ci] = 1 / (tl * tl);
                            break;
                        case SIMPLE:
                            wc[ci] = 1 / tl;
                            break;
                        default:
                            wc[ci] = 1;
                    }
                    if (Double.isFinite(wc[ci])) {
                        largest = anyFinite ? Math.max(largest, wc[ci]) : wc[ci];
                        anyFinite = true;
                    }
                }
                double num = spec.smoothNr();
                double den = spec.smoothDr();
                for (int ci = first; ci < g.c; ci++) {
                    if (!Double.isFinite(wc[ci])) {
                        wc[ci] = largest;
                    }
                    num += 2 * wc[ci] * k[ci][0];
                    den += wc[ci] * (k[ci][1] + k[ci][2]);
                }
                double gd = den == 0 ? 1.0 : num / den;
                total += (1 - gd) / groups;
                if (den != 0) {
                    for (int ci = first; ci < g.c; ci++) {
                        double f = -scale / groups;
                        scatter(grp, ci, f * 2 * wc[ci] / den, f * -num * wc[ci] / (den * den));
                    }
                }
            }
            return total;
        }

        /** dL/dx: the sigmoid chain dL/dp p (1 - p), the softmax chain p_c (g_c - sum_k p_k g_k), or dL/dp. */
        double[] gradient() {
            double[] out = new double[dp.length];
            if (!spec.fromLogits()) {
                System.arraycopy(dp, 0, out, 0, dp.length);
            } else if (!multiclass) {
                for (int i = 0; i < dp.length; i++) {
                    out[i] = dp[i] * p[i] * q[i];
                }
            } else {
                for (int ni = 0; ni < g.n; ni++) {
                    for (int si = 0; si < g.s; si++) {
                        double dot = 0;
                        for (int ci = 0; ci < g.c; ci++) {
                            int i = g.index(ni, ci, si);
                            dot += p[i] * dp[i];
                        }
                        for (int ci = 0; ci < g.c; ci++) {
                            int i = g.index(ni, ci, si);
                            out[i] = p[i] * (dp[i] - dot);
                        }
                    }
                }
            }
            return out;
        }
    }

    /** Is the target value ignored? (multiclass: a class map value; binary/multilabel: an element value) */
    private static boolean ignored(LossSpec spec, double y) {
        return spec.ignoreIndex() != null && y == spec.ignoreIndex();
    }

    private static int classOf(double y, int c) {
        if (y != Math.rint(y) || y < 0 || y >= c) {
            throw new IllegalArgumentException("reference: class index out of range: " + y);
        }
        return (int) y;
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
