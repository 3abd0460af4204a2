package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.VectorKernels.FS;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * exp, log and log1p on float lanes built from IEEE add, mul, fma, div and bit moves only, so that the
 * interpreter, C1 and C2 give the same bits (the lanewise EXP / LOG / LOG1P operators are intrinsified in
 * C2 with a different rounding than their Java fallback, which would make results depend on JIT tier
 * and thus differ from run to run). Accuracy: about 2 ulp over the ranges the kernels use.
 */
final class VectorMath {
    private VectorMath() {
    }

    private static final float LOG2E = 1.44269504088896341f;
    /** ln 2 split so that n * LN2_HI is exact for |n| < 2^8. */
    private static final float LN2_HI = 0.693145751953125f;
    private static final float LN2_LO = 1.42860682030941723212e-6f;
    /** 1.5 * 2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits. */
    private static final float ROUNDER = 12582912f;
    private static final int ROUNDER_BITS = 0x4B400000;
    /** exp is evaluated on [EXP_MIN, EXP_MAX]: 2^n stays a normal float; below, exp(x) < 1.2e-38 counts as that. */
    private static final float EXP_MIN = -87.33f;
    private static final float EXP_MAX = 88.37f;
    private static final int SQRT_HALF_BITS = 0x3F3504F3;

    private static final FloatVector ONE = FloatVector.broadcast(FS, 1f);

    /**
     * e^x = 2^n e^r, n = round(x log2 e), r = x - n ln 2 in [-ln2/2, ln2/2], e^r by its Taylor polynomial to
     * r^7 / 7! (truncation below 5e-9 relative). x is clamped to [EXP_MIN, EXP_MAX]; NaN propagates.
     */
    static FloatVector exp(FloatVector x) {
        return expClamped(x.max(EXP_MIN).min(EXP_MAX));
    }

    /**
     * {@link #exp} of x <= 0 (or NaN): the same bits, with the low clamp as a compare and a blend (NaN and -0 stay as
     * they are, as with max) and no high clamp. Java's lanewise max and min (NaN and -0 rules) take several
     * instructions each on x86; a softmax's exp(x_c - max) needs neither.
     */
    static FloatVector expNonPositive(FloatVector x) {
        return expClamped(x.blend(EXP_MIN, x.compare(VectorOperators.LT, EXP_MIN)));
    }

    /**
     * {@link #exp} with both clamps as a compare and a blend: the same bits for every x (NaN stays NaN).
     * For the compute floor, whose exp of a raw logit must be no dearer than the kernels' {@link #expNonPositive}.
     */
    static FloatVector expBlendClamped(FloatVector x) {
        FloatVector low = x.blend(EXP_MIN, x.compare(VectorOperators.LT, EXP_MIN));
        return expClamped(low.blend(EXP_MAX, low.compare(VectorOperators.GT, EXP_MAX)));
    }

    /** {@link #exp} of xc already in [EXP_MIN, EXP_MAX] (or NaN). */
    private static FloatVector expClamped(FloatVector xc) {
        FloatVector shifted = xc.fma(FloatVector.broadcast(FS, LOG2E), FloatVector.broadcast(FS, ROUNDER));
        FloatVector n = shifted.sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(FS, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(FS, -LN2_LO), r);
        FloatVector poly = FloatVector.broadcast(FS, 1f / 5040f);
        poly = poly.fma(r, FloatVector.broadcast(FS, 1f / 720f));
        poly = poly.fma(r, FloatVector.broadcast(FS, 1f / 120f));
        poly = poly.fma(r, FloatVector.broadcast(FS, 1f / 24f));
        poly = poly.fma(r, FloatVector.broadcast(FS, 1f / 6f));
        poly = poly.fma(r, FloatVector.broadcast(FS, 0.5f));
        poly = poly.fma(r, ONE);
        poly = poly.fma(r, ONE);
        IntVector bits = shifted.reinterpretAsInts().sub(ROUNDER_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = bits.reinterpretAsFloats();
        return poly.mul(scale);
    }

    /**
     * log y for normal y > 0: y = m 2^k with m in [sqrt(1/2), sqrt(2)), log y = k ln 2 + 2 atanh(f),
     * f = (m - 1) / (m + 1), atanh by its series to f^9 / 9 (|f| < 0.172: truncation below 1e-9).
     */
    static FloatVector log(FloatVector y) {
        IntVector bits = y.reinterpretAsInts();
        IntVector k = bits.sub(SQRT_HALF_BITS).lanewise(VectorOperators.ASHR, 23);
        FloatVector m = bits.sub(k.lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
        // k as float without a conversion: k + 1.5 * 2^23 in the mantissa bits, minus 1.5 * 2^23.
        FloatVector kf = k.add(ROUNDER_BITS).reinterpretAsFloats().sub(ROUNDER);
        // k ln 2 + 2 atanh((m - 1) / (m + 1))
        FloatVector f = m.sub(1f).div(m.add(1f));
        FloatVector f2 = f.mul(f);
        FloatVector poly = FloatVector.broadcast(FS, 2f / 9f);
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 7f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 5f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 3f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f));
        return kf.fma(FloatVector.broadcast(FS, LN2_LO), poly.mul(f)).add(kf.mul(LN2_HI));
    }


    /**
     * log(1 + u) for u > -1: y = 1 + u rounded, then log y + (u - (y - 1)) / y, the first-order
     * correction of the rounding of 1 + u (exact to float precision for small |u|).
     */
    static FloatVector log1p(FloatVector u) {
        FloatVector y = u.add(1f);
        FloatVector correction = u.sub(y.sub(1f)).div(y);
        return log(y).add(correction);
    }

    /** Sum of the lanes in double, lane 0 first (a fixed order: the reduction operator's order is unspecified). */
    static double sumLanes(FloatVector v) {
        float[] lanes = v.toArray();
        double sum = 0;
        for (float lane : lanes) {
            sum += lane;
        }
        return sum;
    }

    /** {@link #sumLanes(FloatVector)} of the vector stored at a[off ..]: no array allocated, the same sum. */
    static double sumLanes(float[] a, int off) {
        double sum = 0;
        for (int j = 0; j < FS.length(); j++) {
            sum += a[off + j];
        }
        return sum;
    }

    /**
     * e^x - 1 without the cancellation of 1 - p near p = 1: x (1 + x/2 + ... + x^7/8!) for |x| < 1/4
     * (truncation below 1e-11 relative), e^x - 1 elsewhere (|result| > 0.22, no cancellation to speak of).
     */
    static FloatVector expm1(FloatVector x) {
        FloatVector poly = FloatVector.broadcast(FS, 1f / 40320f);
        poly = poly.fma(x, FloatVector.broadcast(FS, 1f / 5040f));
        poly = poly.fma(x, FloatVector.broadcast(FS, 1f / 720f));
        poly = poly.fma(x, FloatVector.broadcast(FS, 1f / 120f));
        poly = poly.fma(x, FloatVector.broadcast(FS, 1f / 24f));
        poly = poly.fma(x, FloatVector.broadcast(FS, 1f / 6f));
        poly = poly.fma(x, FloatVector.broadcast(FS, 0.5f));
        poly = poly.fma(x, ONE);
        FloatVector small = poly.mul(x);
        FloatVector large = exp(x).sub(1f);
        return large.blend(small, x.abs().compare(VectorOperators.LT, 0.25f));
    }

    // Staged passes: each transcendental runs in its own small loop over a chunk (at most a few thousand
    // floats, in L1), so that the C2 compilation of every loop stays under the inlining node budget
    // (a loop with several inlined transcendentals is refused inlining and its vectors get boxed).

    /** e[eo + j] = exp(-|x[xo + j]|) for j < n (n a multiple of the lane count). */
    static void expNegAbs(float[] x, int xo, float[] e, int eo, int n) {
        for (int j = 0; j < n; j += FS.length()) {
            expNonPositive(FloatVector.fromArray(FS, x, xo + j).abs().neg()).intoArray(e, eo + j);
        }
    }

    /** out[j] = log1p(in[j]) for j < n, in[j] in [0, 1] (as exp(-|x|)). */
    static void log1pPass(float[] in, float[] out, int n) {
        for (int j = 0; j < n; j += FS.length()) {
            log1pUnit(FloatVector.fromArray(FS, in, j)).intoArray(out, j);
        }
    }

    /**
     * Logs of a clamped probability: with small = max(min(x, 1 - x), eps), logSmall = log(small) and
     * logLarge = log1p(-small), so that log pc and log(1 - pc) both keep full precision.
     */
    static void clampedLogs(float[] x, int xo, float eps, float[] logSmall, float[] logLarge, int n) {
        clampedLogs(x, xo, eps, logSmall, logLarge, 0, n);
    }

    /** {@link #clampedLogs} into logSmall and logLarge from index lo. */
    static void clampedLogs(float[] x, int xo, float eps, float[] logSmall, float[] logLarge, int lo, int n) {
        // Two loops: one inlined log per loop keeps each under the node budget.
        for (int j = 0; j < n; j += FS.length()) {
            FloatVector v = FloatVector.fromArray(FS, x, xo + j);
            log(v.min(ONE.sub(v)).max(eps)).intoArray(logSmall, lo + j);
        }
        for (int j = 0; j < n; j += FS.length()) {
            FloatVector v = FloatVector.fromArray(FS, x, xo + j);
            log1pUnit(v.min(ONE.sub(v)).max(eps).neg()).intoArray(logLarge, lo + j);
        }
    }

    /**
     * log(1 + u) for u in [-1/2, 1]: 2 atanh(f) with f = u / (2 + u) in [-1/3, 1/3] (exact: no rounding of
     * 1 + u enters), atanh by its odd series to f^15 / 15 (truncation below 1e-9 relative). No bit moves,
     * so the loops that use it stay small for C2.
     */
    static FloatVector log1pUnit(FloatVector u) {
        FloatVector f = u.div(u.add(2f));
        FloatVector f2 = f.mul(f);
        FloatVector poly = FloatVector.broadcast(FS, 2f / 15f);
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 13f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 11f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 9f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 7f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 5f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f / 3f));
        poly = poly.fma(f2, FloatVector.broadcast(FS, 2f));
        return poly.mul(f);
    }
}
