package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.VectorKernels.FS;
import static org.segloss.backend.cpu.VectorKernels.ONE;
import static org.segloss.backend.cpu.VectorKernels.ZERO;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/**
 * The pixel terms on float lanes: the lane version of each {@link CpuMath} function of the same name (and of
 * the {@code sl_*} functions of {@code kernels-cl/segloss_terms.h}), so the Vector API loops hold no loss
 * maths of their own: they load, call these, and sum or store. The tails of the loops call the scalar ones.
 *
 * <p>Inputs come staged (see {@link VectorMath}): from logits {@code e = exp(-|x|)}, {@code l = log1p(e)} and
 * the mask {@code pos = x >= 0}; from probabilities the clamped {@code pc}, {@code qc = 1 - pc} and their logs.
 * Small static methods: C2 inlines them, so the loops compile as before.
 */
final class VectorTerms {
    private VectorTerms() {
    }

    /** r = sigmoid(|x|) = 1 / (1 + e). */
    static FloatVector sigmoidAbs(FloatVector e) {
        return ONE.div(e.add(ONE));
    }

    /** p = sigmoid(x): r where x >= 0, e r elsewhere (CpuMath.sigmoid). */
    static FloatVector sigmoid(FloatVector e, FloatVector r, VectorMask<Float> pos) {
        return e.mul(r).blend(r, pos);
    }

    /**
     * p = sigmoid(x) in one division: 1 / (1 + e) where x >= 0, e / (1 + e) elsewhere (one rounding; the stats
     * passes that need p alone, not r).
     */
    static FloatVector sigmoidDiv(FloatVector e, VectorMask<Float> pos) {
        return e.blend(ONE, pos).div(e.add(ONE));
    }

    /** q = sigmoid(-x) = 1 - p without cancellation. */
    static FloatVector sigmoidNeg(FloatVector e, FloatVector r, VectorMask<Float> pos) {
        return r.blend(e.mul(r), pos);
    }

    /** dp/dx = p q = e r^2 (e = exp(-|x|), r = 1 / (1 + e)), the same for either sign of x. */
    static FloatVector sigmoidSlope(FloatVector e, FloatVector r) {
        return e.mul(r).mul(r);
    }

    /** softplus(x) = max(x, 0) + l. */
    static FloatVector softplus(FloatVector x, FloatVector l, VectorMask<Float> pos) {
        return ZERO.blend(x, pos).add(l);
    }

    /** softplus(-x) = max(-x, 0) + l. */
    static FloatVector softplusNeg(FloatVector x, FloatVector l, VectorMask<Float> pos) {
        return x.neg().blend(ZERO, pos).add(l);
    }

    /** CpuMath.bceLogits: max(x, 0) - x t + l. */
    static FloatVector bceLogits(FloatVector x, FloatVector t, FloatVector l, VectorMask<Float> pos) {
        return ZERO.blend(x, pos).sub(x.mul(t)).add(l);
    }

    /** CpuMath.bceLogitsDx: p - t. */
    static FloatVector bceLogitsDx(FloatVector p, FloatVector t) {
        return p.sub(t);
    }

    /** CpuMath.bceProb: -(t log pc + (1 - t) log qc). */
    static FloatVector bceProb(FloatVector t, FloatVector logP, FloatVector logQ) {
        return t.mul(logP).add(ONE.sub(t).mul(logQ)).neg();
    }

    /** CpuMath.bceProbGrad: -t / pc + (1 - t) / qc. */
    static FloatVector bceProbGrad(FloatVector t, FloatVector pc, FloatVector qc) {
        return ONE.sub(t).div(qc).sub(t.div(pc));
    }

    /** CpuMath.bcePwLogits: w t softplus(-x) + (1 - t) softplus(x). */
    static FloatVector bcePwLogits(FloatVector x, FloatVector t, FloatVector w, FloatVector l, VectorMask<Float> pos) {
        return w.mul(t).mul(softplusNeg(x, l, pos)).add(ONE.sub(t).mul(softplus(x, l, pos)));
    }

    /** CpuMath.bcePwLogitsDx: (1 - t) p - w t q. */
    static FloatVector bcePwLogitsDx(FloatVector p, FloatVector q, FloatVector t, FloatVector w) {
        return ONE.sub(t).mul(p).sub(w.mul(t).mul(q));
    }

    /** CpuMath.bcePwProb: -(w t log pc + (1 - t) log qc). */
    static FloatVector bcePwProb(FloatVector t, FloatVector w, FloatVector logP, FloatVector logQ) {
        return w.mul(t).mul(logP).add(ONE.sub(t).mul(logQ)).neg();
    }

    /** CpuMath.bcePwProbGrad: -w t / pc + (1 - t) / qc. */
    static FloatVector bcePwProbGrad(FloatVector t, FloatVector w, FloatVector pc, FloatVector qc) {
        return ONE.sub(t).div(qc).sub(w.mul(t).div(pc));
    }

    /** CpuMath.smoothTarget: t keep + add (label smoothing of the pixel term's target). */
    static FloatVector smoothTarget(FloatVector t, float keep, float add) {
        return t.mul(keep).add(add);
    }

    /**
     * CpuMath.regionDp: the region part of dL/dp, t A + B dP/dp with dP/dp = 2p (squared_pred) or 1, given as
     * {@code dP/dp = p two + one} (two = 2, one = 0 with squared_pred; two = 0, one = 1 without).
     */
    static FloatVector regionDp(FloatVector p, FloatVector t, FloatVector a, FloatVector b, float two, float one) {
        return t.mul(a).add(b.mul(p.mul(two).add(one)));
    }

    /** CpuMath.focalLogits: aw t q^g softplus(-x) + nw (1 - t) p^g softplus(x) (its two parts below, added). */
    static FloatVector focalLogits(FloatVector t, FloatVector p, FloatVector q, FloatVector spPos, FloatVector spNeg,
                                   float aw, float nw, int g) {
        return focalLogitsPos(t, q, spNeg, aw, g).add(focalLogitsNeg(t, p, spPos, nw, g));
    }

    /** The positive part of {@link #focalLogits}: aw t q^g softplus(-x). */
    static FloatVector focalLogitsPos(FloatVector t, FloatVector q, FloatVector spNeg, float aw, int g) {
        return t.mul(aw).mul(powBySquaring(q, g)).mul(spNeg);
    }

    /** The negative part of {@link #focalLogits}: nw (1 - t) p^g softplus(x). */
    static FloatVector focalLogitsNeg(FloatVector t, FloatVector p, FloatVector spPos, float nw, int g) {
        return ONE.sub(t).mul(nw).mul(powBySquaring(p, g)).mul(spPos);
    }

    /** CpuMath.focalLogitsGrad: -aw t (g p q^g softplus(-x) + q^(g+1)) + nw (1 - t) (g p^g q softplus(x) + p^(g+1)). */
    static FloatVector focalLogitsGrad(FloatVector t, FloatVector p, FloatVector q, FloatVector spPos,
                                       FloatVector spNeg, FloatVector aw, FloatVector nw, int g) {
        FloatVector qg = powBySquaring(q, g);
        FloatVector pg = powBySquaring(p, g);
        FloatVector posPart = p.mul(qg).mul(spNeg).mul(g).add(qg.mul(q)).mul(t).mul(aw.neg());
        FloatVector negPart = pg.mul(q).mul(spPos).mul(g).add(pg.mul(p)).mul(ONE.sub(t)).mul(nw);
        return posPart.add(negPart);
    }

    /** CpuMath.focalProb: -aw t qc^g log pc - nw (1 - t) pc^g log qc. */
    static FloatVector focalProb(FloatVector t, FloatVector pc, FloatVector qc, FloatVector logP, FloatVector logQ,
                                 float aw, float nw, int g) {
        return t.mul(aw).mul(powBySquaring(qc, g)).mul(logP)
                .add(ONE.sub(t).mul(nw).mul(powBySquaring(pc, g)).mul(logQ)).neg();
    }

    /**
     * CpuMath.focalProbGrad: -aw t (-g qc^(g-1) log pc + qc^g / pc) - nw (1 - t) (g pc^(g-1) log qc - pc^g / qc);
     * the log parts are left out for g = 0 (logs may then be unstaged).
     */
    static FloatVector focalProbGrad(FloatVector t, FloatVector pc, FloatVector qc, FloatVector logP,
                                     FloatVector logQ, FloatVector aw, FloatVector nw, int g) {
        return focalProbGradPos(t, pc, qc, logP, aw, g).sub(focalProbGradNeg(t, pc, qc, logQ, nw, g));
    }

    /** The positive part of {@link #focalProbGrad}: -aw t (-g qc^(g-1) log pc + qc^g / pc). */
    static FloatVector focalProbGradPos(FloatVector t, FloatVector pc, FloatVector qc, FloatVector logP,
                                        FloatVector aw, int g) {
        FloatVector posPart = powBySquaring(qc, g).div(pc);
        if (g != 0) {
            posPart = powBySquaring(qc, g - 1).mul(logP).mul(-g).add(posPart);
        }
        return t.mul(aw.neg()).mul(posPart);
    }

    /** The negative part of {@link #focalProbGrad}, subtracted: nw (1 - t) (g pc^(g-1) log qc - pc^g / qc). */
    static FloatVector focalProbGradNeg(FloatVector t, FloatVector pc, FloatVector qc, FloatVector logQ,
                                        FloatVector nw, int g) {
        FloatVector negPart = powBySquaring(pc, g).div(qc).neg();
        if (g != 0) {
            negPart = powBySquaring(pc, g - 1).mul(logQ).mul(g).add(negPart);
        }
        return ONE.sub(t).mul(nw).mul(negPart);
    }

    /** CpuMath.focalMulticlass: -q_y^g log p_y (g = 0: ce). */
    static FloatVector focalMulticlass(FloatVector q, FloatVector logPy, int g) {
        return pow(q, g).mul(logPy).neg();
    }

    /** CpuMath.focalMulticlassSlope: g q^(g-1) p log p - q^g, the first part 0 when g = 0 or q <= 0. */
    static FloatVector focalMulticlassSlope(FloatVector q, FloatVector py, FloatVector logPy, int g) {
        return pow(q, g - 1).mul(py).mul(logPy).mul(g).blend(ZERO, q.compare(VectorOperators.LE, 0f)).sub(pow(q, g));
    }

    /** d(multiclass focal)/dp_y from probabilities: g qc^(g-1) log pc - qc^g / pc. */
    static FloatVector focalMulticlassProbGrad(FloatVector pc, FloatVector qc, FloatVector logP, int g) {
        return pow(qc, g - 1).mul(logP).mul(g).sub(pow(qc, g).div(pc));
    }

    /** d(ce)/dp_y from probabilities: -1 / pc. */
    static FloatVector ceProbGrad(FloatVector pc) {
        return ONE.div(pc).neg();
    }

    /** The sigmoid chain: dL/dx = dL/dp p q. */
    static FloatVector sigmoidChain(FloatVector dldp, FloatVector p, FloatVector q) {
        return dldp.mul(p).mul(q);
    }

    /** v^g for a small integer g >= 0 by repeated products (exact for g = 0, 1, 2 as in CpuMath.pow). */
    static FloatVector pow(FloatVector v, int g) {
        // Straight-line, g <= MAX_LANE_GAMMA: neither a loop nor a switch, whose vectors merged at a phi (loop-carried,
        // or from several branches) C2 boxes on the heap. Factor k is v where g >= k, else 1: the same products in
        // the same order as r = r * v repeated g times (g < 1 gives 1).
        FloatVector gs = FloatVector.broadcast(FS, (float) g);
        FloatVector r = ONE.blend(v, gs.compare(VectorOperators.GE, 1f));
        r = r.mul(ONE.blend(v, gs.compare(VectorOperators.GE, 2f)));
        r = r.mul(ONE.blend(v, gs.compare(VectorOperators.GE, 3f)));
        r = r.mul(ONE.blend(v, gs.compare(VectorOperators.GE, 4f)));
        r = r.mul(ONE.blend(v, gs.compare(VectorOperators.GE, 5f)));
        r = r.mul(ONE.blend(v, gs.compare(VectorOperators.GE, 6f)));
        r = r.mul(ONE.blend(v, gs.compare(VectorOperators.GE, 7f)));
        return r.mul(ONE.blend(v, gs.compare(VectorOperators.GE, 8f))); // MAX_LANE_GAMMA
    }

    /**
     * v^g for a small integer g in [0, {@link VectorKernels#MAX_LANE_GAMMA}] by squaring (g < 1 gives 1): v^g = the
     * product of v^(2^k) over the bits k of g. The same bits as repeated products for g <= 3 (v, v v, v (v v)); for
     * g = 2 exact as CpuMath.pow; for larger g within a few float roundings. Fewer nodes than {@link #pow}: the
     * binary focal loops use it (their gradient loop, with two powers, 27 to 22 ms at 8x4x512x512); the multiclass
     * ones keep {@link #pow} (with this one C2 boxed the vectors of their stats pass).
     */
    static FloatVector powBySquaring(FloatVector v, int g) {
        // Straight-line: neither a loop nor a switch, whose vectors merged at a phi (loop-carried, or from several
        // branches) C2 boxes on the heap. Factor k is v^(2^k) where bit k of g is set, else 1.
        int h = Math.max(g, 0);
        FloatVector v2 = v.mul(v);
        FloatVector v4 = v2.mul(v2);
        FloatVector r = ONE.blend(v, bit(h, 0));
        r = r.mul(ONE.blend(v2, bit(h, 1)));
        r = r.mul(ONE.blend(v4, bit(h, 2)));
        return r.mul(ONE.blend(v4.mul(v4), bit(h, 3))); // MAX_LANE_GAMMA = 8 = 2^3
    }

    /** Every lane set when bit k of g is, none otherwise. */
    private static VectorMask<Float> bit(int g, int k) {
        return FS.maskAll(((g >> k) & 1) != 0);
    }
}
