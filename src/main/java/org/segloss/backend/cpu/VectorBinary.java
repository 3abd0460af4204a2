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
    /**
     * Elements per row segment when the input must be copied first (buffers without an accessible array): one
     * {@link #SUM_CHUNK}, so that each copy is followed at once by the lanes that read it, from L1. The copy itself
     * cannot overlap the lanes' arithmetic (it is a bulk copy of memory), so the smaller the segment, the more of the
     * next segment's memory reads overlap the end of this segment's arithmetic: 512 ran dice and bce on direct
     * buffers at 0.78-0.83x the forward time of 2048 (forward+backward 0.66-0.77x), 1024 in between, 256 no better.
     */
    static final int COPY_CHUNK = SUM_CHUNK;
    /** Pixels x channels per block of the NHWC transposes (a multiple of the channel count, at least one pixel). */
    static final int TRANSPOSE_CHUNK = 2048;

    private static final int SLOT_X = 0;
    private static final int SLOT_T = 1;
    private static final int SLOT_G = 2;
    private static final int SLOT_LINEAR = 3;
    private static final int SLOT_STAGE1 = 4;
    private static final int SLOT_STAGE2 = 5;
    private static final int SLOT_W = 36;
    private static final int SLOT_PS = 37;
    private static final int SLOT_RA = 38;
    private static final int SLOT_RB = 39;
    private static final int SLOT_BS = 40;
    private static final int SLOT_AW = 41;
    private static final int SLOT_NW = 42;
    private static final int SLOT_STAGE3 = 43;
    private static final int SLOT_SUMS = 44;
    /** Ints of the float lanes' shape (the targets' bits in the cheap check, see mayBeRefused). */
    private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
    private static final int P2 = Stat.P2.slot();
    private static final int T2 = Stat.T2.slot();
    private static final int COUNT = Stat.COUNT.slot();

    /**
     * Whether the problem carries options of the catalogue that the plain loops do not: binary ignore_index,
     * squared_pred, pos_weight, label smoothing. Such rows run {@link #statsRowOptions} / {@link #gradRowOptions}, so
     * the loops of the option-free losses stay as they are.
     */
    static boolean hasOptions(Problem p) {
        return p.binaryIgnore() || p.squares || p.posWeight != null || p.labelSmoothing != 0;
    }

    /** The ignore value as a lane constant: NaN when there is none (t != NaN holds in every lane). */
    private static float ignoreValue(Problem p) {
        return p.binaryIgnore() ? (float) p.ignoreIndex : Float.NaN;
    }

    private static float posWeight(Problem p, int ci) {
        return p.posWeight == null ? 1f : p.posWeight[ci];
    }

    /**
     * A per-row constant as float lanes in scratch slot {@code slot}: lane j holds {@code values[from + j % period]}
     * times {@code scale} ({@code scale} alone when values is null). With period 1 every lane holds the row's value;
     * with period C (NHWC read flat, C dividing the lane count) lane j holds that of channel j % C.
     */
    private static float[] lanes(VectorScratch sc, int slot, float[] values, int from, int period, float scale) {
        float[] a = sc.floats(slot, L);
        for (int j = 0; j < L; j++) {
            a[j] = values == null ? scale : values[from + j % period] * scale;
        }
        return a;
    }

    /**
     * Adds the lanes of v to stat {@code stat} of the rows from {@code base}: lane j to row j % period (each row's
     * lanes summed in double first, lane 0 first).
     */
    private static void addLanes(FloatVector v, double[] acc, int base, int period, int stat) {
        if (period == 1) {
            acc[base + stat] += VectorMath.sumLanes(v);
            return;
        }
        float[] lanes = v.toArray();
        for (int r = 0; r < period; r++) {
            double sum = 0;
            for (int j = r; j < lanes.length; j += period) {
                sum += lanes[j];
            }
            acc[base + r * K + stat] += sum;
        }
    }

    /** Whether NHWC rows are read flat, lane j holding channel j % C (C divides the lane count): no transposes. */
    static boolean flatNhwc(Problem p) {
        return p.layout == Layout.NHWC && L % p.c == 0;
    }

    /**
     * Whether a forward+backward keeps e = exp(-|x|) of its stats pass for the grad pass ({@link #stats} with a keep
     * buffer, {@link #grad} with kept): from logits, where the grad pass would compute that exp again.
     */
    static boolean keeps(Problem p) {
        return p.fromLogits && !p.multiclass;
    }

    /**
     * Stats of sample n, pixels [s0, s1), every channel, into acc; false when a refused value was seen. With
     * {@code keep} (the gradient buffer of the grad pass that follows, see {@link #keeps}, else null) also
     * e = exp(-|x|) of every element that the lanes compute written at the element's own index of {@code keep}:
     * the same lanes, so the same bits, as the grad pass would compute. A unit that returns false has written only
     * part of its elements: {@link CpuBackend} then drops the keep of the whole pass.
     */
    static boolean stats(Problem p, CpuBuffer pred, CpuBuffer target, int n, int s0, int s1, double[] acc,
                         VectorScratch sc, CpuBuffer keep) {
        int c = (int) p.c;
        int len = s1 - s0;
        boolean arrays = isFloatArray(pred) && isFloatArray(target) && (keep == null || keep.floats.hasArray());
        float[] ka = keep != null && arrays ? keep.floats.array() : null;
        int ko = ka != null ? keep.floats.arrayOffset() : 0;
        if (p.layout == Layout.NCHW) {
            if (arrays) {
                float[] xa = pred.floats.array();
                float[] ta = target.floats.array();
                int xo = pred.floats.arrayOffset();
                int to = target.floats.arrayOffset();
                for (int ci = 0; ci < c; ci++) {
                    int idx = CpuBackend.index(p, n, ci, s0);
                    if (!statsRow(p, xa, xo + idx, ta, to + idx, len, acc, ci * K, 1, sc, ka, ko + idx)) {
                        return false;
                    }
                }
                return true;
            }
            float[] xs = sc.floats(SLOT_X, COPY_CHUNK);
            float[] ts = sc.floats(SLOT_T, COPY_CHUNK);
            float[] ks = keep == null ? null : sc.floats(SLOT_G, COPY_CHUNK);
            for (int ci = 0; ci < c; ci++) {
                int idx = CpuBackend.index(p, n, ci, s0);
                if (!statsRowCopied(p, pred, target, keep, idx, len, acc, ci * K, 1, sc, xs, ts, ks)) {
                    return false;
                }
            }
            return true;
        }
        if (flatNhwc(p)) {
            // the pixels' C channels in a row: one flat row of len * C elements, lane j in channel j % C
            int flat = len * c;
            int idx = CpuBackend.index(p, n, 0, s0);
            if (arrays) {
                return statsRow(p, pred.floats.array(), pred.floats.arrayOffset() + idx, target.floats.array(),
                        target.floats.arrayOffset() + idx, flat, acc, 0, c, sc, ka, ko + idx);
            }
            float[] xs = sc.floats(SLOT_X, COPY_CHUNK);
            float[] ts = sc.floats(SLOT_T, COPY_CHUNK);
            float[] ks = keep == null ? null : sc.floats(SLOT_G, COPY_CHUNK);
            return statsRowCopied(p, pred, target, keep, idx, flat, acc, 0, c, sc, xs, ts, ks);
        }
        int px = Math.max(1, TRANSPOSE_CHUNK / c);
        float[] xs = sc.floats(SLOT_X, px * c);
        float[] ts = sc.floats(SLOT_T, px * c);
        float[] ks = keep == null ? null : sc.floats(SLOT_G, px * c);
        float[] linear = sc.floats(SLOT_LINEAR, px * c);
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int base = CpuBackend.index(p, n, 0, s0 + a);
            VectorIo.transposeIn(pred, base, m, c, xs, linear, sc, false);
            VectorIo.transposeIn(target, base, m, c, ts, linear, sc, true);
            for (int ci = 0; ci < c; ci++) {
                if (!statsRow(p, xs, ci * m, ts, ci * m, m, acc, ci * K, 1, sc, ks, ci * m)) {
                    return false;
                }
            }
            if (ks != null) {
                VectorIo.transposeOut(keep, base, m, c, ks, linear, sc);
            }
        }
        return true;
    }

    /**
     * Stats of one row segment into acc[base + stat]: per element, p = sigmoid(x) (from logits) or x;
     * I += p t, P += p, T += t (region); TERM += bce or focal term. Returns false on a refused value:
     * x not finite (logits) or outside [0, 1] (probabilities), t outside [0, 1]. Lanes go chunk by chunk
     * of {@link #SUM_CHUNK}: the transcendentals of the chunk first (staged in scratch or in the keep), then the
     * sums (from logits without a keep or a pixel term, e in the sum loop itself); from logits, each chunk's float
     * sums go to double lanes (flushStored), added to acc at the end of the segment.
     */
    static boolean statsRow(Problem p, float[] xa, int xo, float[] ta, int to, int len, double[] acc, int base,
                            int period, VectorScratch sc, float[] ka, int ko) {
        if (hasOptions(p)) {
            return statsRowOptions(p, xa, xo, ta, to, len, acc, base, period, sc, ka, ko);
        }
        double[] laneSums = sc.laneSums(K * L); // the logits lanes' chunk sums, per stat and lane, in double
        int full = len - len % L;
        if (!statsChunks(p, xa, xo, ta, to, full, acc, base, period, sc, ka, ko, laneSums)) {
            return false;
        }
        addLaneSums(laneSums, acc, base, period);
        return statsTail(p, xa, xo, ta, to, full, len, acc, base, period);
    }

    /**
     * The lanes of {@link #statsRow} over the first {@code full} elements (a multiple of the lane count), chunk by
     * chunk of {@link #SUM_CHUNK} from the segment's start; the logits' float sums go to {@code laneSums}.
     */
    private static boolean statsChunks(Problem p, float[] xa, int xo, float[] ta, int to, int full, double[] acc,
                                       int base, int period, VectorScratch sc, float[] ka, int ko, double[] laneSums) {
        boolean region = p.region;
        PixelTerm term = p.pixelTerm;
        boolean focal = term == PixelTerm.FOCAL;
        boolean hasTerm = term != PixelTerm.NONE;
        int g = (int) p.gamma;
        float aw = (float) p.focalPosWeight;
        float nw = (float) p.focalNegWeight;
        float[] s1 = sc.floats(SLOT_STAGE1, SUM_CHUNK);
        float[] s2 = sc.floats(SLOT_STAGE2, SUM_CHUNK);
        float[] s3 = sc.floats(SLOT_STAGE3, SUM_CHUNK);
        float[] sums = sc.floats(SLOT_SUMS, 3 * L); // the lanes' sums, flushed from here (flushStored)
        for (int a = 0; a < full; a += SUM_CHUNK) {
            int m = Math.min(full - a, SUM_CHUNK);
            boolean clean;
            if (p.fromLogits) {
                // e goes straight into the kept buffer and is read from there (a copy from scratch cost the pass
                // as much again as the write itself); focal reads its e staged at 0, so it copies
                if (ka == null && !hasTerm) { // region sums alone, nothing kept: e in the sum loop, not staged
                    if (!lanesLogitsExp(xa, xo + a, ta, to + a, m, region, laneSums, sums)) {
                        return false;
                    }
                    continue;
                }
                boolean keepInPlace = ka != null && !focal;
                float[] ea = keepInPlace ? ka : s1;
                int eo = keepInPlace ? ko + a : 0;
                VectorMath.expNegAbs(xa, xo + a, ea, eo, m);
                if (ka != null && !keepInPlace) {
                    System.arraycopy(s1, 0, ka, ko + a, m); // kept for the grad pass (see keeps)
                }
                if (focal) {
                    log1pFrom(ea, eo, s2, m); // bce computes its log1p(e) in its sum loop
                }
                // focal lanes sum the term only; with a region part (dice_focal) the region lanes add I, P, T
                clean = focal ? lanesLogitsFocal(xa, xo + a, ta, to + a, s1, s2, s3, m, g, aw, nw, Float.NaN, acc, base, period)
                        && (!region || lanesLogits(xa, xo + a, ta, to + a, s1, 0, m, true, laneSums, sums))
                        // each lanes method computes only what it sums
                        : region && hasTerm
                        ? lanesLogitsBceRegion(xa, xo + a, ta, to + a, ea, eo, m, laneSums, sums)
                        : hasTerm ? lanesLogitsBce(xa, xo + a, ta, to + a, ea, eo, m, laneSums, sums)
                        : lanesLogits(xa, xo + a, ta, to + a, ea, eo, m, region, laneSums, sums);
            } else {
                if (hasTerm) {
                    VectorMath.clampedLogs(xa, xo + a, EPS, s1, s2, m);
                }
                clean = focal ? lanesProbFocal(xa, xo + a, ta, to + a, s1, s2, s3, m, g, aw, nw, Float.NaN, acc, base, period)
                        && (!region || lanesProb(xa, xo + a, ta, to + a, s1, s2, m, true, false, acc, base, period))
                        : lanesProb(xa, xo + a, ta, to + a, s1, s2, m, region, hasTerm, acc, base, period);
            }
            if (!clean) {
                return false;
            }
        }
        return true;
    }

    /** The elements [full, len) of a {@link #statsRow} segment, by the reference's double formulas, into acc. */
    private static boolean statsTail(Problem p, float[] xa, int xo, float[] ta, int to, int full, int len,
                                     double[] acc, int base, int period) {
        for (int i = full; i < len; i++) {
            if (!statsElement(p, xa[xo + i], ta[to + i], 1, acc, base + (i % period) * K)) {
                return false;
            }
        }
        return true;
    }

    /**
     * {@link #statsRow} of the {@code len} elements from {@code idx} of buffers without an accessible array: copied
     * {@link #COPY_CHUNK} at a time into xs, ts (and the keep through ks), with the sums of the array path in the
     * same order (one laneSums for the whole row, added to acc once, then the tail), so the same bits as
     * {@link #statsRow} of the same row in arrays, and one flush per row rather than one per copy.
     */
    private static boolean statsRowCopied(Problem p, CpuBuffer pred, CpuBuffer target, CpuBuffer keep, int idx, int len,
                                          double[] acc, int base, int period, VectorScratch sc, float[] xs, float[] ts,
                                          float[] ks) {
        boolean options = hasOptions(p);
        double[] laneSums = options ? null : sc.laneSums(K * L);
        int m = 0;
        for (int a = 0; a < len; a += COPY_CHUNK) {
            m = Math.min(COPY_CHUNK, len - a);
            VectorIo.readFloats(pred, idx + a, m, xs, 0);
            VectorIo.readTargets(target, idx + a, m, ts, 0, sc);
            // COPY_CHUNK is a multiple of the lane count: only the last copy has a tail
            boolean clean = options ? statsRowOptions(p, xs, 0, ts, 0, m, acc, base, period, sc, ks, 0)
                    : statsChunks(p, xs, 0, ts, 0, m - m % L, acc, base, period, sc, ks, 0, laneSums);
            if (!clean) {
                return false;
            }
            if (ks != null) {
                VectorIo.writeFloats(keep, idx + a, m, ks, 0);
            }
        }
        if (options) {
            return true;
        }
        addLaneSums(laneSums, acc, base, period);
        int last = len - m; // the last copy, still in xs and ts, holds the tail
        return statsTail(p, xs, -last, ts, -last, len - len % L, len, acc, base, period);
    }

    /**
     * {@link #statsRow} with the options of {@link #hasOptions}: ignored elements (t = ignore_index) count nowhere
     * (COUNT holds the others), P2 = sum p^2 and T2 = sum t^2, bce with pos_weight w of the row's class at the
     * label-smoothed target. Focal (dice_focal) sums its term in its own lanes as in {@link #statsRow}.
     */
    private static boolean statsRowOptions(Problem p, float[] xa, int xo, float[] ta, int to, int len, double[] acc,
                                           int base, int period, VectorScratch sc, float[] ka, int ko) {
        boolean region = p.region;
        PixelTerm term = p.pixelTerm;
        boolean focal = term == PixelTerm.FOCAL;
        boolean hasTerm = term != PixelTerm.NONE;
        boolean bce = term == PixelTerm.BCE;
        int g = (int) p.gamma;
        float aw = (float) p.focalPosWeight;
        float nw = (float) p.focalNegWeight;
        float ign = ignoreValue(p);
        float[] w = lanes(sc, SLOT_W, p.posWeight == null ? null : p.posWeight, base / K, period, 1f);
        float keep = p.labelKeep();
        float add = p.labelAdd();
        float[] s1 = sc.floats(SLOT_STAGE1, SUM_CHUNK);
        float[] s2 = sc.floats(SLOT_STAGE2, SUM_CHUNK);
        float[] s3 = sc.floats(SLOT_STAGE3, SUM_CHUNK);
        float[] sums = sc.floats(SLOT_SUMS, 3 * L); // the lanes' sums, flushed from here (flushStored)
        int full = len - len % L;
        for (int a = 0; a < full; a += SUM_CHUNK) {
            int m = Math.min(full - a, SUM_CHUNK);
            boolean clean;
            if (p.fromLogits) {
                VectorMath.expNegAbs(xa, xo + a, s1, 0, m);
                if (ka != null) {
                    System.arraycopy(s1, 0, ka, ko + a, m); // kept for the grad pass (see keeps)
                }
                if (hasTerm) {
                    VectorMath.log1pPass(s1, s2, m);
                }
                clean = (!focal || lanesLogitsFocal(xa, xo + a, ta, to + a, s1, s2, s3, m, g, aw, nw, ign, acc, base, period))
                        && lanesLogitsOptions(xa, xo + a, ta, to + a, s1, s2, m, ign, w, keep, add, region, bce, acc,
                        base, period);
            } else {
                if (hasTerm) {
                    VectorMath.clampedLogs(xa, xo + a, EPS, s1, s2, m);
                }
                clean = (!focal || lanesProbFocal(xa, xo + a, ta, to + a, s1, s2, s3, m, g, aw, nw, ign, acc, base, period))
                        && lanesProbOptions(xa, xo + a, ta, to + a, s1, s2, m, ign, w, keep, add, region, bce, acc,
                        base, period);
            }
            if (!clean) {
                return false;
            }
        }
        for (int i = full; i < len; i++) {
            if (!statsElement(p, xa[xo + i], ta[to + i], posWeight(p, base / K + i % period), acc,
                    base + (i % period) * K)) {
                return false;
            }
        }
        return true;
    }

    /**
     * From logits with options: per valid element (t != ign) p = sigmoid(x) from the staged e = exp(-|x|);
     * I += p t, P += p, T += t, P2 += p^2, T2 += t^2, COUNT += 1; bce with pos_weight w at t (1 - e) + e / 2 from
     * the staged l = log1p(e). Refused: x not finite, a valid t outside [0, 1].
     */
    private static boolean lanesLogitsOptions(float[] xa, int xo, float[] ta, int to, float[] ea, float[] la, int m,
                                              float ign, float[] w, float keep, float add, boolean region, boolean bce,
                                              double[] acc, int base, int period) {
        FloatVector sumI = FloatVector.zero(FS);
        FloatVector sumP = FloatVector.zero(FS);
        FloatVector sumT = FloatVector.zero(FS);
        FloatVector sumP2 = FloatVector.zero(FS);
        FloatVector sumT2 = FloatVector.zero(FS);
        FloatVector count = FloatVector.zero(FS);
        FloatVector sumTerm = FloatVector.zero(FS);
        FloatVector bad = FloatVector.zero(FS);
        FloatVector wv = FloatVector.fromArray(FS, w, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            bad = bad.blend(1f, x.abs().compare(VectorOperators.LE, Float.MAX_VALUE).not()
                    .or(targetOk(t).or(ignored).not()));
            FloatVector tv = t.blend(ZERO, ignored);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector e = FloatVector.fromArray(FS, ea, i);
            FloatVector prob = VectorTerms.sigmoid(e, VectorTerms.sigmoidAbs(e), pos).blend(ZERO, ignored);
            sumI = sumI.add(prob.mul(tv));
            sumP = sumP.add(prob);
            sumT = sumT.add(tv);
            sumP2 = sumP2.add(prob.mul(prob));
            sumT2 = sumT2.add(tv.mul(tv));
            count = count.add(ONE.blend(ZERO, ignored));
            FloatVector l = FloatVector.fromArray(FS, la, i);
            FloatVector tt = VectorTerms.smoothTarget(tv, keep, add);
            sumTerm = sumTerm.add(VectorTerms.bcePwLogits(x, tt, wv, l, pos).blend(ZERO, ignored));
        }
        return flushOptions(bad, acc, base, period, region, bce, sumI, sumP, sumT, sumP2, sumT2, count, sumTerm);
    }

    /**
     * From probabilities with options: as {@link #lanesLogitsOptions} with p = x and bce from the staged logs of
     * {@link #lanesProb}. Refused: x outside [0, 1], a valid t outside [0, 1].
     */
    private static boolean lanesProbOptions(float[] xa, int xo, float[] ta, int to, float[] logSmall, float[] logLarge,
                                            int m, float ign, float[] w, float keep, float add, boolean region,
                                            boolean bce, double[] acc, int base, int period) {
        FloatVector sumI = FloatVector.zero(FS);
        FloatVector sumP = FloatVector.zero(FS);
        FloatVector sumT = FloatVector.zero(FS);
        FloatVector sumP2 = FloatVector.zero(FS);
        FloatVector sumT2 = FloatVector.zero(FS);
        FloatVector count = FloatVector.zero(FS);
        FloatVector sumTerm = FloatVector.zero(FS);
        FloatVector bad = FloatVector.zero(FS);
        FloatVector wv = FloatVector.fromArray(FS, w, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            bad = bad.blend(1f, targetOk(x).not().or(targetOk(t).or(ignored).not()));
            FloatVector tv = t.blend(ZERO, ignored);
            FloatVector prob = x.blend(ZERO, ignored);
            sumI = sumI.add(prob.mul(tv));
            sumP = sumP.add(prob);
            sumT = sumT.add(tv);
            sumP2 = sumP2.add(prob.mul(prob));
            sumT2 = sumT2.add(tv.mul(tv));
            count = count.add(ONE.blend(ZERO, ignored));
            VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
            FloatVector ls = FloatVector.fromArray(FS, logSmall, i);
            FloatVector ll = FloatVector.fromArray(FS, logLarge, i);
            FloatVector logP = ll.blend(ls, lo);
            FloatVector logQ = ls.blend(ll, lo);
            FloatVector tt = VectorTerms.smoothTarget(tv, keep, add);
            sumTerm = sumTerm.add(VectorTerms.bcePwProb(tt, wv, logP, logQ).blend(ZERO, ignored));
        }
        return flushOptions(bad, acc, base, period, region, bce, sumI, sumP, sumT, sumP2, sumT2, count, sumTerm);
    }

    /** {@link #flushClean} with the sums of the options: P2, T2 (region) and COUNT. */
    private static boolean flushOptions(FloatVector bad, double[] acc, int base, int period, boolean region,
                                        boolean term,
                                        FloatVector sumI, FloatVector sumP, FloatVector sumT, FloatVector sumP2,
                                        FloatVector sumT2, FloatVector count, FloatVector sumTerm) {
        if (!flushClean(bad, acc, base, period, region, term, sumI, sumP, sumT, sumTerm)) {
            return false;
        }
        if (region) {
            addLanes(sumP2, acc, base, period, P2);
            addLanes(sumT2, acc, base, period, T2);
        }
        addLanes(count, acc, base, period, COUNT);
        return true;
    }

    /**
     * Unless a lane saw a refused value (bad != 0), adds the chunk's float lanes to the double stats of the
     * row; returns whether it did.
     */
    private static boolean flushClean(FloatVector bad, double[] acc, int base, int period, boolean region,
                                      boolean term,
                                      FloatVector sumI, FloatVector sumP, FloatVector sumT, FloatVector sumTerm) {
        if (bad.compare(VectorOperators.NE, 0f).anyTrue()) {
            return false;
        }
        if (region) {
            addLanes(sumI, acc, base, period, I);
            addLanes(sumP, acc, base, period, P);
            addLanes(sumT, acc, base, period, T);
        }
        if (term) {
            addLanes(sumTerm, acc, base, period, TERM);
        }
        return true;
    }

    /**
     * Adds vectors already stored in {@code sums} (vector k at k L, stat {@code stats[k]}) to the double lanes of
     * their stat, {@code laneSums[stat * L + j] += sums[k L + j]}, lane by lane (independent adds): the
     * lanes method stores its sums itself, so that no vector crosses a call (C2 boxes vector arguments of a call
     * it does not inline). {@link #addLaneSums} adds the lanes to the stats at the end of the row segment.
     */
    private static void flushStored(float[] sums, int count, int[] stats, double[] laneSums) {
        for (int k = 0; k < count; k++) {
            int to = stats[k] * L;
            int from = k * L;
            for (int j = 0; j < L; j++) { // independent adds, no chain (a widening convertShape here ran 3x slower)
                laneSums[to + j] += sums[from + j];
            }
        }
    }

    /**
     * Adds the double lanes of {@link #flushStored} to the stats of the rows from {@code base}: lane j of a stat to
     * row j % period (each row's lanes in lane order).
     */
    private static void addLaneSums(double[] laneSums, double[] acc, int base, int period) {
        for (int stat : LANE_STATS) {
            for (int r = 0; r < period; r++) {
                double sum = 0;
                for (int j = r; j < L; j += period) {
                    sum += laneSums[stat * L + j];
                }
                acc[base + r * K + stat] += sum;
            }
        }
    }

    /** Every stat that {@link #flushStored} adds to (the others' lanes stay 0). */
    private static final int[] LANE_STATS = {I, P, T, TERM};
    /** Stats of {@link #flushStored} for the region sums I, P, T. */
    private static final int[] REGION_STATS = {I, P, T};
    /** Stats of {@link #flushStored} for the term sum. */
    private static final int[] TERM_STATS = {TERM};

    /** Refused lanes: t outside [0, 1] (NaN included). */
    private static VectorMask<Float> targetOk(FloatVector t) {
        return t.compare(VectorOperators.GE, 0f).and(t.compare(VectorOperators.LE, 1f));
    }

    /**
     * From logits, bce alone (no region part, so no sigmoid): bce = max(x, 0) - x t + l with l = log1p(e) of the
     * staged e = exp(-|x|) at ea[eo ..], computed here (a staged l cost a store and a load of every element). Refused:
     * x not finite, t outside [0, 1], checked as {@link #mayBeRefused} (x not finite makes the term's sum NaN or
     * infinite). The same lanes as the bce of {@link #lanesLogitsBceRegion}, so the sums are the same bits.
     */
    private static boolean lanesLogitsBce(float[] xa, int xo, float[] ta, int to, float[] ea, int eo, int m,
                                          double[] laneSums, float[] sums) {
        FloatVector sumTerm = FloatVector.zero(FS);
        IntVector tLow = IntVector.zero(IS);
        IntVector tHigh = IntVector.zero(IS);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            IntVector tBits = t.reinterpretAsInts();
            tLow = tLow.min(tBits);
            tHigh = tHigh.max(tBits);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector l = VectorMath.log1pUnit(FloatVector.fromArray(FS, ea, eo + i));
            sumTerm = sumTerm.add(VectorTerms.bceLogits(x, t, l, pos));
        }
        sumTerm.intoArray(sums, 0);
        if (mayBeRefused(tLow, tHigh, sumTerm) && refusedLogits(xa, xo, ta, to, m)) {
            return false;
        }
        flushStored(sums, 1, TERM_STATS, laneSums);
        return true;
    }

    /** Bits of 1f: a target t in [+0, 1] has its bits, as an int, in [0, ONE_BITS] (NaN, t < 0, -0 and t > 1 not). */
    private static final int ONE_BITS = Float.floatToRawIntBits(1f);

    /**
     * The cheap check of the logits loops, done once per chunk on what the loop carried: the lowest and highest
     * bits (as ints) of the targets, and a sum that x not finite makes NaN or infinite. True when the chunk may
     * hold a refused value: a target outside [+0, 1] (NaN included), or a sum that is not finite (x not finite,
     * t NaN, or a float overflow of huge finite values). A chunk that may be refused is then checked element by
     * element ({@link #refusedLogits}), so that exactly the chunks with a refused value are refused (-0 targets and
     * overflowing sums pass that check).
     */
    private static boolean mayBeRefused(IntVector tLow, IntVector tHigh, FloatVector sum) {
        return tLow.compare(VectorOperators.LT, 0).anyTrue() || tHigh.compare(VectorOperators.GT, ONE_BITS).anyTrue()
                || !sum.abs().compare(VectorOperators.LE, Float.MAX_VALUE).allTrue();
    }

    /** Whether the chunk holds a refused element: x not finite, t outside [0, 1] (NaN included). */
    private static boolean refusedLogits(float[] xa, int xo, float[] ta, int to, int m) {
        for (int i = 0; i < m; i++) {
            float t = ta[to + i];
            if (!Float.isFinite(xa[xo + i]) || !(t >= 0 && t <= 1)) {
                return true;
            }
        }
        return false;
    }

    /** l[j] = log1p(e[eo + j]) for j < n (VectorMath.log1pPass of e staged anywhere). */
    private static void log1pFrom(float[] e, int eo, float[] l, int n) {
        for (int j = 0; j < n; j += L) {
            VectorMath.log1pUnit(FloatVector.fromArray(FS, e, eo + j)).intoArray(l, j);
        }
    }

    /**
     * From logits, bce and region (bce_logdice), with e = exp(-|x|) at ea[eo ..] and l = log1p(e) computed here: the
     * sums of {@link #lanesLogits} and of {@link #lanesLogitsBce} in one loop (two loops would load every element
     * twice), the same lanes so the same bits; the check of {@link #mayBeRefused} on the targets and the term's sum.
     */
    private static boolean lanesLogitsBceRegion(float[] xa, int xo, float[] ta, int to, float[] ea, int eo, int m,
                                                double[] laneSums, float[] sums) {
        FloatVector sumI = FloatVector.zero(FS);
        FloatVector sumP = FloatVector.zero(FS);
        FloatVector sumT = FloatVector.zero(FS);
        FloatVector sumTerm = FloatVector.zero(FS);
        IntVector tLow = IntVector.zero(IS);
        IntVector tHigh = IntVector.zero(IS);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            IntVector tBits = t.reinterpretAsInts();
            tLow = tLow.min(tBits);
            tHigh = tHigh.max(tBits);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector e = FloatVector.fromArray(FS, ea, eo + i);
            FloatVector prob = VectorTerms.sigmoidDiv(e, pos);
            sumI = prob.fma(t, sumI);
            sumP = sumP.add(prob);
            sumT = sumT.add(t);
            sumTerm = sumTerm.add(VectorTerms.bceLogits(x, t, VectorMath.log1pUnit(e), pos));
        }
        sumI.intoArray(sums, 0);
        sumP.intoArray(sums, L);
        sumT.intoArray(sums, 2 * L);
        if (mayBeRefused(tLow, tHigh, sumTerm) && refusedLogits(xa, xo, ta, to, m)) {
            return false;
        }
        flushStored(sums, 3, REGION_STATS, laneSums);
        sumTerm.intoArray(sums, 0);
        flushStored(sums, 1, TERM_STATS, laneSums);
        return true;
    }

    /**
     * From logits, the region sums (region) or only the check (no region, no term), with e = exp(-|x|) staged
     * at ea[eo ..]:
     * p = 1 / (1 + e) (x >= 0) or e / (1 + e) (x < 0); I += p t, P += p, T += t. Refused: x not finite,
     * t outside [0, 1], checked as {@link #mayBeRefused} (T summed as x 0 + t). With a bce term:
     * {@link #lanesLogitsBce}, {@link #lanesLogitsBceRegion}.
     */
    private static boolean lanesLogits(float[] xa, int xo, float[] ta, int to, float[] ea, int eo, int m, boolean region,
                                       double[] laneSums, float[] sums) {
        FloatVector sumI = FloatVector.zero(FS);
        FloatVector sumP = FloatVector.zero(FS);
        FloatVector sumT = FloatVector.zero(FS);
        IntVector tLow = IntVector.zero(IS);
        IntVector tHigh = IntVector.zero(IS);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            IntVector tBits = t.reinterpretAsInts();
            tLow = tLow.min(tBits);
            tHigh = tHigh.max(tBits);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector e = FloatVector.fromArray(FS, ea, eo + i);
            FloatVector prob = VectorTerms.sigmoidDiv(e, pos);
            sumI = prob.fma(t, sumI);
            sumP = sumP.add(prob);
            // x 0 + t: t itself for a finite x (the same sum), NaN for x infinite or NaN (see mayBeRefused)
            sumT = sumT.add(x.fma(ZERO, t));
        }
        if (mayBeRefused(tLow, tHigh, sumT) && refusedLogits(xa, xo, ta, to, m)) {
            return false;
        }
        if (region) {
            sumI.intoArray(sums, 0);
            sumP.intoArray(sums, L);
            sumT.intoArray(sums, 2 * L);
            flushStored(sums, 3, REGION_STATS, laneSums);
        }
        return true;
    }

    /**
     * {@link #lanesLogits} with e = exp(-|x|) computed in the loop rather than staged (when nothing keeps e: a staged
     * e cost a store and a load of every element and a second loop): the same e, so the same sums.
     */
    private static boolean lanesLogitsExp(float[] xa, int xo, float[] ta, int to, int m, boolean region,
                                          double[] laneSums, float[] sums) {
        FloatVector sumI = FloatVector.zero(FS);
        FloatVector sumP = FloatVector.zero(FS);
        FloatVector sumT = FloatVector.zero(FS);
        IntVector tLow = IntVector.zero(IS);
        IntVector tHigh = IntVector.zero(IS);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            IntVector tBits = t.reinterpretAsInts();
            tLow = tLow.min(tBits);
            tHigh = tHigh.max(tBits);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector prob = VectorTerms.sigmoidDiv(VectorMath.expNonPositive(x.abs().neg()), pos);
            sumI = prob.fma(t, sumI);
            sumP = sumP.add(prob);
            sumT = sumT.add(x.fma(ZERO, t)); // as in lanesLogits
        }
        if (mayBeRefused(tLow, tHigh, sumT) && refusedLogits(xa, xo, ta, to, m)) {
            return false;
        }
        if (region) {
            sumI.intoArray(sums, 0);
            sumP.intoArray(sums, L);
            sumT.intoArray(sums, 2 * L);
            flushStored(sums, 3, REGION_STATS, laneSums);
        }
        return true;
    }

    /**
     * From logits, focal: aw t q^g softplus(-x) + nw (1 - t) p^g softplus(x), p and q = 1 - p from the
     * staged e = exp(-|x|), softplus(+-x) = max(+-x, 0) + l with l = log1p(e) staged. Focal has no region term.
     * The terms are staged in {@code terms} ({@link #lanesFocalLogitsTerms}), then summed
     * ({@link #lanesFocalSum}): in one loop with its sums, the two powers pass C2's inlining budget and every vector
     * of the loop is boxed (180 MB per 8x4x512x512 pass, 5x slower).
     */
    private static boolean lanesLogitsFocal(float[] xa, int xo, float[] ta, int to, float[] ea, float[] la,
                                            float[] terms, int m, int g, float aw, float nw, float ign, double[] acc,
                                            int base, int period) {
        lanesFocalLogitsTerms(xa, xo, ta, to, ea, la, terms, m, g, aw, nw, ign);
        return lanesFocalSum(xa, xo, ta, to, terms, m, ign, -Float.MAX_VALUE, Float.MAX_VALUE, acc, base, period);
    }

    /**
     * terms[i] = the focal term of {@link #lanesLogitsFocal} at element i, 0 where t = ign: its two parts in two
     * loops (with both powers one loop passes C2's inlining node budget), the second adding to the first, which
     * gives the bits of {@link VectorTerms#focalLogits}.
     */
    private static void lanesFocalLogitsTerms(float[] xa, int xo, float[] ta, int to, float[] ea, float[] la,
                                              float[] terms, int m, int g, float aw, float nw, float ign) {
        lanesFocalLogitsPos(xa, xo, ta, to, ea, la, terms, m, g, aw, ign);
        lanesFocalLogitsNegAdd(xa, xo, ta, to, ea, la, terms, m, g, nw, ign);
    }

    /** terms[i] = aw t q^g softplus(-x) (t = 0 where t = ign). */
    private static void lanesFocalLogitsPos(float[] xa, int xo, float[] ta, int to, float[] ea, float[] la,
                                            float[] terms, int m, int g, float aw, float ign) {
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            t = t.blend(ZERO, t.compare(VectorOperators.EQ, ign));
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector e = FloatVector.fromArray(FS, ea, i);
            FloatVector q = VectorTerms.sigmoidNeg(e, VectorTerms.sigmoidAbs(e), pos);
            FloatVector spNeg = VectorTerms.softplusNeg(x, FloatVector.fromArray(FS, la, i), pos);
            VectorTerms.focalLogitsPos(t, q, spNeg, aw, g).intoArray(terms, i);
        }
    }

    /** terms[i] += nw (1 - t) p^g softplus(x), then 0 where t = ign. */
    private static void lanesFocalLogitsNegAdd(float[] xa, int xo, float[] ta, int to, float[] ea, float[] la,
                                               float[] terms, int m, int g, float nw, float ign) {
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            // elements equal to ign (binary ignore_index; NaN when there is none) count nowhere
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            t = t.blend(ZERO, ignored);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector e = FloatVector.fromArray(FS, ea, i);
            FloatVector prob = VectorTerms.sigmoid(e, VectorTerms.sigmoidAbs(e), pos);
            FloatVector spPos = VectorTerms.softplus(x, FloatVector.fromArray(FS, la, i), pos);
            FloatVector.fromArray(FS, terms, i).add(VectorTerms.focalLogitsNeg(t, prob, spPos, nw, g))
                    .blend(ZERO, ignored).intoArray(terms, i);
        }
    }

    /**
     * The sum of the staged focal terms into TERM, unless a lane saw a refused value: x outside [lo, hi] (NaN
     * included; logits: +-MAX_VALUE, probabilities: 0, 1) or t outside [0, 1] and not ign.
     */
    private static boolean lanesFocalSum(float[] xa, int xo, float[] ta, int to, float[] terms, int m, float ign,
                                         float lo, float hi, double[] acc, int base, int period) {
        FloatVector sumTerm = FloatVector.zero(FS);
        FloatVector bad = FloatVector.zero(FS); // 1 in lanes that saw a refused value (a vector: a mask phi starting at the constant maskAll(true) is boxed by C2)
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            VectorMask<Float> xOk = x.compare(VectorOperators.GE, lo).and(x.compare(VectorOperators.LE, hi));
            bad = bad.blend(1f, xOk.not().or(targetOk(t).or(ignored).not()));
            sumTerm = sumTerm.add(FloatVector.fromArray(FS, terms, i));
        }
        return flushClean(bad, acc, base, period, false, true, ZERO, ZERO, ZERO, sumTerm);
    }

    /**
     * From probabilities, no term or bce: I += x t, P += x, T += t; bce = -(t log pc + (1 - t) log qc) from
     * the staged logs of small = max(min(x, 1 - x), eps) (log pc is log small for x < 1/2, else log1p(-small)).
     * Refused: x or t outside [0, 1] (NaN included).
     */
    private static boolean lanesProb(float[] xa, int xo, float[] ta, int to, float[] logSmall, float[] logLarge,
                                     int m, boolean region, boolean bce, double[] acc, int base, int period) {
        FloatVector sumI = FloatVector.zero(FS);
        FloatVector sumP = FloatVector.zero(FS);
        FloatVector sumT = FloatVector.zero(FS);
        FloatVector sumTerm = FloatVector.zero(FS);
        FloatVector bad = FloatVector.zero(FS); // 1 in lanes that saw a refused value (a vector: a mask phi starting at the constant maskAll(true) is boxed by C2)
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            bad = bad.blend(1f, (targetOk(t)).and(targetOk(x)).not());
            sumI = sumI.add(x.mul(t));
            sumP = sumP.add(x);
            sumT = sumT.add(t);
            VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
            FloatVector ls = FloatVector.fromArray(FS, logSmall, i);
            FloatVector ll = FloatVector.fromArray(FS, logLarge, i);
            FloatVector logP = ll.blend(ls, lo);
            FloatVector logQ = ls.blend(ll, lo);
            sumTerm = sumTerm.add(VectorTerms.bceProb(t, logP, logQ));
        }
        return flushClean(bad, acc, base, period, region, bce, sumI, sumP, sumT, sumTerm);
    }

    /**
     * From probabilities, focal: -aw t qc^g log pc - nw (1 - t) pc^g log qc, logs staged as {@link #lanesProb};
     * staged terms, then their sum, as {@link #lanesLogitsFocal}.
     */
    private static boolean lanesProbFocal(float[] xa, int xo, float[] ta, int to, float[] logSmall, float[] logLarge,
                                          float[] terms, int m, int g, float aw, float nw, float ign, double[] acc,
                                          int base, int period) {
        lanesFocalProbTerms(xa, xo, ta, to, logSmall, logLarge, terms, m, g, aw, nw, ign);
        return lanesFocalSum(xa, xo, ta, to, terms, m, ign, 0f, 1f, acc, base, period);
    }

    /** terms[i] = the focal term of {@link #lanesProbFocal} at element i, 0 where t = ign. */
    private static void lanesFocalProbTerms(float[] xa, int xo, float[] ta, int to, float[] logSmall,
                                            float[] logLarge, float[] terms, int m, int g, float aw, float nw,
                                            float ign) {
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            t = t.blend(ZERO, ignored);
            VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
            FloatVector small = x.min(ONE.sub(x)).max(EPS);
            FloatVector large = ONE.sub(small);
            FloatVector ls = FloatVector.fromArray(FS, logSmall, i);
            FloatVector ll = FloatVector.fromArray(FS, logLarge, i);
            FloatVector logP = ll.blend(ls, lo);
            FloatVector logQ = ls.blend(ll, lo);
            FloatVector pc = large.blend(small, lo);
            FloatVector qc = small.blend(large, lo);
            VectorTerms.focalProb(t, pc, qc, logP, logQ, aw, nw, g).blend(ZERO, ignored).intoArray(terms, i);
        }
    }

    /** One element in double, as {@link ScalarKernels} computes it (the tail of a row segment); w: pos_weight. */
    private static boolean statsElement(Problem p, double x, double t, double w, double[] acc, int base) {
        if (!Double.isFinite(x) || (!p.fromLogits && (x < 0 || x > 1))) {
            return false;
        }
        if (ScalarKernels.ignored(p, t)) {
            return true;
        }
        if (!(t >= 0 && t <= 1)) {
            return false;
        }
        if (p.region) {
            double prob = p.fromLogits ? CpuMath.sigmoid(x) : x;
            acc[base + I] += prob * t;
            acc[base + P] += prob;
            acc[base + T] += t;
            acc[base + P2] += prob * prob;
            acc[base + T2] += t * t;
        }
        acc[base + COUNT] += 1;
        acc[base + TERM] += CpuMath.binaryTerm(p, x, ScalarKernels.termTarget(p, t), w);
        return true;
    }

    /**
     * Gradient of sample n, pixels [s0, s1), every channel; when {@code kept}, the unit's elements of {@code grad} hold e = exp(-|x|) from the stats pass
     * ({@link #stats} with keep), read back in place of computing it again; then overwritten with the gradient.
     */
    static void grad(Problem p, CpuBuffer pred, CpuBuffer target, GradCoefficients k, CpuBuffer grad, int n,
                     int s0, int s1, VectorScratch sc, boolean kept) {
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
                    gradRow(p, k, n * c + ci, ci, xa, xo + idx, ta, to + idx, ga, go + idx, len, 1, sc, kept);
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
                    if (kept) {
                        VectorIo.readFloats(grad, idx, m, gs, 0);
                    }
                    gradRow(p, k, n * c + ci, ci, xs, 0, ts, 0, gs, 0, m, 1, sc, kept);
                    VectorIo.writeFloats(grad, idx, m, gs, 0);
                }
            }
            return;
        }
        if (flatNhwc(p)) {
            // as in stats: one flat row of len * C elements, lane j in channel j % C
            int flat = len * c;
            int idx = CpuBackend.index(p, n, 0, s0);
            if (isFloatArray(pred) && isFloatArray(target) && grad.floats.hasArray()) {
                gradRow(p, k, n * c, 0, pred.floats.array(), pred.floats.arrayOffset() + idx, target.floats.array(),
                        target.floats.arrayOffset() + idx, grad.floats.array(), grad.floats.arrayOffset() + idx, flat,
                        c, sc, kept);
                return;
            }
            float[] xs = sc.floats(SLOT_X, COPY_CHUNK);
            float[] ts = sc.floats(SLOT_T, COPY_CHUNK);
            float[] gs = sc.floats(SLOT_G, COPY_CHUNK);
            for (int a = 0; a < flat; a += COPY_CHUNK) {
                int m = Math.min(COPY_CHUNK, flat - a);
                VectorIo.readFloats(pred, idx + a, m, xs, 0);
                VectorIo.readTargets(target, idx + a, m, ts, 0, sc);
                if (kept) {
                    VectorIo.readFloats(grad, idx + a, m, gs, 0);
                }
                gradRow(p, k, n * c, 0, xs, 0, ts, 0, gs, 0, m, c, sc, kept);
                VectorIo.writeFloats(grad, idx + a, m, gs, 0);
            }
            return;
        }
        int px = Math.max(1, TRANSPOSE_CHUNK / c);
        float[] xs = sc.floats(SLOT_X, px * c);
        float[] ts = sc.floats(SLOT_T, px * c);
        float[] gs = sc.floats(SLOT_G, px * c);
        float[] linear = sc.floats(SLOT_LINEAR, px * c);
        for (int a = 0; a < len; a += px) {
            int m = Math.min(px, len - a);
            int base = CpuBackend.index(p, n, 0, s0 + a);
            VectorIo.transposeIn(pred, base, m, c, xs, linear, sc, false);
            VectorIo.transposeIn(target, base, m, c, ts, linear, sc, true);
            if (kept) {
                VectorIo.transposeIn(grad, base, m, c, gs, linear, sc, false);
            }
            for (int ci = 0; ci < c; ci++) {
                gradRow(p, k, n * c + ci, ci, xs, ci * m, ts, ci * m, gs, ci * m, m, 1, sc, kept);
            }
            VectorIo.transposeOut(grad, base, m, c, gs, linear, sc);
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
                        float[] ga, int go, int len, int period, VectorScratch sc, boolean kept) {
        if (hasOptions(p)) {
            gradRowOptions(p, k, row, ci, xa, xo, ta, to, ga, go, len, period, sc, kept);
            return;
        }
        boolean region = p.region;
        PixelTerm term = p.pixelTerm;
        boolean focal = term == PixelTerm.FOCAL;
        int g = (int) p.gamma;
        float aw = (float) p.focalPosWeight;
        float nw = (float) p.focalNegWeight;
        // per-row coefficients as lanes (period 1: the row's; NHWC flat: lane j that of channel ci + j % period)
        float[] ps = lanes(sc, SLOT_PS, k.pixelScale, ci, period, 1f);
        float[] ra = lanes(sc, SLOT_RA, k.regionA, row, period, 1f);
        float[] rb = lanes(sc, SLOT_RB, k.regionB, row, period, 1f);
        float[] bs = lanes(sc, SLOT_BS, k.pixelScale, ci, period, term == PixelTerm.BCE ? 1f : 0f);
        float[] awPs = lanes(sc, SLOT_AW, k.pixelScale, ci, period, aw);
        float[] nwPs = lanes(sc, SLOT_NW, k.pixelScale, ci, period, nw);
        float[] s1 = sc.floats(SLOT_STAGE1, SUM_CHUNK);
        float[] s2 = sc.floats(SLOT_STAGE2, SUM_CHUNK);
        int full = len - len % L;
        boolean regionOnly = term == PixelTerm.NONE; // dice, iou, tversky: the region part alone
        for (int a = 0; a < full; a += SUM_CHUNK) {
            int m = Math.min(full - a, SUM_CHUNK);
            if (p.fromLogits) {
                if (kept && !focal) { // e of the stats pass (see keeps), read in place
                    if (regionOnly) {
                        gradLogitsRegion(ta, to + a, ga, go + a, ga, go + a, m, ra, rb);
                    } else {
                        gradLogits(xa, xo + a, ta, to + a, ga, go + a, ga, go + a, m, bs, ra, rb);
                    }
                    continue;
                }
                if (kept) {
                    System.arraycopy(ga, go + a, s1, 0, m); // e of the stats pass (see keeps)
                } else {
                    VectorMath.expNegAbs(xa, xo + a, s1, 0, m);
                }
                if (focal) {
                    VectorMath.log1pPass(s1, s2, m);
                    gradLogitsFocal(xa, xo + a, ta, to + a, s1, s2, ga, go + a, m, g, awPs, nwPs, Float.NaN);
                    if (region) {
                        gradLogitsRegionAdd(xa, xo + a, ta, to + a, s1, ga, go + a, m, Float.NaN, ra, rb, 0f, 1f);
                    }
                } else if (regionOnly) {
                    gradLogitsRegion(ta, to + a, s1, 0, ga, go + a, m, ra, rb);
                } else {
                    gradLogits(xa, xo + a, ta, to + a, s1, 0, ga, go + a, m, bs, ra, rb);
                }
            } else if (focal) {
                VectorMath.clampedLogs(xa, xo + a, EPS, s1, s2, m);
                gradProbFocal(xa, xo + a, ta, to + a, s1, s2, ga, go + a, m, g, awPs, nwPs, Float.NaN, ra, rb, 0f, 1f);
            } else {
                gradProb(xa, xo + a, ta, to + a, ga, go + a, m, bs, ra, rb);
            }
        }
        for (int i = full; i < len; i++) {
            int j = i % period;
            ga[go + i] = (float) gradElement(p, k.pixelScale[ci + j], 1, k.regionA[row + j], k.regionB[row + j],
                    xa[xo + i], ta[to + i]);
        }
    }

    /**
     * {@link #gradRow} with the options of {@link #hasOptions}: 0 at ignored elements; bce with pos_weight w at
     * the label-smoothed target, d bce / dx = (1 - t') p - w t' q and d bce / dp = -w t' / pc + (1 - t') / qc;
     * region part t A + B dP/dp with dP/dp = 2p under squared_pred.
     */
    private static void gradRowOptions(Problem p, GradCoefficients k, int row, int ci, float[] xa, int xo, float[] ta,
                                       int to, float[] ga, int go, int len, int period, VectorScratch sc,
                                       boolean kept) {
        PixelTerm term = p.pixelTerm;
        boolean focal = term == PixelTerm.FOCAL;
        int g = (int) p.gamma;
        float aw = (float) p.focalPosWeight;
        float nw = (float) p.focalNegWeight;
        float[] ra = lanes(sc, SLOT_RA, k.regionA, row, period, 1f);
        float[] rb = lanes(sc, SLOT_RB, k.regionB, row, period, 1f);
        float[] bs = lanes(sc, SLOT_BS, k.pixelScale, ci, period, term == PixelTerm.BCE ? 1f : 0f);
        float[] awPs = lanes(sc, SLOT_AW, k.pixelScale, ci, period, aw);
        float[] nwPs = lanes(sc, SLOT_NW, k.pixelScale, ci, period, nw);
        float[] w = lanes(sc, SLOT_W, p.posWeight, ci, period, 1f);
        float ign = ignoreValue(p);
        float keep = p.labelKeep();
        float add = p.labelAdd();
        float two = p.squares ? 2f : 0f;
        float one = p.squares ? 0f : 1f;
        float[] s1 = sc.floats(SLOT_STAGE1, SUM_CHUNK);
        float[] s2 = sc.floats(SLOT_STAGE2, SUM_CHUNK);
        int full = len - len % L;
        for (int a = 0; a < full; a += SUM_CHUNK) {
            int m = Math.min(full - a, SUM_CHUNK);
            if (p.fromLogits) {
                if (kept) {
                    System.arraycopy(ga, go + a, s1, 0, m); // e of the stats pass (see keeps)
                } else {
                    VectorMath.expNegAbs(xa, xo + a, s1, 0, m);
                }
                if (focal) {
                    VectorMath.log1pPass(s1, s2, m);
                    gradLogitsFocal(xa, xo + a, ta, to + a, s1, s2, ga, go + a, m, g, awPs, nwPs, ign);
                    if (p.region) {
                        gradLogitsRegionAdd(xa, xo + a, ta, to + a, s1, ga, go + a, m, ign, ra, rb, two, one);
                    }
                } else {
                    gradLogitsOptions(xa, xo + a, ta, to + a, s1, ga, go + a, m, bs, ign, w, keep, add, ra, rb, two,
                            one);
                }
            } else if (focal) {
                VectorMath.clampedLogs(xa, xo + a, EPS, s1, s2, m);
                gradProbFocal(xa, xo + a, ta, to + a, s1, s2, ga, go + a, m, g, awPs, nwPs, ign, ra, rb, two, one);
            } else {
                gradProbOptions(xa, xo + a, ta, to + a, ga, go + a, m, bs, ign, w, keep, add, ra, rb, two, one);
            }
        }
        for (int i = full; i < len; i++) {
            int j = i % period;
            ga[go + i] = (float) gradElement(p, k.pixelScale[ci + j], posWeight(p, ci + j), k.regionA[row + j],
                    k.regionB[row + j], xa[xo + i], ta[to + i]);
        }
    }

    /**
     * From logits with options (bs = pixel scale of bce, 0 without it): dL/dx = bs ((1 - t') p - w t' q)
     * + (t A + B dP/dp) p q, 0 at ignored elements; p, q from the staged e = exp(-|x|).
     */
    private static void gradLogitsOptions(float[] xa, int xo, float[] ta, int to, float[] ea, float[] ga, int go, int m,
                                          float[] bs, float ign, float[] w, float keep, float add, float[] ra,
                                          float[] rb, float two, float one) {
        FloatVector wv = FloatVector.fromArray(FS, w, 0);
        FloatVector av = FloatVector.fromArray(FS, ra, 0);
        FloatVector bv = FloatVector.fromArray(FS, rb, 0);
        FloatVector bsv = FloatVector.fromArray(FS, bs, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            FloatVector tv = t.blend(ZERO, ignored);
            FloatVector e = FloatVector.fromArray(FS, ea, i);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector r = VectorTerms.sigmoidAbs(e);
            FloatVector prob = VectorTerms.sigmoid(e, r, pos);
            FloatVector q = VectorTerms.sigmoidNeg(e, r, pos);
            FloatVector tt = VectorTerms.smoothTarget(tv, keep, add);
            FloatVector d = VectorTerms.bcePwLogitsDx(prob, q, tt, wv).mul(bsv);
            d = VectorTerms.sigmoidChain(VectorTerms.regionDp(prob, tv, av, bv, two, one), prob, q).add(d);
            d.blend(ZERO, ignored).intoArray(ga, go + i);
        }
    }

    /**
     * From probabilities with options: dL/dp = bs (-w t' / pc + (1 - t') / qc) + t A + B dP/dp, 0 at ignored
     * elements.
     */
    private static void gradProbOptions(float[] xa, int xo, float[] ta, int to, float[] ga, int go, int m, float[] bs,
                                        float ign, float[] w, float keep, float add, float[] ra, float[] rb, float two,
                                        float one) {
        FloatVector wv = FloatVector.fromArray(FS, w, 0);
        FloatVector av = FloatVector.fromArray(FS, ra, 0);
        FloatVector bv = FloatVector.fromArray(FS, rb, 0);
        FloatVector bsv = FloatVector.fromArray(FS, bs, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            FloatVector tv = t.blend(ZERO, ignored);
            VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
            FloatVector small = x.min(ONE.sub(x)).max(EPS);
            FloatVector large = ONE.sub(small);
            FloatVector pc = large.blend(small, lo);
            FloatVector qc = small.blend(large, lo);
            FloatVector tt = VectorTerms.smoothTarget(tv, keep, add);
            FloatVector d = VectorTerms.bcePwProbGrad(tt, wv, pc, qc).mul(bsv);
            d = VectorTerms.regionDp(x, tv, av, bv, two, one).add(d);
            d.blend(ZERO, ignored).intoArray(ga, go + i);
        }
    }

    /**
     * From logits, bce (ps != 0) and/or region: dL/dx = ps (p - t) + (t A + B) p q with p, q from
     * e = exp(-|x|) at ea[eo ..] (staged, or kept in ga itself: ea = ga and eo = go, each vector read before it
     * is overwritten).
     */
    private static void gradLogits(float[] xa, int xo, float[] ta, int to, float[] ea, int eo, float[] ga, int go,
                                   int m, float[] psLanes, float[] raLanes, float[] rbLanes) {
        FloatVector ps = FloatVector.fromArray(FS, psLanes, 0);
        FloatVector ra = FloatVector.fromArray(FS, raLanes, 0);
        FloatVector rb = FloatVector.fromArray(FS, rbLanes, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            FloatVector e = FloatVector.fromArray(FS, ea, eo + i);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector r = VectorTerms.sigmoidAbs(e);
            FloatVector prob = VectorTerms.sigmoid(e, r, pos);
            FloatVector q = VectorTerms.sigmoidNeg(e, r, pos);
            // ps = 0 without bce, A = B = 0 without region: no branch in the loop (see lanesLogits)
            FloatVector d = VectorTerms.bceLogitsDx(prob, t).mul(ps);
            d = VectorTerms.sigmoidChain(t.mul(ra).add(rb), prob, q).add(d);
            d.intoArray(ga, go + i);
        }
    }

    /**
     * From logits, the region part alone (no pixel term): dL/dx = (t A + B) p q with p q = e r^2, r = 1 / (1 + e),
     * whatever the sign of x (so x itself is not read: e = exp(-|x|) is staged, or kept in ga itself: ea = ga
     * and eo = go, each vector read before it is overwritten).
     */
    private static void gradLogitsRegion(float[] ta, int to, float[] ea, int eo, float[] ga, int go, int m,
                                         float[] raLanes, float[] rbLanes) {
        FloatVector ra = FloatVector.fromArray(FS, raLanes, 0);
        FloatVector rb = FloatVector.fromArray(FS, rbLanes, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            FloatVector e = FloatVector.fromArray(FS, ea, eo + i);
            FloatVector slope = VectorTerms.sigmoidSlope(e, VectorTerms.sigmoidAbs(e));
            t.mul(ra).add(rb).mul(slope).intoArray(ga, go + i);
        }
    }

    /**
     * From logits, focal (weights pre-multiplied by ps): dL/dx = -aw t (g p q^g softplus(-x) + q^(g+1))
     * + nw (1 - t) (g p^g q softplus(x) + p^(g+1)), plus the region part of {@link #gradLogits}.
     */
    private static void gradLogitsFocal(float[] xa, int xo, float[] ta, int to, float[] ea, float[] la, float[] ga,
                                        int go, int m, int g, float[] awLanes, float[] nwLanes, float ign) {
        FloatVector aw = FloatVector.fromArray(FS, awLanes, 0);
        FloatVector nw = FloatVector.fromArray(FS, nwLanes, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            t = t.blend(ZERO, ignored);
            FloatVector e = FloatVector.fromArray(FS, ea, i);
            FloatVector l = FloatVector.fromArray(FS, la, i);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector r = VectorTerms.sigmoidAbs(e);
            FloatVector prob = VectorTerms.sigmoid(e, r, pos);
            FloatVector q = VectorTerms.sigmoidNeg(e, r, pos);
            FloatVector spPos = VectorTerms.softplus(x, l, pos);
            FloatVector spNeg = VectorTerms.softplusNeg(x, l, pos);
            VectorTerms.focalLogitsGrad(t, prob, q, spPos, spNeg, aw, nw, g).blend(ZERO, ignored).intoArray(ga, go + i);
        }
    }

    /**
     * Adds the region part (t A + B dP/dp) p q of {@link #gradLogits} to the gradient of {@link #gradLogitsFocal}
     * (a loop of its own: the two in one compile unit pass C2's inlining node cutoff), 0 at ignored elements.
     */
    private static void gradLogitsRegionAdd(float[] xa, int xo, float[] ta, int to, float[] ea, float[] ga, int go,
                                            int m, float ign, float[] ra, float[] rb, float two, float one) {
        FloatVector av = FloatVector.fromArray(FS, ra, 0);
        FloatVector bv = FloatVector.fromArray(FS, rb, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            t = t.blend(ZERO, ignored);
            FloatVector e = FloatVector.fromArray(FS, ea, i);
            VectorMask<Float> pos = x.compare(VectorOperators.GE, 0f);
            FloatVector r = VectorTerms.sigmoidAbs(e);
            FloatVector prob = VectorTerms.sigmoid(e, r, pos);
            FloatVector q = VectorTerms.sigmoidNeg(e, r, pos);
            FloatVector d = VectorTerms.sigmoidChain(VectorTerms.regionDp(prob, t, av, bv, two, one), prob, q)
                    .add(FloatVector.fromArray(FS, ga, go + i));
            d.blend(ZERO, ignored).intoArray(ga, go + i);
        }
    }

    /**
     * From probabilities, bce (ps != 0) and/or region: dL/dp = ps (-t / pc + (1 - t) / qc) + t A + B with
     * small = max(min(x, 1 - x), eps), pc = small or 1 - small (x >= 1/2), qc the other.
     */
    private static void gradProb(float[] xa, int xo, float[] ta, int to, float[] ga, int go, int m, float[] psLanes,
                                 float[] raLanes, float[] rbLanes) {
        FloatVector ps = FloatVector.fromArray(FS, psLanes, 0);
        FloatVector ra = FloatVector.fromArray(FS, raLanes, 0);
        FloatVector rb = FloatVector.fromArray(FS, rbLanes, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
            FloatVector small = x.min(ONE.sub(x)).max(EPS);
            FloatVector large = ONE.sub(small);
            FloatVector pc = large.blend(small, lo);
            FloatVector qc = small.blend(large, lo);
            // ps = 0 without bce (both quotients are finite), A = B = 0 without region
            FloatVector d = VectorTerms.bceProbGrad(t, pc, qc).mul(ps);
            d = t.mul(ra).add(rb).add(d);
            d.intoArray(ga, go + i);
        }
    }

    /**
     * From probabilities, focal (weights pre-multiplied by ps), logs staged as {@link #lanesProb}:
     * dL/dp = -aw t (-g qc^(g-1) log pc + qc^g / pc) - nw (1 - t) (g pc^(g-1) log qc - pc^g / qc) + t A + B dP/dp,
     * 0 at ignored elements. Three loops (the four powers in one passed C2's inlining node cutoff and boxed every
     * vector: 400 MB per 8x4x512x512 pass): the first stores the positive part, the second subtracts the negative
     * part, the third adds the region part: the bits of {@link VectorTerms#focalProbGrad} plus the region part.
     */
    private static void gradProbFocal(float[] xa, int xo, float[] ta, int to, float[] logSmall, float[] logLarge,
                                      float[] ga, int go, int m, int g, float[] awLanes, float[] nwLanes, float ign,
                                      float[] ra, float[] rb, float two, float one) {
        gradProbFocalPos(xa, xo, ta, to, logSmall, logLarge, ga, go, m, g, awLanes, ign);
        gradProbFocalNeg(xa, xo, ta, to, logSmall, logLarge, ga, go, m, g, nwLanes, ign);
        gradProbRegionAdd(xa, xo, ta, to, ga, go, m, ign, ra, rb, two, one);
    }

    /** ga = -aw t (-g qc^(g-1) log pc + qc^g / pc) (t = 0 where t = ign). */
    private static void gradProbFocalPos(float[] xa, int xo, float[] ta, int to, float[] logSmall, float[] logLarge,
                                         float[] ga, int go, int m, int g, float[] awLanes, float ign) {
        FloatVector aw = FloatVector.fromArray(FS, awLanes, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            t = t.blend(ZERO, t.compare(VectorOperators.EQ, ign));
            VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
            FloatVector small = x.min(ONE.sub(x)).max(EPS);
            FloatVector large = ONE.sub(small);
            FloatVector pc = large.blend(small, lo);
            FloatVector qc = small.blend(large, lo);
            FloatVector logP = FloatVector.fromArray(FS, logLarge, i).blend(FloatVector.fromArray(FS, logSmall, i), lo);
            VectorTerms.focalProbGradPos(t, pc, qc, logP, aw, g).intoArray(ga, go + i);
        }
    }

    /** ga = ga - nw (1 - t) (g pc^(g-1) log qc - pc^g / qc) (t = 0 where t = ign). */
    private static void gradProbFocalNeg(float[] xa, int xo, float[] ta, int to, float[] logSmall, float[] logLarge,
                                         float[] ga, int go, int m, int g, float[] nwLanes, float ign) {
        FloatVector nw = FloatVector.fromArray(FS, nwLanes, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            t = t.blend(ZERO, t.compare(VectorOperators.EQ, ign));
            VectorMask<Float> lo = x.compare(VectorOperators.LT, 0.5f);
            FloatVector small = x.min(ONE.sub(x)).max(EPS);
            FloatVector large = ONE.sub(small);
            FloatVector pc = large.blend(small, lo);
            FloatVector qc = small.blend(large, lo);
            FloatVector logQ = FloatVector.fromArray(FS, logSmall, i).blend(FloatVector.fromArray(FS, logLarge, i), lo);
            FloatVector.fromArray(FS, ga, go + i).sub(VectorTerms.focalProbGradNeg(t, pc, qc, logQ, nw, g))
                    .intoArray(ga, go + i);
        }
    }

    /** ga = t A + B dP/dp + ga, then 0 where t = ign (the region part from probabilities: dP/dp = 2p or 1). */
    private static void gradProbRegionAdd(float[] xa, int xo, float[] ta, int to, float[] ga, int go, int m, float ign,
                                          float[] ra, float[] rb, float two, float one) {
        FloatVector av = FloatVector.fromArray(FS, ra, 0);
        FloatVector bv = FloatVector.fromArray(FS, rb, 0);
        for (int i = 0; i < m; i += L) {
            FloatVector x = FloatVector.fromArray(FS, xa, xo + i);
            FloatVector t = FloatVector.fromArray(FS, ta, to + i);
            VectorMask<Float> ignored = t.compare(VectorOperators.EQ, ign);
            t = t.blend(ZERO, ignored);
            VectorTerms.regionDp(x, t, av, bv, two, one).add(FloatVector.fromArray(FS, ga, go + i))
                    .blend(ZERO, ignored).intoArray(ga, go + i);
        }
    }

    /** One element in double, as {@link ScalarKernels} computes it (the tail of a row segment). */
    private static double gradElement(Problem p, double ps, double w, double a, double b, double x, double t) {
        if (ScalarKernels.ignored(p, t)) {
            return 0;
        }
        double d = p.pixelTerm == PixelTerm.NONE ? 0 : ps * CpuMath.binaryTermD(p, x, ScalarKernels.termTarget(p, t), w);
        return p.region ? d + ScalarKernels.regionD(p, x, t, a, b) : d;
    }

}
