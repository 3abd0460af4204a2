package org.segloss.backend;

import java.util.Locale;
import org.segloss.ElementType;
import org.segloss.Layout;
import org.segloss.internal.Constants;

/**
 * What a kernel pass computes, in the terms every backend shares. Immutable.
 *
 * <p>Geometry: {@code pred} holds {@code n * c * s} floats, element {@code (n, c, s)} at
 * {@code (n * c + ci) * s + si} in NCHW and {@code (n * s + si) * c + ci} in NHWC. A target holds
 * {@code n * c * s} values in binary mode (same layout as pred) and {@code n * s} class indices
 * in multiclass mode.
 *
 * <p>Stats ({@link #STATS} per row, row = {@code ni * c + ci}), summed over the valid elements of the row:
 * <ul>
 * <li>{@link #STAT_I} = sum p t, {@link #STAT_P} = sum p, {@link #STAT_T} = sum t (only when {@link #region} or multiclass);</li>
 * <li>{@link #STAT_TERM} = sum of the pixel term; in multiclass the term of pixel s goes to row (n, y[s]);</li>
 * <li>{@link #STAT_BAD_PRED}: count of pred values that are NaN/inf, or outside [0, 1] when not from logits
 *     (multiclass: counted in row (n, c) of the bad value);</li>
 * <li>{@link #STAT_BAD_TARGET}: count of target values that are NaN/inf or outside [0, 1] (binary), or class
 *     indices outside [0, C) that are not the ignore index (multiclass: counted in row (n, 0)).</li>
 * </ul>
 * In multiclass mode {@code t = one-hot(y)}, ignored pixels count nowhere, and a pixel whose target is out of
 * range contributes only to STAT_BAD_TARGET.
 */
public final class Problem {
    public static final int STAT_I = Stat.I.slot();
    public static final int STAT_P = Stat.P.slot();
    public static final int STAT_T = Stat.T.slot();
    public static final int STAT_TERM = Stat.TERM.slot();
    public static final int STAT_BAD_PRED = Stat.BAD_PRED.slot();
    public static final int STAT_BAD_TARGET = Stat.BAD_TARGET.slot();
    /** Number of statistics per row (see {@link Stat}). */
    public static final int STATS = Stat.COUNT_OF_SLOTS;

    /** Whether the target is a class map (multiclass mode). */
    public final boolean multiclass;
    /** Whether pred holds logits. */
    public final boolean fromLogits;
    /** Where the class axis is. */
    public final Layout layout;
    /** Batch size, classes (channels), spatial size (product of spatial dims, 1 when there are none). */
    public final long n, c, s;
    /** Element type of the target buffer. */
    public final ElementType targetType;
    /** Multiclass ignore index, meaningful only when {@link #hasIgnoreIndex}. */
    public final boolean hasIgnoreIndex;
    /** The ignored class (when {@link #hasIgnoreIndex}). */
    public final int ignoreIndex;
    /** The pixel term of the loss. */
    public final PixelTerm pixelTerm;
    /** Whether I, P, T are needed (region losses). T is also computed in multiclass for pixel counts. */
    public final boolean region;
    /** Focal weights of the positive and negative term (binary): alpha, 1 - alpha, or 1, 1 when alpha = none. */
    public final double focalPosWeight, focalNegWeight;
    /** Focal gamma. */
    public final double gamma;
    /** squared_pred: P2 = sum p^2 and T2 = sum t^2 replace P and T in the region denominators (dP/dp = 2p). */
    public final boolean squares;
    /** bce pos_weight per class (binary / multilabel), or null. */
    public final float[] posWeight;
    /** Label smoothing e of the pixel term's target (binary: t (1 - e) + e / 2; multiclass (1 - e) t + e / C), 0 when off. */
    public final double labelSmoothing;
    /** Multiclass soft targets: a float target of pred's shape and layout holding class probabilities. */
    public final boolean softTargets;

    /** A pass as the engine checked it: shape, mode and the loss's per-element constants. */
    public Problem(boolean multiclass, boolean fromLogits, Layout layout, long n, long c, long s,
                   ElementType targetType, boolean hasIgnoreIndex, int ignoreIndex, PixelTerm pixelTerm,
                   boolean region, double focalPosWeight, double focalNegWeight, double gamma) {
        this(multiclass, fromLogits, layout, n, c, s, targetType, hasIgnoreIndex, ignoreIndex, pixelTerm, region,
                focalPosWeight, focalNegWeight, gamma, false, null, 0.0, false);
    }

    public Problem(boolean multiclass, boolean fromLogits, Layout layout, long n, long c, long s,
                   ElementType targetType, boolean hasIgnoreIndex, int ignoreIndex, PixelTerm pixelTerm,
                   boolean region, double focalPosWeight, double focalNegWeight, double gamma, boolean squares,
                   float[] posWeight, double labelSmoothing, boolean softTargets) {
        this.softTargets = softTargets && multiclass;
        this.squares = squares;
        this.posWeight = posWeight == null ? null : posWeight.clone();
        this.labelSmoothing = labelSmoothing;
        this.multiclass = multiclass;
        this.fromLogits = fromLogits;
        this.layout = layout;
        this.n = n;
        this.c = c;
        this.s = s;
        this.targetType = targetType;
        this.hasIgnoreIndex = hasIgnoreIndex;
        this.ignoreIndex = ignoreIndex;
        this.pixelTerm = pixelTerm;
        this.region = region;
        this.focalPosWeight = focalPosWeight;
        this.focalNegWeight = focalNegWeight;
        this.gamma = gamma;
    }

    /** Whether the loss needs the sum {@code stat} (the others may be left 0 by a backend). */
    public boolean needs(Stat stat) {
        switch (stat) {
            case I:
            case P:
                return region;
            case T:
                return region || multiclass;
            case TERM:
                return pixelTerm != PixelTerm.NONE;
            case P2:
            case T2:
                return region && squares;
            case COUNT:
                return hasIgnoreIndex && !multiclass;
            default:
                return true;
        }
    }

    /**
     * Multiclass with per-class targets t_c (soft targets, or label smoothing of a class map): the pixel term is
     * {@code sum_c t'_c term(p_c)} into the row of each class instead of term(p_y) into the row of y.
     */
    public boolean generalMulticlass() {
        return multiclass && (softTargets || labelSmoothing != 0);
    }

    /** Soft multiclass targets: a pixel counts when its t_c are >= 0 and sum to 1 within this. */
    public static final double SOFT_TARGET_SUM_TOLERANCE = 1e-4;

    /** Whether binary / multilabel elements may hold the ignore value. */
    public boolean binaryIgnore() {
        return hasIgnoreIndex && !multiclass;
    }

    /** Multiplier of t in the pixel term's target: 1 - e (label smoothing). */
    public float labelKeep() {
        return (float) (1.0 - labelSmoothing);
    }

    /** Added to the pixel term's target: e / 2 (binary) or e / C (multiclass label smoothing). */
    public float labelAdd() {
        return (float) (labelSmoothing / (multiclass ? c : 2));
    }

    /** pos_weight of each class, ones when the problem has none. */
    public float[] posWeights() {
        if (posWeight != null) {
            return posWeight.clone();
        }
        float[] ones = new float[Math.toIntExact(c)];
        java.util.Arrays.fill(ones, 1f);
        return ones;
    }

    /** Number of pred elements. */
    public long predLength() {
        return n * c * s;
    }

    /** Number of target elements. */
    public long targetLength() {
        return multiclass && !softTargets ? n * s : n * c * s;
    }

    /** Number of (sample, class) rows. */
    public int rows() {
        return Math.toIntExact(n * c);
    }

    /**
     * Compile-time defines that specialise a kernel for this problem (OpenCL {@code -D} options, also
     * usable as NVRTC options or as {@code #define} lines prepended to CUDA source). The shape is not
     * part of them, so programs are reused across sizes; a backend that specialises on C (multiclass
     * loops over classes) adds its own define.
     */
    public String defines() {
        StringBuilder d = new StringBuilder();
        d.append(String.format(Locale.ROOT, "-DSEGLOSS_PROB_CLAMP_EPS=%.9ef", Constants.PROB_CLAMP_EPS));
        d.append(" -DMULTICLASS=").append(multiclass ? 1 : 0);
        d.append(" -DFROM_LOGITS=").append(fromLogits ? 1 : 0);
        d.append(" -DLAYOUT_NHWC=").append(layout == Layout.NHWC ? 1 : 0);
        d.append(" -DTARGET_TYPE=").append(targetType.ordinal()).append(" /* 0 float, 1 uint8, 2 int32, 3 int64 */");
        d.append(" -DPIXEL_TERM=").append(pixelTerm.ordinal()).append(" /* 0 none, 1 bce, 2 focal, 3 ce */");
        d.append(" -DREGION=").append(region ? 1 : 0);
        d.append(" -DHAS_IGNORE=").append(hasIgnoreIndex ? 1 : 0);
        if (binaryIgnore()) {
            d.append(" -DIGNORE_VALUE=").append(ignoreIndex);
        }
        d.append(" -DSQUARES=").append(squares && region ? 1 : 0);
        d.append(" -DPOS_WEIGHT=").append(posWeight != null && pixelTerm == PixelTerm.BCE ? 1 : 0);
        d.append(" -DLABEL_SMOOTHING=").append(labelSmoothing != 0 ? 1 : 0);
        d.append(" -DSOFT_TARGETS=").append(softTargets ? 1 : 0);
        return d.toString().replaceAll(" /\\*[^*]*\\*/", "");
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT,
                "Problem{multiclass=%s, logits=%s, %s, n=%d, c=%d, s=%d, target=%s, ignore=%s, term=%s, region=%s, fw=%s/%s, gamma=%s, squares=%s, posWeight=%s, labelSmoothing=%s}",
                multiclass, fromLogits, layout, n, c, s, targetType, hasIgnoreIndex ? ignoreIndex : "none", pixelTerm,
                region, focalPosWeight, focalNegWeight, gamma, squares, java.util.Arrays.toString(posWeight), labelSmoothing);
    }
}
