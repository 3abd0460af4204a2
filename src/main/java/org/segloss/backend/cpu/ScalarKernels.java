package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.CpuMath.clamp;
import static org.segloss.backend.cpu.CpuMath.sigmoid;

import java.nio.FloatBuffer;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/** Plain Java loops in double; the reference flavour of the CPU backend. */
final class ScalarKernels extends CpuKernels {
    private static final int I = Problem.STAT_I;
    private static final int P = Problem.STAT_P;
    private static final int T = Problem.STAT_T;
    private static final int TERM = Problem.STAT_TERM;
    private static final int BAD_PRED = Problem.STAT_BAD_PRED;
    private static final int BAD_TARGET = Problem.STAT_BAD_TARGET;
    private static final int K = Problem.STATS;
    private static final int P2 = org.segloss.backend.Stat.P2.slot();
    private static final int T2 = org.segloss.backend.Stat.T2.slot();
    private static final int COUNT = org.segloss.backend.Stat.COUNT.slot();

    /** Whether a binary target value is the ignore value (binary / multilabel ignore_index). */
    static boolean ignored(Problem p, double t) {
        return p.binaryIgnore() && t == p.ignoreIndex;
    }

    /** The pixel term's target: label-smoothed t (1 - e) + e / 2, or t. */
    static double termTarget(Problem p, double t) {
        return p.labelSmoothing == 0 ? t : CpuMath.smoothTarget(t, 1 - p.labelSmoothing, p.labelSmoothing / 2);
    }

    /**
     * The region part of dL/dp of a binary element: t A + B dP/dp (dP/dp = 1, or 2p with squared_pred); from
     * logits times p (1 - p), the sigmoid chain.
     */
    static double regionD(Problem p, double x, double t, double a, double b) {
        double prob = p.fromLogits ? sigmoid(x) : x;
        double dldp = CpuMath.regionDp(prob, t, a, b, p.squares);
        return p.fromLogits ? dldp * prob * sigmoid(-x) : dldp;
    }

    @Override
    String kind() {
        return "scalar";
    }

    @Override
    String description() {
        return "scalar kernels";
    }

    @Override
    void stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc) {
        if (p.multiclass) {
            statsMulticlass(p, pred, target, n, s0, s1, acc);
        } else {
            statsBinary(p, pred, target, n, s0, s1, acc);
        }
    }

    /** Binary/multilabel stats: p = sigmoid(x) or x; I += p t, P += p, T += t, TERM += term(x, t). */
    private static void statsBinary(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1,
                                    double[] acc) {
        FloatBuffer xs = pred.floats;
        int c = (int) p.c;
        for (int ci = 0; ci < c; ci++) {
            double pw = p.posWeight == null ? 1 : p.posWeight[ci];
            double sumI = 0;
            double sumP = 0;
            double sumT = 0;
            double sumP2 = 0;
            double sumT2 = 0;
            double count = 0;
            double sumTerm = 0;
            double badPred = 0;
            double badTarget = 0;
            for (int s = s0; s < s1; s++) {
                int idx = CpuBackend.index(p, n, ci, s);
                double x = xs.get(idx);
                double t = target.target(idx);
                if (!Double.isFinite(x) || (!p.fromLogits && (x < 0 || x > 1))) {
                    badPred++;
                    continue;
                }
                if (ignored(p, t)) {
                    continue;
                }
                if (!(t >= 0 && t <= 1)) {
                    badTarget++;
                    continue;
                }
                double prob = p.fromLogits ? sigmoid(x) : x;
                sumI += prob * t;
                sumP += prob;
                sumT += t;
                sumP2 += prob * prob;
                sumT2 += t * t;
                count++;
                sumTerm += CpuMath.binaryTerm(p, x, termTarget(p, t), pw);
            }
            int base = ci * K;
            acc[base + I] += sumI;
            acc[base + P] += sumP;
            acc[base + T] += sumT;
            acc[base + P2] += sumP2;
            acc[base + T2] += sumT2;
            acc[base + COUNT] += count;
            acc[base + TERM] += sumTerm;
            acc[base + BAD_PRED] += badPred;
            acc[base + BAD_TARGET] += badTarget;
        }
    }

    /**
     * Multiclass stats per valid pixel: p = softmax(x) or x; I[y] += p_y, P[c] += p_c, T[y] += 1,
     * TERM[y] += -log p_y (ce) or -(1 - p_y)^g log p_y (focal).
     */
    private static void statsMulticlass(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1,
                                        double[] acc) {
        if (p.generalMulticlass()) {
            statsGeneral(p, pred, target, n, s0, s1, acc);
            return;
        }
        FloatBuffer xs = pred.floats;
        int c = (int) p.c;
        double[] prob = new double[c];
        for (int s = s0; s < s1; s++) {
            boolean bad = false;
            for (int ci = 0; ci < c; ci++) {
                double x = xs.get(CpuBackend.index(p, n, ci, s));
                if (!Double.isFinite(x) || (!p.fromLogits && (x < 0 || x > 1))) {
                    acc[ci * K + BAD_PRED]++;
                    bad = true;
                }
                prob[ci] = x;
            }
            long y = target.classIndex((int) ((long) n * p.s + s));
            if (p.hasIgnoreIndex && y == p.ignoreIndex) {
                continue;
            }
            if (y < 0 || y >= c) {
                acc[BAD_TARGET]++;
                continue;
            }
            if (bad) {
                continue;
            }
            int yi = (int) y;
            double logPy = softmaxInPlace(p, prob, yi);
            for (int ci = 0; ci < c; ci++) {
                acc[ci * K + P] += prob[ci];
                acc[ci * K + P2] += prob[ci] * prob[ci];
            }
            acc[yi * K + I] += prob[yi];
            acc[yi * K + T] += 1;
            acc[yi * K + T2] += 1;
            acc[yi * K + TERM] += term(p, prob[yi], logPy);
        }
    }

    /**
     * The per-class targets of pixel s into t: soft targets as stored, a class map one-hot. Returns 1 when the
     * pixel counts, 0 when it is ignored, -1 when its target is refused (a class outside [0, C); soft: a value
     * below 0 or not finite, or a sum off 1 by more than {@link Problem#SOFT_TARGET_SUM_TOLERANCE}).
     */
    static int pixelTargets(Problem p, CpuBuffer target, int n, int s, double[] t) {
        int c = t.length;
        if (p.softTargets) {
            double sum = 0;
            boolean ok = true;
            for (int ci = 0; ci < c; ci++) {
                t[ci] = target.target(CpuBackend.index(p, n, ci, s));
                ok &= t[ci] >= 0 && Double.isFinite(t[ci]);
                sum += t[ci];
            }
            return ok && Math.abs(sum - 1) <= Problem.SOFT_TARGET_SUM_TOLERANCE ? 1 : -1;
        }
        long y = target.classIndex((int) ((long) n * p.s + s));
        if (p.hasIgnoreIndex && y == p.ignoreIndex) {
            return 0;
        }
        if (y < 0 || y >= c) {
            return -1;
        }
        java.util.Arrays.fill(t, 0);
        t[(int) y] = 1;
        return 1;
    }

    /** p_c and log p_c of a pixel from x_c: softmax and x_c - logsumexp(x) from logits, else x_c and log(clamp(x_c)). */
    static void logProbs(Problem p, double[] x, double[] prob, double[] logProb) {
        if (!p.fromLogits) {
            for (int i = 0; i < x.length; i++) {
                prob[i] = x[i];
                logProb[i] = Math.log(clamp(x[i]));
            }
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (double v : x) {
            sum += Math.exp(v - max);
        }
        double lse = max + Math.log(sum);
        for (int i = 0; i < x.length; i++) {
            logProb[i] = x[i] - lse;
            prob[i] = Math.exp(logProb[i]);
        }
    }

    /** The pixel term's target of class c: (1 - e) t_c + e / C with label smoothing, else t_c. */
    static double smoothedClassTarget(Problem p, double t) {
        return p.labelSmoothing == 0 ? t : CpuMath.smoothTarget(t, 1 - p.labelSmoothing, p.labelSmoothing / p.c);
    }

    /**
     * Multiclass with per-class targets t_c (soft targets or label smoothing): per counted pixel, P[c] += p_c,
     * I[c] += p_c t_c, T[c] += t_c, P2[c] += p_c^2, T2[c] += t_c^2, TERM[c] += t'_c term(p_c) with t' the
     * label-smoothed target and term = -log p (ce) or -(1 - p)^g log p (focal).
     */
    private static void statsGeneral(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1,
                                     double[] acc) {
        FloatBuffer xs = pred.floats;
        int c = (int) p.c;
        double[] x = new double[c];
        double[] t = new double[c];
        double[] prob = new double[c];
        double[] logProb = new double[c];
        for (int s = s0; s < s1; s++) {
            boolean bad = false;
            for (int ci = 0; ci < c; ci++) {
                x[ci] = xs.get(CpuBackend.index(p, n, ci, s));
                if (!Double.isFinite(x[ci]) || (!p.fromLogits && (x[ci] < 0 || x[ci] > 1))) {
                    acc[ci * K + BAD_PRED]++;
                    bad = true;
                }
            }
            int status = pixelTargets(p, target, n, s, t);
            if (status < 0) {
                acc[BAD_TARGET]++;
            }
            if (status <= 0 || bad) {
                continue;
            }
            logProbs(p, x, prob, logProb);
            for (int ci = 0; ci < c; ci++) {
                int b = ci * K;
                acc[b + P] += prob[ci];
                acc[b + P2] += prob[ci] * prob[ci];
                acc[b + I] += prob[ci] * t[ci];
                acc[b + T] += t[ci];
                acc[b + T2] += t[ci] * t[ci];
                double tt = smoothedClassTarget(p, t[ci]);
                if (tt != 0) {
                    acc[b + TERM] += tt * term(p, prob[ci], logProb[ci]);
                }
            }
        }
    }

    /**
     * Multiclass with per-class targets: s_c = pixelScale[c], t'_c the label-smoothed target, r_c = t_c A_c + B_c P'_c.
     * From logits, with h_c = s_c t'_c F_c (F = -1 for ce, the focal slope for focal):
     * dL/dx_j = h_j - p_j sum_k h_k + p_j (r_j - sum_k p_k r_k); from probabilities dL/dp_j = s_j t'_j dterm/dp_j + r_j.
     */
    private static void gradGeneral(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad,
                                    int n, int s0, int s1) {
        FloatBuffer xs = pred.floats;
        FloatBuffer out = grad.floats;
        int c = (int) p.c;
        double[] x = new double[c];
        double[] t = new double[c];
        double[] prob = new double[c];
        double[] logProb = new double[c];
        double[] h = new double[c];
        double[] r = new double[c];
        for (int s = s0; s < s1; s++) {
            if (pixelTargets(p, target, n, s, t) <= 0) {
                for (int ci = 0; ci < c; ci++) {
                    out.put(CpuBackend.index(p, n, ci, s), 0f);
                }
                continue;
            }
            for (int ci = 0; ci < c; ci++) {
                x[ci] = xs.get(CpuBackend.index(p, n, ci, s));
            }
            logProbs(p, x, prob, logProb);
            double sumH = 0;
            double sumPr = 0;
            for (int ci = 0; ci < c; ci++) {
                int row = n * c + ci;
                double tt = smoothedClassTarget(p, t[ci]) * k.pixelScale[ci];
                r[ci] = p.region ? CpuMath.regionDp(prob[ci], t[ci], k.regionA[row], k.regionB[row], p.squares) : 0;
                if (p.fromLogits) {
                    h[ci] = tt * CpuMath.mcSlope(p.pixelTerm, logProb[ci], prob[ci], p.gamma);
                    sumH += h[ci];
                    sumPr += prob[ci] * r[ci];
                } else {
                    h[ci] = tt == 0 ? 0 : tt * CpuMath.mcProbGrad(p.pixelTerm, prob[ci], p.gamma);
                }
            }
            for (int ci = 0; ci < c; ci++) {
                double d = p.fromLogits ? h[ci] - prob[ci] * sumH + prob[ci] * (r[ci] - sumPr) : h[ci] + r[ci];
                out.put(CpuBackend.index(p, n, ci, s), (float) d);
            }
        }
    }

    /**
     * From logits: replaces x by softmax(x) and returns log p_y = x_y - logsumexp(x), exactly.
     * From probabilities: leaves p and returns log(clamp(p_y)).
     */
    private static double softmaxInPlace(Problem p, double[] v, int y) {
        if (!p.fromLogits) {
            return Math.log(clamp(v[y]));
        }
        double max = Double.NEGATIVE_INFINITY;
        for (double x : v) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (double x : v) {
            sum += Math.exp(x - max);
        }
        double lse = max + Math.log(sum);
        double logPy = v[y] - lse;
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.exp(v[i] - lse);
        }
        return logPy;
    }

    private static double term(Problem p, double py, double logPy) {
        return CpuMath.mcTerm(p.pixelTerm, logPy, p.fromLogits ? py : clamp(py), p.gamma);
    }

    @Override
    void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n, int s0,
              int s1) {
        if (p.multiclass) {
            gradMulticlass(p, pred, target, k, grad, n, s0, s1);
        } else {
            gradBinary(p, pred, target, k, grad, n, s0, s1);
        }
    }

    /** Binary/multilabel: dL/dp = ps dterm/dp + (t A + B); from logits dL/dx = ps dterm/dx + (t A + B) p (1 - p). */
    private static void gradBinary(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k,
                                   CpuBuffer grad, int n, int s0, int s1) {
        FloatBuffer xs = pred.floats;
        FloatBuffer out = grad.floats;
        int c = (int) p.c;
        for (int ci = 0; ci < c; ci++) {
            int row = n * c + ci;
            double ps = k.pixelScale[ci];
            double a = k.regionA[row];
            double b = k.regionB[row];
            double pw = p.posWeight == null ? 1 : p.posWeight[ci];
            for (int s = s0; s < s1; s++) {
                int idx = CpuBackend.index(p, n, ci, s);
                double x = xs.get(idx);
                double t = target.target(idx);
                double d = 0;
                if (!ignored(p, t)) {
                    if (p.pixelTerm != PixelTerm.NONE) {
                        d += ps * CpuMath.binaryTermD(p, x, termTarget(p, t), pw);
                    }
                    if (p.region) {
                        d += regionD(p, x, t, a, b);
                    }
                }
                out.put(idx, (float) d);
            }
        }
    }

    /**
     * Multiclass, r_c = t_c A[n,c] + B[n,c]: from logits dL/dx_c = ps_y dterm/dx_c + p_c (r_c - sum_k p_k r_k)
     * with dterm/dx_c = p_c - t_c (ce) or F (t_c - p_c) (focal); from probabilities dL/dp_c = ps_y dterm/dp_c + r_c.
     */
    private static void gradMulticlass(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k,
                                       CpuBuffer grad, int n, int s0, int s1) {
        if (p.generalMulticlass()) {
            gradGeneral(p, pred, target, k, grad, n, s0, s1);
            return;
        }
        FloatBuffer xs = pred.floats;
        FloatBuffer out = grad.floats;
        int c = (int) p.c;
        double[] prob = new double[c];
        double g = p.gamma;
        for (int s = s0; s < s1; s++) {
            long y = target.classIndex((int) ((long) n * p.s + s));
            if (p.hasIgnoreIndex && y == p.ignoreIndex) {
                for (int ci = 0; ci < c; ci++) {
                    out.put(CpuBackend.index(p, n, ci, s), 0f);
                }
                continue;
            }
            int yi = (int) y;
            for (int ci = 0; ci < c; ci++) {
                prob[ci] = xs.get(CpuBackend.index(p, n, ci, s));
            }
            double logPy = softmaxInPlace(p, prob, yi);
            double ps = k.pixelScale[yi];
            double sumPr = 0;
            if (p.fromLogits && p.region) {
                for (int ci = 0; ci < c; ci++) {
                    int row = n * c + ci;
                    double r = CpuMath.regionDp(prob[ci], ci == yi ? 1 : 0, k.regionA[row], k.regionB[row], p.squares);
                    sumPr += prob[ci] * r;
                }
            }
            // ps F from logits (d term / dx_c = F (t_c - p_c)), ps dterm/dp_y from probabilities
            double slope = ps * (p.fromLogits ? CpuMath.mcSlope(p.pixelTerm, logPy, prob[yi], g)
                    : CpuMath.mcProbGrad(p.pixelTerm, prob[yi], g));
            for (int ci = 0; ci < c; ci++) {
                int row = n * c + ci;
                double t = ci == yi ? 1 : 0;
                double r = p.region ? CpuMath.regionDp(prob[ci], t, k.regionA[row], k.regionB[row], p.squares) : 0;
                double d;
                if (p.fromLogits) {
                    double pix = slope * (t - prob[ci]);
                    d = pix + (p.region ? prob[ci] * (r - sumPr) : 0);
                } else {
                    d = (ci == yi ? slope : 0) + r;
                }
                out.put(CpuBackend.index(p, n, ci, s), (float) d);
            }
        }
    }

    /** Hard counts of one unit, see {@link org.segloss.backend.Backend#confusion}. */
    static void confusion(Problem p, CpuBuffer pred, CpuBuffer target, double threshold, int n, int s0, int s1,
                          long[] acc) {
        FloatBuffer xs = pred.floats;
        int c = (int) p.c;
        int badPred = c * 4;
        int badTarget = c * 4 + 1;
        if (!p.multiclass) {
            double cut = p.fromLogits ? Math.log(threshold / (1 - threshold)) : threshold;
            for (int ci = 0; ci < c; ci++) {
                for (int s = s0; s < s1; s++) {
                    int idx = CpuBackend.index(p, n, ci, s);
                    double x = xs.get(idx);
                    double t = target.target(idx);
                    if (!Double.isFinite(x) || (!p.fromLogits && (x < 0 || x > 1))) {
                        acc[badPred]++;
                        continue;
                    }
                    if (ignored(p, t)) {
                        continue;
                    }
                    if (!(t >= 0 && t <= 1)) {
                        acc[badTarget]++;
                        continue;
                    }
                    count(acc, ci, x >= cut, t >= 0.5);
                }
            }
            return;
        }
        for (int s = s0; s < s1; s++) {
            int best = 0;
            double bestValue = Double.NEGATIVE_INFINITY;
            boolean bad = false;
            for (int ci = 0; ci < c; ci++) {
                double x = xs.get(CpuBackend.index(p, n, ci, s));
                if (!Double.isFinite(x) || (!p.fromLogits && (x < 0 || x > 1))) {
                    acc[badPred]++;
                    bad = true;
                } else if (x > bestValue) {
                    bestValue = x;
                    best = ci;
                }
            }
            long y = target.classIndex((int) ((long) n * p.s + s));
            if (p.hasIgnoreIndex && y == p.ignoreIndex) {
                continue;
            }
            if (y < 0 || y >= c) {
                acc[badTarget]++;
                continue;
            }
            if (bad) {
                continue;
            }
            for (int ci = 0; ci < c; ci++) {
                count(acc, ci, ci == best, ci == y);
            }
        }
    }

    private static void count(long[] acc, int c, boolean predicted, boolean actual) {
        int k = predicted ? (actual ? 0 : 1) : (actual ? 2 : 3);
        acc[c * 4 + k]++;
    }

    @Override
    double streamRead(CpuBuffer buffer) {
        double sum = 0;
        int len = (int) buffer.length();
        switch (buffer.type) {
            case FLOAT32:
                for (int i = 0; i < len; i++) {
                    sum += buffer.floats.get(i);
                }
                break;
            case UINT8:
                for (int i = 0; i < len; i++) {
                    sum += buffer.bytes.get(i) & 0xFF;
                }
                break;
            case INT64:
                for (int i = 0; i < len; i++) {
                    sum += buffer.longs.get(i);
                }
                break;
            default:
                for (int i = 0; i < len; i++) {
                    sum += buffer.ints.get(i);
                }
                break;
        }
        return sum;
    }
}
