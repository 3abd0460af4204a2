package org.segloss.backend.cpu;

import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;
import org.segloss.internal.Constants;

/**
 * Per-element terms and derivatives of the contract, in double, shared by the scalar CPU kernels.
 * {@code p} is the probability, {@code q = 1 - p}; from logits both come from sigmoid(+-x) so that
 * neither loses precision.
 */
final class CpuMath {
    private CpuMath() {
    }

    static final double EPS = Constants.PROB_CLAMP_EPS;

    /** softplus(z) = log(1 + e^z) = max(z, 0) + log1p(exp(-|z|)). */
    static double softplus(double z) {
        return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    static double clamp(double p) {
        return Math.min(Math.max(p, EPS), 1 - EPS);
    }

    /** x^g with the cheap cases done exactly (g = 0: 1, g = 1, g = 2). */
    static double pow(double x, double g) {
        if (g == 2) {
            return x * x;
        }
        if (g == 1) {
            return x;
        }
        if (g == 0) {
            return 1;
        }
        return Math.pow(x, g);
    }

    /** bce from logits: max(x, 0) - x t + log1p(exp(-|x|)). */
    static double bceLogits(double x, double t) {
        return Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));
    }

    /** bce from probabilities: -(t log pc + (1 - t) log(1 - pc)), pc = clamp(p). */
    static double bceProb(double p, double t) {
        double pc = clamp(p);
        return -(t * Math.log(pc) + (1 - t) * Math.log(1 - pc));
    }

    /** d bce / dp at pc = clamp(p): -t / pc + (1 - t) / (1 - pc). */
    static double bceProbGrad(double p, double t) {
        double pc = clamp(p);
        return -t / pc + (1 - t) / (1 - pc);
    }

    /** d bce / dx = p - t, as (1 - t) p - t q (segloss_terms.h sl_bce_logits_dx). */
    static double bceLogitsDx(double x, double t) {
        return (1 - t) * sigmoid(x) - t * sigmoid(-x);
    }

    /** bce with pos_weight w from logits: w t softplus(-x) + (1 - t) softplus(x). */
    static double bcePwLogits(double x, double t, double w) {
        return w * t * softplus(-x) + (1 - t) * softplus(x);
    }

    /** d bce_pw / dx = (1 - t) p - w t q. */
    static double bcePwLogitsDx(double x, double t, double w) {
        return (1 - t) * sigmoid(x) - w * t * sigmoid(-x);
    }

    /** bce with pos_weight w from probabilities at pc = clamp(p): -(w t log pc + (1 - t) log(1 - pc)). */
    static double bcePwProb(double p, double t, double w) {
        double pc = clamp(p);
        return -(w * t * Math.log(pc) + (1 - t) * Math.log(1 - pc));
    }

    /** d bce_pw / dp at pc = clamp(p): -w t / pc + (1 - t) / (1 - pc). */
    static double bcePwProbGrad(double p, double t, double w) {
        double pc = clamp(p);
        return -w * t / pc + (1 - t) / (1 - pc);
    }

    /** The region part of dL/dp of one element: t A + B dP/dp, with dP/dp = 2p under squared_pred, else 1. */
    static double regionDp(double p, double t, double a, double b, boolean squares) {
        return t * a + b * (squares ? 2 * p : 1);
    }

    /** Label smoothing of a binary target for the pixel term: t (1 - e) + e / 2 = t keep + add. */
    static double smoothTarget(double t, double keep, double add) {
        return t * keep + add;
    }

    /**
     * focal from logits: aw t q^g softplus(-x) + nw (1 - t) p^g softplus(x)
     * (= -aw t (1-p)^g log p - nw (1-t) p^g log(1-p) with log p = -softplus(-x), log(1-p) = -softplus(x)).
     */
    static double focalLogits(double x, double t, double aw, double nw, double g) {
        double p = sigmoid(x);
        double q = sigmoid(-x);
        return aw * t * pow(q, g) * softplus(-x) + nw * (1 - t) * pow(p, g) * softplus(x);
    }

    /**
     * d focal / dx = -aw t (g p q^g softplus(-x) + q^(g+1)) + nw (1 - t) (g p^g q softplus(x) + p^(g+1)).
     */
    static double focalLogitsGrad(double x, double t, double aw, double nw, double g) {
        double p = sigmoid(x);
        double q = sigmoid(-x);
        double qg = pow(q, g);
        double pg = pow(p, g);
        return -aw * t * (g * p * qg * softplus(-x) + qg * q) + nw * (1 - t) * (g * pg * q * softplus(x) + pg * p);
    }

    /** focal from probabilities at pc = clamp(p): -aw t (1-pc)^g log pc - nw (1-t) pc^g log(1-pc). */
    static double focalProb(double p, double t, double aw, double nw, double g) {
        double pc = clamp(p);
        double qc = 1 - pc;
        return -aw * t * pow(qc, g) * Math.log(pc) - nw * (1 - t) * pow(pc, g) * Math.log(qc);
    }

    /**
     * d focal / dp at pc: -aw t (-g qc^(g-1) log pc + qc^g / pc) - nw (1-t) (g pc^(g-1) log qc - pc^g / qc).
     */
    static double focalProbGrad(double p, double t, double aw, double nw, double g) {
        double pc = clamp(p);
        double qc = 1 - pc;
        double pos = (g == 0 ? 0 : -g * Math.pow(qc, g - 1) * Math.log(pc)) + pow(qc, g) / pc;
        double neg = (g == 0 ? 0 : g * Math.pow(pc, g - 1) * Math.log(qc)) - pow(pc, g) / qc;
        return -aw * t * pos - nw * (1 - t) * neg;
    }

    /** Multiclass focal term from log p_y: -(1 - p_y)^g log p_y. */
    static double focalMulticlass(double logPy, double py, double g) {
        return -pow(1 - py, g) * logPy;
    }

    /**
     * F = f'(p_y) p_y for the multiclass focal term f(p) = -(1-p)^g log p:
     * {@code F = g (1-p)^(g-1) p log p - (1-p)^g}, so that d term / dx_c = F (t_c - p_c).
     * The first part is 0 when g = 0 or p = 1 (its limit).
     */
    static double focalMulticlassSlope(double logPy, double py, double g) {
        double q = 1 - py;
        double first = (g == 0 || q <= 0) ? 0 : g * Math.pow(q, g - 1) * py * logPy;
        return first - pow(q, g);
    }

    /**
     * The pixel term of one binary element at the pixel term's target tt (segloss_terms.h BINARY_TERM):
     * bce, bce with pos_weight pw, or focal, from logits or probabilities. The one place that maps a term code to
     * its functions in Java (segloss_terms.h sl_binary_term for the devices).
     */
    static double binaryTerm(Problem p, double x, double tt, double pw) {
        switch (p.pixelTerm) {
            case BCE:
                if (p.posWeight != null) {
                    return p.fromLogits ? bcePwLogits(x, tt, pw) : bcePwProb(x, tt, pw);
                }
                return p.fromLogits ? bceLogits(x, tt) : bceProb(x, tt);
            case FOCAL:
                return p.fromLogits ? focalLogits(x, tt, p.focalPosWeight, p.focalNegWeight, p.gamma)
                        : focalProb(x, tt, p.focalPosWeight, p.focalNegWeight, p.gamma);
            default:
                return 0;
        }
    }

    /** d binaryTerm / dx (from logits) or / dp (from probabilities) (segloss_terms.h BINARY_TERM_D). */
    static double binaryTermD(Problem p, double x, double tt, double pw) {
        switch (p.pixelTerm) {
            case BCE:
                if (p.posWeight != null) {
                    return p.fromLogits ? bcePwLogitsDx(x, tt, pw) : bcePwProbGrad(x, tt, pw);
                }
                return p.fromLogits ? bceLogitsDx(x, tt) : bceProbGrad(x, tt);
            case FOCAL:
                return p.fromLogits ? focalLogitsGrad(x, tt, p.focalPosWeight, p.focalNegWeight, p.gamma)
                        : focalProbGrad(x, tt, p.focalPosWeight, p.focalNegWeight, p.gamma);
            default:
                return 0;
        }
    }


    /**
     * The multiclass term of one class from log p (p as given: clamped from probabilities): ce -log p, focal
     * -(1 - p)^g log p. The one place that maps a multiclass term code to its function in Java (segloss_terms.h
     * sl_mc_term for the devices).
     */
    static double mcTerm(PixelTerm term, double logP, double p, double g) {
        switch (term) {
            case CE:
                return -logP;
            case FOCAL:
                return focalMulticlass(logP, p, g);
            default:
                return 0;
        }
    }

    /** F with d term / dx_k = F (t_k - p_k) from logits: ce -1, focal {@link #focalMulticlassSlope}. */
    static double mcSlope(PixelTerm term, double logP, double p, double g) {
        switch (term) {
            case CE:
                return -1;
            case FOCAL:
                return focalMulticlassSlope(logP, p, g);
            default:
                return 0;
        }
    }

    /** d term / dp at pc = clamp(p), qc = 1 - pc: ce -1 / pc, focal g qc^(g-1) log pc - qc^g / pc. */
    static double mcProbGrad(PixelTerm term, double p, double g) {
        double pc = clamp(p);
        double qc = 1 - pc;
        switch (term) {
            case CE:
                return -1 / pc;
            case FOCAL:
                return (g == 0 ? 0 : g * Math.pow(qc, g - 1) * Math.log(pc)) - pow(qc, g) / pc;
            default:
                return 0;
        }
    }
}
