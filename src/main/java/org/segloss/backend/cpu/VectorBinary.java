package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.VectorKernels.FS;
import static org.segloss.backend.cpu.VectorKernels.L;
import static org.segloss.backend.cpu.VectorKernels.isFloatArray;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.segloss.Layout;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * Binary / multilabel passes with float lanes. A row segment (one (n, c), consecutive pixels) is the unit
 * of the lane loops: NCHW rows are read in place, NHWC pixels are first transposed into per-channel rows
 * of a scratch array. The last {@code len % L} elements of a segment go through the double formulas of
 * {@link CpuMath} (the reference's own), so no lane is ever computed on padding.
 */
final class VectorBinary {
    private VectorBinary() {
    }

    /** Elements accumulated in float lanes before the partial sums are added to double. */
    static final int SUM_CHUNK = 512;
    /** Elements per row segment when the input must be copied or transposed first. */
    static final int COPY_CHUNK = 2048;

    private static final int SLOT_X = 0;
    private static final int SLOT_T = 1;
    private static final int SLOT_G = 2;
    private static final int SLOT_LINEAR = 3;

    private static final int I = Problem.STAT_I;
    private static final int P = Problem.STAT_P;
    private static final int T = Problem.STAT_T;
    private static final int TERM = Problem.STAT_TERM;
    private static final int K = Problem.STATS;

    private static final FloatVector ZERO = FloatVector.zero(FS);
    private static final FloatVector ONE = FloatVector.broadcast(FS, 1f);
    private static final float EPS = (float) CpuMath.EPS;

    /** Stats of sample n, pixels [s0, s1), every channel, into acc; false when a refused value was seen. */
    static boolean stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc,
                         VectorScratch sc) {
        int c = (int) p.c;
        int len = s1 - s0;
        if (p.layout == Layout.NCHW) {
            if (isFloatArray(pred) && isFloatArray(target)) {
                float[] xa = pred.floats.array();
                float[] ta = target.floats.array();
                int xo = pred.floats.arrayOffset();
                int to = target.floats.arrayOffset();
                for (int ci = 0; ci < c; ci++) {
                    int idx = CpuBackend.index(p, n, ci, s0);
                    if (!statsRow(p, xa, xo + idx, ta, to + idx, len, acc, ci * K)) {
                        return false;
                    }
                }
                return true;
            }
            float[] xs = sc.floats(SLOT_X, COPY_CHUNK);
            float[] ts = sc.floats(SLOT_T, COPY_CHUNK);
            for (int ci = 0; ci < c; ci++) {
                for (int a = 0; a < len; a += COPY_CHUNK) {
                    int m = Math.min(COPY_CHUNK, len - a);
                    int idx = CpuBackend.index(p, n, ci, s0 + a);
                    VectorIo.readFloats(pred, idx, m, xs, 0);
                    VectorIo.readTargets(target, idx, m, ts, 0, sc);
                    if (!statsRow(p, xs, 0, ts, 0, m, acc, ci * K)) {
                        return false;
                    }
                }
            }
            return true;
        }
        int px = Math.max(1, COPY_CHUNK / c);
        float[] xs = sc.floats(SLOT_X, px * c);
        float[] ts = sc.floats(SLOT_T, px * c);
        float[] linear = sc.floats(SLOT_LINEAR, px * c);
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int base = CpuBackend.index(p, n, 0, s0 + a);
            VectorIo.transposeIn(pred, base, m, c, xs, linear, sc, false);
            VectorIo.transposeIn(target, base, m, c, ts, linear, sc, true);
            for (int ci = 0; ci < c; ci++) {
                if (!statsRow(p, xs, ci * m, ts, ci * m, m, acc, ci * K)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Stats of one row segment into acc[base + stat]: per element, p = sigmoid(x) (from logits) or x;
     * I += p t, P += p, T += t (region); TERM += bce or focal term. Returns false on a refused value:
     * x not finite (logits) or outside [0, 1] (probabilities), t outside [0, 1].
     */
    static boolean statsRow(Problem p, float[] xa, int xo, float[] ta, int to, int len, double[] acc, int base) {
        boolean logits = p.fromLogits;
        boolean region = p.region;
        PixelTerm term = p.pixelTerm;
        boolean bce = term == PixelTerm.BCE;
        boolean focal = term == PixelTerm.FOCAL;
        int g = (int) p.gamma;
        float aw = (float) p.focalPosWeight;
        float nw = (float) p.focalNegWeight;
        int full = len - len % L;
        for (int a = 0; a < full; a += SUM_CHUNK) {
            int end = Math.min(full, a + SUM_CHUNK);
            FloatVector sumI = ZERO;
            FloatVector sumP = ZERO;
            FloatVector sumT = ZERO;
            FloatVector sumTerm = ZERO;
            VectorMask<Float> ok = FS.maskAll(true);
            for (int i = a; i < end; i += L) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
                FloatVector t = FloatVector.fromArray(FS, ta, to + i);
                ok = ok.and(t.compare(VectorOperators.GE, 0f)).and(t.compare(VectorOperators.LE, 1f));
                if (logits) {
                    // |x| <= MAX_VALUE is false for NaN and +-inf.
                    ok = ok.and(x.abs().compare(VectorOperators.LE, Float.MAX_VALUE));
                    // e = exp(-|x|); p = 1 / (1 + e) for x >= 0, e / (1 + e) for x < 0; q = 1 - p likewise.
                    VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
                    FloatVector e = VectorMath.exp(x.abs().neg());
                    if (region || focal) {
                        FloatVector r = ONE.div(e.add(1f));
                        FloatVector er = e.mul(r);
                        FloatVector prob = er.blend(r, pos);
                        if (region) {
                            sumI = prob.fma(t, sumI);
                            sumP = sumP.add(prob);
                            sumT = sumT.add(t);
                        }
                        if (focal) {
                            // aw t q^g softplus(-x) + nw (1 - t) p^g softplus(x), softplus(+-x) = max(+-x, 0) + log1p(e)
                            FloatVector q = r.blend(er, pos);
                            FloatVector l = VectorMath.log1p(e);
                            FloatVector spPos = ZERO.blend(x, pos).add(l);
                            FloatVector spNeg = x.neg().blend(ZERO, pos).add(l);
                            FloatVector v = t.mul(aw).mul(pow(q, g)).mul(spNeg)
                                    .add(ONE.sub(t).mul(nw).mul(pow(prob, g)).mul(spPos));
                            sumTerm = sumTerm.add(v);
                        }
                    }
                    if (bce) {
                        // max(x, 0) - x t + log1p(exp(-|x|))
                        FloatVector v = ZERO.blend(x, pos).sub(x.mul(t)).add(VectorMath.log1p(e));
                        sumTerm = sumTerm.add(v);
                    }
                } else {
                    ok = ok.and(x.compare(VectorOperators.GE, 0f)).and(x.compare(VectorOperators.LE, 1f));
                    if (region) {
                        sumI = x.fma(t, sumI);
                        sumP = sumP.add(x);
                        sumT = sumT.add(t);
                    }
                    if (bce || focal) {
                        // The smaller of pc = clamp(x) and qc = 1 - pc, so that both logs keep full precision:
                        // small = max(min(x, 1 - x), eps); log of the small one with LOG, of the large one with LOG1P.
                        VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
                        FloatVector small = ONE.sub(x).blend(x, lo);
                        small = small.blend(EPS, small.compare(VectorOperators.LT, EPS));
                        FloatVector logSmall = VectorMath.log(small);
                        FloatVector logLarge = VectorMath.log1p(small.neg());
                        FloatVector logP = logLarge.blend(logSmall, lo);
                        FloatVector logQ = logSmall.blend(logLarge, lo);
                        FloatVector v;
                        if (bce) {
                            // -(t log pc + (1 - t) log qc)
                            v = t.mul(logP).add(ONE.sub(t).mul(logQ)).neg();
                        } else {
                            // -aw t qc^g log pc - nw (1 - t) pc^g log qc
                            FloatVector large = ONE.sub(small);
                            FloatVector pc = large.blend(small, lo);
                            FloatVector qc = small.blend(large, lo);
                            v = t.mul(aw).mul(pow(qc, g)).mul(logP)
                                    .add(ONE.sub(t).mul(nw).mul(pow(pc, g)).mul(logQ)).neg();
                        }
                        sumTerm = sumTerm.add(v);
                    }
                }
            }
            if (!ok.allTrue()) {
                return false;
            }
            if (region) {
                acc[base + I] += VectorMath.sumLanes(sumI);
                acc[base + P] += VectorMath.sumLanes(sumP);
                acc[base + T] += VectorMath.sumLanes(sumT);
            }
            if (bce || focal) {
                acc[base + TERM] += VectorMath.sumLanes(sumTerm);
            }
        }
        for (int i = full; i < len; i++) {
            if (!statsElement(p, xa[xo + i], ta[to + i], acc, base)) {
                return false;
            }
        }
        return true;
    }

    /** One element in double, as {@link ScalarKernels} computes it (the tail of a row segment). */
    private static boolean statsElement(Problem p, double x, double t, double[] acc, int base) {
        if (!Double.isFinite(x) || (!p.fromLogits && (x < 0 || x > 1)) || !(t >= 0 && t <= 1)) {
            return false;
        }
        if (p.region) {
            double prob = p.fromLogits ? CpuMath.sigmoid(x) : x;
            acc[base + I] += prob * t;
            acc[base + P] += prob;
            acc[base + T] += t;
        }
        double aw = p.focalPosWeight;
        double nw = p.focalNegWeight;
        if (p.pixelTerm == PixelTerm.BCE) {
            acc[base + TERM] += p.fromLogits ? CpuMath.bceLogits(x, t) : CpuMath.bceProb(x, t);
        } else if (p.pixelTerm == PixelTerm.FOCAL) {
            acc[base + TERM] += p.fromLogits ? CpuMath.focalLogits(x, t, aw, nw, p.gamma)
                    : CpuMath.focalProb(x, t, aw, nw, p.gamma);
        }
        return true;
    }

    /** Gradient of sample n, pixels [s0, s1), every channel. */
    static void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n,
                     int s0, int s1, VectorScratch sc) {
        int c = (int) p.c;
        int len = s1 - s0;
        if (p.layout == Layout.NCHW) {
            if (isFloatArray(pred) && isFloatArray(target) && grad.floats.hasArray()) {
                float[] xa = pred.floats.array();
                float[] ta = target.floats.array();
                float[] ga = grad.floats.array();
                int xo = pred.floats.arrayOffset();
                int to = target.floats.arrayOffset();
                int go = grad.floats.arrayOffset();
                for (int ci = 0; ci < c; ci++) {
                    int idx = CpuBackend.index(p, n, ci, s0);
                    gradRow(p, k, n * c + ci, ci, xa, xo + idx, ta, to + idx, ga, go + idx, len);
                }
                return;
            }
            float[] xs = sc.floats(SLOT_X, COPY_CHUNK);
            float[] ts = sc.floats(SLOT_T, COPY_CHUNK);
            float[] gs = sc.floats(SLOT_G, COPY_CHUNK);
            for (int ci = 0; ci < c; ci++) {
                for (int a = 0; a < len; a += COPY_CHUNK) {
                    int m = Math.min(COPY_CHUNK, len - a);
                    int idx = CpuBackend.index(p, n, ci, s0 + a);
                    VectorIo.readFloats(pred, idx, m, xs, 0);
                    VectorIo.readTargets(target, idx, m, ts, 0, sc);
                    gradRow(p, k, n * c + ci, ci, xs, 0, ts, 0, gs, 0, m);
                    VectorIo.writeFloats(grad, idx, m, gs, 0);
                }
            }
            return;
        }
        int px = Math.max(1, COPY_CHUNK / c);
        float[] xs = sc.floats(SLOT_X, px * c);
        float[] ts = sc.floats(SLOT_T, px * c);
        float[] gs = sc.floats(SLOT_G, px * c);
        float[] linear = sc.floats(SLOT_LINEAR, px * c);
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int base = CpuBackend.index(p, n, 0, s0 + a);
            VectorIo.transposeIn(pred, base, m, c, xs, linear, sc, false);
            VectorIo.transposeIn(target, base, m, c, ts, linear, sc, true);
            for (int ci = 0; ci < c; ci++) {
                gradRow(p, k, n * c + ci, ci, xs, ci * m, ts, ci * m, gs, ci * m, m);
            }
            VectorIo.transposeOut(grad, base, m, c, gs, linear);
        }
    }

    /**
     * Gradient of one row segment, ps = pixelScale[c], A = regionA[row], B = regionB[row]:
     * from logits dL/dx = ps dterm/dx + (t A + B) p q, with dbce/dx = p - t and
     * dfocal/dx = -aw t (g p q^g softplus(-x) + q^(g+1)) + nw (1 - t) (g p^g q softplus(x) + p^(g+1));
     * from probabilities dL/dp = ps dterm/dp + t A + B at pc = clamp(p), qc = 1 - pc, with
     * dbce/dp = -t / pc + (1 - t) / qc and
     * dfocal/dp = -aw t (-g qc^(g-1) log pc + qc^g / pc) - nw (1 - t) (g pc^(g-1) log qc - pc^g / qc).
     */
    static void gradRow(Problem p, GradCoefficients k, int row, int ci, float[] xa, int xo, float[] ta, int to,
                        float[] ga, int go, int len) {
        boolean logits = p.fromLogits;
        boolean region = p.region;
        PixelTerm term = p.pixelTerm;
        boolean bce = term == PixelTerm.BCE;
        boolean focal = term == PixelTerm.FOCAL;
        int g = (int) p.gamma;
        float aw = (float) p.focalPosWeight;
        float nw = (float) p.focalNegWeight;
        float ps = k.pixelScale[ci];
        float ra = k.regionA[row];
        float rb = k.regionB[row];
        int full = len - len % L;
        for (int i = 0; i < full; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            FloatVector d = ZERO;
            if (logits) {
                VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
                FloatVector e = VectorMath.exp(x.abs().neg());
                FloatVector r = ONE.div(e.add(1f));
                FloatVector er = e.mul(r);
                FloatVector prob = er.blend(r, pos);
                FloatVector q = r.blend(er, pos);
                if (bce) {
                    d = prob.sub(t).mul(ps);
                } else if (focal) {
                    FloatVector l = VectorMath.log1p(e);
                    FloatVector spPos = ZERO.blend(x, pos).add(l);
                    FloatVector spNeg = x.neg().blend(ZERO, pos).add(l);
                    FloatVector qg = pow(q, g);
                    FloatVector pg = pow(prob, g);
                    FloatVector posPart = prob.mul(qg).mul(spNeg).mul(g).add(qg.mul(q)).mul(t).mul(-aw);
                    FloatVector negPart = pg.mul(q).mul(spPos).mul(g).add(pg.mul(prob)).mul(ONE.sub(t)).mul(nw);
                    d = posPart.add(negPart).mul(ps);
                }
                if (region) {
                    d = t.mul(ra).add(rb).mul(prob).mul(q).add(d);
                }
            } else {
                if (bce || focal) {
                    VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
                    FloatVector small = ONE.sub(x).blend(x, lo);
                    small = small.blend(EPS, small.compare(VectorOperators.LT, EPS));
                    FloatVector large = ONE.sub(small);
                    FloatVector pc = large.blend(small, lo);
                    FloatVector qc = small.blend(large, lo);
                    if (bce) {
                        d = ONE.sub(t).div(qc).sub(t.div(pc)).mul(ps);
                    } else {
                        FloatVector logSmall = VectorMath.log(small);
                        FloatVector logLarge = VectorMath.log1p(small.neg());
                        FloatVector logP = logLarge.blend(logSmall, lo);
                        FloatVector logQ = logSmall.blend(logLarge, lo);
                        FloatVector posPart = pow(qc, g).div(pc);
                        FloatVector negPart = pow(pc, g).div(qc).neg();
                        if (g != 0) {
                            posPart = pow(qc, g - 1).mul(logP).mul(-g).add(posPart);
                            negPart = pow(pc, g - 1).mul(logQ).mul(g).add(negPart);
                        }
                        d = t.mul(-aw).mul(posPart).sub(ONE.sub(t).mul(nw).mul(negPart)).mul(ps);
                    }
                }
                if (region) {
                    d = t.mul(ra).add(rb).add(d);
                }
            }
            d.intoArray(ga, go + i);
        }
        for (int i = full; i < len; i++) {
            ga[go + i] = (float) gradElement(p, ps, ra, rb, xa[xo + i], ta[to + i]);
        }
    }

    /** One element in double, as {@link ScalarKernels} computes it (the tail of a row segment). */
    private static double gradElement(Problem p, double ps, double a, double b, double x, double t) {
        double aw = p.focalPosWeight;
        double nw = p.focalNegWeight;
        double g = p.gamma;
        double d = 0;
        if (p.fromLogits) {
            double prob = CpuMath.sigmoid(x);
            if (p.pixelTerm == PixelTerm.BCE) {
                d += ps * (prob - t);
            } else if (p.pixelTerm == PixelTerm.FOCAL) {
                d += ps * CpuMath.focalLogitsGrad(x, t, aw, nw, g);
            }
            if (p.region) {
                d += (t * a + b) * prob * CpuMath.sigmoid(-x);
            }
        } else {
            if (p.pixelTerm == PixelTerm.BCE) {
                d += ps * CpuMath.bceProbGrad(x, t);
            } else if (p.pixelTerm == PixelTerm.FOCAL) {
                d += ps * CpuMath.focalProbGrad(x, t, aw, nw, g);
            }
            if (p.region) {
                d += t * a + b;
            }
        }
        return d;
    }

    /** v^g for a small integer g >= 0 by repeated products (exact for g = 0, 1, 2 as in CpuMath.pow). */
    static FloatVector pow(FloatVector v, int g) {
        switch (g) {
            case 0:
                return ONE;
            case 1:
                return v;
            case 2:
                return v.mul(v);
            default: {
                FloatVector r = v;
                for (int i = 1; i < g; i++) {
                    r = r.mul(v);
                }
                return r;
            }
        }
    }
}
