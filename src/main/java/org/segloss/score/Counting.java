package org.segloss.score;

import java.util.Arrays;
import org.segloss.ConfusionCounts;
import org.segloss.ConfusionSpec;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.LossEngine;
import org.segloss.Mode;

/**
 * The two ways an image is counted.
 *
 * <p>Label map against label map: on the host, one exact integer pass (no device could beat a
 * single read of two int arrays, and uploading a one-hot of C floats per pixel would cost C times
 * the bytes). Per-class scores against a label map: {@link LossEngine#confusion} on the
 * dispatcher's backend (argmax or threshold on the device), fed by the decode threads.
 */
final class Counting {
    /** Largest class count inferred from the data; above it --classes must be given. */
    static final int MAX_INFERRED_CLASSES = 65536;

    private Counting() {
    }

    /** Where flat element {@code i} of an array with these dims is, e.g. {@code (y=3, x=7)}. */
    static String where(long[] dims, long i) {
        long[] pos = new long[dims.length];
        long rest = i;
        for (int d = dims.length - 1; d >= 0; d--) {
            pos[d] = rest % dims[d];
            rest /= dims[d];
        }
        String[] names = dims.length == 2 ? new String[] {"y", "x"} : dims.length == 3 ? new String[] {"z", "y", "x"} : null;
        StringBuilder sb = new StringBuilder("(");
        for (int d = 0; d < dims.length; d++) {
            if (d > 0) {
                sb.append(", ");
            }
            if (names != null) {
                sb.append(names[d]).append('=');
            }
            sb.append(pos[d]);
        }
        return sb.append(')').toString();
    }

    private static String allowed(int classes, Integer ignore) {
        return "[0, " + classes + ")" + (ignore == null ? "" : " or ignore index " + ignore);
    }

    /**
     * Counts a predicted class map against a target class map exactly on the host. With
     * {@code classes == null} the class count is the largest label seen + 1.
     *
     * <p>Per non-ignored pixel with target t and prediction p: p == t adds TP[t]; otherwise FP[p] and
     * FN[t]. TN[c] = valid pixels - TP[c] - FP[c] - FN[c].
     */
    static ConfusionCounts countLabels(Decoder.LabelMap pred, Decoder.LabelMap target, Integer classes, Integer ignore)
            throws BadFileException {
        if (!Arrays.equals(pred.dims, target.dims)) {
            throw new BadFileException("size mismatch: prediction " + Arrays.toString(pred.dims) + ", target "
                    + Arrays.toString(target.dims));
        }
        int[] p = pred.labels;
        int[] t = target.labels;
        boolean hasIgnore = ignore != null;
        int ig = hasIgnore ? ignore : 0;
        // Rows along the fastest axis where the prediction and the target each hold one label are counted at once
        // (most rows of a volume, by far); the others voxel by voxel. The same counts and the same first bad voxel.
        int n = t.length;
        int row = pred.dims.length == 0 ? Math.max(1, n) : (int) Math.max(1, pred.dims[pred.dims.length - 1]);
        // per row, whether it holds one label in each map (found once, read by both passes)
        boolean[] constant = new boolean[(n + row - 1) / row];
        for (int r = 0, from = 0; from < n; r++, from += row) {
            constant[r] = constantRow(p, t, from, Math.min(n, from + row));
        }
        int k;
        if (classes != null) {
            k = classes;
        } else {
            int max = -1;
            for (int r = 0, from = 0; from < n; r++, from += row) {
                int to = Math.min(n, from + row);
                int last = constant[r] ? from + 1 : to;
                for (int i = from; i < last; i++) {
                    int ti = t[i];
                    if (hasIgnore && ti == ig) {
                        continue;
                    }
                    int pi = p[i];
                    if (ti < 0 || pi < 0 || ti >= MAX_INFERRED_CLASSES || pi >= MAX_INFERRED_CLASSES) {
                        String which = ti < 0 || ti >= MAX_INFERRED_CLASSES ? "target" : "prediction";
                        int v = which.equals("target") ? ti : pi;
                        throw new BadFileException("class index out of range: " + which + " label " + v + " at "
                                + where(target.dims, i) + " is outside [0, " + MAX_INFERRED_CLASSES + ") (set --classes)");
                    }
                    max = Math.max(max, Math.max(ti, pi));
                }
            }
            k = Math.max(1, max + 1);
        }
        long[] tp = new long[k];
        long[] fp = new long[k];
        long[] fn = new long[k];
        long valid = 0;
        for (int r = 0, from = 0; from < n; r++, from += row) {
            int to = Math.min(n, from + row);
            int last = constant[r] ? from + 1 : to;
            long weight = constant[r] ? to - from : 1;
            for (int i = from; i < last; i++) {
                int ti = t[i];
                if (hasIgnore && ti == ig) {
                    continue;
                }
                int pi = p[i];
                if (ti < 0 || ti >= k) {
                    throw new BadFileException("class index out of range: target label " + ti + " at " + where(target.dims, i)
                            + " is outside " + allowed(k, ignore));
                }
                if (pi < 0 || pi >= k) {
                    throw new BadFileException("class index out of range: prediction label " + pi + " at "
                            + where(pred.dims, i) + " is outside [0, " + k + ")");
                }
                valid += weight;
                if (pi == ti) {
                    tp[ti] += weight;
                } else {
                    fp[pi] += weight;
                    fn[ti] += weight;
                }
            }
        }
        long[] tn = new long[k];
        for (int c = 0; c < k; c++) {
            tn[c] = valid - tp[c] - fp[c] - fn[c];
        }
        return new ConfusionCounts(tp, fp, fn, tn);
    }

    /** Whether voxels {@code [from, to)} hold one label in {@code p} and one in {@code t}. */
    private static boolean constantRow(int[] p, int[] t, int from, int to) {
        return Arrays.mismatch(p, from, to - 1, p, from + 1, to) < 0 && Arrays.mismatch(t, from, to - 1, t, from + 1, to) < 0;
    }

    /** Per-class scores prepared on a decode thread for {@link #countOnEngine} (the engine's input, checked). */
    static final class EngineJob {
        final Mode mode;
        final Layout layout;
        final long[] shape;
        final float[] pred;
        final Object target;
        final int classes;
        /** Binary only: ignored pixels were set to a fixed negative (or, at threshold 0, positive) prediction. */
        final long ignored;
        final boolean ignoredCountAsPositive;

        EngineJob(Mode mode, Layout layout, long[] shape, float[] pred, Object target, int classes, long ignored,
                  boolean ignoredCountAsPositive) {
            this.mode = mode;
            this.layout = layout;
            this.shape = shape;
            this.pred = pred;
            this.target = target;
            this.classes = classes;
            this.ignored = ignored;
            this.ignoredCountAsPositive = ignoredCountAsPositive;
        }
    }

    /**
     * Matches a score array to its target: {@code (C, *S)} (nchw) or {@code (*S, C)} (nhwc) with
     * {@code *S} the target's dims, or {@code *S} alone for one binary channel. C == 1 is binary
     * (threshold), C >= 2 multiclass (argmax). {@code layout == null} tries channels first, then last.
     */
    static EngineJob prepare(Decoder.Scores scores, Decoder.LabelMap target, Integer classes, Integer ignore,
                             double threshold, boolean fromLogits, Layout layout) throws BadFileException {
        long[] sp = scores.shape;
        long[] td = target.dims;
        long[] fit = fit(sp, td, layout);
        Layout chosen = fit[0] == 0 ? Layout.NCHW : Layout.NHWC;
        long channels = fit[1];
        int[] t = target.labels;
        boolean hasIgnore = ignore != null;
        int ig = hasIgnore ? ignore : 0;
        if (channels == 1) {
            if (classes != null && classes != 2) {
                throw new BadFileException("a one-channel (binary) prediction scores 2 classes (0 background, 1 foreground), --classes is " + classes);
            }
            float[] x = scores.values;
            float[] tf = new float[t.length];
            double cut = fromLogits ? Math.log(threshold / (1 - threshold)) : threshold;
            // An ignored pixel gets target 0 and this prediction; its known contribution is removed after counting.
            float fill = fromLogits ? -Float.MAX_VALUE : 0f;
            boolean fillPositive = fill >= cut;
            long ignored = 0;
            for (int i = 0; i < t.length; i++) {
                int ti = t[i];
                if (hasIgnore && ti == ig) {
                    x[i] = fill;
                    ignored++;
                } else if (ti == 0 || ti == 1) {
                    tf[i] = ti;
                } else {
                    throw new BadFileException("class index out of range: target label " + ti + " at " + where(td, i)
                            + " is outside " + allowed(2, ignore) + " for a one-channel (binary) prediction");
                }
            }
            long[] shape = new long[td.length + 2];
            shape[0] = 1;
            shape[1] = 1;
            System.arraycopy(td, 0, shape, 2, td.length);
            return new EngineJob(Mode.BINARY, Layout.NCHW, shape, x, tf, 2, ignored, fillPositive);
        }
        if (channels > MAX_INFERRED_CLASSES) {
            throw new BadFileException("prediction has " + channels + " channels, at most " + MAX_INFERRED_CLASSES);
        }
        int c = (int) channels;
        if (classes != null && classes != c) {
            throw new BadFileException("prediction has " + c + " class channels, --classes is " + classes);
        }
        boolean fitsByte = true;
        for (int i = 0; i < t.length; i++) {
            int ti = t[i];
            if (hasIgnore && ti == ig) {
                fitsByte &= ti >= 0 && ti <= 255;
                continue;
            }
            if (ti < 0 || ti >= c) {
                throw new BadFileException("class index out of range: target label " + ti + " at " + where(td, i)
                        + " is outside " + allowed(c, ignore));
            }
            fitsByte &= ti <= 255;
        }
        Object tgt;
        if (fitsByte) {
            byte[] b = new byte[t.length];
            for (int i = 0; i < t.length; i++) {
                b[i] = (byte) t[i];
            }
            tgt = b;
        } else {
            tgt = t;
        }
        long[] shape = new long[sp.length + 1];
        shape[0] = 1;
        System.arraycopy(sp, 0, shape, 1, sp.length);
        return new EngineJob(Mode.MULTICLASS, chosen, shape, scores.values, tgt, c, 0, false);
    }

    /**
     * How scores of shape {@code sp} fit a target of shape {@code td}: {layout (0 nchw, 1 nhwc),
     * channels}; the same shape is one channel, else the class axis first or last (as {@code layout}
     * allows). A shape that does not fit is a {@link BadFileException}. Needs the shapes only, so it is
     * also checked from the files' headers before their data is read.
     */
    static long[] fit(long[] sp, long[] td, Layout layout) throws BadFileException {
        if (Arrays.equals(sp, td)) {
            return new long[] {0, 1};
        } else if (sp.length == td.length + 1) {
            boolean first = Arrays.equals(Arrays.copyOfRange(sp, 1, sp.length), td);
            boolean last = Arrays.equals(Arrays.copyOfRange(sp, 0, sp.length - 1), td);
            if (first && layout != Layout.NHWC) {
                return new long[] {0, sp[0]};
            } else if (last && layout != Layout.NCHW) {
                return new long[] {1, sp[sp.length - 1]};
            }
        }
        throw mismatch(sp, td, layout);
    }

    private static BadFileException mismatch(long[] sp, long[] td, Layout layout) {
        return new BadFileException("size mismatch: prediction " + Arrays.toString(sp) + " does not fit target "
                + Arrays.toString(td) + " (want " + (layout == Layout.NHWC ? "" : "(C, *S) or ")
                + (layout == Layout.NCHW ? "" : "(*S, C) or ") + "*S with *S the target's shape)");
    }

    /**
     * Counts a prepared job on the engine. Binary jobs come back as two classes: background
     * (0) with TP0 = TN1, FP0 = FN1, FN0 = FP1, TN0 = TP1, and foreground (1), after removing the
     * ignored pixels' known contribution (TN1, or FP1 at threshold 0).
     */
    static ConfusionCounts countOnEngine(LossEngine engine, EngineJob job, Integer ignore, double threshold,
                                         boolean fromLogits) throws BadFileException {
        ConfusionCounts k;
        try {
            k = engine.confusion(ConfusionSpec.builder(job.mode).fromLogits(fromLogits).layout(job.layout)
                    .ignoreIndex(job.mode == Mode.MULTICLASS ? ignore : null).threshold(threshold).build(),
                    job.pred, job.shape, job.target);
        } catch (InvalidInputException e) {
            throw new BadFileException(e.getMessage());
        }
        if (job.mode == Mode.MULTICLASS) {
            return k;
        }
        long tp1 = k.tp(0);
        long fp1 = k.fp(0) - (job.ignoredCountAsPositive ? job.ignored : 0);
        long fn1 = k.fn(0);
        long tn1 = k.tn(0) - (job.ignoredCountAsPositive ? 0 : job.ignored);
        return new ConfusionCounts(new long[] {tn1, tp1}, new long[] {fn1, fp1}, new long[] {fp1, fn1},
                new long[] {tp1, tn1});
    }
}
