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
        /** The first class computed: 1 with --exclude-background (class 0 enters no mean), else 0. */
        final int fromClass;

        Job(double tolerance, double[] spacing, Transform transform, int fromClass) {
            this.tolerance = tolerance;
            this.spacing = spacing;
            this.transform = transform;
            this.fromClass = fromClass;
        }
    }

    /** The values of one counted pair, with the spacing of {@link #spacing}. */
    static Values of(Decoder.LabelMap pred, Decoder.LabelMap target, int classes, Integer ignore, Job job)
            throws BadFileException {
        return compute(pred, target, classes, ignore, spacing(target, job.spacing), job.tolerance, job.transform, job.fromClass);
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
        return compute(pred, target, classes, ignore, spacing, tolerance, transform, 0);
    }

    /**
     * As above for the classes from {@code fromClass} on; the classes before it are left undefined
     * (with --exclude-background: class 0, whose boundary holds every face of the array, is the most
     * expensive class and enters no mean).
     */
    static Values compute(Decoder.LabelMap pred, Decoder.LabelMap target, int classes, Integer ignore, double[] spacing,
                          double tolerance, Transform transform, int fromClass) {
        long[] ld = target.dims;
        int rank = ld.length;
        // Work in 3-D (z, y, x): a 2-D image is one slice, a 1-D array one row; spacing slowest first.
        int[] d3 = {1, 1, 1};
        double[] s3 = {1, 1, 1};
        for (int i = 0; i < rank; i++) {
            d3[3 - rank + i] = (int) ld[i];
            s3[3 - rank + i] = spacing[rank - 1 - i];
        }
        int nz = d3[0];
        int ny = d3[1];
        int nx = d3[2];
        int[] p = pred.labels;
        int[] t = target.labels;
        Values out = new Values(classes);
        // Bounding boxes of (pred == c or target == c) over valid voxels: [c][0..5] = z0, z1, y0, y1, x0, x1.
        int[][] box = new int[classes][];
        boolean[] inPred = new boolean[classes];
        boolean[] inTarget = new boolean[classes];
        boolean hasIgnore = ignore != null;
        int ig = hasIgnore ? ignore : 0;
        // Per row: the first and last x of each class (x grows along the row), folded into the boxes at its end.
        int[] rowFirst = new int[classes];
        int[] rowLast = new int[classes];
        Arrays.fill(rowLast, -1);
        for (int z = 0, i = 0; z < nz; z++) {
            for (int y = 0; y < ny; y++) {
                for (int x = 0; x < nx; x++, i++) {
                    int ti = t[i];
                    if (hasIgnore && ti == ig) {
                        continue;
                    }
                    int pi = p[i];
                    if (ti >= fromClass && ti < classes) {
                        inTarget[ti] = true;
                        if (rowLast[ti] < 0) {
                            rowFirst[ti] = x;
                        }
                        rowLast[ti] = x;
                    }
                    if (pi >= fromClass && pi < classes) {
                        inPred[pi] = true;
                        if (rowLast[pi] < 0) {
                            rowFirst[pi] = x;
                        }
                        rowLast[pi] = x;
                    }
                }
                for (int c = fromClass; c < classes; c++) {
                    if (rowLast[c] >= 0) {
                        grow(box, c, z, y, rowFirst[c]);
                        grow(box, c, z, y, rowLast[c]);
                        rowLast[c] = -1;
                    }
                }
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
            one(c, p, t, hasIgnore, ig, d3, box[c], s3, rank, tolerance, transform, out);
        }
        return out;
    }

    private static void grow(int[][] box, int c, int z, int y, int x) {
        int[] b = box[c];
        if (b == null) {
            box[c] = new int[] {z, z, y, y, x, x};
            return;
        }
        // voxels come in (z, y, x) order: z only grows
        b[1] = z;
        if (y < b[2]) {
            b[2] = y;
        }
        if (y > b[3]) {
            b[3] = y;
        }
        if (x < b[4]) {
            b[4] = x;
        }
        if (x > b[5]) {
            b[5] = x;
        }
    }

    /** Class {@code c}, both masks non-empty: boundaries in the crop, two transforms, the three values. */
    private static void one(int c, int[] p, int[] t, boolean hasIgnore, int ig, int[] d3, int[] box, double[] s3, int rank,
                            double tolerance, Transform transform, Values out) {
        int ny = d3[1];
        int nx = d3[2];
        int cz = box[1] - box[0] + 1;
        int cy = box[3] - box[2] + 1;
        int cx = box[5] - box[4] + 1;
        int n = cz * cy * cx;
        // Masks in the crop: bit 1 prediction, bit 2 target.
        byte[] mask = new byte[n];
        for (int z = 0, i = 0; z < cz; z++) {
            for (int y = 0; y < cy; y++) {
                int row = ((box[0] + z) * ny + box[2] + y) * nx + box[4];
                for (int x = 0; x < cx; x++, i++) {
                    int ti = t[row + x];
                    if (!(hasIgnore && ti == ig)) {
                        mask[i] = (byte) ((p[row + x] == c ? 1 : 0) | (ti == c ? 2 : 0));
                    }
                }
            }
        }
        // Boundary: in the mask with a face neighbour outside it (outside the crop is outside the mask).
        byte[] boundary = new byte[n];
        int countA = 0;
        int countB = 0;
        // The boundary voxels in raster order.
        int[] list = new int[1024];
        int nb = 0;
        // Neighbour offsets; an axis the array lacks reads the voxel itself (m & m = m).
        int sy = rank >= 2 ? cx : 0;
        int sz = rank >= 3 ? cx * cy : 0;
        for (int z = 0, i = 0; z < cz; z++) {
            for (int y = 0; y < cy; y++, i += cx) {
                // A row on a y or z face of the crop: every voxel of the mask is on its boundary; so are both ends of a row.
                boolean face = rank >= 2 && (y == 0 || y == cy - 1) || rank >= 3 && (z == 0 || z == cz - 1);
                int first = face ? cx : 1;
                for (int x = 0; x < cx; x++) {
                    int j = i + x;
                    int m = mask[j];
                    int b = m;
                    if (x >= first && x < cx - 1) {
                        b = m & ~(mask[j - 1] & mask[j + 1] & mask[j - sy] & mask[j + sy] & mask[j - sz] & mask[j + sz]);
                    }
                    boundary[j] = (byte) b;
                    countA += b & 1;
                    countB += (b >> 1) & 1;
                    if (b != 0) {
                        if (nb == list.length) {
                            list = Arrays.copyOf(list, 2 * nb);
                        }
                        list[nb++] = j;
                    }
                }
            }
        }
        int[] c3 = {cz, cy, cx};
        // Squared distances of the boundary voxels of one mask that are not on the other's (shared by both
        // directions: those sets are disjoint), by position in the list of boundary voxels; a voxel on both
        // boundaries is at distance 0.
        float[] val = new float[nb];
        double[] dA = distances(boundary, list, nb, 1, 2, countA, c3, s3, rank, transform, val);
        double[] dB = distances(boundary, list, nb, 2, 1, countB, c3, s3, rank, transform, val);
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

    /** Tile edge (voxels) of the query voxels that share one distance transform. */
    static final int TILE = 32;

    /**
     * Distances from the boundary voxels with bit {@code from} to the nearest with bit {@code to}, in
     * raster order. A query voxel that is a feature itself is at 0. The others are grouped by tile;
     * each tile's query voxels get their distances from a transform over their bounding box grown by
     * an upper bound R of their distances (the nearest feature along one of the three axis lines
     * through each): every feature within R of a query voxel lies in that box, so the box holds each
     * query voxel's nearest feature and the transform is exact there. When the boxes together are not
     * smaller than the crop, one transform over the whole crop.
     */
    private static double[] distances(byte[] boundary, int[] list, int nb, int from, int to, int count, int[] c3,
                                      double[] s3, int rank, Transform transform, float[] val) {
        int cz = c3[0];
        int cy = c3[1];
        int cx = c3[2];
        int plane = cx * cy;
        int tz = (cz + TILE - 1) / TILE;
        int ty = (cy + TILE - 1) / TILE;
        int tx = (cx + TILE - 1) / TILE;
        int tiles = tz * ty * tx;
        // Per tile: bounding box of its query voxels (z0, z1, y0, y1, x0, x1) and the largest bound.
        int[] qb = new int[tiles * 6];
        double[] r = new double[tiles];
        int[] members = new int[tiles];
        // Per entry of the list: its tile when it is a query voxel off the other boundary, else -1.
        int[] tileOf = new int[nb];
        boolean whole = false;
        for (int e = 0; e < nb; e++) {
            int i = list[e];
            int b = boundary[i];
            tileOf[e] = -1;
            if ((b & from) == 0 || (b & to) != 0 || whole) {
                continue;
            }
            int z = i / plane;
            int y = (i - z * plane) / cx;
            int x = i - z * plane - y * cx;
            double bound = walk(boundary, to, i, x, cx, 1, s3[2], Double.POSITIVE_INFINITY);
            bound = walk(boundary, to, i, y, cy, cx, s3[1], bound);
            bound = walk(boundary, to, i, z, cz, plane, s3[0], bound);
            if (bound == Double.POSITIVE_INFINITY) {
                whole = true;
                continue;
            }
            int t = ((z / TILE) * ty + y / TILE) * tx + x / TILE;
            tileOf[e] = t;
            int o = t * 6;
            if (members[t]++ == 0) {
                qb[o] = qb[o + 1] = z;
                qb[o + 2] = qb[o + 3] = y;
                qb[o + 4] = qb[o + 5] = x;
            } else {
                qb[o + 1] = z;
                qb[o + 2] = Math.min(qb[o + 2], y);
                qb[o + 3] = Math.max(qb[o + 3], y);
                qb[o + 4] = Math.min(qb[o + 4], x);
                qb[o + 5] = Math.max(qb[o + 5], x);
            }
            r[t] = Math.max(r[t], bound);
        }
        int n = cz * plane;
        int[][] boxes = new int[tiles][];
        long work = 0;
        for (int t = 0; t < tiles && !whole; t++) {
            if (members[t] == 0) {
                continue;
            }
            int[] bx = new int[6];
            for (int a = 0; a < 3; a++) {
                // + 1 voxel: R / spacing rounded
                int m = (int) Math.min(c3[a], Math.floor(r[t] / s3[a]) + 1);
                bx[2 * a] = Math.max(0, qb[t * 6 + 2 * a] - m);
                bx[2 * a + 1] = Math.min(c3[a] - 1, qb[t * 6 + 2 * a + 1] + m);
            }
            boxes[t] = bx;
            work += (long) (bx[1] - bx[0] + 1) * (bx[3] - bx[2] + 1) * (bx[5] - bx[4] + 1);
        }
        if (whole || work >= n) {
            float[] grid = new float[n];
            for (int i = 0; i < n; i++) {
                grid[i] = (boundary[i] & to) != 0 ? 0f : Float.POSITIVE_INFINITY;
            }
            transform.squared(grid, Arrays.copyOfRange(c3, 3 - rank, 3), Arrays.copyOfRange(s3, 3 - rank, 3));
            for (int e = 0; e < nb; e++) {
                int b = boundary[list[e]];
                if ((b & from) != 0 && (b & to) == 0) {
                    val[e] = grid[list[e]];
                }
            }
        } else {
            // The entries of each tile together (counting sort by tile, in list order within a tile).
            int[] start = new int[tiles + 1];
            for (int t = 0; t < tiles; t++) {
                start[t + 1] = start[t] + members[t];
            }
            int[] order = new int[start[tiles]];
            int[] fill = Arrays.copyOf(start, tiles);
            for (int e = 0; e < nb; e++) {
                if (tileOf[e] >= 0) {
                    order[fill[tileOf[e]]++] = e;
                }
            }
            double[] sp = Arrays.copyOfRange(s3, 3 - rank, 3);
            for (int t = 0; t < tiles; t++) {
                int[] bx = boxes[t];
                if (bx == null) {
                    continue;
                }
                int bz = bx[1] - bx[0] + 1;
                int by = bx[3] - bx[2] + 1;
                int bw = bx[5] - bx[4] + 1;
                float[] grid = new float[bz * by * bw];
                for (int z = 0, j = 0; z < bz; z++) {
                    for (int y = 0; y < by; y++) {
                        int row = ((bx[0] + z) * cy + bx[2] + y) * cx + bx[4];
                        for (int x = 0; x < bw; x++, j++) {
                            grid[j] = (boundary[row + x] & to) != 0 ? 0f : Float.POSITIVE_INFINITY;
                        }
                    }
                }
                int[] bd = {bz, by, bw};
                transform.squared(grid, Arrays.copyOfRange(bd, 3 - rank, 3), sp);
                for (int k = start[t]; k < start[t + 1]; k++) {
                    int e = order[k];
                    int i = list[e];
                    int z = i / plane;
                    int y = (i - z * plane) / cx;
                    int x = i - z * plane - y * cx;
                    val[e] = grid[((z - bx[0]) * by + y - bx[2]) * bw + x - bx[4]];
                }
            }
        }
        double[] out = new double[count];
        int k = 0;
        for (int e = 0; e < nb; e++) {
            int b = boundary[list[e]];
            if ((b & from) != 0) {
                out[k++] = (b & to) != 0 ? 0.0 : Math.sqrt(val[e]);
            }
        }
        return out;
    }

    /**
     * The distance {@code k * s} to the nearest voxel with bit {@code to} along one axis line through
     * voxel {@code i} (at {@code pos} of {@code len}, {@code step} apart), if below {@code best}; else best.
     */
    private static double walk(byte[] boundary, int to, int i, int pos, int len, int step, double s, double best) {
        for (int k = 1; ; k++) {
            double d = k * s;
            boolean lo = pos - k >= 0;
            boolean hi = pos + k < len;
            if (d >= best || !lo && !hi) {
                return best;
            }
            if (lo && (boundary[i - k * step] & to) != 0 || hi && (boundary[i + k * step] & to) != 0) {
                return d;
            }
        }
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
