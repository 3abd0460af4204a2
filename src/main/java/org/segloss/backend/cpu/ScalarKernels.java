package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.CpuMath.bceLogits;
import static org.segloss.backend.cpu.CpuMath.bceProb;
import static org.segloss.backend.cpu.CpuMath.bceProbGrad;
import static org.segloss.backend.cpu.CpuMath.clamp;
import static org.segloss.backend.cpu.CpuMath.focalLogits;
import static org.segloss.backend.cpu.CpuMath.focalLogitsGrad;
import static org.segloss.backend.cpu.CpuMath.focalMulticlass;
import static org.segloss.backend.cpu.CpuMath.focalMulticlassSlope;
import static org.segloss.backend.cpu.CpuMath.focalProb;
import static org.segloss.backend.cpu.CpuMath.focalProbGrad;
import static org.segloss.backend.cpu.CpuMath.pow;
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
        double aw = p.focalPosWeight;
        double nw = p.focalNegWeight;
        double g = p.gamma;
        for (int ci = 0; ci < c; ci++) {
            double sumI = 0;
            double sumP = 0;
            double sumT = 0;
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
                if (!(t >= 0 && t <= 1)) {
                    badTarget++;
                    continue;
                }
                double prob = p.fromLogits ? sigmoid(x) : x;
                sumI += prob * t;
                sumP += prob;
                sumT += t;
                switch (p.pixelTerm) {
                    case BCE:
                        sumTerm += p.fromLogits ? bceLogits(x, t) : bceProb(x, t);
                        break;
                    case FOCAL:
                        sumTerm += p.fromLogits ? focalLogits(x, t, aw, nw, g) : focalProb(x, t, aw, nw, g);
                        break;
                    default:
                        break;
                }
            }
            int base = ci * K;
            acc[base + I] += sumI;
            acc[base + P] += sumP;
            acc[base + T] += sumT;
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
            }
            acc[yi * K + I] += prob[yi];
            acc[yi * K + T] += 1;
            acc[yi * K + TERM] += term(p, prob[yi], logPy);
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
        switch (p.pixelTerm) {
            case CE:
                return -logPy;
            case FOCAL:
                return focalMulticlass(logPy, p.fromLogits ? py : clamp(py), p.gamma);
            default:
                return 0;
        }
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
        double aw = p.focalPosWeight;
        double nw = p.focalNegWeight;
        double g = p.gamma;
        for (int ci = 0; ci < c; ci++) {
            int row = n * c + ci;
            double ps = k.pixelScale[ci];
            double a = k.regionA[row];
            double b = k.regionB[row];
            for (int s = s0; s < s1; s++) {
                int idx = CpuBackend.index(p, n, ci, s);
                double x = xs.get(idx);
                double t = target.target(idx);
                double d = 0;
                if (p.fromLogits) {
                    double prob = sigmoid(x);
                    if (p.pixelTerm == PixelTerm.BCE) {
                        d += ps * (prob - t);
                    } else if (p.pixelTerm == PixelTerm.FOCAL) {
                        d += ps * focalLogitsGrad(x, t, aw, nw, g);
                    }
                    if (p.region) {
                        d += (t * a + b) * prob * sigmoid(-x);
                    }
                } else {
                    if (p.pixelTerm == PixelTerm.BCE) {
                        d += ps * bceProbGrad(x, t);
                    } else if (p.pixelTerm == PixelTerm.FOCAL) {
                        d += ps * focalProbGrad(x, t, aw, nw, g);
                    }
                    if (p.region) {
                        d += t * a + b;
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
                    double r = (ci == yi ? k.regionA[row] : 0) + k.regionB[row];
                    sumPr += prob[ci] * r;
                }
            }
            double slope = 0; // ps * (dterm/dp_y) from probabilities, or ps * F from logits (focal)
            if (p.pixelTerm == PixelTerm.FOCAL) {
                if (p.fromLogits) {
                    slope = ps * focalMulticlassSlope(logPy, prob[yi], g);
                } else {
                    double pc = clamp(prob[yi]);
                    double qc = 1 - pc;
                    double first = g == 0 ? 0 : g * Math.pow(qc, g - 1) * Math.log(pc);
                    slope = ps * (first - pow(qc, g) / pc);
                }
            } else if (p.pixelTerm == PixelTerm.CE && !p.fromLogits) {
                slope = ps * (-1 / clamp(prob[yi]));
            }
            for (int ci = 0; ci < c; ci++) {
                int row = n * c + ci;
                double t = ci == yi ? 1 : 0;
                double r = p.region ? t * k.regionA[row] + k.regionB[row] : 0;
                double d;
                if (p.fromLogits) {
                    double pix = 0;
                    if (p.pixelTerm == PixelTerm.CE) {
                        pix = ps * (prob[ci] - t);
                    } else if (p.pixelTerm == PixelTerm.FOCAL) {
                        pix = slope * (t - prob[ci]);
                    }
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
