package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.VectorKernels.FS;
import static org.segloss.backend.cpu.VectorKernels.L;
import static org.segloss.backend.cpu.VectorKernels.isFloatArray;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import org.segloss.Layout;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * Multiclass passes with float lanes: one lane per pixel, a loop over the C classes (rows {@code stride}
 * floats apart). NCHW pred is read in place; NHWC chunks are transposed into per-class rows first. Class
 * maps (uint8, int32, float) become float markers ({@link VectorIo#classMarkers}); ignored pixels and the
 * padding lanes of a chunk's last vector carry {@link VectorIo#IGNORED} and count nowhere. Per-pixel
 * results (term, p_y) are added to the rows of their class in double by a scalar loop.
 */
final class VectorMulticlass {
    private VectorMulticlass() {
    }

    private static final int SLOT_X = 4;
    private static final int SLOT_Y = 5;
    private static final int SLOT_TERM = 6;
    private static final int SLOT_PY = 7;
    private static final int SLOT_ACC_P = 8;
    private static final int SLOT_E = 9;
    private static final int SLOT_TAIL = 10;
    private static final int SLOT_G = 11;
    private static final int SLOT_LINEAR = 3;

    private static final int I = Problem.STAT_I;
    private static final int P = Problem.STAT_P;
    private static final int T = Problem.STAT_T;
    private static final int TERM = Problem.STAT_TERM;
    private static final int K = Problem.STATS;

    private static final FloatVector ZERO = FloatVector.zero(FS);
    private static final FloatVector ONE = FloatVector.broadcast(FS, 1f);
    private static final float EPS = (float) CpuMath.EPS;

    /** Pixels per chunk: a multiple of L, at most 512 (float sums of P), C * chunk floats at most 16384. */
    static int pixelChunk(int c) {
        int px = Math.min(512, 16384 / c);
        return Math.max(L, px - px % L);
    }

    /** Stats of sample n, pixels [s0, s1); false when a refused value was seen. */
    static boolean stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc,
                         VectorScratch sc) {
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        boolean region = p.region;
        boolean hasTerm = p.pixelTerm != PixelTerm.NONE;
        float[] ys = sc.floats(SLOT_Y, px + L);
        float[] termS = sc.floats(SLOT_TERM, px + L);
        float[] pyS = sc.floats(SLOT_PY, px + L);
        float[] accP = sc.floats(SLOT_ACC_P, c * L);
        float[] es = sc.floats(SLOT_E, c * L);
        float[] tail = sc.floats(SLOT_TAIL, c * L);
        Arrays.fill(accP, 0, c * L, 0f);
        boolean direct = p.layout == Layout.NCHW && isFloatArray(pred);
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int full = m - m % L;
            int padded = full == m ? m : full + L;
            if (!VectorIo.classMarkers(p, target, n, sa, m, ys, 0, padded, sc)) {
                return false;
            }
            float[] xa;
            int xo;
            int stride;
            if (direct) {
                xa = pred.floats.array();
                xo = pred.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
                stride = (int) p.s;
            } else {
                xa = readChunk(p, pred, n, sa, m, sc);
                xo = 0;
                stride = m;
            }
            if (!statsPixels(p, xa, xo, stride, ys, 0, full, termS, pyS, accP, es)) {
                return false;
            }
            if (full < m) {
                copyTail(xa, xo, stride, full, m - full, c, tail);
                if (!statsPixels(p, tail, 0, L, ys, full, L, termS, pyS, accP, es)) {
                    return false;
                }
            }
            for (int j = 0; j < m; j++) {
                float y = ys[j];
                if (y >= 0) {
                    int b = (int) y * K;
                    acc[b + T] += 1;
                    if (hasTerm) {
                        acc[b + TERM] += termS[j];
                    }
                    if (region) {
                        acc[b + I] += pyS[j];
                    }
                }
            }
            if (region) {
                for (int ci = 0; ci < c; ci++) {
                    acc[ci * K + P] += VectorMath.sumLanes(FloatVector.fromArray(FS, accP, ci * L));
                }
                Arrays.fill(accP, 0, c * L, 0f);
            }
        }
        return true;
    }

    /** Copies a chunk of pred (m pixels from sa) into per-class rows of m floats. */
    private static float[] readChunk(Problem p, CpuBuffer pred, int n, int sa, int m, VectorScratch sc) {
        int c = (int) p.c;
        float[] xs = sc.floats(SLOT_X, c * m);
        if (p.layout == Layout.NCHW) {
            for (int ci = 0; ci < c; ci++) {
                VectorIo.readFloats(pred, CpuBackend.index(p, n, ci, sa), m, xs, ci * m);
            }
        } else {
            float[] linear = sc.floats(SLOT_LINEAR, c * m);
            VectorIo.transposeIn(pred, CpuBackend.index(p, n, 0, sa), m, c, xs, linear, sc, false);
        }
        return xs;
    }

    /** The last {@code rem < L} pixels of every class row into rows of L floats, padded with 0. */
    private static void copyTail(float[] xa, int xo, int stride, int from, int rem, int c, float[] tail) {
        for (int ci = 0; ci < c; ci++) {
            int src = xo + ci * stride + from;
            for (int j = 0; j < L; j++) {
                tail[ci * L + j] = j < rem ? xa[src + j] : 0f;
            }
        }
    }

    /**
     * Lanes of {@code count} pixels (a multiple of L) with class rows at {@code xo + ci * stride}:
     * from logits p_c = exp(x_c - max) / sum_k exp(x_k - max), log p_y = x_y - (max + log sum);
     * from probabilities p_c = x_c, log p_y = log(clamp(p_y)). Writes per pixel the term
     * (ce: -log p_y; focal: -(1 - p_y)^g log p_y, p_y clamped from probabilities) and p_y, and adds p_c of
     * valid pixels to accP (region). False on a refused pred value (ignored pixels included, as the reference).
     */
    private static boolean statsPixels(Problem p, float[] xa, int xo, int stride, float[] ys, int yo, int count,
                                       float[] termS, float[] pyS, float[] accP, float[] es) {
        int c = (int) p.c;
        boolean logits = p.fromLogits;
        boolean region = p.region;
        PixelTerm term = p.pixelTerm;
        boolean focal = term == PixelTerm.FOCAL;
        boolean hasTerm = term != PixelTerm.NONE;
        int g = (int) p.gamma;
        for (int i = 0; i < count; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, yo + i);
            VectorMask<Float> valid = yf.compare(VectorOperators.GE, 0f);
            VectorMask<Float> ok = FS.maskAll(true);
            FloatVector xy = FloatVector.zero(FS);
            FloatVector py;
            FloatVector logPy;
            if (logits) {
                FloatVector max = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
                FloatVector argmax = FloatVector.zero(FS);
                for (int ci = 0; ci < c; ci++) {
                    FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                    ok = ok.and(x.abs().compare(VectorOperators.LE, Float.MAX_VALUE));
                    VectorMask<Float> above = x.compare(VectorOperators.GT, max);
                    max = max.blend(x, above);
                    argmax = argmax.blend(ci, above);
                }
                if (!ok.allTrue()) {
                    return false;
                }
                // sum_k exp(x_k - max) = 1 + others (the first maximum's term is exactly 1), so that
                // log sum = log1p(others) keeps full precision when p_y is close to 1.
                FloatVector others = FloatVector.zero(FS);
                for (int ci = 0; ci < c; ci++) {
                    FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                    FloatVector e = VectorMath.exp(x.sub(max));
                    others = others.add(e.blend(ZERO, argmax.compare(VectorOperators.EQ, (float) ci)));
                    if (region) {
                        e.intoArray(es, ci * L);
                    }
                    xy = xy.blend(x, yf.compare(VectorOperators.EQ, (float) ci));
                }
                logPy = xy.sub(max).sub(VectorMath.log1p(others));
                py = region ? VectorMath.exp(logPy) : ZERO;
                if (region) {
                    FloatVector inv = ONE.div(others.add(1f)).blend(ZERO, valid.not());
                    for (int ci = 0; ci < c; ci++) {
                        FloatVector acc = FloatVector.fromArray(FS, accP, ci * L);
                        FloatVector.fromArray(FS, es, ci * L).fma(inv, acc).intoArray(accP, ci * L);
                    }
                }
            } else {
                for (int ci = 0; ci < c; ci++) {
                    FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                    ok = ok.and(x.compare(VectorOperators.GE, 0f)).and(x.compare(VectorOperators.LE, 1f));
                    xy = xy.blend(x, yf.compare(VectorOperators.EQ, (float) ci));
                    if (region) {
                        FloatVector acc = FloatVector.fromArray(FS, accP, ci * L);
                        acc.add(x, valid).intoArray(accP, ci * L);
                    }
                }
                if (!ok.allTrue()) {
                    return false;
                }
                py = xy;
                logPy = FloatVector.zero(FS);
            }
            if (hasTerm) {
                FloatVector v;
                if (logits) {
                    // 1 - p_y = -expm1(log p_y), exact near p_y = 1
                    v = focal ? VectorBinary.pow(VectorMath.expm1(logPy).neg(), g).mul(logPy).neg() : logPy.neg();
                } else {
                    // log(clamp(p_y)) with the smaller of pc, qc = 1 - pc taken through LOG, the larger through LOG1P.
                    VectorMask<Float> lo = xy.compare(VectorOperators.LT, 0.5f);
                    FloatVector small = ONE.sub(xy).blend(xy, lo);
                    small = small.blend(EPS, small.compare(VectorOperators.LT, EPS));
                    FloatVector logP = VectorMath.log1p(small.neg())
                            .blend(VectorMath.log(small), lo);
                    FloatVector qc = small.blend(ONE.sub(small), lo);
                    v = focal ? VectorBinary.pow(qc, g).mul(logP).neg() : logP.neg();
                }
                v.intoArray(termS, yo + i);
            }
            if (region) {
                py.intoArray(pyS, yo + i);
            }
        }
        return true;
    }

    /** Gradient of sample n, pixels [s0, s1). */
    static void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n,
                     int s0, int s1, VectorScratch sc) {
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        float[] ys = sc.floats(SLOT_Y, px + L);
        float[] es = sc.floats(SLOT_E, c * L);
        float[] tail = sc.floats(SLOT_TAIL, c * L);
        float[] tailG = sc.floats(SLOT_ACC_P, c * L);
        boolean directIn = p.layout == Layout.NCHW && isFloatArray(pred);
        boolean directOut = p.layout == Layout.NCHW && grad.floats.hasArray();
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int full = m - m % L;
            int padded = full == m ? m : full + L;
            VectorIo.classMarkers(p, target, n, sa, m, ys, 0, padded, sc);
            float[] xa;
            int xo;
            int stride;
            if (directIn) {
                xa = pred.floats.array();
                xo = pred.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
                stride = (int) p.s;
            } else {
                xa = readChunk(p, pred, n, sa, m, sc);
                xo = 0;
                stride = m;
            }
            float[] ga;
            int go;
            int gstride;
            if (directOut) {
                ga = grad.floats.array();
                go = grad.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
                gstride = (int) p.s;
            } else {
                ga = sc.floats(SLOT_G, c * m);
                go = 0;
                gstride = m;
            }
            gradPixels(p, k, n, xa, xo, stride, ys, 0, full, ga, go, gstride, es);
            if (full < m) {
                int rem = m - full;
                copyTail(xa, xo, stride, full, rem, c, tail);
                gradPixels(p, k, n, tail, 0, L, ys, full, L, tailG, 0, L, es);
                for (int ci = 0; ci < c; ci++) {
                    System.arraycopy(tailG, ci * L, ga, go + ci * gstride + full, rem);
                }
            }
            if (!directOut) {
                if (p.layout == Layout.NCHW) {
                    for (int ci = 0; ci < c; ci++) {
                        VectorIo.writeFloats(grad, CpuBackend.index(p, n, ci, sa), m, ga, ci * m);
                    }
                } else {
                    VectorIo.transposeOut(grad, CpuBackend.index(p, n, 0, sa), m, c, ga,
                            sc.floats(SLOT_LINEAR, c * m));
                }
            }
        }
    }

    /**
     * Gradient lanes, ps_y = pixelScale[y], r_c = t_c A[n,c] + B[n,c], t = one-hot(y), ignored pixels 0.
     * From logits: dL/dx_c = ps_y dterm/dx_c + p_c (r_c - sum_k p_k r_k), dce/dx_c = p_c - t_c,
     * dfocal/dx_c = F (t_c - p_c) with F = g (1 - p_y)^(g-1) p_y log p_y - (1 - p_y)^g (first part 0 when
     * g = 0 or p_y = 1). From probabilities: dL/dp_c = [c = y] ps_y dterm/dp_y + r_c at pc = clamp(p_y),
     * dce/dp = -1 / pc, dfocal/dp = g qc^(g-1) log pc - qc^g / pc (first part 0 when g = 0).
     */
    private static void gradPixels(Problem p, GradCoefficients k, int n, float[] xa, int xo, int stride,
                                   float[] ys, int yo, int count, float[] ga, int go, int gstride, float[] es) {
        int c = (int) p.c;
        int rowBase = n * c;
        boolean logits = p.fromLogits;
        boolean region = p.region;
        PixelTerm term = p.pixelTerm;
        boolean focal = term == PixelTerm.FOCAL;
        boolean ce = term == PixelTerm.CE;
        int g = (int) p.gamma;
        float[] pixelScale = k.pixelScale;
        float[] regionA = k.regionA;
        float[] regionB = k.regionB;
        for (int i = 0; i < count; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, yo + i);
            VectorMask<Float> ignored = yf.compare(VectorOperators.LT, 0f);
            FloatVector xy = FloatVector.zero(FS);
            FloatVector psy = FloatVector.zero(FS);
            FloatVector ay = FloatVector.zero(FS);
            if (logits) {
                // The target class's coefficients first: the region part is computed relative to r_y.
                FloatVector by = FloatVector.zero(FS);
                for (int ci = 0; ci < c; ci++) {
                    VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                    psy = psy.blend(pixelScale[ci], isY);
                    if (region) {
                        ay = ay.blend(regionA[rowBase + ci], isY);
                        by = by.blend(regionB[rowBase + ci], isY);
                    }
                }
                FloatVector max = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
                FloatVector argmax = FloatVector.zero(FS);
                for (int ci = 0; ci < c; ci++) {
                    FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                    VectorMask<Float> above = x.compare(VectorOperators.GT, max);
                    max = max.blend(x, above);
                    argmax = argmax.blend(ci, above);
                }
                FloatVector others = FloatVector.zero(FS);
                FloatVector sumED = FloatVector.zero(FS);
                for (int ci = 0; ci < c; ci++) {
                    FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                    FloatVector e = VectorMath.exp(x.sub(max));
                    e.intoArray(es, ci * L);
                    others = others.add(e.blend(ZERO, argmax.compare(VectorOperators.EQ, (float) ci)));
                    xy = xy.blend(x, yf.compare(VectorOperators.EQ, (float) ci));
                    if (region) {
                        sumED = e.mul(by.neg().add(regionB[rowBase + ci])).add(sumED);
                    }
                }
                FloatVector inv = ONE.div(others.add(1f));
                // p_y - 1 = expm1(log p_y): exact where p_y is close to 1 (no 1 - p_y cancellation)
                FloatVector logPy = xy.sub(max).sub(VectorMath.log1p(others));
                FloatVector pyMinus1 = VectorMath.expm1(logPy);
                FloatVector py = pyMinus1.add(1f);
                // r_c - sum_k p_k r_k = (r_c - r_y) - D with D = sum_k p_k (r_k - r_y)
                //                     = sum_k p_k (B_k - B_y) + A_y (p_y - 1)   (uses sum_k p_k = 1)
                FloatVector dev = region ? sumED.mul(inv).add(ay.mul(pyMinus1)) : ZERO;
                FloatVector slope = FloatVector.zero(FS);
                if (focal) {
                    FloatVector q = pyMinus1.neg();
                    FloatVector f = VectorBinary.pow(q, g).neg();
                    if (g != 0) {
                        FloatVector first = VectorBinary.pow(q, g - 1).mul(py).mul(logPy).mul(g);
                        f = f.add(first.blend(ZERO, q.compare(VectorOperators.LE, 0f)));
                    }
                    slope = psy.mul(f);
                }
                for (int ci = 0; ci < c; ci++) {
                    FloatVector prob = FloatVector.fromArray(FS, es, ci * L).mul(inv);
                    VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                    // p_c - t_c, with p_y - 1 taken from expm1
                    FloatVector pMinusT = prob.blend(pyMinus1, isY);
                    FloatVector d = FloatVector.zero(FS);
                    if (ce) {
                        d = pMinusT.mul(psy);
                    } else if (focal) {
                        d = pMinusT.mul(slope).neg();
                    }
                    if (region) {
                        FloatVector rMinusRy = by.add(ay).neg().add(regionB[rowBase + ci]).blend(ZERO, isY);
                        d = rMinusRy.sub(dev).mul(prob).add(d);
                    }
                    d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
                }
            } else {
                for (int ci = 0; ci < c; ci++) {
                    VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                    xy = xy.blend(FloatVector.fromArray(FS, xa, xo + ci * stride + i), isY);
                    psy = psy.blend(pixelScale[ci], isY);
                }
                FloatVector slope = FloatVector.zero(FS);
                if (term != PixelTerm.NONE) {
                    VectorMask<Float> lo = xy.compare(VectorOperators.LT, 0.5f);
                    FloatVector small = ONE.sub(xy).blend(xy, lo);
                    small = small.blend(EPS, small.compare(VectorOperators.LT, EPS));
                    FloatVector large = ONE.sub(small);
                    FloatVector pc = large.blend(small, lo);
                    FloatVector qc = small.blend(large, lo);
                    if (ce) {
                        slope = psy.neg().div(pc);
                    } else {
                        FloatVector f = VectorBinary.pow(qc, g).div(pc).neg();
                        if (g != 0) {
                            FloatVector logP = VectorMath.log1p(small.neg())
                                    .blend(VectorMath.log(small), lo);
                            f = VectorBinary.pow(qc, g - 1).mul(logP).mul(g).add(f);
                        }
                        slope = psy.mul(f);
                    }
                }
                for (int ci = 0; ci < c; ci++) {
                    VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                    FloatVector d = ZERO.blend(slope, isY);
                    if (region) {
                        FloatVector r = ZERO.blend(regionA[rowBase + ci], isY).add(regionB[rowBase + ci]);
                        d = d.add(r);
                    }
                    d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
                }
            }
        }
    }
}
