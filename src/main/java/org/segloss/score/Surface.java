package org.segloss.score;

import java.util.Arrays;

/**
 * Surface distances of one image or volume per class (spec: "Surface distances (scoring)"): HD95,
 * ASSD and NSD between the boundaries of the predicted and the target mask, from an exact Euclidean
 * distance transform. Each class is cropped to the bounding box of both masks first: every boundary
 * voxel lies inside it, so the distances are the same as over the whole array.
 */
final class Surface {
    /** The squared distance transform: a grid, 0 at features and +inf elsewhere, transformed in place. */
    interface Transform {
        void squared(float[] grid, int[] dims, double[] spacing);
    }

    /** Per class: NaN where undefined; {@code missed} where exactly one mask is empty. */
    static final class Values {
        final double[] hd95;
        final double[] assd;
        final double[] nsd;
        final boolean[] missed;

        Values(int classes) {
            hd95 = new double[classes];
            assd = new double[classes];
            nsd = new double[classes];
            missed = new boolean[classes];
            Arrays.fill(hd95, Double.NaN);
            Arrays.fill(assd, Double.NaN);
            Arrays.fill(nsd, Double.NaN);
        }

        Values(double[] hd95, double[] assd, double[] nsd, boolean[] missed) {
            this.hd95 = hd95;
            this.assd = assd;
            this.nsd = nsd;
            this.missed = missed;
        }

        int classes() {
            return hd95.length;
        }

        /** Widened to {@code classes} classes: the new ones are undefined (both masks empty). */
        Values widen(int classes) {
            if (classes == classes()) {
                return this;
            }
            Values v = new Values(classes);
            System.arraycopy(hd95, 0, v.hd95, 0, classes());
            System.arraycopy(assd, 0, v.assd, 0, classes());
            System.arraycopy(nsd, 0, v.nsd, 0, classes());
            System.arraycopy(missed, 0, v.missed, 0, classes());
            return v;
        }
    }

    /** Why a pair of per-class scores is skipped with --surface. */
    static final String NEEDS_CLASS_MAP = "--surface needs a class-map prediction (PNG, integer .npy or NIfTI), not per-class"
            + " scores: write the argmax (or the thresholded mask) first";

    private Surface() {
    }

    /** What {@code --surface} needs for one pair: the NSD tolerance, the --spacing (x first) or null, the transform. */
    static final class Job {
        final double tolerance;
        final double[] spacing;
        final Transform transform;

        Job(double tolerance, double[] spacing, Transform transform) {
            this.tolerance = tolerance;
            this.spacing = spacing;
            this.transform = transform;
        }
    }

    /** The values of one counted pair, with the spacing of {@link #spacing}. */
    static Values of(Decoder.LabelMap pred, Decoder.LabelMap target, int classes, Integer ignore, Job job)
            throws BadFileException {
        return compute(pred, target, classes, ignore, spacing(target, job.spacing), job.tolerance, job.transform);
    }

    /**
     * The spacing of an image, x first: {@code given} (--spacing), else the file's (NIfTI pixdim),
     * else 1 per axis. Refused: a given spacing with another number of axes than the image, a file
     * spacing that is not finite and > 0.
     */
    static double[] spacing(Decoder.LabelMap target, double[] given) throws BadFileException {
        int rank = target.dims.length;
        if (given != null) {
            if (given.length != rank) {
                throw new BadFileException("--spacing has " + given.length + " values, the image has " + rank + " axes "
                        + Arrays.toString(target.dims));
            }
            return given;
        }
        if (target.spacing != null) {
            for (int i = 0; i < rank; i++) {
                double v = target.spacing[i];
                if (!(v > 0) || Double.isInfinite(v)) {
                    throw new BadFileException("NIfTI pixdim[" + (i + 1) + "] is " + v
                            + "; surface distances need a spacing > 0 (set --spacing)");
                }
            }
            return target.spacing;
        }
        double[] ones = new double[rank];
        Arrays.fill(ones, 1.0);
        return ones;
    }

    /**
     * The values of every class in {@code [0, classes)}. {@code spacing} is x first (as the CLI and
     * NIfTI's pixdim give it), one per axis; {@code tolerance} is NSD's tau in the same units.
     */
    static Values compute(Decoder.LabelMap pred, Decoder.LabelMap target, int classes, Integer ignore, double[] spacing,
                          double tolerance, Transform transform) {
        long[] ld = target.dims;
        int rank = ld.length;
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = (int) ld[i];
        }
        double[] sp = new double[rank];
        for (int i = 0; i < rank; i++) {
            sp[i] = spacing[rank - 1 - i];
        }
        int[] p = pred.labels;
        int[] t = target.labels;
        Values out = new Values(classes);
        // Bounding boxes of pred == c or target == c (valid voxels), per class and axis.
        int[][] lo = new int[classes][rank];
        int[][] hi = new int[classes][rank];
        for (int[] l : lo) {
            Arrays.fill(l, Integer.MAX_VALUE);
        }
        for (int[] h : hi) {
            Arrays.fill(h, -1);
        }
        boolean[] inPred = new boolean[classes];
        boolean[] inTarget = new boolean[classes];
        boolean hasIgnore = ignore != null;
        int ig = hasIgnore ? ignore : 0;
        int[] pos = new int[rank];
        for (int i = 0; i < t.length; i++) {
            int ti = t[i];
            if (!(hasIgnore && ti == ig)) {
                int pi = p[i];
                if (ti >= 0 && ti < classes) {
                    inTarget[ti] = true;
                    grow(lo[ti], hi[ti], pos);
                }
                if (pi >= 0 && pi < classes) {
                    inPred[pi] = true;
                    if (pi != ti) {
                        grow(lo[pi], hi[pi], pos);
                    }
                }
            }
            for (int d = rank - 1; d >= 0; d--) {
                if (++pos[d] < dims[d]) {
                    break;
                }
                pos[d] = 0;
            }
        }
        for (int c = 0; c < classes; c++) {
            if (!inPred[c] && !inTarget[c]) {
                continue;
            }
            if (inPred[c] != inTarget[c]) {
                out.missed[c] = true;
                out.nsd[c] = 0;
                continue;
            }
            one(c, p, t, hasIgnore, ig, dims, lo[c], hi[c], sp, tolerance, transform, out);
        }
        return out;
    }

    private static void grow(int[] lo, int[] hi, int[] pos) {
        for (int d = 0; d < pos.length; d++) {
            if (pos[d] < lo[d]) {
                lo[d] = pos[d];
            }
            if (pos[d] > hi[d]) {
                hi[d] = pos[d];
            }
        }
    }

    /** Class {@code c}, both masks non-empty: boundaries in the crop, two transforms, the three values. */
    private static void one(int c, int[] p, int[] t, boolean hasIgnore, int ig, int[] dims, int[] lo, int[] hi,
                            double[] sp, double tolerance, Transform transform, Values out) {
        int rank = dims.length;
        int[] cd = new int[rank];
        int n = 1;
        for (int d = 0; d < rank; d++) {
            cd[d] = hi[d] - lo[d] + 1;
            n *= cd[d];
        }
        // Masks in the crop: bit 1 prediction, bit 2 target.
        byte[] mask = new byte[n];
        int[] full = new int[rank];
        int[] strides = new int[rank];
        int s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            strides[d] = s;
            s *= dims[d];
        }
        int[] q = new int[rank];
        for (int i = 0; i < n; i++) {
            int idx = 0;
            for (int d = 0; d < rank; d++) {
                full[d] = lo[d] + q[d];
                idx += full[d] * strides[d];
            }
            int ti = t[idx];
            if (!(hasIgnore && ti == ig)) {
                int m = 0;
                if (p[idx] == c) {
                    m |= 1;
                }
                if (ti == c) {
                    m |= 2;
                }
                mask[i] = (byte) m;
            }
            for (int d = rank - 1; d >= 0; d--) {
                if (++q[d] < cd[d]) {
                    break;
                }
                q[d] = 0;
            }
        }
        int[] cs = new int[rank];
        s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            cs[d] = s;
            s *= cd[d];
        }
        // Boundary: in the mask with a face neighbour outside it (outside the crop is outside the mask).
        byte[] boundary = new byte[n];
        int countA = 0;
        int countB = 0;
        Arrays.fill(q, 0);
        for (int i = 0; i < n; i++) {
            int m = mask[i];
            if (m != 0) {
                int inAll = 3;
                for (int d = 0; d < rank; d++) {
                    inAll &= q[d] > 0 ? mask[i - cs[d]] : 0;
                    inAll &= q[d] < cd[d] - 1 ? mask[i + cs[d]] : 0;
                }
                int b = m & ~inAll;
                boundary[i] = (byte) b;
                countA += b & 1;
                countB += (b >> 1) & 1;
            }
            for (int d = rank - 1; d >= 0; d--) {
                if (++q[d] < cd[d]) {
                    break;
                }
                q[d] = 0;
            }
        }
        double[] dA = distances(boundary, 1, 2, countA, cd, sp, transform);
        double[] dB = distances(boundary, 2, 1, countB, cd, sp, transform);
        double sum = 0;
        long within = 0;
        for (double x : dA) {
            sum += x;
            within += x <= tolerance ? 1 : 0;
        }
        for (double x : dB) {
            sum += x;
            within += x <= tolerance ? 1 : 0;
        }
        long both = (long) dA.length + dB.length;
        out.hd95[c] = Math.max(percentile95(dA), percentile95(dB));
        out.assd[c] = sum / both;
        out.nsd[c] = (double) within / both;
    }

    /** Distances from the boundary voxels with bit {@code from} to the nearest with bit {@code to}. */
    private static double[] distances(byte[] boundary, int from, int to, int count, int[] cd, double[] sp, Transform transform) {
        float[] grid = new float[boundary.length];
        for (int i = 0; i < grid.length; i++) {
            grid[i] = (boundary[i] & to) != 0 ? 0f : Float.POSITIVE_INFINITY;
        }
        transform.squared(grid, cd, sp);
        double[] out = new double[count];
        int k = 0;
        for (int i = 0; i < grid.length; i++) {
            if ((boundary[i] & from) != 0) {
                out[k++] = Math.sqrt(grid[i]);
            }
        }
        return out;
    }

    /**
     * numpy's default percentile (method 'linear') at 95: sorted x, position h = 0.95 (n - 1),
     * {@code x[floor h] + (x[floor h + 1] - x[floor h]) (h - floor h)}, evaluated as numpy's lerp does
     * (from the upper end when the fraction is >= 0.5).
     */
    static double percentile95(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        double h = 0.95 * (s.length - 1);
        int i = (int) Math.floor(h);
        double frac = h - i;
        double a = s[i];
        double b = s[Math.min(i + 1, s.length - 1)];
        double diff = b - a;
        return frac >= 0.5 ? b - diff * (1 - frac) : a + diff * frac;
    }
}
