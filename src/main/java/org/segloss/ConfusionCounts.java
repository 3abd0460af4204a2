package org.segloss;

import java.util.Arrays;

/**
 * Hard per-class counts (64-bit) of the contract's scoring metrics. Counts merge by addition, so
 * partial results from many files, devices or machines combine exactly.
 */
public final class ConfusionCounts {
    private final long[] tp;
    private final long[] fp;
    private final long[] fn;
    private final long[] tn;

    /**
     * Counts of C classes: four arrays of length C (copied).
     *
     * @param tp true positives per class (the arrays are copied); not null
     * @param fp false positives per class, as long as tp; not null
     * @param fn false negatives per class, as long as tp; not null
     * @param tn true negatives per class, as long as tp; not null
     * @throws InvalidInputException when the lengths differ
     * @throws NullPointerException when an array is null
     */
    public ConfusionCounts(long[] tp, long[] fp, long[] fn, long[] tn) {
        int c = tp.length;
        if (fp.length != c || fn.length != c || tn.length != c) {
            throw new InvalidInputException("tp, fp, fn, tn must have the same length, were "
                    + c + ", " + fp.length + ", " + fn.length + ", " + tn.length);
        }
        this.tp = tp.clone();
        this.fp = fp.clone();
        this.fn = fn.clone();
        this.tn = tn.clone();
    }

    /**
     * All-zero counts for {@code classes} classes.
     *
     * @param classes the number of classes C, >= 0
     * @return counts of C classes, every count 0 (the start of a sum with {@link #plus})
     * @throws NegativeArraySizeException when classes is negative
     */
    public static ConfusionCounts zero(int classes) {
        return new ConfusionCounts(new long[classes], new long[classes], new long[classes], new long[classes]);
    }

    /**
     * Number of classes C.
     *
     * @return C, >= 0
     */
    public int classes() {
        return tp.length;
    }

    /**
     * True positives of class {@code c}.
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return pixels of class c in both target and prediction, >= 0
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public long tp(int c) {
        return tp[c];
    }

    /**
     * False positives of class {@code c}.
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return pixels predicted as class c whose target is another class, >= 0
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public long fp(int c) {
        return fp[c];
    }

    /**
     * False negatives of class {@code c}.
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return pixels of class c in the target predicted as another class, >= 0
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public long fn(int c) {
        return fn[c];
    }

    /**
     * True negatives of class {@code c}.
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return pixels that are class c in neither target nor prediction, >= 0
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public long tn(int c) {
        return tn[c];
    }

    /**
     * dice_c = 2TP / (2TP + FP + FN); NaN when TP + FP + FN == 0 (undefined).
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return the Dice of class c in [0, 1], or NaN
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public double dice(int c) {
        long d = 2 * tp[c] + fp[c] + fn[c];
        return d == 0 ? Double.NaN : 2.0 * tp[c] / d;
    }

    /**
     * iou_c = TP / (TP + FP + FN); NaN when undefined.
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return the IoU of class c in [0, 1], or NaN
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public double iou(int c) {
        long d = tp[c] + fp[c] + fn[c];
        return d == 0 ? Double.NaN : (double) tp[c] / d;
    }

    /**
     * precision_c = TP / (TP + FP); NaN when TP + FP == 0.
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return the precision of class c in [0, 1], or NaN
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public double precision(int c) {
        long d = tp[c] + fp[c];
        return d == 0 ? Double.NaN : (double) tp[c] / d;
    }

    /**
     * recall_c = TP / (TP + FN); NaN when TP + FN == 0.
     *
     * @param c the class index, in [0, {@link #classes()})
     * @return the recall of class c in [0, 1], or NaN
     * @throws ArrayIndexOutOfBoundsException when c is out of range
     */
    public double recall(int c) {
        long d = tp[c] + fn[c];
        return d == 0 ? Double.NaN : (double) tp[c] / d;
    }

    /**
     * Mean Dice over the classes where it is defined; NaN when none is.
     *
     * @return the unweighted mean in [0, 1], or NaN
     */
    public double meanDice() {
        return mean(true);
    }

    /**
     * Mean IoU over the classes where it is defined; NaN when none is.
     *
     * @return the unweighted mean in [0, 1], or NaN
     */
    public double meanIou() {
        return mean(false);
    }

    private double mean(boolean dice) {
        double sum = 0;
        int k = 0;
        for (int c = 0; c < tp.length; c++) {
            double v = dice ? dice(c) : iou(c);
            if (!Double.isNaN(v)) {
                sum += v;
                k++;
            }
        }
        return k == 0 ? Double.NaN : sum / k;
    }

    /**
     * The sum of these counts and {@code other}'s (same number of classes).
     *
     * @param other counts of the same number of classes; not null
     * @return new counts, class by class sums (exact, 64-bit); neither operand changes
     * @throws InvalidInputException when the numbers of classes differ
     * @throws ArithmeticException when a sum overflows 64 bits
     */
    public ConfusionCounts plus(ConfusionCounts other) {
        if (other.classes() != classes()) {
            throw new InvalidInputException("counts to merge must have the same number of classes, were "
                    + classes() + " and " + other.classes());
        }
        long[][] r = new long[4][classes()];
        for (int c = 0; c < classes(); c++) {
            r[0][c] = Math.addExact(tp[c], other.tp[c]);
            r[1][c] = Math.addExact(fp[c], other.fp[c]);
            r[2][c] = Math.addExact(fn[c], other.fn[c]);
            r[3][c] = Math.addExact(tn[c], other.tn[c]);
        }
        return new ConfusionCounts(r[0], r[1], r[2], r[3]);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConfusionCounts && Arrays.equals(tp, ((ConfusionCounts) o).tp)
                && Arrays.equals(fp, ((ConfusionCounts) o).fp) && Arrays.equals(fn, ((ConfusionCounts) o).fn)
                && Arrays.equals(tn, ((ConfusionCounts) o).tn);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(tp) * 31 + Arrays.hashCode(fn);
    }

    @Override
    public String toString() {
        return "ConfusionCounts{tp=" + Arrays.toString(tp) + ", fp=" + Arrays.toString(fp) + ", fn="
                + Arrays.toString(fn) + ", tn=" + Arrays.toString(tn) + "}";
    }
}
