package org.segloss.backend.cpu;

import static org.segloss.backend.cpu.VectorKernels.EPS;
import static org.segloss.backend.cpu.VectorKernels.FS;
import static org.segloss.backend.cpu.VectorKernels.I;
import static org.segloss.backend.cpu.VectorKernels.K;
import static org.segloss.backend.cpu.VectorKernels.L;
import static org.segloss.backend.cpu.VectorKernels.ONE;
import static org.segloss.backend.cpu.VectorKernels.P;
import static org.segloss.backend.cpu.VectorKernels.T;
import static org.segloss.backend.cpu.VectorKernels.TERM;
import static org.segloss.backend.cpu.VectorKernels.ZERO;
import static org.segloss.backend.cpu.VectorKernels.isFloatArray;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.segloss.Layout;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;
import org.segloss.backend.Stat;

/**
 * Multiclass passes with float lanes: one lane per pixel, loops over the C classes (class rows
 * {@code stride} floats apart). A chunk of at most {@link #pixelChunk} pixels goes through small staged
 * passes (max, exp, log, term...), each its own loop writing per-pixel vectors to L1/L2 scratch: a single
 * loop holding several transcendentals exceeds C2's inlining budget and then boxes every vector. Within a
 * pass, the per-pixel sums over the classes (max, sum of exps) stay in registers: pixels outer, classes
 * inner. A vector carried around a loop must start from a vector made in that method
 * ({@code FloatVector.zero(FS)}): starting from a static constant, C2 (JDK 17) boxes it at every iteration.
 *
 * <p>NCHW pred is read in place when the chunk is a whole number of vectors; otherwise (lane tail, NHWC,
 * buffers without an array) the chunk is copied into per-class rows padded with zeros. Class maps become
 * float markers ({@link VectorIo#classMarkers}); ignored pixels and padding lanes carry
 * {@link VectorIo#IGNORED} and count nowhere. The per-class sums (T, TERM, I, P) of a chunk are masked
 * float lane sums ({@link #classSumsPass}) added to the double accumulator once per chunk.
 *
 * <p>From logits with ce or no pixel term ({@link #keeps}), a forward+backward keeps p_c: the stats pass
 * writes it into the gradient buffer and the grad pass reads it back instead of computing it again; with ce alone
 * ({@link #residualKeep}) it keeps the residual p_c - t_c, which the grad pass only scales by ps_y.
 *
 * <p>The max and exp of a pixel share one pass ({@link #maxExpPass}: the max loop's loads come from memory, the exp
 * loop's from L1); a pass that reads a pixel's rows more than once runs pixels outer up to
 * {@link #IN_PLACE_MAX_CLASSES} classes and classes outer above.
 */
final class VectorMulticlass {
    private VectorMulticlass() {
    }

    private static final int SLOT_X = 6;
    private static final int SLOT_Y = 7;
    private static final int SLOT_E = 8;
    private static final int SLOT_LINEAR = 10;
    private static final int SLOT_ACC_P = 11;
    private static final int SLOT_MAX = 12;
    private static final int SLOT_ARG = 13;
    private static final int SLOT_OTHERS = 14;
    private static final int SLOT_XY = 15;
    private static final int SLOT_LOG_PY = 16;
    private static final int SLOT_PY = 17;
    private static final int SLOT_TERM = 18;
    private static final int SLOT_LOG_SMALL = 19;
    private static final int SLOT_LOG_LARGE = 20;
    private static final int SLOT_PS = 21;
    private static final int SLOT_AY = 22;
    private static final int SLOT_BY = 23;
    private static final int SLOT_SUM_ED = 24;
    private static final int SLOT_INV = 25;
    private static final int SLOT_PIX = 26;
    private static final int SLOT_DEV = 27;
    private static final int SLOT_TARGET_ROWS = 28;
    private static final int SLOT_VALID = 29;
    private static final int SLOT_LSE = 30;
    private static final int SLOT_ACC_GENERAL = 31;
    private static final int SLOT_H = 32;
    private static final int SLOT_R = 33;
    private static final int SLOT_CLASS_LOG_SMALL = 34;
    private static final int SLOT_CLASS_LOG_LARGE = 35;
    private static final int SLOT_KEEP = 36;

    /** The per-class sums of the general passes, in this order in their float lane accumulator. */
    private static final int[] GENERAL_SUMS = {P, Stat.P2.slot(), I, T, Stat.T2.slot(), TERM};
    private static final int G_P = 0;
    private static final int G_P2 = 1;
    private static final int G_I = 2;
    private static final int G_T = 3;
    private static final int G_T2 = 4;
    private static final int G_TERM = 5;


    /** Pixels per chunk: a multiple of L, at most 512 (float sums of P), C * chunk floats at most 16384. */
    static int pixelChunk(int c) {
        int px = Math.min(512, 16384 / c);
        return Math.max(L, px - px % L);
    }

    /** Where a chunk's class rows are: {@code xa[xo + ci * stride + j]}. */
    private static final class View {
        float[] a;
        int o;
        int stride;
    }

    /**
     * Most classes whose rows are read in place. The passes read a chunk pixels outer, classes inner; NCHW rows are
     * H*W floats apart (a power of two, often), so every row of a pixel falls in the same L1 set, and more rows than
     * the cache's ways (8) evict each other: such chunks are copied into rows {@link #ROW_PAD} floats further
     * apart than the chunk.
     */
    private static final int IN_PLACE_MAX_CLASSES = 8;
    /** Floats between the end of a copied class row and the start of the next (one cache line). */
    private static final int ROW_PAD = 16;

    /** Floats between the starts of two class rows of a chunk of cnt pixels in scratch. */
    private static int rowStride(int cnt) {
        return cnt + ROW_PAD;
    }

    /**
     * The chunk of m pixels from sa of a float buffer of pred's shape (pred, or soft targets) as class rows; in
     * place when possible, else copied into the scratch slot {@code slot} (rows cnt + ROW_PAD apart), zero-padded
     * to cnt.
     */
    private static void view(Problem p, CpuBuffer pred, int n, int sa, int m, int cnt, VectorScratch sc, View v,
                             int slot) {
        int c = (int) p.c;
        if (p.layout == Layout.NCHW && isFloatArray(pred) && m == cnt && c <= IN_PLACE_MAX_CLASSES) {
            v.a = pred.floats.array();
            v.o = pred.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
            v.stride = (int) p.s;
            return;
        }
        int stride = rowStride(cnt);
        float[] xs = sc.floats(slot, c * stride);
        if (p.layout == Layout.NCHW) {
            for (int ci = 0; ci < c; ci++) {
                VectorIo.readFloats(pred, CpuBackend.index(p, n, ci, sa), m, xs, ci * stride);
            }
        } else {
            VectorIo.pixelsToRows(pred, CpuBackend.index(p, n, 0, sa), m, c, xs, stride, sc.floats(SLOT_LINEAR, c * m));
        }
        if (m < cnt) {
            for (int ci = 0; ci < c; ci++) {
                Arrays.fill(xs, ci * stride + m, ci * stride + cnt, 0f);
            }
        }
        v.a = xs;
        v.o = 0;
        v.stride = stride;
    }

    /**
     * Multiclass problems whose stats pass keeps the softmax probabilities p_c for the grad pass (in the gradient
     * buffer, see {@link CpuKernels#keeps}): from logits, class maps, ce or no pixel term. The grad pass reads p_c
     * back instead of computing max, C exps and the sums again; both paths compute p_c with the same passes
     * ({@link #softmaxProbs}), so the gradient is the same bits with or without the keep.
     */
    static boolean keeps(Problem p) {
        return p.fromLogits && !general(p) && p.pixelTerm != PixelTerm.FOCAL;
    }

    /**
     * {@link #keeps} problems with ce alone (no region term): the gradient is ps_y (p_c - t_c), so the stats pass
     * keeps the residual p_c - t_c ({@link #residualRowsPass}) and the grad pass only scales it by ps_y
     * ({@link #gradResidual}); without a keep the grad pass computes the same residual with the same passes.
     */
    static boolean residualKeep(Problem p) {
        return keeps(p) && !p.region && p.pixelTerm == PixelTerm.CE;
    }

    /**
     * Stats of sample n, pixels [s0, s1); false when a refused value was seen. With {@code keep} (only when
     * {@link #keeps}), p_c of every pixel is also written into keep (the gradient buffer, pred's layout).
     */
    static boolean stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc,
                         VectorScratch sc, CpuBuffer keep) {
        if (general(p)) {
            return statsGeneral(p, pred, target, n, s0, s1, acc, sc);
        }
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        boolean region = p.region;
        boolean hasTerm = p.pixelTerm != PixelTerm.NONE;
        int g = p.pixelTerm == PixelTerm.FOCAL ? (int) p.gamma : 0;
        boolean probs = region || keep != null;
        boolean residual = residualKeep(p);
        float[] ys = sc.floats(SLOT_Y, px + L);
        float[] sums = sc.floats(SLOT_ACC_GENERAL, CLASS_SUMS.length * c * L);
        SoftmaxRows sm = new SoftmaxRows(sc, c, px);
        float[] logPyS = sc.floats(SLOT_LOG_PY, px + L);
        float[] termS = sc.floats(SLOT_TERM, px + L);
        float[] lsS = sc.floats(SLOT_LOG_SMALL, px + L);
        float[] llS = sc.floats(SLOT_LOG_LARGE, px + L);
        float[] keepRows = sc.floats(SLOT_KEEP, c * rowStride(px + L));
        float[] minusQS = sc.floats(SLOT_PY, px + L);
        View v = new View();
        View pv = new View();
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int cnt = m % L == 0 ? m : m + L - m % L;
            if (!VectorIo.classMarkers(p, target, n, sa, m, ys, 0, cnt, sc)) {
                return false;
            }
            view(p, pred, n, sa, m, cnt, sc, v, SLOT_X);
            if (p.fromLogits) {
                // p_c = exp(x_c - max) / (1 + others), log p_y = x_y - max - log1p(others)
                boolean finite = !hasTerm ? maxExpRowsPass(v.a, v.o, v.stride, c, cnt, sm.maxS, sm.othersS, sm.es)
                        : probs ? maxExpStorePass(v.a, v.o, v.stride, c, cnt, ys, sm.maxS, sm.othersS, sm.xyS, sm.es)
                        : maxExpPass(v.a, v.o, v.stride, c, cnt, ys, sm.maxS, sm.othersS, sm.xyS);
                if (!finite) {
                    return false;
                }
                if (!hasTerm) {
                    inversePass(sm.othersS, sm.invS, cnt); // no log p_y without a pixel term
                } else if (g == 0) {
                    ceTermPass(sm.othersS, sm.xyS, sm.maxS, termS, sm.invS, cnt);
                } else {
                    logPyPass(sm.othersS, sm.xyS, sm.maxS, logPyS, sm.invS, cnt);
                    termPass(logPyS, g, termS, cnt);
                }
                if (keep != null && residual) {
                    boolean direct = outRows(p, keep, n, sa, m, cnt, keepRows, pv);
                    residual(sm, c, cnt, ys, minusQS, pv);
                    if (!direct) {
                        writeBack(p, keep, n, sa, m, cnt, keepRows, sc);
                    }
                } else if (probs) { // a region term (dice, ce_logdice): p_c and the sums in one pass
                    if (keep != null) {
                        boolean direct = keepRowsOut(p, keep, n, sa, m, cnt, keepRows, pv);
                        if (hasTerm) {
                            classSumsProbsPass(ys, c, cnt, termS, sm.es, sm.invS, pv.a, pv.o, pv.stride, sums);
                        } else {
                            regionSumsProbsPass(ys, c, cnt, sm.es, sm.invS, pv.a, pv.o, pv.stride, sums);
                        }
                        if (!direct) {
                            writeBack(p, keep, n, sa, m, cnt, keepRows, sc);
                        }
                    } else if (hasTerm) {
                        classSumsProbsUnstoredPass(ys, c, cnt, termS, sm.es, sm.invS, sums);
                    } else {
                        regionSumsProbsUnstoredPass(ys, c, cnt, sm.es, sm.invS, sums);
                    }
                    addSums(sums, c, hasTerm ? ALL_SUMS : REGION_SUMS, acc);
                    continue;
                }
            } else {
                // p_c = x_c, log p_y = log(clamp(p_y))
                if (!probClassPass(v.a, v.o, v.stride, c, cnt, ys, sm.xyS)) {
                    return false;
                }
                VectorMath.clampedLogs(sm.xyS, 0, EPS, lsS, llS, cnt);
                probTermPass(sm.xyS, lsS, llS, g, termS, cnt);
                pv.a = v.a;
                pv.o = v.o;
                pv.stride = v.stride;
            }
            addSums(sums, c, classSumsPass(ys, c, cnt, termS, hasTerm, pv.a, pv.o, pv.stride, region, sums), acc);
        }
        return true;
    }

    /** Adds the float lane sums {@code summed} (indices into {@link #CLASS_SUMS}) of a chunk to the accumulator. */
    private static void addSums(float[] sums, int c, int[] summed, double[] acc) {
        for (int k : summed) {
            for (int ci = 0; ci < c; ci++) {
                acc[ci * K + CLASS_SUMS[k]] += VectorMath.sumLanes(sums, (k * c + ci) * L);
            }
        }
    }

    /**
     * {@link #probPass} into rows {@code pa[po + c * pstride + j]} and {@link #classSumsRegionPass} on those p_c in one
     * pass (the same operations, so the same bits): p_c is summed as it is written, not read back.
     */
    private static void classSumsProbsPass(float[] ys, int c, int cnt, float[] termS, float[] es, float[] invS,
                                           float[] pa, int po, int pstride, float[] sums) {
        for (int ci = 0; ci < c; ci++) {
            FloatVector count = FloatVector.zero(FS);
            FloatVector term = FloatVector.zero(FS);
            FloatVector inter = FloatVector.zero(FS);
            FloatVector total = FloatVector.zero(FS);
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                VectorMask<Float> isC = yf.compare(VectorOperators.EQ, (float) ci);
                count = count.add(ONE, isC);
                term = term.add(FloatVector.fromArray(FS, termS, i), isC);
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(FloatVector.fromArray(FS, invS, i));
                prob.intoArray(pa, po + ci * pstride + i);
                inter = inter.add(prob, isC);
                total = total.add(prob, yf.compare(VectorOperators.GE, 0f));
            }
            count.intoArray(sums, ci * L);
            term.intoArray(sums, (c + ci) * L);
            inter.intoArray(sums, (2 * c + ci) * L);
            total.intoArray(sums, (3 * c + ci) * L);
        }
    }

    /** {@link #classSumsProbsPass} without storing p_c (a forward: nothing reads it). */
    private static void classSumsProbsUnstoredPass(float[] ys, int c, int cnt, float[] termS, float[] es,
                                                   float[] invS, float[] sums) {
        for (int ci = 0; ci < c; ci++) {
            FloatVector count = FloatVector.zero(FS);
            FloatVector term = FloatVector.zero(FS);
            FloatVector inter = FloatVector.zero(FS);
            FloatVector total = FloatVector.zero(FS);
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                VectorMask<Float> isC = yf.compare(VectorOperators.EQ, (float) ci);
                count = count.add(ONE, isC);
                term = term.add(FloatVector.fromArray(FS, termS, i), isC);
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(FloatVector.fromArray(FS, invS, i));
                inter = inter.add(prob, isC);
                total = total.add(prob, yf.compare(VectorOperators.GE, 0f));
            }
            count.intoArray(sums, ci * L);
            term.intoArray(sums, (c + ci) * L);
            inter.intoArray(sums, (2 * c + ci) * L);
            total.intoArray(sums, (3 * c + ci) * L);
        }
    }

    /**
     * {@link #classSumsProbsPass} without a pixel term (dice, tversky...): T, I and P only (the same operations, so the
     * same bits; the TERM sums, which no region-only loss adds, are not kept).
     */
    private static void regionSumsProbsPass(float[] ys, int c, int cnt, float[] es, float[] invS, float[] pa, int po,
                                            int pstride, float[] sums) {
        for (int ci = 0; ci < c; ci++) {
            FloatVector count = FloatVector.zero(FS);
            FloatVector inter = FloatVector.zero(FS);
            FloatVector total = FloatVector.zero(FS);
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                VectorMask<Float> isC = yf.compare(VectorOperators.EQ, (float) ci);
                count = count.add(ONE, isC);
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(FloatVector.fromArray(FS, invS, i));
                prob.intoArray(pa, po + ci * pstride + i);
                inter = inter.add(prob, isC);
                total = total.add(prob, yf.compare(VectorOperators.GE, 0f));
            }
            count.intoArray(sums, ci * L);
            inter.intoArray(sums, (2 * c + ci) * L);
            total.intoArray(sums, (3 * c + ci) * L);
        }
    }

    /** {@link #regionSumsProbsPass} without storing p_c (a forward). */
    private static void regionSumsProbsUnstoredPass(float[] ys, int c, int cnt, float[] es, float[] invS,
                                                    float[] sums) {
        for (int ci = 0; ci < c; ci++) {
            FloatVector count = FloatVector.zero(FS);
            FloatVector inter = FloatVector.zero(FS);
            FloatVector total = FloatVector.zero(FS);
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                VectorMask<Float> isC = yf.compare(VectorOperators.EQ, (float) ci);
                count = count.add(ONE, isC);
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(FloatVector.fromArray(FS, invS, i));
                inter = inter.add(prob, isC);
                total = total.add(prob, yf.compare(VectorOperators.GE, 0f));
            }
            count.intoArray(sums, ci * L);
            inter.intoArray(sums, (2 * c + ci) * L);
            total.intoArray(sums, (3 * c + ci) * L);
        }
    }

    /**
     * max_c x_c and the first class reaching it, per pixel (pixels outer, classes inner, in registers); false when
     * some x is not finite (the whole chunk is still done: the grad pass, which does not check, reads no stale max).
     */
    private static boolean maxPass(float[] xa, int xo, int stride, int c, int cnt, float[] maxS, float[] argS) {
        boolean finite = true;
        for (int i = 0; i < cnt; i += L) {
            FloatVector max = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector arg = FloatVector.zero(FS);
            FloatVector largest = max.abs(); // NaN propagates through max
            for (int ci = 1; ci < c; ci++) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                largest = largest.max(x.abs());
                VectorMask<Float> above = x.compare(VectorOperators.GT, max);
                max = max.blend(x, above);
                arg = arg.blend(ci, above);
            }
            finite &= largest.compare(VectorOperators.LE, Float.MAX_VALUE).allTrue();
            max.intoArray(maxS, i);
            arg.intoArray(argS, i);
        }
        return finite;
    }

    /**
     * e_c = exp(x_c - max) into es (rows of cnt, when {@code store}), others = sum of e_c over every class but the
     * first maximum (whose e is exactly 1), x_y; pixels outer, classes inner (sums in registers).
     */
    private static void expPass(float[] xa, int xo, int stride, int c, int cnt, float[] ys, float[] maxS,
                                float[] argS, float[] es, float[] othersS, float[] xyS, boolean store) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector max = FloatVector.fromArray(FS, maxS, i);
            FloatVector arg = FloatVector.fromArray(FS, argS, i);
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector others = FloatVector.zero(FS);
            FloatVector xy = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                FloatVector e = VectorMath.exp(x.sub(max));
                if (store) {
                    e.intoArray(es, ci * cnt + i);
                }
                others = others.add(e.blend(ZERO, arg.compare(VectorOperators.EQ, (float) ci)));
                xy = xy.blend(x, yf.compare(VectorOperators.EQ, (float) ci));
            }
            others.intoArray(othersS, i);
            xy.intoArray(xyS, i);
        }
    }

    /**
     * {@link #maxPass} and {@link #expPass} in one pass (the same operations, so the same bits): per pixel vector, a
     * loop over the classes for max, the first class reaching it and x_y, then one for e_c = exp(x_c - max) and
     * others = sum of e_c over every class but that first maximum. The loads of the first loop come from memory, the
     * second's from L1; the next pixels' loads overlap this pixel's exps (two passes waited for memory in one and
     * computed in the other: the max pass took as long as the exp pass). No e rows stored ({@link #maxExpStorePass}
     * stores them: two flag-free loops). False when some x is not finite (the whole chunk is still done).
     */
    private static boolean maxExpPass(float[] xa, int xo, int stride, int c, int cnt, float[] ys, float[] maxS,
                                      float[] othersS, float[] xyS) {
        IntVector largest = IntVector.zero(IS);
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector max = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector arg = FloatVector.zero(FS);
            largest = largest.max(max.reinterpretAsInts().and(MAGNITUDE));
            FloatVector xy = max.blend(ZERO, yf.compare(VectorOperators.NE, 0f));
            for (int ci = 1; ci < c; ci++) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                largest = largest.max(x.reinterpretAsInts().and(MAGNITUDE));
                VectorMask<Float> above = x.compare(VectorOperators.GT, max);
                max = max.blend(x, above);
                arg = arg.blend(ci, above);
                xy = xy.blend(x, yf.compare(VectorOperators.EQ, (float) ci));
            }
            FloatVector others = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(FS, xa, xo + ci * stride + i).sub(max));
                others = others.add(e.blend(ZERO, arg.compare(VectorOperators.EQ, (float) ci)));
            }
            max.intoArray(maxS, i);
            others.intoArray(othersS, i);
            xy.intoArray(xyS, i);
        }
        return largest.compare(VectorOperators.LE, MAX_FINITE_BITS).allTrue();
    }

    /** {@link #maxExpPass} that also stores e_c into es (rows of cnt). */
    private static boolean maxExpStorePass(float[] xa, int xo, int stride, int c, int cnt, float[] ys, float[] maxS,
                                           float[] othersS, float[] xyS, float[] es) {
        IntVector largest = IntVector.zero(IS);
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector max = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector arg = FloatVector.zero(FS);
            largest = largest.max(max.reinterpretAsInts().and(MAGNITUDE));
            FloatVector xy = max.blend(ZERO, yf.compare(VectorOperators.NE, 0f));
            for (int ci = 1; ci < c; ci++) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                largest = largest.max(x.reinterpretAsInts().and(MAGNITUDE));
                VectorMask<Float> above = x.compare(VectorOperators.GT, max);
                max = max.blend(x, above);
                arg = arg.blend(ci, above);
                xy = xy.blend(x, yf.compare(VectorOperators.EQ, (float) ci));
            }
            FloatVector others = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(FS, xa, xo + ci * stride + i).sub(max));
                e.intoArray(es, ci * cnt + i);
                others = others.add(e.blend(ZERO, arg.compare(VectorOperators.EQ, (float) ci)));
            }
            max.intoArray(maxS, i);
            others.intoArray(othersS, i);
            xy.intoArray(xyS, i);
        }
        return largest.compare(VectorOperators.LE, MAX_FINITE_BITS).allTrue();
    }

    /**
     * {@link #maxExpStorePass} without x_y (no pixel term, and the grad passes, which never read it): the same max,
     * e_c and others (x_y feeds none of them, so the same bits), two operations less per class.
     */
    private static boolean maxExpRowsPass(float[] xa, int xo, int stride, int c, int cnt, float[] maxS,
                                          float[] othersS, float[] es) {
        IntVector largest = IntVector.zero(IS);
        for (int i = 0; i < cnt; i += L) {
            FloatVector max = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector arg = FloatVector.zero(FS);
            largest = largest.max(max.reinterpretAsInts().and(MAGNITUDE));
            for (int ci = 1; ci < c; ci++) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                largest = largest.max(x.reinterpretAsInts().and(MAGNITUDE));
                VectorMask<Float> above = x.compare(VectorOperators.GT, max);
                max = max.blend(x, above);
                arg = arg.blend(ci, above);
            }
            FloatVector others = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector e = VectorMath.expNonPositive(FloatVector.fromArray(FS, xa, xo + ci * stride + i).sub(max));
                e.intoArray(es, ci * cnt + i);
                others = others.add(e.blend(ZERO, arg.compare(VectorOperators.EQ, (float) ci)));
            }
            max.intoArray(maxS, i);
            others.intoArray(othersS, i);
        }
        return largest.compare(VectorOperators.LE, MAX_FINITE_BITS).allTrue();
    }

    /** Int lanes of the float lanes' shape. */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    /** The bits of |x| (sign cleared). */
    private static final int MAGNITUDE = 0x7FFFFFFF;
    /**
     * The bits of Float.MAX_VALUE: |x| is finite iff its bits, as an int, are at most these (infinity and NaN are
     * above): an int max over the chunk checks every x in one instruction per class (a float max with Java's NaN
     * rules takes several).
     */
    private static final int MAX_FINITE_BITS = 0x7F7FFFFF;

    /** 1 / (1 + others): the softmax's 1 / sum_c e_c. */
    private static FloatVector inverseSum(FloatVector others) {
        return ONE.div(others.add(ONE));
    }

    /**
     * log p_y = x_y - max - log1p(others) (exact where p_y is close to 1), inv = 1 / (1 + others). log1p(u) as
     * {@link VectorMath#log1p} (log y + (u - (y - 1)) / y, y = 1 + u rounded) with the correction multiplied by inv
     * instead of divided by y: one division less per pixel (the correction is below half an ulp of y; its own
     * rounding does not show).
     */
    private static void logPyPass(float[] othersS, float[] xyS, float[] maxS, float[] logPyS, float[] invS, int cnt) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector others = FloatVector.fromArray(FS, othersS, i);
            FloatVector xy = FloatVector.fromArray(FS, xyS, i);
            FloatVector max = FloatVector.fromArray(FS, maxS, i);
            FloatVector y = others.add(ONE);
            FloatVector inv = ONE.div(y);
            FloatVector log1p = log1pTimesInv(others, y, inv);
            xy.sub(max).sub(log1p).intoArray(logPyS, i);
            inv.intoArray(invS, i);
        }
    }

    /** log1p(u) from y = 1 + u (rounded) and inv = 1 / y: log y + (u - (y - 1)) inv. */
    private static FloatVector log1pTimesInv(FloatVector u, FloatVector y, FloatVector inv) {
        return VectorMath.log(y).add(u.sub(y.sub(1f)).mul(inv));
    }

    /**
     * The ce term -log p_y = (max - x_y) + log1p(others): exactly the negation of {@link #logPyPass}'s log p_y
     * (IEEE rounding is symmetric), and inv as there.
     */
    private static void ceTermPass(float[] othersS, float[] xyS, float[] maxS, float[] termS, float[] invS, int cnt) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector others = FloatVector.fromArray(FS, othersS, i);
            FloatVector xy = FloatVector.fromArray(FS, xyS, i);
            FloatVector max = FloatVector.fromArray(FS, maxS, i);
            FloatVector y = others.add(ONE);
            FloatVector inv = ONE.div(y);
            FloatVector log1p = log1pTimesInv(others, y, inv);
            max.sub(xy).add(log1p).intoArray(termS, i);
            inv.intoArray(invS, i);
        }
    }

    /** inv = 1 / (1 + others) alone (no pixel term, and the grad pass of {@link #keeps} problems). */
    private static void inversePass(float[] othersS, float[] invS, int cnt) {
        for (int i = 0; i < cnt; i += L) {
            inverseSum(FloatVector.fromArray(FS, othersS, i)).intoArray(invS, i);
        }
    }

    /** p_c = e_c inv into rows {@code pa[po + ci * pstride + j]} (may be es itself). */
    private static void probPass(float[] es, int c, int cnt, float[] invS, float[] pa, int po, int pstride) {
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < cnt; i += L) {
                FloatVector.fromArray(FS, es, ci * cnt + i).mul(FloatVector.fromArray(FS, invS, i))
                        .intoArray(pa, po + ci * pstride + i);
            }
        }
    }

    /**
     * -q = 0 - sum_{k != y} p_k per pixel, p_k = e_k inv: p_y - 1 without the 1 - p_y cancellation. By subtractions,
     * not q.neg(): a NaN keeps its sign (see {@link #softmaxSumsGradPass}).
     */
    private static void minusQPass(float[] es, int c, int cnt, float[] invS, float[] ys, float[] minusQS) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector inv = FloatVector.fromArray(FS, invS, i);
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector minusQ = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(inv);
                minusQ = minusQ.sub(prob, yf.compare(VectorOperators.NE, (float) ci));
            }
            minusQ.intoArray(minusQS, i);
        }
    }

    /**
     * The residual p_c - t_c into rows {@code ra[ro + ci * rstride + j]}: p_c = e_c inv, and -q for c = y; ignored
     * pixels hold p_c (the grad pass writes 0 there). Classes outer: one row written after the other (the rows of a
     * pixel in NCHW may share an L1 set).
     */
    private static void residualRowsPass(float[] es, int c, int cnt, float[] invS, float[] ys, float[] minusQS,
                                         float[] ra, int ro, int rstride) {
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < cnt; i += L) {
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(FloatVector.fromArray(FS, invS, i));
                VectorMask<Float> isY = FloatVector.fromArray(FS, ys, i).compare(VectorOperators.EQ, (float) ci);
                prob.blend(FloatVector.fromArray(FS, minusQS, i), isY).intoArray(ra, ro + ci * rstride + i);
            }
        }
    }

    /**
     * {@link #minusQPass} and {@link #residualRowsPass} pixels outer (the same operations, so the same bits): for at
     * most {@link #IN_PLACE_MAX_CLASSES} classes, where a pixel's rows fit the L1 ways and the per-pixel -q stays in a
     * register.
     */
    private static void residualPixelsPass(float[] es, int c, int cnt, float[] invS, float[] ys, float[] ra, int ro,
                                           int rstride) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector inv = FloatVector.fromArray(FS, invS, i);
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector minusQ = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(inv);
                minusQ = minusQ.sub(prob, yf.compare(VectorOperators.NE, (float) ci));
            }
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(inv);
                prob.blend(minusQ, yf.compare(VectorOperators.EQ, (float) ci)).intoArray(ra, ro + ci * rstride + i);
            }
        }
    }

    /** {@link #pixelScalePass} and {@link #scaleRowsPass} pixels outer, as {@link #residualPixelsPass}. */
    private static void scalePixelsPass(float[] ua, int uo, int ustride, int c, int cnt, float[] ys,
                                        float[] pixelScale, float[] ga, int go, int gstride) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector coef = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                coef = coef.blend(pixelScale[ci], yf.compare(VectorOperators.EQ, (float) ci));
            }
            for (int ci = 0; ci < c; ci++) {
                FloatVector.fromArray(FS, ua, uo + ci * ustride + i).mul(coef).intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /**
     * For {@link #scaleInterleavedPass}: lane l of the k-th vector of a block of L interleaved pixels (c vectors) holds
     * an element of pixel {@code (k L + l) / c} of the block: those indices (a gather map), k = 0 .. c-1.
     */
    private static int[] lanePixels(int c) {
        int[] map = new int[c * L];
        for (int i = 0; i < map.length; i++) {
            map[i] = i / c;
        }
        return map;
    }

    /**
     * NHWC in place: {@code g[go + j c + ci] *= coef[j]} for the m pixels from go (the kept residual times ps_y, the
     * same multiplications as {@link #scalePixelsPass}). Whole blocks of L pixels are c vectors, each multiplied by
     * the block's coefficients gathered to its lanes ({@link #lanePixels}); the last pixels one by one. (Measured at
     * 8x4x512x512: half the time of rows copied out, scaled and copied back; a rearrange of the coefficients instead
     * of the gather was slower than that copy, a plain scalar loop in between.)
     */
    private static void scaleInterleavedPass(float[] ga, int go, int m, int c, float[] coefS, int[] lanePixel) {
        int whole = m - m % L;
        for (int j = 0; j < whole; j += L) {
            int e0 = go + j * c;
            for (int k = 0; k < c; k++) {
                FloatVector coef = FloatVector.fromArray(FS, coefS, j, lanePixel, k * L);
                FloatVector.fromArray(FS, ga, e0 + k * L).mul(coef).intoArray(ga, e0 + k * L);
            }
        }
        for (int j = whole; j < m; j++) {
            float coef = coefS[j];
            for (int ci = 0; ci < c; ci++) {
                ga[go + j * c + ci] *= coef;
            }
        }
    }

    /** Whether the c pixel scales ps_c are one value (no class weights): then ps_y is the same for every counted pixel. */
    private static boolean uniform(float[] pixelScale, int c) {
        for (int ci = 1; ci < c; ci++) {
            if (Float.floatToRawIntBits(pixelScale[ci]) != Float.floatToRawIntBits(pixelScale[0])) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #scaleInterleavedPass} of a chunk whose pixels are all counted, with {@link #uniform} pixel scales:
     * {@code g[go + e] *= scale} for its len = m c elements (the same multiplications: ps_y is scale at every pixel).
     */
    private static void scaleAllPass(float[] ga, int go, int len, float scale) {
        int whole = len - len % L;
        for (int e = 0; e < whole; e += L) {
            FloatVector.fromArray(FS, ga, go + e).mul(scale).intoArray(ga, go + e);
        }
        for (int e = whole; e < len; e++) {
            ga[go + e] *= scale;
        }
    }

    /** ps_y per pixel (0 for ignored pixels and padding). */
    private static void pixelScalePass(float[] ys, int c, int cnt, float[] pixelScale, float[] coefS) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector coef = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                coef = coef.blend(pixelScale[ci], yf.compare(VectorOperators.EQ, (float) ci));
            }
            coef.intoArray(coefS, i);
        }
    }

    /**
     * dL/dx_c = ps_y (p_c - t_c) from the residual rows ({@code ga} may be the same rows: each element is read before
     * it is written); 0 at ignored pixels (ps_y = 0 there, the residual finite). Classes outer, as
     * {@link #residualRowsPass}.
     */
    private static void scaleRowsPass(float[] ua, int uo, int ustride, int c, int cnt, float[] coefS, float[] ga,
                                      int go, int gstride) {
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < cnt; i += L) {
                FloatVector.fromArray(FS, ua, uo + ci * ustride + i).mul(FloatVector.fromArray(FS, coefS, i))
                        .intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /** The residual rows of a chunk into out: pixels outer up to {@link #IN_PLACE_MAX_CLASSES} classes, else rows. */
    private static void residual(SoftmaxRows sm, int c, int cnt, float[] ys, float[] minusQS, View out) {
        if (c <= IN_PLACE_MAX_CLASSES) {
            residualPixelsPass(sm.es, c, cnt, sm.invS, ys, out.a, out.o, out.stride);
        } else {
            minusQPass(sm.es, c, cnt, sm.invS, ys, minusQS);
            residualRowsPass(sm.es, c, cnt, sm.invS, ys, minusQS, out.a, out.o, out.stride);
        }
    }

    /**
     * The gradient of {@link #residualKeep} problems: dL/dx_c = ps_y (p_c - t_c), the residual read back from grad
     * (kept) or computed by the passes of the stats ({@link #softmaxExps}, {@link #minusQPass},
     * {@link #residualRowsPass}), then {@link #scaleRowsPass}, in place in an NCHW array.
     */
    private static void gradResidual(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad,
                                     int n, int s0, int s1, VectorScratch sc, boolean kept) {
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        float[] ys = sc.floats(SLOT_Y, px + L);
        SoftmaxRows sm = new SoftmaxRows(sc, c, px);
        float[] gs = sc.floats(SLOT_ACC_P, c * rowStride(px + L));
        float[] minusQS = sc.floats(SLOT_PY, px + L);
        float[] coefS = sc.floats(SLOT_PIX, px + L);
        boolean interleaved = kept && p.layout == Layout.NHWC && grad.floats.hasArray();
        int[] lanePixel = interleaved ? lanePixels(c) : null;
        boolean uniform = uniform(k.pixelScale, c);
        View v = new View();
        View uv = new View();
        View out = new View();
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int cnt = m % L == 0 ? m : m + L - m % L;
            VectorIo.classMarkers(p, target, n, sa, m, ys, 0, cnt, sc);
            if (interleaved) {
                // NHWC array with the residual kept: scaled in place, pixels interleaved (no transposes)
                int go = grad.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
                if (uniform && VectorIo.allCounted(ys, m)) {
                    scaleAllPass(grad.floats.array(), go, m * c, k.pixelScale[0]);
                } else {
                    pixelScalePass(ys, c, cnt, k.pixelScale, coefS);
                    scaleInterleavedPass(grad.floats.array(), go, m, c, coefS, lanePixel);
                }
                continue;
            }
            boolean directOut = outRows(p, grad, n, sa, m, cnt, gs, out);
            if (!kept) {
                view(p, pred, n, sa, m, cnt, sc, v, SLOT_X);
                softmaxExps(v, c, cnt, ys, sm);
                residual(sm, c, cnt, ys, minusQS, out);
                uv.a = out.a;
                uv.o = out.o;
                uv.stride = out.stride;
            } else if (directOut) {
                uv.a = out.a;
                uv.o = out.o;
                uv.stride = out.stride;
            } else {
                view(p, grad, n, sa, m, cnt, sc, uv, SLOT_KEEP);
            }
            if (c <= IN_PLACE_MAX_CLASSES) {
                scalePixelsPass(uv.a, uv.o, uv.stride, c, cnt, ys, k.pixelScale, out.a, out.o, out.stride);
            } else {
                pixelScalePass(ys, c, cnt, k.pixelScale, coefS);
                scaleRowsPass(uv.a, uv.o, uv.stride, c, cnt, coefS, out.a, out.o, out.stride);
            }
            if (!directOut) {
                writeBack(p, grad, n, sa, m, cnt, gs, sc);
            }
        }
    }

    /** Term -(1 - p_y)^g log p_y with 1 - p_y = -expm1(log p_y) (focal; ce's g = 0 is -log p_y, no pass). */
    private static void termPass(float[] logPyS, int g, float[] termS, int cnt) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector logPy = FloatVector.fromArray(FS, logPyS, i);
            FloatVector q = VectorMath.expm1(logPy).neg();
            VectorTerms.focalMulticlass(q, logPy, g).intoArray(termS, i);
        }
    }

    /** The per-class sums of {@link #classSumsPass}, in this order in its float lane accumulator. */
    private static final int[] CLASS_SUMS = {T, TERM, I, P};

    /** The sums {@link #classSumsPass} fills (indices into {@link #CLASS_SUMS}): pixel term; region and term; region. */
    private static final int[] PIXEL_SUMS = {0, 1};
    private static final int[] ALL_SUMS = {0, 1, 2, 3};
    private static final int[] REGION_SUMS = {0, 2, 3};

    /**
     * Per class c, float lanes over the chunk: T_c += 1, TERM_c += term (with a pixel term) and, for region losses,
     * I_c += p_c over the pixels of class c and P_c += p_c over every counted pixel. Classes outer, pixels inner, sums
     * in registers; p rows {@code pa[po + c * pstride + j]}. The loops take no flag (one per combination): a JVM that
     * runs ce and dice would otherwise compile one loop for the profile of the first and run the second on it (twice
     * as slow). Returns which of {@link #CLASS_SUMS} it filled (the others are 0 and need no adding).
     */
    private static int[] classSumsPass(float[] ys, int c, int cnt, float[] termS, boolean hasTerm, float[] pa, int po,
                                       int pstride, boolean region, float[] sums) {
        if (!region) {
            classSumsPixelPass(ys, c, cnt, termS, sums);
            return PIXEL_SUMS;
        }
        if (hasTerm) {
            classSumsRegionPass(ys, c, cnt, termS, pa, po, pstride, sums);
            return ALL_SUMS;
        }
        classSumsRegionOnlyPass(ys, c, cnt, pa, po, pstride, sums);
        return REGION_SUMS;
    }

    private static void classSumsPixelPass(float[] ys, int c, int cnt, float[] termS, float[] sums) {
        for (int ci = 0; ci < c; ci++) {
            FloatVector count = FloatVector.zero(FS);
            FloatVector term = FloatVector.zero(FS);
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                VectorMask<Float> isC = yf.compare(VectorOperators.EQ, (float) ci);
                count = count.add(ONE, isC);
                term = term.add(FloatVector.fromArray(FS, termS, i), isC);
            }
            count.intoArray(sums, ci * L);
            term.intoArray(sums, (c + ci) * L);
        }
    }

    private static void classSumsRegionPass(float[] ys, int c, int cnt, float[] termS, float[] pa, int po, int pstride,
                                            float[] sums) {
        for (int ci = 0; ci < c; ci++) {
            FloatVector count = FloatVector.zero(FS);
            FloatVector term = FloatVector.zero(FS);
            FloatVector inter = FloatVector.zero(FS);
            FloatVector total = FloatVector.zero(FS);
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                VectorMask<Float> isC = yf.compare(VectorOperators.EQ, (float) ci);
                count = count.add(ONE, isC);
                term = term.add(FloatVector.fromArray(FS, termS, i), isC);
                FloatVector prob = FloatVector.fromArray(FS, pa, po + ci * pstride + i);
                inter = inter.add(prob, isC);
                total = total.add(prob, yf.compare(VectorOperators.GE, 0f));
            }
            count.intoArray(sums, ci * L);
            term.intoArray(sums, (c + ci) * L);
            inter.intoArray(sums, (2 * c + ci) * L);
            total.intoArray(sums, (3 * c + ci) * L);
        }
    }

    private static void classSumsRegionOnlyPass(float[] ys, int c, int cnt, float[] pa, int po, int pstride,
                                                float[] sums) {
        for (int ci = 0; ci < c; ci++) {
            FloatVector count = FloatVector.zero(FS);
            FloatVector inter = FloatVector.zero(FS);
            FloatVector total = FloatVector.zero(FS);
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                VectorMask<Float> isC = yf.compare(VectorOperators.EQ, (float) ci);
                count = count.add(ONE, isC);
                FloatVector prob = FloatVector.fromArray(FS, pa, po + ci * pstride + i);
                inter = inter.add(prob, isC);
                total = total.add(prob, yf.compare(VectorOperators.GE, 0f));
            }
            count.intoArray(sums, ci * L);
            inter.intoArray(sums, (2 * c + ci) * L);
            total.intoArray(sums, (3 * c + ci) * L);
        }
    }

    /** From probabilities: x_y; false when some x is outside [0, 1]. */
    private static boolean probClassPass(float[] xa, int xo, int stride, int c, int cnt, float[] ys, float[] xyS) {
        Arrays.fill(xyS, 0, cnt, 0f);
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < cnt; i += L) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                if (!x.compare(VectorOperators.GE, 0f).and(x.compare(VectorOperators.LE, 1f)).allTrue()) {
                    return false;
                }
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                FloatVector.fromArray(FS, xyS, i).blend(x, yf.compare(VectorOperators.EQ, (float) ci)).intoArray(xyS, i);
            }
        }
        return true;
    }

    /** From probabilities: term -(qc)^g log pc at pc = clamp(p_y), qc = 1 - pc (g = 0: ce), logs staged. */
    private static void probTermPass(float[] xyS, float[] lsS, float[] llS, int g, float[] termS, int cnt) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector xy = FloatVector.fromArray(FS, xyS, i);
            VectorMask<Float> lo = xy.compare(VectorOperators.LT, 0.5f);
            FloatVector small = xy.min(ONE.sub(xy)).max(EPS);
            FloatVector ls = FloatVector.fromArray(FS, lsS, i);
            FloatVector ll = FloatVector.fromArray(FS, llS, i);
            FloatVector logP = ll.blend(ls, lo);
            FloatVector qc = small.blend(ONE.sub(small), lo);
            VectorTerms.focalMulticlass(qc, logP, g).intoArray(termS, i);
        }
    }

    /**
     * Gradient of sample n, pixels [s0, s1). With {@code kept} (only for {@link #keeps} problems whose stats pass
     * wrote p_c into grad), p_c is read back from grad, then overwritten by the gradient.
     */
    static void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n,
                     int s0, int s1, VectorScratch sc, boolean kept) {
        if (general(p)) {
            gradGeneral(p, pred, target, k, grad, n, s0, s1, sc);
            return;
        }
        if (residualKeep(p)) {
            gradResidual(p, pred, target, k, grad, n, s0, s1, sc, kept);
            return;
        }
        if (keeps(p)) {
            gradSoftmax(p, pred, target, k, grad, n, s0, s1, sc, kept);
            return;
        }
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        int rowBase = n * c;
        boolean focal = p.pixelTerm == PixelTerm.FOCAL;
        int g = focal ? (int) p.gamma : 0;
        float ceWeight = p.pixelTerm == PixelTerm.CE ? 1f : 0f;
        float focalWeight = focal ? 1f : 0f;
        float[] ys = sc.floats(SLOT_Y, px + L);
        float[] es = sc.floats(SLOT_E, c * (px + L));
        float[] maxS = sc.floats(SLOT_MAX, px + L);
        float[] argS = sc.floats(SLOT_ARG, px + L);
        float[] othersS = sc.floats(SLOT_OTHERS, px + L);
        float[] xyS = sc.floats(SLOT_XY, px + L);
        float[] logPyS = sc.floats(SLOT_LOG_PY, px + L);
        float[] pyMinus1S = sc.floats(SLOT_PY, px + L);
        float[] lsS = sc.floats(SLOT_LOG_SMALL, px + L);
        float[] llS = sc.floats(SLOT_LOG_LARGE, px + L);
        float[] psS = sc.floats(SLOT_PS, px + L);
        float[] ayS = sc.floats(SLOT_AY, px + L);
        float[] byS = sc.floats(SLOT_BY, px + L);
        float[] sumEDS = sc.floats(SLOT_SUM_ED, px + L);
        float[] invS = sc.floats(SLOT_INV, px + L);
        float[] pixS = sc.floats(SLOT_PIX, px + L);
        float[] devS = sc.floats(SLOT_DEV, px + L);
        float[] gs = sc.floats(SLOT_ACC_P, c * rowStride(px + L));
        View v = new View();
        View out = new View();
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int cnt = m % L == 0 ? m : m + L - m % L;
            VectorIo.classMarkers(p, target, n, sa, m, ys, 0, cnt, sc);
            view(p, pred, n, sa, m, cnt, sc, v, SLOT_X);
            boolean directOut = outView(p, grad, n, sa, m, cnt, gs, out);
            float[] ga = out.a;
            int go = out.o;
            int gstride = out.stride;
            coefPass(ys, c, cnt, k.pixelScale, k.regionA, k.regionB, rowBase, psS, ayS, byS);
            if (p.fromLogits) {
                maxExpStorePass(v.a, v.o, v.stride, c, cnt, ys, maxS, othersS, xyS, es);
                sumEDPass(es, c, cnt, byS, k.regionB, rowBase, sumEDS);
                logPyPass(othersS, xyS, maxS, logPyS, invS, cnt);
                pixelCoefPass(logPyS, othersS, psS, ayS, sumEDS, g, ceWeight, focalWeight, pyMinus1S, invS, pixS,
                        devS, cnt);
                gradLogitsPass(es, c, cnt, ys, invS, pyMinus1S, pixS, devS, ayS, byS, k.regionB, rowBase, ga, go,
                        gstride);
            } else {
                xyPass(v.a, v.o, v.stride, c, cnt, ys, xyS);
                VectorMath.clampedLogs(xyS, 0, EPS, lsS, llS, cnt);
                probSlopePass(xyS, lsS, llS, psS, g, ceWeight, focalWeight, pixS, cnt);
                gradProbPass(c, cnt, ys, pixS, k.regionA, k.regionB, rowBase, ga, go, gstride);
            }
            if (!directOut) {
                writeBack(p, grad, n, sa, m, cnt, gs, sc);
            }
        }
    }

    /**
     * The grad of {@link #keeps} problems (ce or no pixel term, from logits): p_c from {@link #softmaxProbs}, or
     * read back from grad when the stats pass kept it, then {@link #gradSoftmaxPass}.
     */
    private static void gradSoftmax(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad,
                                    int n, int s0, int s1, VectorScratch sc, boolean kept) {
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        int rowBase = n * c;
        float ceWeight = p.pixelTerm == PixelTerm.CE ? 1f : 0f;
        float[] ys = sc.floats(SLOT_Y, px + L);
        SoftmaxRows sm = new SoftmaxRows(sc, c, px);
        float[] gs = sc.floats(SLOT_ACC_P, c * rowStride(px + L));
        float[] minusQS = sc.floats(SLOT_PY, px + L);
        float[] devS = sc.floats(SLOT_DEV, px + L);
        float[] coefS = sc.floats(SLOT_PIX, px + L);
        float[] ryS = sc.floats(SLOT_AY, px + L);
        View v = new View();
        View pv = new View();
        View out = new View();
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int cnt = m % L == 0 ? m : m + L - m % L;
            VectorIo.classMarkers(p, target, n, sa, m, ys, 0, cnt, sc);
            if (kept && planarKeep(p, grad, m, cnt)) {
                keptRowsIn(p, grad, n, sa, cnt, sc, pv);
            } else if (kept) {
                view(p, grad, n, sa, m, cnt, sc, pv, SLOT_KEEP);
            } else {
                view(p, pred, n, sa, m, cnt, sc, v, SLOT_X);
                softmaxProbs(v, c, cnt, ys, sm);
                pv.a = sm.es;
                pv.o = 0;
                pv.stride = cnt;
            }
            // above IN_PLACE_MAX_CLASSES, NCHW rows in place are written classes outer (softmaxGradRowsPass)
            boolean directOut = c <= IN_PLACE_MAX_CLASSES ? outView(p, grad, n, sa, m, cnt, gs, out)
                    : outRows(p, grad, n, sa, m, cnt, gs, out);
            gradSoftmaxPass(pv.a, pv.o, pv.stride, c, cnt, ys, k.pixelScale, ceWeight, k.regionA, k.regionB, rowBase,
                    out.a, out.o, out.stride, directOut, minusQS, devS, coefS, ryS);
            if (!directOut) {
                writeBack(p, grad, n, sa, m, cnt, gs, sc);
            }
        }
    }

    /**
     * p_c = e_c / (1 + others) of a chunk into es (rows of cnt), by the passes of the stats: the grad pass without a
     * keep computes exactly the p_c that the stats pass keeps.
     */
    private static void softmaxProbs(View v, int c, int cnt, float[] ys, SoftmaxRows sm) {
        softmaxExps(v, c, cnt, ys, sm);
        probPass(sm.es, c, cnt, sm.invS, sm.es, 0, cnt);
    }

    /** e_c (rows of cnt, in es) and inv = 1 / (1 + others) of a chunk, as the stats pass computes them. */
    private static void softmaxExps(View v, int c, int cnt, float[] ys, SoftmaxRows sm) {
        maxExpRowsPass(v.a, v.o, v.stride, c, cnt, sm.maxS, sm.othersS, sm.es);
        inversePass(sm.othersS, sm.invS, cnt);
    }

    /** The scratch rows of the softmax passes of one chunk: e_c (c rows), max, arg, others, x_y, 1 / sum. */
    private static final class SoftmaxRows {
        final float[] es;
        final float[] maxS;
        final float[] argS;
        final float[] othersS;
        final float[] xyS;
        final float[] invS;

        SoftmaxRows(VectorScratch sc, int c, int px) {
            es = sc.floats(SLOT_E, c * (px + L));
            maxS = sc.floats(SLOT_MAX, px + L);
            argS = sc.floats(SLOT_ARG, px + L);
            othersS = sc.floats(SLOT_OTHERS, px + L);
            xyS = sc.floats(SLOT_XY, px + L);
            invS = sc.floats(SLOT_INV, px + L);
        }
    }

    /**
     * From the probabilities p_c (rows {@code pa[po + c * pstride + j]}; ga may be the same array, each pixel is
     * read whole before it is written): with q = sum_{k != y} p_k = 1 - p_y (no cancellation), coef = ps_y ceWeight,
     * r_c = t_c A_c + B_c and dev = sum_k p_k (r_k - r_y) = sum_{k != y} p_k B_k - (A_y + B_y) q,
     * dL/dx_c = coef (p_c - t_c) + p_c ((r_c - r_y) - dev) with p_y - t_y = -q and r_c - r_y = B_c - A_y - B_y for
     * c != y, 0 for c = y; ignored pixels 0. Above {@link #IN_PLACE_MAX_CLASSES} classes, {@code rowsOut} (ga: NCHW
     * rows in place) writes the gradient classes outer; into scratch rows (NHWC) it is the one pixels-outer pass.
     */
    private static void gradSoftmaxPass(float[] pa, int po, int pstride, int c, int cnt, float[] ys,
                                        float[] pixelScale, float ceWeight, float[] regionA, float[] regionB,
                                        int rowBase, float[] ga, int go, int gstride, boolean rowsOut,
                                        float[] minusQS, float[] devS, float[] coefS, float[] ryS) {
        if (c <= IN_PLACE_MAX_CLASSES || !rowsOut) {
            softmaxSumsGradPass(pa, po, pstride, c, cnt, ys, pixelScale, ceWeight, regionA, regionB, rowBase, ga, go,
                    gstride);
            return;
        }
        softmaxSumsPass(pa, po, pstride, c, cnt, ys, pixelScale, ceWeight, regionA, regionB, rowBase, minusQS, devS,
                coefS, ryS);
        if (rowsOut) {
            softmaxGradRowsPass(pa, po, pstride, c, cnt, ys, regionB, rowBase, ga, go, gstride, minusQS, devS, coefS,
                    ryS);
        } else {
            softmaxGradPass(pa, po, pstride, c, cnt, ys, regionB, rowBase, ga, go, gstride, minusQS, devS, coefS, ryS);
        }
    }

    /**
     * {@link #softmaxSumsPass} and {@link #softmaxGradPass} in one pass, pixels outer (the same operations, so the same
     * bits): the per-pixel parts stay in registers, and a pixel's p_c rows, read from memory by the first class loop,
     * are in L1 for the second. For at most {@link #IN_PLACE_MAX_CLASSES} classes (a pixel's rows fit the L1 ways),
     * and above into scratch rows {@link #ROW_PAD} apart (NHWC: measured at 8x19x256x256 dice, forward+backward
     * 0.96x the time of the two passes).
     */
    private static void softmaxSumsGradPass(float[] pa, int po, int pstride, int c, int cnt, float[] ys,
                                            float[] pixelScale, float ceWeight, float[] regionA, float[] regionB,
                                            int rowBase, float[] ga, int go, int gstride) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector q = FloatVector.zero(FS);
            FloatVector pb = FloatVector.zero(FS);
            FloatVector ps = FloatVector.zero(FS);
            FloatVector ry = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, pa, po + ci * pstride + i);
                VectorMask<Float> notY = yf.compare(VectorOperators.NE, (float) ci);
                q = q.add(prob, notY);
                pb = pb.add(prob.mul(regionB[rowBase + ci]), notY);
                ps = ps.blend(pixelScale[ci], notY.not());
                ry = ry.blend(regionA[rowBase + ci] + regionB[rowBase + ci], notY.not());
            }
            FloatVector dev = pb.sub(ry.mul(q));
            FloatVector coef = ps.mul(ceWeight);
            // 0 - q, not q.neg(): at a NaN pixel every NaN keeps the input's sign, so that the final sum of two NaNs
            // gives the same bits whichever operand order the JIT picks (a negated NaN made them differ by tier)
            FloatVector minusQ = FloatVector.zero(FS).sub(q);
            FloatVector minusRy = ry.neg();
            VectorMask<Float> ignored = yf.compare(VectorOperators.LT, 0f);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, pa, po + ci * pstride + i);
                VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                FloatVector pMinusT = prob.blend(minusQ, isY);
                FloatVector rMinusRy = minusRy.add(regionB[rowBase + ci]).blend(ZERO, isY);
                FloatVector d = rMinusRy.sub(dev).mul(prob).add(pMinusT.mul(coef));
                d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /** The per-pixel parts of {@link #gradSoftmaxPass}: -q, dev, coef and r_y (its own loop: C2's inlining budget). */
    private static void softmaxSumsPass(float[] pa, int po, int pstride, int c, int cnt, float[] ys,
                                        float[] pixelScale, float ceWeight, float[] regionA, float[] regionB,
                                        int rowBase, float[] minusQS, float[] devS, float[] coefS, float[] ryS) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector q = FloatVector.zero(FS);
            FloatVector pb = FloatVector.zero(FS);
            FloatVector ps = FloatVector.zero(FS);
            FloatVector ry = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, pa, po + ci * pstride + i);
                VectorMask<Float> notY = yf.compare(VectorOperators.NE, (float) ci);
                q = q.add(prob, notY);
                pb = pb.add(prob.mul(regionB[rowBase + ci]), notY);
                ps = ps.blend(pixelScale[ci], notY.not());
                ry = ry.blend(regionA[rowBase + ci] + regionB[rowBase + ci], notY.not());
            }
            pb.sub(ry.mul(q)).intoArray(devS, i);
            ps.mul(ceWeight).intoArray(coefS, i);
            FloatVector.zero(FS).sub(q).intoArray(minusQS, i); // as in softmaxSumsGradPass
            ry.intoArray(ryS, i);
        }
    }

    /** The gradient of {@link #gradSoftmaxPass} from its per-pixel parts. */
    private static void softmaxGradPass(float[] pa, int po, int pstride, int c, int cnt, float[] ys, float[] regionB,
                                        int rowBase, float[] ga, int go, int gstride, float[] minusQS, float[] devS,
                                        float[] coefS, float[] ryS) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            FloatVector minusQ = FloatVector.fromArray(FS, minusQS, i);
            FloatVector dev = FloatVector.fromArray(FS, devS, i);
            FloatVector coef = FloatVector.fromArray(FS, coefS, i);
            FloatVector minusRy = FloatVector.fromArray(FS, ryS, i).neg();
            VectorMask<Float> ignored = yf.compare(VectorOperators.LT, 0f);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, pa, po + ci * pstride + i);
                VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                FloatVector pMinusT = prob.blend(minusQ, isY);
                FloatVector rMinusRy = minusRy.add(regionB[rowBase + ci]).blend(ZERO, isY);
                FloatVector d = rMinusRy.sub(dev).mul(prob).add(pMinusT.mul(coef));
                d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /**
     * {@link #softmaxGradPass} classes outer (the same operations, so the same bits): one gradient row written after
     * the other, the per-pixel parts read again for every class from L1; for NCHW rows written in place (the rows of
     * a pixel share an L1 set). Measured at 8x19x256x256 ce_logdice: the grad pass 0.92x that of rows written to
     * scratch pixels outer and copied out; into scratch (NHWC) 1.1x softmaxGradPass.
     */
    private static void softmaxGradRowsPass(float[] pa, int po, int pstride, int c, int cnt, float[] ys,
                                            float[] regionB, int rowBase, float[] ga, int go, int gstride,
                                            float[] minusQS, float[] devS, float[] coefS, float[] ryS) {
        for (int ci = 0; ci < c; ci++) {
            float b = regionB[rowBase + ci];
            for (int i = 0; i < cnt; i += L) {
                FloatVector yf = FloatVector.fromArray(FS, ys, i);
                FloatVector prob = FloatVector.fromArray(FS, pa, po + ci * pstride + i);
                VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                FloatVector pMinusT = prob.blend(FloatVector.fromArray(FS, minusQS, i), isY);
                FloatVector rMinusRy = FloatVector.fromArray(FS, ryS, i).neg().add(b).blend(ZERO, isY);
                FloatVector d = rMinusRy.sub(FloatVector.fromArray(FS, devS, i)).mul(prob)
                        .add(pMinusT.mul(FloatVector.fromArray(FS, coefS, i)));
                d.blend(ZERO, yf.compare(VectorOperators.LT, 0f)).intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /**
     * Where the gradient of a chunk goes: the NCHW array in place (whole vectors, at most
     * {@link #IN_PLACE_MAX_CLASSES} classes), returning true; else the scratch rows gs ({@link #rowStride} apart),
     * which {@link #writeBack} copies out.
     */
    private static boolean outView(Problem p, CpuBuffer grad, int n, int sa, int m, int cnt, float[] gs, View out) {
        if (p.layout == Layout.NCHW && grad.floats.hasArray() && m == cnt && p.c <= IN_PLACE_MAX_CLASSES) {
            out.a = grad.floats.array();
            out.o = grad.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
            out.stride = (int) p.s;
            return true;
        }
        out.a = gs;
        out.o = 0;
        out.stride = rowStride(cnt);
        return false;
    }

    /**
     * {@link #outView} for the passes that write whole rows one after the other (classes outer): the NCHW array in
     * place whatever the class count.
     */
    private static boolean outRows(Problem p, CpuBuffer grad, int n, int sa, int m, int cnt, float[] gs, View out) {
        if (p.layout == Layout.NCHW && grad.floats.hasArray() && m == cnt) {
            out.a = grad.floats.array();
            out.o = grad.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
            out.stride = (int) p.s;
            return true;
        }
        out.a = gs;
        out.o = 0;
        out.stride = rowStride(cnt);
        return false;
    }

    /**
     * Whether the stats pass keeps p_c of this NHWC chunk planar ({@link #keptRows}) for {@link #gradSoftmax}: an
     * array and whole vectors (m == cnt); other chunks keep p_c in pred's layout. Both passes decide from the same
     * chunk, so the grad pass reads back what the stats pass wrote.
     */
    private static boolean planarKeep(Problem p, CpuBuffer grad, int m, int cnt) {
        return p.layout == Layout.NHWC && grad.floats.hasArray() && m == cnt;
    }

    /**
     * The kept rows of a {@link #planarKeep} chunk: its own c * cnt floats of the gradient array as class rows cnt
     * apart, {@code g[base + ci * cnt + j]} = p_c of pixel j (no interleave in the stats pass, none out of it in the
     * grad pass, which interleaves only the gradient over them). Returns true (in place).
     */
    private static boolean keptRows(Problem p, CpuBuffer grad, int n, int sa, int cnt, View out) {
        out.a = grad.floats.array();
        out.o = grad.floats.arrayOffset() + CpuBackend.index(p, n, 0, sa);
        out.stride = cnt;
        return true;
    }

    /**
     * Where the stats pass writes p_c (classes outer) for {@link #gradSoftmax}: NCHW rows in place, the planar rows of
     * a {@link #planarKeep} chunk, else scratch rows for {@link #writeBack} (false).
     */
    private static boolean keepRowsOut(Problem p, CpuBuffer keep, int n, int sa, int m, int cnt, float[] keepRows,
                                       View out) {
        return planarKeep(p, keep, m, cnt) ? keptRows(p, keep, n, sa, cnt, out)
                : outRows(p, keep, n, sa, m, cnt, keepRows, out);
    }

    /**
     * The kept rows of a {@link #planarKeep} chunk for the grad pass to read: in place up to
     * {@link #IN_PLACE_MAX_CLASSES} classes; above, rows cnt apart alias in L1 (pixels outer), so they are copied
     * {@link #ROW_PAD} further apart (measured at 8x19x256x256: 0.89x the grad pass of rows read in place).
     */
    private static void keptRowsIn(Problem p, CpuBuffer grad, int n, int sa, int cnt, VectorScratch sc, View v) {
        keptRows(p, grad, n, sa, cnt, v);
        int c = (int) p.c;
        if (c <= IN_PLACE_MAX_CLASSES) {
            return;
        }
        int stride = rowStride(cnt);
        float[] rows = sc.floats(SLOT_KEEP, c * stride);
        for (int ci = 0; ci < c; ci++) {
            System.arraycopy(v.a, v.o + ci * cnt, rows, ci * stride, cnt);
        }
        v.a = rows;
        v.o = 0;
        v.stride = stride;
    }

    /** Copies the scratch rows of {@link #outView} into the gradient buffer (NCHW rows, or NHWC transposed). */
    private static void writeBack(Problem p, CpuBuffer grad, int n, int sa, int m, int cnt, float[] gs,
                                  VectorScratch sc) {
        int c = (int) p.c;
        int stride = rowStride(cnt);
        if (p.layout == Layout.NCHW) {
            for (int ci = 0; ci < c; ci++) {
                VectorIo.writeFloats(grad, CpuBackend.index(p, n, ci, sa), m, gs, ci * stride);
            }
        } else {
            VectorIo.rowsToPixels(grad, CpuBackend.index(p, n, 0, sa), m, c, gs, stride, sc.floats(SLOT_LINEAR, c * m),
                    sc);
        }
    }

    // ---- The general passes: per-class targets t_c (soft targets, or one-hot class maps) for label smoothing,
    // soft targets and squared_pred (ScalarKernels.statsGeneral / gradGeneral are their reference).

    /** Multiclass problems that run the general passes: soft targets, label smoothing, squared_pred. */
    static boolean general(Problem p) {
        return p.softTargets || p.labelSmoothing != 0 || p.squares;
    }

    /**
     * The targets of a chunk as class rows {@code ts[ci * cnt + j]} and the weight of each pixel
     * {@code valid[j]} (1 counted, 0 ignored or padding): soft targets as stored (their rows may be read in
     * place: returned in tv), a class map one-hot. Returns false when a target is refused: a class index out of
     * range; soft, a value below 0 or not finite, or a sum off 1 by more than the tolerance less a margin for the
     * float sum (a pixel near the limit is left to the scalar kernels, which decide in double).
     */
    private static boolean targetRows(Problem p, CpuBuffer target, int n, int sa, int m, int cnt, float[] ys,
                                      float[] valid, VectorScratch sc, View tv) {
        int c = (int) p.c;
        if (p.softTargets) {
            view(p, target, n, sa, m, cnt, sc, tv, SLOT_TARGET_ROWS);
            Arrays.fill(ys, 0, cnt, VectorIo.IGNORED);
            Arrays.fill(valid, 0, m, 1f);
            Arrays.fill(valid, m, cnt, 0f);
            float tolerance = (float) (Problem.SOFT_TARGET_SUM_TOLERANCE - (c + 1) * 2.4e-7);
            return softTargetsOk(tv.a, tv.o, tv.stride, c, cnt, valid, tolerance);
        }
        if (!VectorIo.classMarkers(p, target, n, sa, m, ys, 0, cnt, sc)) {
            return false;
        }
        float[] ts = sc.floats(SLOT_TARGET_ROWS, c * cnt);
        oneHot(ys, c, cnt, ts, valid);
        tv.a = ts;
        tv.o = 0;
        tv.stride = cnt;
        return true;
    }

    /** Soft targets: every t_c >= 0 and finite, |sum_c t_c - 1| <= tolerance, in the counted pixels. */
    private static boolean softTargetsOk(float[] ta, int to, int stride, int c, int cnt, float[] valid,
                                         float tolerance) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector bad = FloatVector.zero(FS);
            FloatVector sum = FloatVector.zero(FS);
            for (int ci = 0; ci < c; ci++) {
                FloatVector t = FloatVector.fromArray(FS, ta, to + ci * stride + i);
                bad = bad.blend(1f, t.compare(VectorOperators.GE, 0f).and(t.compare(VectorOperators.LE, Float.MAX_VALUE))
                        .not());
                sum = sum.add(t);
            }
            bad = bad.blend(1f, sum.sub(1f).abs().compare(VectorOperators.LE, tolerance).not());
            if (bad.mul(FloatVector.fromArray(FS, valid, i)).compare(VectorOperators.NE, 0f).anyTrue()) {
                return false;
            }
        }
        return true;
    }

    /** ts[ci * cnt + j] = [y_j = ci], valid[j] = [y_j >= 0] (ignored pixels and padding: all 0). */
    private static void oneHot(float[] ys, int c, int cnt, float[] ts, float[] valid) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            ONE.blend(ZERO, yf.compare(VectorOperators.LT, 0f)).intoArray(valid, i);
            for (int ci = 0; ci < c; ci++) {
                ONE.blend(ZERO, yf.compare(VectorOperators.NE, (float) ci)).intoArray(ts, ci * cnt + i);
            }
        }
    }

    /**
     * Stats with per-class targets, per counted pixel: P[c] += p_c, P2[c] += p_c^2, I[c] += p_c t_c, T[c] += t_c,
     * T2[c] += t_c^2, TERM[c] += t'_c term(p_c) with t' = t (1 - e) + e / C and term -(1 - p)^g log p (ce: g = 0).
     */
    private static boolean statsGeneral(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1,
                                        double[] acc, VectorScratch sc) {
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        int g = p.pixelTerm == PixelTerm.FOCAL ? (int) p.gamma : 0;
        float keep = p.labelKeep();
        float add = p.labelAdd();
        float[] ys = sc.floats(SLOT_Y, px + L);
        float[] valid = sc.floats(SLOT_VALID, px + L);
        float[] es = sc.floats(SLOT_E, c * (px + L));
        float[] maxS = sc.floats(SLOT_MAX, px + L);
        float[] argS = sc.floats(SLOT_ARG, px + L);
        float[] othersS = sc.floats(SLOT_OTHERS, px + L);
        float[] xyS = sc.floats(SLOT_XY, px + L);
        float[] lseS = sc.floats(SLOT_LSE, px + L);
        float[] invS = sc.floats(SLOT_INV, px + L);
        float[] lsS = sc.floats(SLOT_CLASS_LOG_SMALL, c * (px + L));
        float[] llS = sc.floats(SLOT_CLASS_LOG_LARGE, c * (px + L));
        float[] sums = sc.floats(SLOT_ACC_GENERAL, GENERAL_SUMS.length * c * L);
        View v = new View();
        View tv = new View();
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int cnt = m % L == 0 ? m : m + L - m % L;
            if (!targetRows(p, target, n, sa, m, cnt, ys, valid, sc, tv)) {
                return false;
            }
            view(p, pred, n, sa, m, cnt, sc, v, SLOT_X);
            Arrays.fill(sums, 0, GENERAL_SUMS.length * c * L, 0f);
            if (p.fromLogits) {
                if (!maxPass(v.a, v.o, v.stride, c, cnt, maxS, argS)) {
                    return false;
                }
                expPass(v.a, v.o, v.stride, c, cnt, ys, maxS, argS, es, othersS, xyS, true);
                lsePass(othersS, maxS, lseS, invS, cnt);
                generalLogitsStatsPass(v.a, v.o, v.stride, es, c, cnt, tv.a, tv.o, tv.stride, valid, lseS, invS, g,
                        keep, add, sums);
            } else {
                if (!probCheckPass(v.a, v.o, v.stride, c, cnt)) {
                    return false;
                }
                for (int ci = 0; ci < c; ci++) {
                    VectorMath.clampedLogs(v.a, v.o + ci * v.stride, EPS, lsS, llS, ci * cnt, cnt);
                }
                generalProbStatsPass(v.a, v.o, v.stride, lsS, llS, c, cnt, tv.a, tv.o, tv.stride, valid, g, keep,
                        add, sums);
            }
            for (int k = 0; k < GENERAL_SUMS.length; k++) {
                for (int ci = 0; ci < c; ci++) {
                    acc[ci * K + GENERAL_SUMS[k]] += VectorMath.sumLanes(sums, (k * c + ci) * L);
                }
            }
        }
        return true;
    }

    /** lse = max + log1p(others) (log of the softmax denominator), inv = 1 / (1 + others). */
    private static void lsePass(float[] othersS, float[] maxS, float[] lseS, float[] invS, int cnt) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector others = FloatVector.fromArray(FS, othersS, i);
            FloatVector.fromArray(FS, maxS, i).add(VectorMath.log1p(others)).intoArray(lseS, i);
            ONE.div(others.add(ONE)).intoArray(invS, i);
        }
    }

    /** From probabilities: false when some x is outside [0, 1] (NaN included). */
    private static boolean probCheckPass(float[] xa, int xo, int stride, int c, int cnt) {
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < cnt; i += L) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                if (!x.compare(VectorOperators.GE, 0f).and(x.compare(VectorOperators.LE, 1f)).allTrue()) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Adds v to the float lanes of general sum k of class ci. */
    private static void addSum(float[] sums, int k, int c, int ci, FloatVector v) {
        int at = (k * c + ci) * L;
        FloatVector.fromArray(FS, sums, at).add(v).intoArray(sums, at);
    }

    /** The sums of {@link #statsGeneral} from logits: p_c = e_c inv, log p_c = x_c - lse. */
    private static void generalLogitsStatsPass(float[] xa, int xo, int stride, float[] es, int c, int cnt, float[] ta,
                                               int to, int tstride, float[] valid, float[] lseS, float[] invS, int g,
                                               float keep, float add, float[] sums) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector w = FloatVector.fromArray(FS, valid, i);
            FloatVector inv = FloatVector.fromArray(FS, invS, i).mul(w);
            FloatVector lse = FloatVector.fromArray(FS, lseS, i);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(inv); // 0 where not counted
                FloatVector logP = FloatVector.fromArray(FS, xa, xo + ci * stride + i).sub(lse);
                FloatVector t = FloatVector.fromArray(FS, ta, to + ci * tstride + i).mul(w);
                FloatVector tt = VectorTerms.smoothTarget(t, keep, add).mul(w);
                addSum(sums, G_P, c, ci, prob);
                addSum(sums, G_P2, c, ci, prob.mul(prob));
                addSum(sums, G_I, c, ci, prob.mul(t));
                addSum(sums, G_T, c, ci, t);
                addSum(sums, G_T2, c, ci, t.mul(t));
                addSum(sums, G_TERM, c, ci, VectorTerms.focalMulticlass(ONE.sub(prob), logP, g).mul(tt));
            }
        }
    }

    /** The sums of {@link #statsGeneral} from probabilities: p_c = x_c, the term at pc = clamp(p_c), logs staged. */
    private static void generalProbStatsPass(float[] xa, int xo, int stride, float[] lsS, float[] llS, int c, int cnt,
                                             float[] ta, int to, int tstride, float[] valid, int g, float keep,
                                             float add, float[] sums) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector w = FloatVector.fromArray(FS, valid, i);
            for (int ci = 0; ci < c; ci++) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                FloatVector prob = x.mul(w);
                FloatVector t = FloatVector.fromArray(FS, ta, to + ci * tstride + i).mul(w);
                FloatVector tt = VectorTerms.smoothTarget(t, keep, add).mul(w);
                VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
                FloatVector small = x.min(ONE.sub(x)).max(EPS);
                FloatVector qc = small.blend(ONE.sub(small), lo);
                FloatVector logP = FloatVector.fromArray(FS, llS, ci * cnt + i)
                        .blend(FloatVector.fromArray(FS, lsS, ci * cnt + i), lo);
                addSum(sums, G_P, c, ci, prob);
                addSum(sums, G_P2, c, ci, prob.mul(prob));
                addSum(sums, G_I, c, ci, prob.mul(t));
                addSum(sums, G_T, c, ci, t);
                addSum(sums, G_T2, c, ci, t.mul(t));
                addSum(sums, G_TERM, c, ci, VectorTerms.focalMulticlass(qc, logP, g).mul(tt));
            }
        }
    }

    /**
     * Gradient with per-class targets: s_c = pixelScale[c], t'_c the label-smoothed target, r_c = t_c A_c + B_c dP/dp_c
     * (dP/dp = 2p under squared_pred). From logits, with h_c = s_c t'_c F_c (F = -1 for ce, the focal slope):
     * dL/dx_j = h_j - p_j sum_k h_k + p_j (r_j - sum_k p_k r_k); from probabilities dL/dp_j = s_j t'_j dterm/dp_j + r_j.
     * 0 at ignored pixels.
     */
    private static void gradGeneral(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad,
                                    int n, int s0, int s1, VectorScratch sc) {
        int c = (int) p.c;
        int len = s1 - s0;
        int px = pixelChunk(c);
        int rowBase = n * c;
        int g = p.pixelTerm == PixelTerm.FOCAL ? (int) p.gamma : 0;
        float keep = p.labelKeep();
        float add = p.labelAdd();
        float two = p.squares ? 2f : 0f;
        float one = p.squares ? 0f : 1f;
        float[] ys = sc.floats(SLOT_Y, px + L);
        float[] valid = sc.floats(SLOT_VALID, px + L);
        float[] es = sc.floats(SLOT_E, c * (px + L));
        float[] maxS = sc.floats(SLOT_MAX, px + L);
        float[] argS = sc.floats(SLOT_ARG, px + L);
        float[] othersS = sc.floats(SLOT_OTHERS, px + L);
        float[] xyS = sc.floats(SLOT_XY, px + L);
        float[] lseS = sc.floats(SLOT_LSE, px + L);
        float[] invS = sc.floats(SLOT_INV, px + L);
        float[] sumHS = sc.floats(SLOT_PIX, px + L);
        float[] sumPrS = sc.floats(SLOT_DEV, px + L);
        float[] hS = sc.floats(SLOT_H, c * (px + L));
        float[] rS = sc.floats(SLOT_R, c * (px + L));
        float[] lsS = sc.floats(SLOT_CLASS_LOG_SMALL, c * (px + L));
        float[] llS = sc.floats(SLOT_CLASS_LOG_LARGE, c * (px + L));
        float[] gs = sc.floats(SLOT_ACC_P, c * rowStride(px + L));
        View v = new View();
        View tv = new View();
        View out = new View();
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int sa = s0 + a;
            int cnt = m % L == 0 ? m : m + L - m % L;
            targetRows(p, target, n, sa, m, cnt, ys, valid, sc, tv);
            view(p, pred, n, sa, m, cnt, sc, v, SLOT_X);
            boolean directOut = outView(p, grad, n, sa, m, cnt, gs, out);
            if (p.fromLogits) {
                maxPass(v.a, v.o, v.stride, c, cnt, maxS, argS);
                expPass(v.a, v.o, v.stride, c, cnt, ys, maxS, argS, es, othersS, xyS, true);
                lsePass(othersS, maxS, lseS, invS, cnt);
                generalSlopePass(v.a, v.o, v.stride, es, c, cnt, tv.a, tv.o, tv.stride, lseS, invS, g, keep, add,
                        two, one, k.pixelScale, k.regionA, k.regionB, rowBase, hS, rS, sumHS, sumPrS);
                generalGradLogitsPass(es, c, cnt, valid, invS, hS, rS, sumHS, sumPrS, out.a, out.o, out.stride);
            } else {
                for (int ci = 0; ci < c; ci++) {
                    VectorMath.clampedLogs(v.a, v.o + ci * v.stride, EPS, lsS, llS, ci * cnt, cnt);
                }
                generalGradProbPass(v.a, v.o, v.stride, lsS, llS, c, cnt, tv.a, tv.o, tv.stride, valid, g, keep, add,
                        two, one, k.pixelScale, k.regionA, k.regionB, rowBase, out.a, out.o, out.stride);
            }
            if (!directOut) {
                writeBack(p, grad, n, sa, m, cnt, gs, sc);
            }
        }
    }

    /**
     * From logits, per class: h_c = s_c t'_c F_c with F_c the slope of the term at p_c (ce: -1) and
     * r_c = t_c A_c + B_c dP/dp_c into rows; per pixel sum_k h_k and sum_k p_k r_k.
     */
    private static void generalSlopePass(float[] xa, int xo, int stride, float[] es, int c, int cnt, float[] ta, int to,
                                         int tstride, float[] lseS, float[] invS, int g, float keep, float add,
                                         float two, float one, float[] pixelScale, float[] regionA, float[] regionB,
                                         int rowBase, float[] hS, float[] rS, float[] sumHS, float[] sumPrS) {
        Arrays.fill(sumHS, 0, cnt, 0f);
        Arrays.fill(sumPrS, 0, cnt, 0f);
        for (int ci = 0; ci < c; ci++) {
            FloatVector a = FloatVector.broadcast(FS, regionA[rowBase + ci]);
            FloatVector b = FloatVector.broadcast(FS, regionB[rowBase + ci]);
            float scale = pixelScale[ci];
            for (int i = 0; i < cnt; i += L) {
                FloatVector inv = FloatVector.fromArray(FS, invS, i);
                FloatVector lse = FloatVector.fromArray(FS, lseS, i);
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(inv);
                FloatVector logP = FloatVector.fromArray(FS, xa, xo + ci * stride + i).sub(lse);
                FloatVector t = FloatVector.fromArray(FS, ta, to + ci * tstride + i);
                FloatVector tt = VectorTerms.smoothTarget(t, keep, add).mul(scale);
                FloatVector h = VectorTerms.focalMulticlassSlope(ONE.sub(prob), prob, logP, g).mul(tt);
                FloatVector r = VectorTerms.regionDp(prob, t, a, b, two, one);
                h.intoArray(hS, ci * cnt + i);
                r.intoArray(rS, ci * cnt + i);
                FloatVector.fromArray(FS, sumHS, i).add(h).intoArray(sumHS, i);
                prob.mul(r).add(FloatVector.fromArray(FS, sumPrS, i)).intoArray(sumPrS, i);
            }
        }
    }

    /** From logits: dL/dx_j = h_j - p_j sum_k h_k + p_j (r_j - sum_k p_k r_k), 0 where not counted. */
    private static void generalGradLogitsPass(float[] es, int c, int cnt, float[] valid, float[] invS, float[] hS,
                                              float[] rS, float[] sumHS, float[] sumPrS, float[] ga, int go,
                                              int gstride) {
        for (int i = 0; i < cnt; i += L) {
            VectorMask<Float> ignored = FloatVector.fromArray(FS, valid, i).compare(VectorOperators.EQ, 0f);
            FloatVector inv = FloatVector.fromArray(FS, invS, i);
            FloatVector sumH = FloatVector.fromArray(FS, sumHS, i);
            FloatVector sumPr = FloatVector.fromArray(FS, sumPrS, i);
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(inv);
                FloatVector h = FloatVector.fromArray(FS, hS, ci * cnt + i);
                FloatVector r = FloatVector.fromArray(FS, rS, ci * cnt + i);
                FloatVector d = h.sub(prob.mul(sumH)).add(prob.mul(r.sub(sumPr)));
                d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /** From probabilities: dL/dp_c = s_c t'_c dterm/dp_c + r_c at pc = clamp(p_c), logs staged; 0 where not counted. */
    private static void generalGradProbPass(float[] xa, int xo, int stride, float[] lsS, float[] llS, int c, int cnt,
                                            float[] ta, int to, int tstride, float[] valid, int g, float keep,
                                            float add, float two, float one, float[] pixelScale, float[] regionA,
                                            float[] regionB, int rowBase, float[] ga, int go, int gstride) {
        for (int i = 0; i < cnt; i += L) {
            VectorMask<Float> ignored = FloatVector.fromArray(FS, valid, i).compare(VectorOperators.EQ, 0f);
            for (int ci = 0; ci < c; ci++) {
                FloatVector x = FloatVector.fromArray(FS, xa, xo + ci * stride + i);
                FloatVector t = FloatVector.fromArray(FS, ta, to + ci * tstride + i);
                FloatVector tt = VectorTerms.smoothTarget(t, keep, add).mul(pixelScale[ci]);
                VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
                FloatVector small = x.min(ONE.sub(x)).max(EPS);
                FloatVector large = ONE.sub(small);
                FloatVector pc = large.blend(small, lo);
                FloatVector qc = small.blend(large, lo);
                FloatVector logP = FloatVector.fromArray(FS, llS, ci * cnt + i)
                        .blend(FloatVector.fromArray(FS, lsS, ci * cnt + i), lo);
                FloatVector d = VectorTerms.focalMulticlassProbGrad(pc, qc, logP, g).mul(tt);
                d = VectorTerms.regionDp(x, t, FloatVector.broadcast(FS, regionA[rowBase + ci]),
                        FloatVector.broadcast(FS, regionB[rowBase + ci]), two, one).add(d);
                d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /** Per pixel: ps_y = pixelScale[y], A_y = regionA[n, y], B_y = regionB[n, y] (0 for ignored pixels). */
    private static void coefPass(float[] ys, int c, int cnt, float[] pixelScale, float[] regionA, float[] regionB,
                                 int rowBase, float[] psS, float[] ayS, float[] byS) {
        Arrays.fill(psS, 0, cnt, 0f);
        Arrays.fill(ayS, 0, cnt, 0f);
        Arrays.fill(byS, 0, cnt, 0f);
        for (int ci = 0; ci < c; ci++) {
            float ps = pixelScale[ci];
            float ay = regionA[rowBase + ci];
            float by = regionB[rowBase + ci];
            for (int i = 0; i < cnt; i += L) {
                VectorMask<Float> isY = FloatVector.fromArray(FS, ys, i).compare(VectorOperators.EQ, (float) ci);
                FloatVector.fromArray(FS, psS, i).blend(ps, isY).intoArray(psS, i);
                FloatVector.fromArray(FS, ayS, i).blend(ay, isY).intoArray(ayS, i);
                FloatVector.fromArray(FS, byS, i).blend(by, isY).intoArray(byS, i);
            }
        }
    }

    /** sum_k e_k (B_k - B_y), for the region part relative to r_y. */
    private static void sumEDPass(float[] es, int c, int cnt, float[] byS, float[] regionB, int rowBase,
                                  float[] sumEDS) {
        Arrays.fill(sumEDS, 0, cnt, 0f);
        for (int ci = 0; ci < c; ci++) {
            float b = regionB[rowBase + ci];
            for (int i = 0; i < cnt; i += L) {
                FloatVector e = FloatVector.fromArray(FS, es, ci * cnt + i);
                FloatVector by = FloatVector.fromArray(FS, byS, i);
                e.mul(by.neg().add(b)).add(FloatVector.fromArray(FS, sumEDS, i)).intoArray(sumEDS, i);
            }
        }
    }

    /**
     * Per pixel, from log p_y: p_y - 1 = expm1(log p_y) (no 1 - p_y cancellation), 1 / sum;
     * the pixel coefficient ce: ps_y, focal: -ps_y F with F = g (1 - p_y)^(g-1) p_y log p_y - (1 - p_y)^g
     * (first part 0 when g = 0 or p_y = 1), so that the pixel part is coef (p_c - t_c);
     * dev = sum_k p_k (r_k - r_y) = sum_k p_k (B_k - B_y) + A_y (p_y - 1).
     */
    private static void pixelCoefPass(float[] logPyS, float[] othersS, float[] psS, float[] ayS, float[] sumEDS,
                                      int g, float ceWeight, float focalWeight, float[] pyMinus1S, float[] invS,
                                      float[] pixS, float[] devS, int cnt) {
        // expm1 in a loop of its own: with the focal slope in the same loop the slope stays a call (C2's inlining
        // budget) and every vector passed to it is boxed
        for (int i = 0; i < cnt; i += L) {
            VectorMath.expm1(FloatVector.fromArray(FS, logPyS, i)).intoArray(pyMinus1S, i);
        }
        for (int i = 0; i < cnt; i += L) {
            FloatVector logPy = FloatVector.fromArray(FS, logPyS, i);
            FloatVector pyMinus1 = FloatVector.fromArray(FS, pyMinus1S, i);
            FloatVector inv = ONE.div(FloatVector.fromArray(FS, othersS, i).add(ONE));
            FloatVector q = pyMinus1.neg();
            FloatVector py = pyMinus1.add(ONE);
            FloatVector f = VectorTerms.focalMulticlassSlope(q, py, logPy, g);
            FloatVector ps = FloatVector.fromArray(FS, psS, i);
            ps.mul(f.mul(-focalWeight).add(ceWeight)).intoArray(pixS, i);
            FloatVector dev = FloatVector.fromArray(FS, sumEDS, i).mul(inv)
                    .add(FloatVector.fromArray(FS, ayS, i).mul(pyMinus1));
            inv.intoArray(invS, i);
            dev.intoArray(devS, i);
        }
    }

    /**
     * From logits: dL/dx_c = coef (p_c - t_c) + p_c ((r_c - r_y) - dev), r_c - r_y = B_c - B_y - A_y for
     * c != y and 0 for c = y (equal to ps dterm/dx_c + p_c (r_c - sum_k p_k r_k) since sum_k p_k = 1);
     * ignored pixels 0.
     */
    private static void gradLogitsPass(float[] es, int c, int cnt, float[] ys, float[] invS, float[] pyMinus1S,
                                       float[] pixS, float[] devS, float[] ayS, float[] byS, float[] regionB,
                                       int rowBase, float[] ga, int go, int gstride) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            VectorMask<Float> ignored = yf.compare(VectorOperators.LT, 0f);
            FloatVector inv = FloatVector.fromArray(FS, invS, i);
            FloatVector pyMinus1 = FloatVector.fromArray(FS, pyMinus1S, i);
            FloatVector coef = FloatVector.fromArray(FS, pixS, i);
            FloatVector dev = FloatVector.fromArray(FS, devS, i);
            FloatVector ry = FloatVector.fromArray(FS, ayS, i).add(FloatVector.fromArray(FS, byS, i));
            for (int ci = 0; ci < c; ci++) {
                FloatVector prob = FloatVector.fromArray(FS, es, ci * cnt + i).mul(inv);
                VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                FloatVector pMinusT = prob.blend(pyMinus1, isY);
                FloatVector rMinusRy = ry.neg().add(regionB[rowBase + ci]).blend(ZERO, isY);
                FloatVector d = rMinusRy.sub(dev).mul(prob).add(pMinusT.mul(coef));
                d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
            }
        }
    }

    /** From probabilities: p_y per pixel. */
    private static void xyPass(float[] xa, int xo, int stride, int c, int cnt, float[] ys, float[] xyS) {
        Arrays.fill(xyS, 0, cnt, 0f);
        for (int ci = 0; ci < c; ci++) {
            for (int i = 0; i < cnt; i += L) {
                VectorMask<Float> isY = FloatVector.fromArray(FS, ys, i).compare(VectorOperators.EQ, (float) ci);
                FloatVector.fromArray(FS, xyS, i).blend(FloatVector.fromArray(FS, xa, xo + ci * stride + i), isY)
                        .intoArray(xyS, i);
            }
        }
    }

    /**
     * From probabilities, the slope ps_y dterm/dp_y at pc = clamp(p_y), qc = 1 - pc, logs staged:
     * ce: -1 / pc; focal: g qc^(g-1) log pc - qc^g / pc (first part 0 when g = 0).
     */
    private static void probSlopePass(float[] xyS, float[] lsS, float[] llS, float[] psS, int g, float ceWeight,
                                      float focalWeight, float[] slopeS, int cnt) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector xy = FloatVector.fromArray(FS, xyS, i);
            VectorMask<Float> lo = xy.compare(VectorOperators.LT, 0.5f);
            FloatVector small = xy.min(ONE.sub(xy)).max(EPS);
            FloatVector large = ONE.sub(small);
            FloatVector pc = large.blend(small, lo);
            FloatVector qc = small.blend(large, lo);
            FloatVector logP = FloatVector.fromArray(FS, llS, i).blend(FloatVector.fromArray(FS, lsS, i), lo);
            FloatVector focalSlope = VectorTerms.focalMulticlassProbGrad(pc, qc, logP, g);
            FloatVector ceSlope = VectorTerms.ceProbGrad(pc);
            FloatVector slope = ceSlope.mul(ceWeight).add(focalSlope.mul(focalWeight));
            FloatVector.fromArray(FS, psS, i).mul(slope).intoArray(slopeS, i);
        }
    }

    /** From probabilities: dL/dp_c = [c = y] slope + t_c A_c + B_c; ignored pixels 0. */
    private static void gradProbPass(int c, int cnt, float[] ys, float[] slopeS, float[] regionA, float[] regionB,
                                     int rowBase, float[] ga, int go, int gstride) {
        for (int i = 0; i < cnt; i += L) {
            FloatVector yf = FloatVector.fromArray(FS, ys, i);
            VectorMask<Float> ignored = yf.compare(VectorOperators.LT, 0f);
            FloatVector slope = FloatVector.fromArray(FS, slopeS, i);
            for (int ci = 0; ci < c; ci++) {
                VectorMask<Float> isY = yf.compare(VectorOperators.EQ, (float) ci);
                FloatVector d = slope.add(regionA[rowBase + ci]).blend(ZERO, isY.not()).add(regionB[rowBase + ci]);
                d.blend(ZERO, ignored).intoArray(ga, go + ci * gstride + i);
            }
        }
    }
}
