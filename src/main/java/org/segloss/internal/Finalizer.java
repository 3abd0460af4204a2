package org.segloss.internal;

import org.segloss.Loss;
import org.segloss.LossSpec;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.Problem;

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
     * Computes the loss of {@code spec} from {@code stats}.
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

        if (loss.hasPixelTerm()) {
            pixelPart(spec, problem, stats, weights, out, pixelScale);
        }
        if (loss.hasRegionTerm()) {
            regionPart(spec, problem, stats, weights, out, regionA, regionB);
        }
        out.value = out.pixelLoss + out.regionLoss;
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

    /**
     * Pixel losses: {@code L = sum_{n,c} w_c TERM[n,c] / W}, with
     * {@code W = N * S * sum_c w_c} (binary/multilabel: every element counts, weighted by its channel) or
     * {@code W = sum_c w_c count_c} (multiclass: count_c = valid pixels of class c, weighted by the target
     * class). Without class weights W is M, the number of elements that count. W == 0 gives L = 0, grad 0.
     */
    private static void pixelPart(LossSpec spec, Problem problem, double[] stats, double[] w, Outcome out,
                                  float[] pixelScale) {
        int n = Math.toIntExact(problem.n);
        int c = Math.toIntExact(problem.c);
        double[] termSums = new double[n * c];
        double[] classTerm = new double[c];
        double[] classCount = new double[c];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int row = ni * c + ci;
                termSums[row] = stats[row * Problem.STATS + Problem.STAT_TERM];
                classTerm[ci] += termSums[row];
                classCount[ci] += problem.multiclass ? stats[row * Problem.STATS + Problem.STAT_T] : problem.s;
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
            pixelScale[ci] = denominator > 0 ? (float) (w[ci] / denominator) : 0f;
        }
        out.pixelLoss = denominator > 0 ? numerator / denominator : 0.0;
        out.pixelTermSums = termSums;
        out.perClassPixelLoss = perClass;
    }

    /**
     * Region losses. Per row (n, c), or per class with batch (sums over n):
     * <pre>
     *   dice:    coef = (2I + s) / (P + T + s)
     *   iou:     coef = (I + s) / (U + s),  U = P + T - I
     *   tversky: coef = (I + s) / (I + alpha FP + beta FN + s),  FP = P - I, FN = T - I
     *   mean    = (1 / N') sum_n sum_c w_c coef_nc / sum_c w_c      (N' = N, or 1 with batch)
     *   loss    = 1 - mean                 (dice, iou, tversky)
     *   loss    = -log(max(mean, eps))     (the log-Dice part of bce_logdice, ce_logdice)
     * </pre>
     * A coefficient whose denominator is 0 is 1 with gradient 0. Every coefficient's gradient is
     * linear in t: {@code dcoef/dp_i = t_i A + B}; with {@code den} the denominator and {@code num} the numerator:
     * <pre>
     *   dice:    A = 2 / den,                       B = -num / den^2
     *   iou:     A = (den + num) / den^2,           B = -num / den^2
     *   tversky: A = (den - num (1 - a - b)) / den^2, B = -num a / den^2
     * </pre>
     * and {@code dL/dcoef_nc = -m w_c / (N' sum_c w_c)} with m = 1 (1 - mean) or 1 / mean (log part; 0 while
     * mean < eps).
     */
    private static void regionPart(LossSpec spec, Problem problem, double[] stats, double[] classWeights,
                                   Outcome out, float[] regionA, float[] regionB) {
        int n = Math.toIntExact(problem.n);
        int c = Math.toIntExact(problem.c);
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
        double s = spec.smooth();
        double[] coef = new double[groups * c];
        double[] gradA = new double[groups * c];
        double[] gradB = new double[groups * c];
        double mean = 0;
        for (int g = 0; g < groups; g++) {
            for (int ci = 0; ci < c; ci++) {
                double inter = 0;
                double predSum = 0;
                double targetSum = 0;
                for (int ni = batch ? 0 : g; ni < (batch ? n : g + 1); ni++) {
                    int base = (ni * c + ci) * Problem.STATS;
                    inter += stats[base + Problem.STAT_I];
                    predSum += stats[base + Problem.STAT_P];
                    targetSum += stats[base + Problem.STAT_T];
                }
                int k = g * c + ci;
                regionCoefficient(spec, inter, predSum, targetSum, s, coef, gradA, gradB, k);
                mean += w[ci] * coef[k];
            }
        }
        mean /= wSum * groups;

        double slope; // dL/d(mean)
        if (spec.loss() == Loss.BCE_LOGDICE || spec.loss() == Loss.CE_LOGDICE) {
            out.regionLoss = -Math.log(Math.max(mean, Constants.LOG_DICE_FLOOR));
            slope = mean < Constants.LOG_DICE_FLOOR ? 0.0 : -1.0 / mean;
        } else {
            out.regionLoss = 1.0 - mean;
            slope = -1.0;
        }
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                int k = (batch ? 0 : ni) * c + ci;
                double dCoef = slope * w[ci] / (wSum * groups);
                regionA[ni * c + ci] = (float) (dCoef * gradA[k]);
                regionB[ni * c + ci] = (float) (dCoef * gradB[k]);
            }
        }
        double[] perClass = new double[c];
        for (int g = 0; g < groups; g++) {
            for (int ci = 0; ci < c; ci++) {
                perClass[ci] += coef[g * c + ci] / groups;
            }
        }
        out.meanCoefficient = mean;
        out.coefficients = coef;
        out.perClassCoefficient = perClass;
    }

    private static void regionCoefficient(LossSpec spec, double inter, double predSum, double targetSum, double s,
                                          double[] coef, double[] gradA, double[] gradB, int k) {
        double num;
        double den;
        double a;
        switch (spec.loss()) {
            case IOU:
                num = inter + s;
                den = predSum + targetSum - inter + s;
                a = den == 0 ? 0 : (den + num) / (den * den);
                break;
            case TVERSKY: {
                double alpha = spec.alpha();
                double beta = spec.beta();
                num = inter + s;
                den = inter + alpha * (predSum - inter) + beta * (targetSum - inter) + s;
                a = den == 0 ? 0 : (den - num * (1 - alpha - beta)) / (den * den);
                if (den != 0) {
                    gradB[k] = -num * alpha / (den * den);
                }
                break;
            }
            default: // DICE and the log-Dice part
                num = 2 * inter + s;
                den = predSum + targetSum + s;
                a = den == 0 ? 0 : 2 / den;
                break;
        }
        if (den == 0) {
            coef[k] = 1.0;
            gradA[k] = 0;
            gradB[k] = 0;
            return;
        }
        coef[k] = num / den;
        gradA[k] = a;
        if (spec.loss() != Loss.TVERSKY) {
            gradB[k] = -num / (den * den);
        }
    }

}
