package org.segloss.internal;

import org.segloss.Loss;
import org.segloss.LossSpec;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.Problem;
import org.segloss.backend.Stat;

/**
 * The host finalize step, shared by every backend, in double precision: turns the per-row stats of
 * a {@link Problem} into the loss value, the per-(sample, class) coefficients and terms, and the
 * per-row gradient coefficients of the grad pass. Rows are combined in a fixed order.
 */
public final class Finalizer {
    private Finalizer() {
    }

    /** Everything finalize computes. Arrays are owned by the caller after the call. */
    public static final class Outcome {
        public double value;
        public double pixelLoss;
        public double regionLoss;
        /** Weighted mean of the region coefficients (NaN when the loss has no region term). */
        public double meanCoefficient = Double.NaN;
        /** Region coefficient per row (n * C + c), or per class with batch; null without region term. */
        public double[] coefficients;
        /** Summed pixel term per row (n * C + c); null without pixel term. */
        public double[] pixelTermSums;
        /** Mean region coefficient of each class over the batch; null without region term. */
        public double[] perClassCoefficient;
        /** Mean pixel term of each class (NaN where the class has no element); null without pixel term. */
        public double[] perClassPixelLoss;
        public GradCoefficients grad;
    }

    /** Returns null when no value was refused, else the number of bad pred and bad target values. */
    public static long[] badCounts(Problem problem, double[] stats) {
        long badPred = 0;
        long badTarget = 0;
        for (int r = 0; r < problem.rows(); r++) {
            badPred += (long) stats[r * Problem.STATS + Problem.STAT_BAD_PRED];
            badTarget += (long) stats[r * Problem.STATS + Problem.STAT_BAD_TARGET];
        }
        return badPred == 0 && badTarget == 0 ? null : new long[] {badPred, badTarget};
    }

    /**
     * Computes the loss of {@code spec} from {@code stats}:
     * {@code value = lambda_pixel * pixelLoss + lambda_region * regionLoss} (both lambdas 1 for a loss that is not a
     * combination; the parts are reported unweighted).
     *
     * @param withGrad also compute the grad pass coefficients
     */
    public static Outcome finish(LossSpec spec, Problem problem, double[] stats, boolean withGrad) {
        int n = Math.toIntExact(problem.n);
        int c = Math.toIntExact(problem.c);
        Loss loss = spec.loss();
        Outcome out = new Outcome();
        float[] pixelScale = new float[c];
        float[] regionA = new float[n * c];
        float[] regionB = new float[n * c];
        double[] weights = classWeights(spec, c);
        boolean combined = loss.hasPixelTerm() && loss.hasRegionTerm();
        double lambdaPixel = combined ? spec.lambdaPixel() : 1.0;
        double lambdaRegion = combined ? spec.lambdaRegion() : 1.0;

        if (loss.hasPixelTerm()) {
            pixelPart(spec, problem, stats, weights, lambdaPixel, out, pixelScale);
        }
        if (loss.hasRegionTerm()) {
            regionPart(spec, problem, stats, weights, lambdaRegion, out, regionA, regionB);
        }
        out.value = lambdaPixel * out.pixelLoss + lambdaRegion * out.regionLoss;
        if (withGrad) {
            out.grad = new GradCoefficients(pixelScale, regionA, regionB);
        }
        return out;
    }

    /** Class weights of the spec (length checked by the engine), or all ones. */
    static double[] classWeights(LossSpec spec, int c) {
        double[] w = spec.classWeights();
        if (w == null) {
            w = new double[c];
            java.util.Arrays.fill(w, 1.0);
        }
        return w;
    }

    private static double stat(double[] stats, int row, Stat s) {
        return stats[row * Problem.STATS + s.slot()];
    }

    /**
     * Pixel losses: {@code L = sum_{n,c} w_c TERM[n,c] / W}, with
     * {@code W = sum_c w_c count_c}: binary/multilabel count_c = N * S elements of channel c (with ignore_index
     * the valid ones, COUNT), multiclass count_c = valid pixels of target class c (T). Without class weights W
     * is M, the number of elements that count. W == 0 gives L = 0, grad 0. The grad pass scale of class c is
     * {@code lambda w_c / W}.
     */
    private static void pixelPart(LossSpec spec, Problem problem, double[] stats, double[] w, double lambda,
                                  Outcome out, float[] pixelScale) {
        int n = Math.toIntExact(problem.n);
        int c = Math.toIntExact(problem.c);
        double[] termSums = new double[n * c];
        double[] classTerm = new double[c];
        double[] classCount = new double[c];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int row = ni * c + ci;
                termSums[row] = stat(stats, row, Stat.TERM);
                classTerm[ci] += termSums[row];
                classCount[ci] += problem.multiclass ? stat(stats, row, Stat.T)
                        : problem.binaryIgnore() ? stat(stats, row, Stat.COUNT) : problem.s;
            }
        }
        double numerator = 0;
        double denominator = 0;
        for (int ci = 0; ci < c; ci++) {
            numerator += w[ci] * classTerm[ci];
            denominator += w[ci] * classCount[ci];
        }
        double[] perClass = new double[c];
        for (int ci = 0; ci < c; ci++) {
            perClass[ci] = classCount[ci] > 0 ? classTerm[ci] / classCount[ci] : Double.NaN;
            pixelScale[ci] = denominator > 0 ? (float) (lambda * w[ci] / denominator) : 0f;
        }
        out.pixelLoss = denominator > 0 ? numerator / denominator : 0.0;
        out.pixelTermSums = termSums;
        out.perClassPixelLoss = perClass;
    }

    /** The sums of one region coefficient: a (group, class), summed over the rows of the group. */
    private static final class Sums {
        double inter;
        /** sum p, or sum p^2 with squared_pred. */
        double pred;
        /** sum t, or sum t^2 with squared_pred. */
        double target;
        /** sum t (the generalized Dice weights). */
        double targetPlain;
        /** Valid elements (mcc's V). */
        double count;
    }

    /**
     * Region losses. Per row (n, c), or per class with batch (sums over n), I = sum p t, P = sum p, T = sum t
     * (P = sum p^2, T = sum t^2 with squared_pred), s_nr / s_dr the smoothing of numerators / denominators:
     * <pre>
     *   dice:    coef = (2I + s_nr) / (P + T + s_dr)
     *   iou:     coef = (I + s_nr) / (U + s_dr),  U = P + T - I
     *   tversky: coef = (I + s_nr) / (I + alpha FP + beta FN + s_dr),  FP = P - I, FN = T - I
     *   mcc:     coef = (TP TN - FP FN) / sqrt((TP + FP)(TP + FN)(TN + FP)(TN + FN)),
     *            TP = I + s, FP = P - I + s, FN = T - I + s, TN = V - P - T + I + s  (V valid elements)
     *   term_k  = 1 - coef_k, or -log(max(coef_k, eps)) with log_loss
     *   mean    = (1 / N') sum_n sum_c w_c term_nc / sum_c w_c      (N' = N, or 1 with batch)
     *   loss    = mean, or max(mean, 0)^gamma (tversky)
     *   loss    = -log(max(mean coef, eps))   (the log-Dice part of bce_logdice, ce_logdice)
     *   generalized_dice, per group: GD = (2 sum_c v_c I_c + s_nr) / (sum_c v_c (P_c + T_c) + s_dr),
     *            v_c = 1 / T_c^2, 1 / T_c or 1 (T_c = sum t; empty classes: the largest finite v of the group,
     *            0 if none; constants for the gradient); loss = 1 - mean_g GD
     * </pre>
     * A coefficient whose denominator is 0 is 1 (mcc: 1 when FP = FN = 0, else 0) with gradient 0. Every
     * coefficient depends on the elements through I and P only (dI/dp_i = t_i, dP/dp_i = 1 or 2 p_i), so
     * {@code dcoef/dp_i = t_i dcoef/dI + dP/dp_i dcoef/dP}: the grad pass gets A = dL/dI and B = dL/dP per row:
     * <pre>
     *   dice:    dcoef/dI = 2 / den,                          dcoef/dP = -num / den^2
     *   iou:     dcoef/dI = (den + num) / den^2,              dcoef/dP = -num / den^2
     *   tversky: dcoef/dI = (den - num (1 - a - b)) / den^2,  dcoef/dP = -num a / den^2
     *   mcc:     dcoef/dI = (TP + TN + FP + FN) / D,          dcoef/dP = -(TP + FN) / D - coef (1/(TP+FP) - 1/(TN+FN)) / 2
     *   generalized_dice: dGD/dI_c = 2 v_c / den,             dGD/dP_c = -num v_c / den^2
     * </pre>
     * with D the mcc denominator, and dL/dcoef_nc = -m w_c / (N' sum_c w_c) with m = 1 (1 - coef), 1 / coef
     * (log_loss; 0 while coef < eps), 1 / mean (log-Dice; 0 while mean < eps), times gamma max(mean, 0)^(gamma-1)
     * for tversky's exponent (0 where the base is 0).
     */
    private static void regionPart(LossSpec spec, Problem problem, double[] stats, double[] classWeights,
                                   double lambda, Outcome out, float[] regionA, float[] regionB) {
        int n = Math.toIntExact(problem.n);
        int c = Math.toIntExact(problem.c);
        Loss loss = spec.loss();
        double[] w = classWeights.clone();
        if (!spec.includeBackground()) {
            w[0] = 0; // C == 1 is refused by the engine
        }
        double wSum = 0;
        for (double x : w) {
            wSum += x;
        }
        if (wSum == 0) {
            throw new org.segloss.InvalidInputException(
                    "class_weights leave no class with weight > 0 for the region term once background is excluded");
        }
        boolean batch = spec.batch();
        int groups = batch ? 1 : n;
        boolean squares = problem.squares;
        Sums[] sums = new Sums[groups * c];
        for (int g = 0; g < groups; g++) {
            for (int ci = 0; ci < c; ci++) {
                Sums k = new Sums();
                for (int ni = batch ? 0 : g; ni < (batch ? n : g + 1); ni++) {
                    int row = ni * c + ci;
                    k.inter += stat(stats, row, Stat.I);
                    k.pred += stat(stats, row, squares ? Stat.P2 : Stat.P);
                    k.target += stat(stats, row, squares ? Stat.T2 : Stat.T);
                    k.targetPlain += stat(stats, row, Stat.T);
                    k.count += validCount(problem, stats, ni, ci);
                }
                sums[g * c + ci] = k;
            }
        }
        double[] coef = new double[groups * c];
        double[] dI = new double[groups * c];
        double[] dP = new double[groups * c];
        double[] dTerm = new double[groups * c]; // d term_k / d coef_k
        double mean = 0;
        if (loss == Loss.GENERALIZED_DICE) {
            mean = generalizedDice(spec, sums, w, groups, c, coef, dI, dP);
            java.util.Arrays.fill(dTerm, -1.0);
        } else {
            for (int k = 0; k < groups * c; k++) {
                regionCoefficient(spec, sums[k], coef, dI, dP, k);
                double term;
                if (spec.logLoss()) {
                    term = -Math.log(Math.max(coef[k], Constants.LOG_DICE_FLOOR));
                    dTerm[k] = coef[k] < Constants.LOG_DICE_FLOOR ? 0.0 : -1.0 / coef[k];
                } else {
                    term = 1.0 - coef[k];
                    dTerm[k] = -1.0;
                }
                mean += w[k % c] * term;
            }
            mean /= wSum * groups;
        }

        double slope; // dL / d(mean of the terms)
        double meanCoefficient = 0;
        for (int k = 0; k < groups * c; k++) {
            meanCoefficient += (loss == Loss.GENERALIZED_DICE ? 1.0 / c : w[k % c] / wSum) * coef[k];
        }
        meanCoefficient /= groups;
        if (loss == Loss.BCE_LOGDICE || loss == Loss.CE_LOGDICE) {
            // -log(max(mean D, eps)): in terms of the mean of 1 - D, d/d(mean term) = 1 / mean D
            out.regionLoss = -Math.log(Math.max(meanCoefficient, Constants.LOG_DICE_FLOOR));
            slope = meanCoefficient < Constants.LOG_DICE_FLOOR ? 0.0 : 1.0 / meanCoefficient;
        } else if (loss == Loss.TVERSKY && spec.gamma() != 1.0) {
            double base = Math.max(mean, 0.0);
            double gamma = spec.gamma();
            out.regionLoss = Math.pow(base, gamma);
            slope = base == 0 ? 0.0 : gamma * Math.pow(base, gamma - 1);
        } else {
            out.regionLoss = mean;
            slope = 1.0;
        }
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int k = (batch ? 0 : ni) * c + ci;
                double share = loss == Loss.GENERALIZED_DICE ? 1.0 / groups : w[ci] / (wSum * groups);
                double dCoef = lambda * slope * share * dTerm[k];
                regionA[ni * c + ci] = (float) (dCoef * dI[k]);
                regionB[ni * c + ci] = (float) (dCoef * dP[k]);
            }
        }
        double[] perClass = new double[c];
        for (int g = 0; g < groups; g++) {
            for (int ci = 0; ci < c; ci++) {
                perClass[ci] += coef[g * c + ci] / groups;
            }
        }
        out.meanCoefficient = meanCoefficient;
        out.coefficients = coef;
        out.perClassCoefficient = perClass;
    }

    /** V of row (n, c): binary / multilabel S (COUNT with ignore_index), multiclass the valid pixels of sample n. */
    private static double validCount(Problem problem, double[] stats, int ni, int ci) {
        if (problem.multiclass) {
            int c = Math.toIntExact(problem.c);
            double v = 0;
            for (int k = 0; k < c; k++) {
                v += stat(stats, ni * c + k, Stat.T);
            }
            return v;
        }
        return problem.binaryIgnore() ? stat(stats, ni * Math.toIntExact(problem.c) + ci, Stat.COUNT) : problem.s;
    }

    /**
     * Generalized Dice per group (see {@link #regionPart}); fills coef with each group's GD for every class of
     * it, dI / dP with dGD/dI_c and dGD/dP_c; returns the loss 1 - mean_g GD.
     */
    private static double generalizedDice(LossSpec spec, Sums[] sums, double[] w, int groups, int c, double[] coef,
                                          double[] dI, double[] dP) {
        double snr = spec.smoothNr();
        double sdr = spec.smoothDr();
        double loss = 0;
        for (int g = 0; g < groups; g++) {
            double[] v = new double[c];
            double largest = 0;
            boolean anyFinite = false;
            for (int ci = 0; ci < c; ci++) {
                double t = sums[g * c + ci].targetPlain;
                if (w[ci] == 0 || t == 0) {
                    continue;
                }
                switch (spec.gdWeight()) {
                    case SQUARE:
                        v[ci] = 1.0 / (t * t);
                        break;
                    case SIMPLE:
                        v[ci] = 1.0 / t;
                        break;
                    default:
                        v[ci] = 1.0;
                }
                if (Double.isInfinite(v[ci])) {
                    v[ci] = 0;
                    continue;
                }
                largest = anyFinite ? Math.max(largest, v[ci]) : v[ci];
                anyFinite = true;
            }
            double num = snr;
            double den = sdr;
            for (int ci = 0; ci < c; ci++) {
                if (w[ci] == 0) {
                    v[ci] = 0; // include_background = false: class 0 is out of every sum
                    continue;
                }
                Sums k = sums[g * c + ci];
                if (k.targetPlain == 0 || v[ci] == 0) {
                    v[ci] = largest;
                }
                num += 2 * v[ci] * k.inter;
                den += v[ci] * (k.pred + k.target);
            }
            double gd = den == 0 ? 1.0 : num / den;
            for (int ci = 0; ci < c; ci++) {
                int k = g * c + ci;
                coef[k] = gd;
                dI[k] = den == 0 ? 0 : 2 * v[ci] / den;
                dP[k] = den == 0 ? 0 : -num * v[ci] / (den * den);
            }
            loss += 1 - gd;
        }
        return loss / groups;
    }

    private static void regionCoefficient(LossSpec spec, Sums k, double[] coef, double[] dI, double[] dP, int at) {
        double snr = spec.smoothNr();
        double sdr = spec.smoothDr();
        double inter = k.inter;
        double num;
        double den;
        double gI;
        double gP;
        switch (spec.loss()) {
            case IOU:
                num = inter + snr;
                den = k.pred + k.target - inter + sdr;
                gI = (den + num) / (den * den);
                gP = -num / (den * den);
                break;
            case TVERSKY: {
                double alpha = spec.alpha();
                double beta = spec.beta();
                num = inter + snr;
                den = inter + alpha * (k.pred - inter) + beta * (k.target - inter) + sdr;
                gI = (den - num * (1 - alpha - beta)) / (den * den);
                gP = -num * alpha / (den * den);
                break;
            }
            case MCC: {
                mcc(spec.smooth(), k, coef, dI, dP, at);
                return;
            }
            default: // DICE and the Dice part of the combined losses
                num = 2 * inter + snr;
                den = k.pred + k.target + sdr;
                gI = 2 / den;
                gP = -num / (den * den);
                break;
        }
        if (den == 0) {
            coef[at] = 1.0;
            dI[at] = 0;
            dP[at] = 0;
            return;
        }
        coef[at] = num / den;
        dI[at] = gI;
        dP[at] = gP;
    }

    /** Matthews correlation of one (group, class), see {@link #regionPart}. */
    private static void mcc(double s, Sums k, double[] coef, double[] dI, double[] dP, int at) {
        double tp = k.inter + s;
        double fp = k.pred - k.inter + s;
        double fn = k.target - k.inter + s;
        double tn = k.count - k.pred - k.target + k.inter + s;
        double a = tp + fp;
        double d = tn + fn;
        double q = a * (tp + fn) * (tn + fp) * d;
        if (!(q > 0)) {
            coef[at] = fp == 0 && fn == 0 ? 1.0 : 0.0;
            dI[at] = 0;
            dP[at] = 0;
            return;
        }
        double root = Math.sqrt(q);
        double m = (tp * tn - fp * fn) / root;
        coef[at] = m;
        dI[at] = (tp + tn + fp + fn) / root;
        dP[at] = -(tp + fn) / root - m * (1 / a - 1 / d) / 2;
    }
}
