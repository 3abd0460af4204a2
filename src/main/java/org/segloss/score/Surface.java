package org.segloss.score;

import java.util.Arrays;
import org.segloss.backend.cpu.DistanceTransform;

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

        /**
         * As above where only the values inside the box from {@code lo} to {@code hi} (per axis,
         * inclusive) are read afterwards; a transform may leave the others undefined.
         */
        default void squared(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi) {
            squared(grid, dims, spacing);
        }

        /**
         * As above where, further, only the lines along the last pass's axis (dims[0]) marked in
         * {@code lastLines} (by offset in the grid's slowest slab) are read afterwards.
         */
        default void squared(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, boolean[] lastLines) {
            squared(grid, dims, spacing, lo, hi);
        }

        /** Whether the transform takes a grid with its first pass done ({@link #afterFirstPass}). */
        default boolean takesFirstPass() {
            return false;
        }

        /**
         * As the box call above on a grid whose first pass is done already, where only the values at the grid
         * indices {@code wanted} are read afterwards, as {@link DistanceTransform#afterFirstPass(float[], int[],
         * double[], int[], int[], int[])} describes; only where {@link #takesFirstPass()}.
         */
        default void afterFirstPass(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, int[] wanted) {
            throw new UnsupportedOperationException("this transform does not take a grid with its first pass done");
        }
    }

    /** The Java transform (the CPU backend's), computing only the values asked for. */
    static final Transform JAVA = new Transform() {
        @Override
        public void squared(float[] grid, int[] dims, double[] spacing) {
            DistanceTransform.squared(grid, dims, spacing);
        }

        @Override
        public void squared(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi) {
            DistanceTransform.squared(grid, dims, spacing, lo, hi);
        }

        @Override
        public void squared(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, boolean[] lastLines) {
            DistanceTransform.squared(grid, dims, spacing, lo, hi, lastLines);
        }

        @Override
        public boolean takesFirstPass() {
            return true;
        }

        @Override
        public void afterFirstPass(float[] grid, int[] dims, double[] spacing, int[] lo, int[] hi, int[] wanted) {
            DistanceTransform.afterFirstPass(grid, dims, spacing, lo, hi, wanted);
        }
    };

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
        Values out = new Values(classes);
        Boundaries b = Boundaries.of(pred.labels, target.labels, d3, rank, ignore, fromClass, classes);
        int plane = d3[1] * d3[2];
        try {
            for (int c = fromClass; c < classes; c++) {
                int[] list = b.lists[c];
                int nb = b.sizes[c];
                if (nb == 0) {
                    continue;
                }
                // Both masks' boundary voxels hold each mask's extremes along every axis: their bounding box
                // (z0, z1, y0, y1, x0, x1) is the crop. The list is in raster order: z only grows.
                int[] box = {list[0] / plane, list[nb - 1] / plane, Integer.MAX_VALUE, -1, Integer.MAX_VALUE, -1};
                int countA = 0;
                int countB = 0;
                byte[] eb = b.bitLists[c];
                Raster at = new Raster(d3, list[0]);
                for (int e = 0; e < nb; e++) {
                    int i = list[e];
                    int bits = eb[e];
                    countA += bits & 1;
                    countB += bits >> 1;
                    at.moveTo(i);
                    int y = at.y;
                    int x = i - at.rowStart;
                    box[2] = Math.min(box[2], y);
                    box[3] = Math.max(box[3], y);
                    box[4] = Math.min(box[4], x);
                    box[5] = Math.max(box[5], x);
                }
                if ((countA == 0) != (countB == 0)) {
                    out.missed[c] = true;
                    out.nsd[c] = 0;
                    continue;
                }
                one(c, b, countA, countB, box, s3, rank, tolerance, transform, out);
            }
        } finally {
            b.release();
        }
        return out;
    }

    /**
     * The boundary voxels of every class at once, from one pass over the whole array: per voxel, bit 1
     * when it is on the boundary of its predicted class's mask, bit 2 when on its target class's (a
     * voxel belongs to one class in each, so two bits say it for every class); per class, its boundary
     * voxels in raster order, each with its bits for that class. Buffers are kept per thread and reused from one
     * image to the next.
     */
    static final class Boundaries {
        private static final ThreadLocal<Boundaries> PER_THREAD = ThreadLocal.withInitial(Boundaries::new);

        byte[] code = new byte[0];
        /** At least one row of zero codes. */
        byte[] zeros = new byte[0];
        int[][] lists = new int[0][];
        int[] sizes = new int[0];
        /** Per class, parallel to its list: bit 1 when the voxel is on its predicted mask's boundary, bit 2 the target's. */
        byte[][] bitLists = new byte[0][];
        /** Per row of the array: whether it holds one predicted label, one target label. */
        boolean[] constantP = new boolean[0];
        boolean[] constantT = new boolean[0];
        /** A transform's grid, when the transform takes it with its first pass done (every value is written). */
        float[] grid = new float[0];
        /** One row's feature positions. */
        int[] rowFeatures = new int[0];
        int[] p;
        int[] t;
        int[] d3;

        /** Fills this thread's buffers for {@code pred} and {@code target} (dims d3 = z, y, x; rank the array's). */
        static Boundaries of(int[] p, int[] t, int[] d3, int rank, Integer ignore, int fromClass, int classes) {
            Boundaries b = PER_THREAD.get();
            int nz = d3[0];
            int ny = d3[1];
            int nx = d3[2];
            int n = nz * ny * nx;
            if (b.code.length < n) {
                b.code = new byte[n];
            }
            if (b.zeros.length < nx) {
                b.zeros = new byte[nx];
            }
            if (b.lists.length < classes) {
                int[][] lists = Arrays.copyOf(b.lists, classes);
                for (int c = b.lists.length; c < classes; c++) {
                    lists[c] = new int[1024];
                }
                b.lists = lists;
                byte[][] bitLists = Arrays.copyOf(b.bitLists, classes);
                for (int c = b.bitLists.length; c < classes; c++) {
                    bitLists[c] = new byte[1024];
                }
                b.bitLists = bitLists;
                b.sizes = new int[classes];
            }
            Arrays.fill(b.sizes, 0);
            b.p = p;
            b.t = t;
            b.d3 = d3;
            byte[] code = b.code;
            boolean hasIgnore = ignore != null;
            int ig = hasIgnore ? ignore : 0;
            // Neighbour offsets; an axis the array lacks reads the voxel itself (never a difference).
            int sy = rank >= 2 ? nx : 0;
            int sz = rank >= 3 ? nx * ny : 0;
            // Per row, whether it holds one label in the prediction and in the target: a row off the faces is
            // uniform when it and its four face-neighbour rows hold one label, the same (rows, not voxels, apart).
            int rows = nz * ny;
            if (b.constantP.length < rows) {
                b.constantP = new boolean[rows];
                b.constantT = new boolean[rows];
            }
            boolean[] constantP = b.constantP;
            boolean[] constantT = b.constantT;
            for (int r = 0, row = 0; r < rows; r++, row += nx) {
                constantP[r] = Arrays.mismatch(p, row, row + nx - 1, p, row + 1, row + nx) < 0;
                constantT[r] = Arrays.mismatch(t, row, row + nx - 1, t, row + 1, row + nx) < 0;
            }
            int ry = rank >= 2 ? 1 : 0;
            int rz = rank >= 3 ? ny : 0;
            for (int z = 0; z < nz; z++) {
                for (int y = 0; y < ny; y++) {
                    int row = (z * ny + y) * nx;
                    // A row on a y or z face of the array: every voxel of a mask is on its boundary; so are both ends of a row.
                    boolean face = rank >= 2 && (y == 0 || y == ny - 1) || rank >= 3 && (z == 0 || z == nz - 1);
                    if (face || nx <= 2) {
                        Arrays.fill(code, row, row + nx, (byte) 3);
                    } else {
                        code[row] = 3;
                        code[row + nx - 1] = 3;
                        int r = z * ny + y;
                        if (uniform(p, constantP, r, row, ry, rz, sy, sz) && uniform(t, constantT, r, row, ry, rz, sy, sz)) {
                            Arrays.fill(code, row + 1, row + nx - 1, (byte) 0);
                        } else {
                            interior(p, t, code, row + 1, row + nx - 1, sy, sz);
                        }
                    }
                    if (hasIgnore) {
                        ignored(p, t, code, row, row + nx, ig, face, sy, sz);
                    }
                    b.collect(row, row + nx, fromClass, classes);
                }
            }
            return b;
        }

        /**
         * Adds the boundary voxels of voxels {@code [row, end)} (one row, its codes written) to the lists of
         * the classes in {@code [fromClass, classes)}. A method of its own, called per row: the JIT compiles it
         * early and once, instead of the whole of {@link #of} again at each of its loops (on-stack replacement).
         */
        private void collect(int row, int end, int fromClass, int classes) {
            byte[] code = this.code;
            int[] p = this.p;
            int[] t = this.t;
            for (int i = row; i < end; i++) {
                int bits = code[i];
                if (bits == 0) {
                    // the next voxel on a boundary: Arrays.mismatch compares many voxels per instruction
                    int skip = Arrays.mismatch(code, i, end, zeros, 0, end - i);
                    if (skip < 0) {
                        break;
                    }
                    i += skip;
                    bits = code[i];
                }
                int pv = p[i];
                int tv = t[i];
                boolean inP = (bits & 1) != 0 && pv >= fromClass && pv < classes;
                boolean inT = (bits & 2) != 0 && tv >= fromClass && tv < classes;
                if (inP) {
                    add(pv, i, inT && pv == tv ? 3 : 1);
                }
                if (inT && !(inP && pv == tv)) {
                    add(tv, i, 2);
                }
            }
        }

        /**
         * Whether row {@code r} (first voxel {@code row}) off the array's faces holds one label, as do its four
         * face-neighbour rows ({@code ry}, {@code rz} rows and {@code sy}, {@code sz} voxels apart): then only its
         * two ends are on a boundary. {@code constant} says per row whether it holds one label.
         */
        private static boolean uniform(int[] l, boolean[] constant, int r, int row, int ry, int rz, int sy, int sz) {
            int v = l[row];
            return constant[r] && constant[r - ry] && constant[r + ry] && constant[r - rz] && constant[r + rz]
                    && l[row - sy] == v && l[row + sy] == v && l[row - sz] == v && l[row + sz] == v;
        }

        /**
         * Codes of voxels {@code [from, to)} off the array's faces, without an ignore index: bit 1 when
         * a face neighbour has another predicted label, bit 2 another target label (branch-free, so
         * the JIT can vectorize it: {@code (d | -d) >>> 31} is 1 exactly when d != 0).
         */
        private static void interior(int[] p, int[] t, byte[] code, int from, int to, int sy, int sz) {
            for (int i = from; i < to; i++) {
                int pv = p[i];
                int tv = t[i];
                int dp = (p[i - 1] ^ pv) | (p[i + 1] ^ pv) | (p[i - sy] ^ pv) | (p[i + sy] ^ pv) | (p[i - sz] ^ pv)
                        | (p[i + sz] ^ pv);
                int dt = (t[i - 1] ^ tv) | (t[i + 1] ^ tv) | (t[i - sy] ^ tv) | (t[i + sy] ^ tv) | (t[i - sz] ^ tv)
                        | (t[i + sz] ^ tv);
                code[i] = (byte) (((dp | -dp) >>> 31) | (((dt | -dt) >>> 31) << 1));
            }
        }

        /**
         * The ignore index on one row {@code [from, to)}: an ignored voxel is in no mask (code 0), and
         * an ignored face neighbour is outside the predicted mask (the target's differs in label already).
         */
        private static void ignored(int[] p, int[] t, byte[] code, int from, int to, int ig, boolean face, int sy, int sz) {
            for (int i = from; i < to; i++) {
                if (t[i] == ig) {
                    code[i] = 0;
                } else if ((code[i] & 1) == 0 && !face && i > from && i < to - 1
                        && (t[i - 1] == ig | t[i + 1] == ig | t[i - sy] == ig | t[i + sy] == ig | t[i - sz] == ig
                        | t[i + sz] == ig)) {
                    code[i] |= 1;
                }
            }
        }

        /** This thread's grid, at least n long (its values are left from the last use). */
        float[] grid(int n) {
            if (grid.length < n) {
                grid = new float[Math.max(n, Math.min(2 * grid.length, Integer.MAX_VALUE - 8))];
            }
            return grid;
        }

        /** Scratch for one row's feature positions, at least n long. */
        int[] rowFeatures(int n) {
            if (rowFeatures.length < n) {
                rowFeatures = new int[n];
            }
            return rowFeatures;
        }

        /** Buffers above 64 MiB are not kept for the next image. */
        static final int KEEP = 1 << 26;

        /** Drops the references to the label arrays; the buffers stay for the next image unless they are large. */
        void release() {
            p = null;
            t = null;
            if (code.length > KEEP) {
                code = new byte[0];
            }
            if (zeros.length > KEEP) {
                zeros = new byte[0];
            }
            if (constantP.length > KEEP) {
                constantP = new boolean[0];
                constantT = new boolean[0];
            }
            if (grid.length > KEEP / 4) {
                grid = new float[0];
            }
            for (int c = 0; c < lists.length; c++) {
                if (lists[c].length > KEEP / 4) {
                    lists[c] = new int[1024];
                    bitLists[c] = new byte[1024];
                }
            }
        }

        private void add(int c, int i, int bits) {
            int[] l = lists[c];
            int s = sizes[c];
            if (s == l.length) {
                lists[c] = l = Arrays.copyOf(l, 2 * s);
                bitLists[c] = Arrays.copyOf(bitLists[c], 2 * s);
            }
            l[s] = i;
            bitLists[c][s] = (byte) bits;
            sizes[c] = s + 1;
        }

        /** Whether voxel i is on the boundary {@code bit} (1 prediction, 2 target) of class c. */
        boolean on(int c, int bit, int i) {
            int k = code[i] & bit;
            return k != 0 && (bit == 1 ? p[i] : t[i]) == c;
        }
    }

    /**
     * The row, y and z of a voxel index without an integer division per voxel: the quotients come from
     * a multiplication by the divisor's reciprocal, within one of the exact ones, and are then corrected.
     */
    static final class Raster {
        private final int nx;
        private final int ny;
        private final double perRow;
        private final double perPlane;
        /** Index of the first voxel of the current row. */
        int rowStart;
        int y;
        int z;

        /** Dims (z, y, x); positioned at voxel {@code first}. */
        Raster(int[] d3, int first) {
            nx = d3[2];
            ny = d3[1];
            perRow = 1.0 / nx;
            perPlane = 1.0 / ny;
            moveTo(first);
        }

        /** Moves to the row of voxel {@code i} (>= 0). */
        void moveTo(int i) {
            if (i >= rowStart && i - rowStart < nx) {
                return;
            }
            int row = quotient(i, nx, perRow);
            rowStart = row * nx;
            z = quotient(row, ny, perPlane);
            y = row - z * ny;
        }

        /**
         * floor(a / d) for a >= 0 and d >= 1, {@code reciprocal} = 1.0 / d: a * reciprocal is within a
         * relative 2^-52 of a / d < 2^31, so its integer part is off by at most one.
         */
        static int quotient(int a, int d, double reciprocal) {
            int q = (int) (a * reciprocal);
            long r = a - (long) q * d;
            return r < 0 ? q - 1 : r >= d ? q + 1 : q;
        }
    }

    /** Class {@code c}, both masks non-empty, crop {@code box} (global voxels): two transforms, the three values. */
    private static void one(int c, Boundaries b, int countA, int countB, int[] box, double[] s3, int rank, double tolerance,
                            Transform transform, Values out) {
        int nb = b.sizes[c];
        // Squared distances of the boundary voxels of one mask that are not on the other's (shared by both
        // directions: those sets are disjoint), by position in the list of boundary voxels; a voxel on both
        // boundaries is at distance 0.
        float[] val = new float[nb];
        double[] dA = distances(b, c, 1, 2, box, s3, rank, transform, val);
        double[] dB = distances(b, c, 2, 1, box, s3, rank, transform, val);
        // The other countA - dA.length and countB - dB.length voxels are at +0: they add nothing to the
        // sum (it starts at +0 and only grows), and each is within the tolerance when 0 is.
        int zerosA = countA - dA.length;
        int zerosB = countB - dB.length;
        double sum = 0;
        long within = 0.0 <= tolerance ? (long) zerosA + zerosB : 0;
        for (double x : dA) {
            sum += x;
            within += x <= tolerance ? 1 : 0;
        }
        for (double x : dB) {
            sum += x;
            within += x <= tolerance ? 1 : 0;
        }
        long both = (long) countA + countB;
        out.hd95[c] = Math.max(percentile95(zerosA, dA), percentile95(zerosB, dB));
        out.assd[c] = sum / both;
        out.nsd[c] = (double) within / both;
    }

    /** Tile edge (voxels) of the query voxels that share one distance transform. */
    static final int TILE = 32;

    /**
     * Distances from the boundary voxels of class {@code c} with bit {@code from} and without bit {@code to}
     * (the query voxels) to the nearest with bit {@code to}, in raster order; those with both bits are at 0
     * and left out. The query voxels are
     * grouped by tile of the crop; each tile's query voxels get their distances from a transform over
     * their bounding box grown by an upper bound R of their distances (the nearest feature along one
     * of the three axis lines through each): every feature within R of a query voxel lies in that box,
     * so the box holds each query voxel's nearest feature and the transform is exact there. When the
     * boxes together are not smaller than the crop, one transform over the whole crop.
     */
    private static double[] distances(Boundaries b, int c, int from, int to, int[] box, double[] s3, int rank,
                                      Transform transform, float[] val) {
        int nb = b.sizes[c];
        byte[] eb = b.bitLists[c];
        int cz = box[1] - box[0] + 1;
        int cy = box[3] - box[2] + 1;
        int cx = box[5] - box[4] + 1;
        int[] c3 = {cz, cy, cx};
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
        // First the tiles and their query boxes. Every box grows by at least one step of the finest spacing
        // (no feature is nearer to a query voxel): when even those smallest boxes are not smaller than the crop,
        // the whole crop is transformed without the bounds (axis walks).
        queryTiles(b, c, from, to, box, ty, tx, tileOf, members, qb);
        int n = cz * cy * cx;
        double finest = Math.min(s3[0], Math.min(s3[1], s3[2]));
        boolean whole = boxWork(qb, members, c3, s3, finest, null) >= n;
        // Then each tile's bound R: the largest over its query voxels of the distance to the nearest feature
        // along one of the three axis lines through each.
        whole = whole || bounds(b, c, to, box, c3, s3, tileOf, r);
        int[][] boxes = new int[tiles][];
        long work = whole ? n : boxWork(qb, members, c3, s3, r, boxes);
        if (whole || work >= n) {
            boxes = new int[][] {{0, cz - 1, 0, cy - 1, 0, cx - 1}};
            tiles = 1;
        }
        // The entries of each box together (counting sort by tile, in list order within a tile).
        int[] start = new int[tiles + 1];
        for (int e = 0; e < nb; e++) {
            int bits = eb[e];
            if (tiles == 1 ? (bits & from) != 0 && (bits & to) == 0 : tileOf[e] >= 0) {
                start[tiles == 1 ? 1 : tileOf[e] + 1]++;
            }
        }
        for (int t = 0; t < tiles; t++) {
            start[t + 1] += start[t];
        }
        int[] order = new int[start[tiles]];
        int[] fill = Arrays.copyOf(start, tiles);
        for (int e = 0; e < nb; e++) {
            int bits = eb[e];
            if (tiles == 1 ? (bits & from) != 0 && (bits & to) == 0 : tileOf[e] >= 0) {
                order[fill[tiles == 1 ? 0 : tileOf[e]]++] = e;
            }
        }
        double[] sp = Arrays.copyOfRange(s3, 3 - rank, 3);
        for (int t = 0; t < tiles; t++) {
            int[] bx = boxes[t];
            if (bx == null || start[t] == start[t + 1]) {
                continue;
            }
            tile(b, c, to, box, bx, order, start[t], start[t + 1], s3, sp, rank, transform, val);
        }
        double[] out = new double[order.length];
        int k = 0;
        for (int e = 0; e < nb; e++) {
            int bits = eb[e];
            if ((bits & from) != 0 && (bits & to) == 0) {
                out[k++] = Math.sqrt(val[e]);
            }
        }
        return out;
    }

    /**
     * The first loop of {@link #distances}: per entry of class c's list, its tile ({@code tileOf}, -1 when
     * not a query voxel), and per tile its query voxels' count ({@code members}) and bounding box ({@code qb}).
     * Each loop of distances is a method of its own: the JIT compiles the small methods early and once,
     * instead of the whole of distances again at each of its loops (on-stack replacement).
     */
    private static void queryTiles(Boundaries b, int c, int from, int to, int[] box, int ty, int tx, int[] tileOf,
                                   int[] members, int[] qb) {
        int[] list = b.lists[c];
        int nb = b.sizes[c];
        byte[] eb = b.bitLists[c];
        Raster cursor = new Raster(b.d3, list[0]);
        for (int e = 0; e < nb; e++) {
            int i = list[e];
            int bits = eb[e];
            tileOf[e] = -1;
            if ((bits & from) == 0 || (bits & to) != 0) {
                continue;
            }
            // crop coordinates
            cursor.moveTo(i);
            int z = cursor.z - box[0];
            int y = cursor.y - box[2];
            int x = i - cursor.rowStart - box[4];
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
        }
    }

    /**
     * The second loop of {@link #distances}: per tile, its bound R ({@code r}); true when some query voxel
     * has no feature on its three axis lines (+inf: the whole crop is transformed).
     */
    private static boolean bounds(Boundaries b, int c, int to, int[] box, int[] c3, double[] s3, int[] tileOf, double[] r) {
        int[] list = b.lists[c];
        int nb = b.sizes[c];
        int gy = b.d3[2];
        int gz = b.d3[1] * b.d3[2];
        int cz = c3[0];
        int cy = c3[1];
        int cx = c3[2];
        boolean whole = false;
        Raster cursor = new Raster(b.d3, list[0]);
        for (int e = 0; e < nb && !whole; e++) {
            int i = list[e];
            int t = tileOf[e];
            if (t < 0) {
                continue;
            }
            cursor.moveTo(i);
            int z = cursor.z - box[0];
            int y = cursor.y - box[2];
            int x = i - cursor.rowStart - box[4];
            double bound = walks(b, c, to, i, x, y, z, cx, cy, cz, gy, gz, s3);
            whole = bound == Double.POSITIVE_INFINITY;
            r[t] = Math.max(r[t], bound);
        }
        return whole;
    }

    /**
     * One tile of {@link #distances}: the transform over its box {@code bx} (crop coordinates) and the squared
     * distances of its query voxels (the entries {@code order[first..last)}) into {@code val}.
     */
    private static void tile(Boundaries b, int c, int to, int[] box, int[] bx, int[] order, int first, int last,
                             double[] s3, double[] sp, int rank, Transform transform, float[] val) {
        int[] list = b.lists[c];
        int gy = b.d3[2];
        int gz = b.d3[1] * b.d3[2];
        int bz = bx[1] - bx[0] + 1;
        int by = bx[3] - bx[2] + 1;
        int bw = bx[5] - bx[4] + 1;
        // The box of its query voxels, relative to the grid, and the lines of the last pass (along the
        // slowest axis of the image) that hold them: the only values read back.
        int[] lo = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE};
        int[] hi = {-1, -1, -1};
        for (int k = first; k < last; k++) {
            int i = list[order[k]];
            int[] at = {i / gz - box[0] - bx[0], (i % gz) / gy - box[2] - bx[2], i % gy - box[4] - bx[4]};
            for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], at[a]);
                hi[a] = Math.max(hi[a], at[a]);
            }
        }
        // A transform that takes its first pass done gets it from each row's features, at the query box's x
        // only: the grid keeps those (x from lo[2] on); else the grid holds the whole box, 0 at features.
        boolean direct = transform.takesFirstPass();
        int shift = direct ? lo[2] : 0;
        int gw = direct ? hi[2] - lo[2] + 1 : bw;
        int lineCount = rank == 3 ? by * gw : rank == 2 ? gw : 1;
        boolean[] lastLines = direct ? null : new boolean[lineCount];
        int[] wanted = direct ? new int[last - first] : null;
        for (int k = first; k < last; k++) {
            int i = list[order[k]];
            int z = i / gz - box[0] - bx[0];
            int y = (i % gz) / gy - box[2] - bx[2];
            int x = i % gy - box[4] - bx[4] - shift;
            int at = (z * by + y) * gw + x;
            if (direct) {
                wanted[k - first] = at;
            } else {
                lastLines[at % lineCount] = true;
            }
        }
        float[] grid;
        if (direct) {
            grid = b.grid(bz * by * gw);
        } else {
            grid = new float[bz * by * bw];
            Arrays.fill(grid, Float.POSITIVE_INFINITY);
        }
        features(b, c, to, box, bx, by, bz, bw, gw, direct, grid, s3[2] * s3[2], lo[2], hi[2]);
        int[] gd = {bz, by, gw};
        int[] glo = {lo[0], lo[1], lo[2] - shift};
        int[] ghi = {hi[0], hi[1], hi[2] - shift};
        if (direct) {
            transform.afterFirstPass(grid, Arrays.copyOfRange(gd, 3 - rank, 3), sp, Arrays.copyOfRange(glo, 3 - rank, 3),
                    Arrays.copyOfRange(ghi, 3 - rank, 3), wanted);
        } else {
            transform.squared(grid, Arrays.copyOfRange(gd, 3 - rank, 3), sp, Arrays.copyOfRange(glo, 3 - rank, 3),
                    Arrays.copyOfRange(ghi, 3 - rank, 3), lastLines);
        }
        for (int k = first; k < last; k++) {
            int e = order[k];
            int i = list[e];
            int z = i / gz - box[0];
            int y = (i % gz) / gy - box[2];
            int x = i % gy - box[4];
            val[e] = grid[((z - bx[0]) * by + y - bx[2]) * gw + x - bx[4] - shift];
        }
    }

    /**
     * The features of a tile's grid (box {@code bx} of {@code bz} by {@code by} rows, {@code bw} wide, grid rows
     * {@code gw} apart): class c's boundary voxels with bit {@code to}; with {@code direct}, each row's first
     * pass from them at x in {@code [xlo, xhi]} ({@code wx} the squared x spacing), else 0 at each in the grid.
     */
    private static void features(Boundaries b, int c, int to, int[] box, int[] bx, int by, int bz, int bw, int gw,
                                 boolean direct, float[] grid, double wx, int xlo, int xhi) {
        int[] list = b.lists[c];
        int nb = b.sizes[c];
        byte[] eb = b.bitLists[c];
        int gy = b.d3[2];
        int gz = b.d3[1] * b.d3[2];
        int[] rowFeatures = b.rowFeatures(bw);
        // The features: the class's boundary voxels with bit `to` in each row of the box, found in
        // the raster-ordered list (rows ascend, so each search starts where the last one ended).
        int f = 0;
        for (int z = 0, j = 0; z < bz; z++) {
            for (int y = 0; y < by; y++, j += gw) {
                int row = (box[0] + bx[0] + z) * gz + (box[2] + bx[2] + y) * gy + box[4] + bx[4];
                f = Arrays.binarySearch(list, f, nb, row);
                if (f < 0) {
                    f = -f - 1;
                }
                int features = 0;
                for (; f < nb && list[f] < row + bw; f++) {
                    if ((eb[f] & to) != 0) {
                        if (direct) {
                            rowFeatures[features++] = list[f] - row;
                        } else {
                            grid[j + list[f] - row] = 0f;
                        }
                    }
                }
                if (direct) {
                    DistanceTransform.nearestFeature(grid, j, rowFeatures, features, wx, xlo, xhi);
                }
            }
        }
    }

    /**
     * The voxels of the tiles' boxes together: each tile's query box (z0, z1, y0, y1, x0, x1 in
     * {@code qb}) grown on each axis by R / spacing + 1 voxels (R its bound), within the crop {@code c3}.
     * Fills {@code boxes} (per tile; null where it has no query voxel) unless that is null.
     */
    private static long boxWork(int[] qb, int[] members, int[] c3, double[] s3, double[] r, int[][] boxes) {
        long work = 0;
        for (int t = 0; t < members.length; t++) {
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
            if (boxes != null) {
                boxes[t] = bx;
            }
            work += (long) (bx[1] - bx[0] + 1) * (bx[3] - bx[2] + 1) * (bx[5] - bx[4] + 1);
        }
        return work;
    }

    /** As above with the same bound R for every tile. */
    private static long boxWork(int[] qb, int[] members, int[] c3, double[] s3, double r, int[][] boxes) {
        double[] each = new double[members.length];
        Arrays.fill(each, r);
        return boxWork(qb, members, c3, s3, each, boxes);
    }

    /**
     * The distance to the nearest voxel with bit {@code to} of class c along the three axis lines through
     * voxel {@code i} (crop position x, y, z of the crop's cx, cy, cz; neighbours 1, gy and gz apart): on each,
     * {@code k * spacing} to the first such voxel k steps away either way; the smallest, +inf when none has one.
     * The three lines are walked together, one step at a time, each until its distance reaches the best found.
     */
    private static double walks(Boundaries b, int c, int to, int i, int x, int y, int z, int cx, int cy, int cz, int gy,
                                int gz, double[] s3) {
        double best = Double.POSITIVE_INFINITY;
        boolean openX = true;
        boolean openY = true;
        boolean openZ = true;
        for (int k = 1; openX || openY || openZ; k++) {
            if (openX) {
                double d = k * s3[2];
                boolean lo = x - k >= 0;
                boolean hi = x + k < cx;
                if (d >= best || !lo && !hi) {
                    openX = false;
                } else if (lo && b.on(c, to, i - k) || hi && b.on(c, to, i + k)) {
                    best = d;
                    openX = false;
                }
            }
            if (openY) {
                double d = k * s3[1];
                boolean lo = y - k >= 0;
                boolean hi = y + k < cy;
                if (d >= best || !lo && !hi) {
                    openY = false;
                } else if (lo && b.on(c, to, i - k * gy) || hi && b.on(c, to, i + k * gy)) {
                    best = d;
                    openY = false;
                }
            }
            if (openZ) {
                double d = k * s3[0];
                boolean lo = z - k >= 0;
                boolean hi = z + k < cz;
                if (d >= best || !lo && !hi) {
                    openZ = false;
                } else if (lo && b.on(c, to, i - k * gz) || hi && b.on(c, to, i + k * gz)) {
                    best = d;
                    openZ = false;
                }
            }
        }
        return best;
    }

    /**
     * numpy's default percentile (method 'linear') at 95: sorted x, position h = 0.95 (n - 1),
     * {@code x[floor h] + (x[floor h + 1] - x[floor h]) (h - floor h)}, evaluated as numpy's lerp does
     * (from the upper end when the fraction is >= 0.5).
     */
    static double percentile95(double[] x) {
        return percentile95(0, x);
    }

    /**
     * As {@link #percentile95(double[])} of {@code zeros} values +0 and the values {@code others}. Sorted as
     * {@link Arrays#sort(double[])} sorts them all: the zeros first, then the others sorted, when every other
     * is > 0 (most distances are +0, voxels on both boundaries, and need no sorting); else all sorted
     * together (-0 and negatives sort before +0, NaN after everything).
     */
    static double percentile95(int zeros, double[] others) {
        int n = zeros + others.length;
        boolean positive = true;
        for (double v : others) {
            positive &= v > 0;
        }
        double[] s;
        if (positive) {
            s = others.clone();
        } else {
            s = new double[n];
            System.arraycopy(others, 0, s, zeros, others.length);
            zeros = 0;
        }
        Arrays.sort(s);
        double h = 0.95 * (n - 1);
        int i = (int) Math.floor(h);
        double frac = h - i;
        double a = i < zeros ? 0.0 : s[i - zeros];
        int i1 = Math.min(i + 1, n - 1);
        double b = i1 < zeros ? 0.0 : s[i1 - zeros];
        double diff = b - a;
        return frac >= 0.5 ? b - diff * (1 - frac) : a + diff * frac;
    }
}
