package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.backend.cpu.DistanceTransform;

/**
 * HD95, ASSD and NSD of {@link Surface} against (1) a brute-force reference written here from the
 * spec's definitions (boundaries by face neighbours, distances by a minimum over every boundary
 * voxel, in double) and (2) MONAI's own published test values, each case naming its source.
 */
class SurfaceTest {
    /** The CPU's transform, computing only the values read back. */
    static final Surface.Transform JAVA = Surface.JAVA;
    /** The whole transform, as a device backend computes it. */
    static final Surface.Transform WHOLE = DistanceTransform::squared;

    /** The spec's definitions, directly: dims slowest first, spacing slowest first. */
    static final class Reference {
        static boolean[] boundary(boolean[] m, int[] dims) {
            boolean[] b = new boolean[m.length];
            for (int i = 0; i < m.length; i++) {
                if (!m[i]) {
                    continue;
                }
                int[] x = coords(i, dims);
                for (int d = 0; d < dims.length && !b[i]; d++) {
                    for (int step = -1; step <= 1; step += 2) {
                        int[] y = x.clone();
                        y[d] += step;
                        if (y[d] < 0 || y[d] >= dims[d] || !m[index(y, dims)]) {
                            b[i] = true;
                        }
                    }
                }
            }
            return b;
        }

        static double[] distances(boolean[] from, boolean[] to, int[] dims, double[] sp) {
            List<int[]> targets = new ArrayList<>();
            for (int i = 0; i < to.length; i++) {
                if (to[i]) {
                    targets.add(coords(i, dims));
                }
            }
            List<Double> out = new ArrayList<>();
            for (int i = 0; i < from.length; i++) {
                if (!from[i]) {
                    continue;
                }
                int[] x = coords(i, dims);
                double best = Double.POSITIVE_INFINITY;
                for (int[] t : targets) {
                    double s = 0;
                    for (int d = 0; d < dims.length; d++) {
                        double dd = (x[d] - t[d]) * sp[d];
                        s += dd * dd;
                    }
                    best = Math.min(best, s);
                }
                out.add(Math.sqrt(best));
            }
            return out.stream().mapToDouble(Double::doubleValue).toArray();
        }

        /** numpy.percentile(x, 95) (method 'linear'): h = 0.95 (n - 1), x[lo] + (x[lo + 1] - x[lo]) (h - lo). */
        static double p95(double[] x) {
            double[] s = x.clone();
            Arrays.sort(s);
            double h = 0.95 * (s.length - 1);
            int lo = (int) h;
            int hi = Math.min(lo + 1, s.length - 1);
            return s[lo] + (s[hi] - s[lo]) * (h - lo);
        }

        /** {hd95, assd, nsd, missed (1/0)} of class c; NaN where undefined. */
        static double[] of(int[] pred, int[] target, int c, Integer ignore, int[] dims, double[] sp, double tol) {
            boolean[] a = new boolean[pred.length];
            boolean[] b = new boolean[pred.length];
            boolean anyA = false;
            boolean anyB = false;
            for (int i = 0; i < pred.length; i++) {
                boolean valid = ignore == null || target[i] != ignore;
                a[i] = valid && pred[i] == c;
                b[i] = valid && target[i] == c;
                anyA |= a[i];
                anyB |= b[i];
            }
            if (!anyA && !anyB) {
                return new double[] {Double.NaN, Double.NaN, Double.NaN, 0};
            }
            if (anyA != anyB) {
                return new double[] {Double.NaN, Double.NaN, 0, 1};
            }
            boolean[] ba = boundary(a, dims);
            boolean[] bb = boundary(b, dims);
            double[] dA = distances(ba, bb, dims, sp);
            double[] dB = distances(bb, ba, dims, sp);
            double sum = 0;
            int within = 0;
            for (double v : dA) {
                sum += v;
                within += v <= tol ? 1 : 0;
            }
            for (double v : dB) {
                sum += v;
                within += v <= tol ? 1 : 0;
            }
            int n = dA.length + dB.length;
            return new double[] {Math.max(p95(dA), p95(dB)), sum / n, (double) within / n, 0};
        }
    }

    static int[] coords(int i, int[] dims) {
        int[] c = new int[dims.length];
        int rest = i;
        for (int d = dims.length - 1; d >= 0; d--) {
            c[d] = rest % dims[d];
            rest /= dims[d];
        }
        return c;
    }

    static int index(int[] x, int[] dims) {
        int i = 0;
        for (int d = 0; d < dims.length; d++) {
            i = i * dims[d] + x[d];
        }
        return i;
    }

    static double[] reversed(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[v.length - 1 - i];
        }
        return r;
    }

    static Decoder.LabelMap map(int[] dims, int[] labels) {
        long[] ld = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            ld[i] = dims[i];
        }
        return new Decoder.LabelMap(ld, labels);
    }

    /** Random blobs: a few axis-aligned boxes of classes 1..k-1 on background 0. */
    static int[] blobs(Random rnd, int[] dims, int classes, int boxes) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        int[] out = new int[n];
        for (int b = 0; b < boxes; b++) {
            int c = 1 + rnd.nextInt(classes - 1);
            int[] lo = new int[dims.length];
            int[] hi = new int[dims.length];
            for (int d = 0; d < dims.length; d++) {
                lo[d] = rnd.nextInt(dims[d]);
                hi[d] = Math.min(dims[d] - 1, lo[d] + rnd.nextInt(Math.max(1, dims[d] / 2)));
            }
            for (int i = 0; i < n; i++) {
                int[] x = coords(i, dims);
                boolean in = true;
                for (int d = 0; d < dims.length; d++) {
                    in &= x[d] >= lo[d] && x[d] <= hi[d];
                }
                if (in) {
                    out[i] = c;
                }
            }
        }
        return out;
    }

    static int[] noisy(Random rnd, int[] v, int classes, double flip) {
        int[] out = v.clone();
        for (int i = 0; i < out.length; i++) {
            if (rnd.nextDouble() < flip) {
                out[i] = rnd.nextInt(classes);
            }
        }
        return out;
    }

    static Stream<Arguments> randomCases() {
        List<Arguments> c = new ArrayList<>();
        c.add(Arguments.of("2-D 24x31, 4 classes, spacing 1", new int[] {24, 31}, new double[] {1, 1}, 4, null, 1.0, 1));
        c.add(Arguments.of("2-D 20x26, 3 classes, spacing x 0.85 y 1.2, tolerance 2", new int[] {20, 26}, new double[] {0.85, 1.2},
                3, null, 2.0, 2));
        c.add(Arguments.of("2-D 18x22, 5 classes, ignore 255", new int[] {18, 22}, new double[] {1, 1}, 5, 255, 1.0, 3));
        c.add(Arguments.of("3-D 9x14x12, 3 classes, spacing 1", new int[] {9, 14, 12}, new double[] {1, 1, 1}, 3, null, 1.0, 4));
        c.add(Arguments.of("3-D 8x12x10, 4 classes, spacing x 0.7 y 0.7 z 2.5, tolerance 1.5", new int[] {8, 12, 10},
                new double[] {0.7, 0.7, 2.5}, 4, null, 1.5, 5));
        c.add(Arguments.of("3-D 7x10x9, 3 classes, ignore 9, tolerance 0", new int[] {7, 10, 9}, new double[] {1, 2, 1}, 3, 9, 0.0, 6));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void surfaceValuesEqualTheDefinitionComputedByBruteForce(String name, int[] dims, double[] spacingX, int classes,
                                                             Integer ignore, double tol, int seed) throws Exception {
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 4; trial++) {
            int[] target = blobs(rnd, dims, classes, 3 + trial);
            int[] pred = trial == 3 ? blobs(rnd, dims, classes, 2) : noisy(rnd, target, classes, 0.05 * trial);
            if (ignore != null) {
                for (int i = 0; i < target.length; i++) {
                    if (rnd.nextDouble() < 0.05) {
                        target[i] = ignore;
                    }
                }
            }
            Surface.Values v = Surface.compute(map(dims, pred), map(dims, target), classes, ignore, spacingX, tol, JAVA);
            for (int c = 0; c < classes; c++) {
                double[] want = Reference.of(pred, target, c, ignore, dims, reversed(spacingX), tol);
                String at = name + " trial " + trial + " class " + c;
                assertClose(want[0], v.hd95[c], at + " hd95");
                assertClose(want[1], v.assd[c], at + " assd");
                assertClose(want[2], v.nsd[c], at + " nsd");
                assertEquals(want[3] == 1, v.missed[c], at + " missed");
            }
        }
    }

    static void assertClose(double want, double got, String at) {
        if (Double.isNaN(want)) {
            assertTrue(Double.isNaN(got), at + ": undefined expected, got " + got);
        } else {
            // distances pass through a float grid: relative 1e-6
            assertEquals(want, got, 1e-6 * Math.max(1, Math.abs(want)), at);
        }
    }

    @Test
    void exactlyOneEmptyMaskIsMissedWithNsdZeroAndBothEmptyIsUndefined() {
        int[] dims = {6, 7};
        int[] target = new int[42];
        int[] pred = new int[42];
        target[8] = 1;  // class 1 only in the target
        pred[20] = 2;   // class 2 only in the prediction
        Surface.Values v = Surface.compute(map(dims, pred), map(dims, target), 4, null, new double[] {1, 1}, 1, JAVA);
        for (int c = 1; c <= 2; c++) {
            assertTrue(v.missed[c]);
            assertTrue(Double.isNaN(v.hd95[c]) && Double.isNaN(v.assd[c]));
            assertEquals(0.0, v.nsd[c]);
        }
        assertFalse(v.missed[3]);
        assertTrue(Double.isNaN(v.hd95[3]) && Double.isNaN(v.assd[3]) && Double.isNaN(v.nsd[3]), "class 3 in neither");
        assertFalse(Double.isNaN(v.hd95[0]) || v.missed[0], "background is in both");
    }

    /** MONAI's create_spherical_seg_3d: 1 where sum_i ((x_i spacing_i) - centre_i)^2 <= r^2 (array axes, slowest first). */
    static int[] sphere(double radius, int[] centre, int[] shape, double[] spacing) {
        int[] out = new int[shape[0] * shape[1] * shape[2]];
        for (int i = 0; i < shape[0]; i++) {
            for (int j = 0; j < shape[1]; j++) {
                for (int k = 0; k < shape[2]; k++) {
                    double y = i * spacing[0] - centre[0];
                    double x = j * spacing[1] - centre[1];
                    double z = k * spacing[2] - centre[2];
                    if (x * x + y * y + z * z <= radius * radius) {
                        out[(i * shape[1] + j) * shape[2] + k] = 1;
                    }
                }
            }
        }
        return out;
    }

    static Surface.Values spheres(double r1, int[] c1, double r2, int[] c2, double[] spacing, double tol) {
        int[] shape = {99, 99, 99};
        int[] pred = sphere(r1, c1, shape, spacing);
        int[] target = sphere(r2, c2, shape, spacing);
        return Surface.compute(map(shape, pred), map(shape, target), 2, null, reversed(spacing), tol, JAVA);
    }

    @Test
    void hd95OfTwoConcentricSpheresIsMonaisPublishedValue() {
        // MONAI tests/metrics/test_hausdorff_distance.py, case 7 (radius 20 and 40 at centre (20, 33, 22), 99^3,
        // percentile 95, euclidean, directed=False): 20.09975124224178
        Surface.Values v = spheres(20, new int[] {20, 33, 22}, 40, new int[] {20, 33, 22}, new double[] {1, 1, 1}, 1);
        assertEquals(20.09975124224178, v.hd95[1], 1e-6 * 20.09975124224178);
    }

    @Test
    void symmetricAverageSurfaceDistancesAreMonaisPublishedValues() {
        // MONAI tests/metrics/test_surface_distance.py, euclidean, symmetric=True (rtol 1e-5 there):
        // spheres radius 33 at (19, 33, 22) and (20, 33, 22): 0.350217
        Surface.Values a = spheres(33, new int[] {19, 33, 22}, 33, new int[] {20, 33, 22}, new double[] {1, 1, 1}, 1);
        assertEquals(0.350217, a.assd[1], 1e-5 * 0.350217);
        // radius 20 and 40 at (20, 33, 22): 15.117741
        Surface.Values b = spheres(20, new int[] {20, 33, 22}, 40, new int[] {20, 33, 22}, new double[] {1, 1, 1}, 1);
        assertEquals(15.117741, b.assd[1], 1e-5 * 15.117741);
        // radius 33 at (42, 45, 52) and (43, 45, 52), spacing (0.85, 1.2, 0.9) on the array axes: 0.4951 (4 digits there)
        Surface.Values c = spheres(33, new int[] {42, 45, 52}, 33, new int[] {43, 45, 52}, new double[] {0.85, 1.2, 0.9}, 1);
        assertEquals(0.4951, c.assd[1], 1e-5 * 0.4951 + 5e-5);
    }

    @Test
    void normalizedSurfaceDiceAtToleranceZeroIsMonaisPublishedValue() {
        // MONAI tests/metrics/test_surface_dice.py, test_tolerance_euclidean_distance(_with_spacing): 480x640,
        // prediction columns >= 50 are class 1, target columns >= 60; class_thresholds [0, 0]
        int[] dims = {480, 640};
        int[] pred = new int[480 * 640];
        int[] target = new int[480 * 640];
        for (int y = 0; y < 480; y++) {
            for (int x = 0; x < 640; x++) {
                pred[y * 640 + x] = x >= 50 ? 1 : 0;
                target[y * 640 + x] = x >= 60 ? 1 : 0;
            }
        }
        double class1 = 1 - (478 + 480 + 9 * 2) / (double) (480 * 4 + 588 * 2 + 578 * 2);
        double class0 = 1 - (478 + 480 + 9 * 2) / (double) (480 * 4 + 48 * 2 + 58 * 2);
        for (double[] spacingX : new double[][] {{1, 1}, {1.2, 0.85}}) {
            Surface.Values v = Surface.compute(map(dims, pred), map(dims, target), 2, null, spacingX, 0, JAVA);
            assertEquals(class1, v.nsd[1], 1e-12, Arrays.toString(spacingX));
            assertEquals(class0, v.nsd[0], 1e-12, Arrays.toString(spacingX));
        }
        // the second image of that test: everything background in both: class 0 is 1, class 1 undefined
        Surface.Values empty = Surface.compute(map(dims, new int[480 * 640]), map(dims, new int[480 * 640]), 2, null,
                new double[] {1, 1}, 0, JAVA);
        assertEquals(1.0, empty.nsd[0]);
        assertTrue(Double.isNaN(empty.nsd[1]));
    }

    /** Ellipsoids of classes 1..k-1 on background, each spanning several tiles of {@link Surface#TILE}. */
    static int[] ellipsoids(Random rnd, int[] dims, int classes, int count, int shift) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        int[] out = new int[n];
        for (int k = 0; k < count; k++) {
            int c = 1 + k % (classes - 1);
            double[] centre = new double[dims.length];
            double[] radius = new double[dims.length];
            for (int d = 0; d < dims.length; d++) {
                centre[d] = rnd.nextInt(dims[d]) + (d == dims.length - 1 ? shift : 0);
                radius[d] = 2 + rnd.nextInt(Math.max(1, dims[d] / 3));
            }
            for (int i = 0; i < n; i++) {
                int[] x = coords(i, dims);
                double r = 0;
                for (int d = 0; d < dims.length; d++) {
                    double u = (x[d] - centre[d]) / radius[d];
                    r += u * u;
                }
                if (r <= 1) {
                    out[i] = c;
                }
            }
        }
        return out;
    }

    static Stream<Arguments> tiledCases() {
        List<Arguments> c = new ArrayList<>();
        c.add(Arguments.of("3-D 40x70x66, 4 classes, spacing 0.8 x 0.8 x 2", new int[] {40, 70, 66}, new double[] {0.8, 0.8, 2},
                4, null, 0));
        c.add(Arguments.of("3-D 36x80x50, 3 classes, ignore 7", new int[] {36, 80, 50}, new double[] {1, 1, 1}, 3, 7, 0));
        c.add(Arguments.of("3-D 36x80x50, 3 classes, from class 1 (--exclude-background)", new int[] {36, 80, 50},
                new double[] {1, 1, 1}, 3, null, 1));
        c.add(Arguments.of("2-D 150x170, 5 classes, spacing 1.3 x 0.7", new int[] {150, 170}, new double[] {1.3, 0.7}, 5, null, 0));
        c.add(Arguments.of("1-D 700, 3 classes", new int[] {700}, new double[] {0.5}, 3, null, 0));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("tiledCases")
    void cpuTransformOfTheQueriedBoxesGivesTheBitsOfTheWholeTransformAsOnADevice(String name, int[] dims, double[] spacingX,
                                                                                int classes, Integer ignore, int fromClass) {
        Random rnd = new Random(dims.length * 1000 + classes);
        for (int trial = 0; trial < 3; trial++) {
            int[] target = ellipsoids(rnd, dims, classes, 3 + 2 * trial, 0);
            int[] pred = trial == 2 ? ellipsoids(rnd, dims, classes, 4, 0) : noisy(rnd, ellipsoids(new Random(trial), dims,
                    classes, 3 + 2 * trial, 1 + trial), classes, 0.001 * trial);
            if (ignore != null) {
                for (int i = 0; i < target.length; i++) {
                    if (rnd.nextDouble() < 0.01) {
                        target[i] = ignore;
                    }
                }
            }
            Surface.Values cpu = Surface.compute(map(dims, pred), map(dims, target), classes, ignore, spacingX, 1.0, JAVA,
                    fromClass);
            Surface.Values device = Surface.compute(map(dims, pred), map(dims, target), classes, ignore, spacingX, 1.0, WHOLE,
                    fromClass);
            int defined = 0;
            for (int c = 0; c < classes; c++) {
                String at = name + " trial " + trial + " class " + c;
                assertEquals(Double.doubleToRawLongBits(device.hd95[c]), Double.doubleToRawLongBits(cpu.hd95[c]), at + " hd95");
                assertEquals(Double.doubleToRawLongBits(device.assd[c]), Double.doubleToRawLongBits(cpu.assd[c]), at + " assd");
                assertEquals(Double.doubleToRawLongBits(device.nsd[c]), Double.doubleToRawLongBits(cpu.nsd[c]), at + " nsd");
                assertEquals(device.missed[c], cpu.missed[c], at + " missed");
                defined += Double.isNaN(cpu.hd95[c]) ? 0 : 1;
            }
            assertTrue(defined >= 1, name + " trial " + trial + ": no class with surface values");
            if (dims.length == 2 && trial == 0) {
                // and the definition, by brute force, on one 2-D case spanning many tiles
                for (int c = 0; c < classes; c++) {
                    double[] want = Reference.of(pred, target, c, ignore, dims, reversed(spacingX), 1.0);
                    assertClose(want[0], cpu.hd95[c], name + " class " + c + " hd95");
                    assertClose(want[1], cpu.assd[c], name + " class " + c + " assd");
                    assertClose(want[2], cpu.nsd[c], name + " class " + c + " nsd");
                }
            }
        }
    }

    @Test
    void percentileFollowsNumpysLinearMethod() {
        // numpy.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95) = 9.55; of [0, 4]: 3.8; of [7]: 7
        assertEquals(9.55, Surface.percentile95(new double[] {10, 1, 2, 3, 4, 5, 6, 7, 8, 9}), 1e-12);
        assertEquals(3.8, Surface.percentile95(new double[] {4, 0}), 1e-12);
        assertEquals(7.0, Surface.percentile95(new double[] {7}));
    }

    @Test
    void percentileOfCountedZerosAndOthersIsThatOfAllValuesSorted() {
        Random rnd = new Random(11);
        double[][] fixed = {
            {0.0}, {0.0, 0.0}, {3.5, 0.0, 1.25, 0.0}, {2, 1}, {5.0},
            // -0, negatives and NaN sort before or among the zeros: -0 before +0, NaN after everything
            {0.0, -0.0, 1.0}, {0.0, -2.0, 1.0}, {Double.NaN, 0.0, 1.0}, {Double.POSITIVE_INFINITY, 0.0},
            {-1.0, -3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0},
        };
        List<double[]> cases = new ArrayList<>(Arrays.asList(fixed));
        for (int k = 0; k < 300; k++) {
            double[] x = new double[1 + rnd.nextInt(80)];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextInt(k % 2 == 0 ? 3 : 30) != 0 ? 0.0 : Math.sqrt(rnd.nextInt(50) + 1) * 0.8;
            }
            cases.add(x);
        }
        for (double[] x : cases) {
            // Expected: every value sorted by Arrays.sort, numpy's linear interpolation at 95 (from the upper
            // end when the fraction is >= 0.5).
            double[] sorted = x.clone();
            Arrays.sort(sorted);
            double h = 0.95 * (sorted.length - 1);
            int i = (int) Math.floor(h);
            double frac = h - i;
            double lower = sorted[i];
            double upper = sorted[Math.min(i + 1, sorted.length - 1)];
            double expected = frac >= 0.5 ? upper - (upper - lower) * (1 - frac) : lower + (upper - lower) * frac;
            // Actual: the +0 values counted, the others given in their order.
            int zeros = 0;
            List<Double> others = new ArrayList<>();
            for (double v : x) {
                if (Double.doubleToRawLongBits(v) == 0) {
                    zeros++;
                } else {
                    others.add(v);
                }
            }
            double actual = Surface.percentile95(zeros, others.stream().mapToDouble(Double::doubleValue).toArray());
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual),
                    Arrays.toString(x) + ": " + expected + " vs " + actual);
            assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(Surface.percentile95(x)),
                    Arrays.toString(x) + " given whole");
        }
    }

    @Test
    void rasterGivesTheRowAndPlaneOfAnIndexAsIntegerDivisionDoes() {
        Random rnd = new Random(5);
        // rows of 49: (int) (a * (1.0 / 49)) falls one short of a / 49 for some a near 7e8 (the correction is needed)
        int[][] shapes = {{7, 13, 29}, {1, 1, 40}, {3, 50, 1}, {128, 256, 256}, {300000, 49, 49}, {3, 46341, 15000},
            {1, 1, Integer.MAX_VALUE}};
        for (int[] d3 : shapes) {
            long n = (long) d3[0] * d3[1] * d3[2];
            int plane = d3[1] * d3[2];
            Surface.Raster at = new Surface.Raster(d3, 0);
            List<Integer> indices = new ArrayList<>(List.of(0, (int) (n - 1), d3[2], d3[2] - 1, plane, plane - 1));
            for (int k = 0; k < 5000; k++) {
                // exact multiples of the row and the plane (where the reciprocal's quotient may fall short), their
                // neighbours, and anything
                long m = k % 3 == 0 ? (long) d3[2] * rnd.nextInt((int) Math.min(Integer.MAX_VALUE, n / d3[2]))
                        : k % 3 == 1 ? (long) plane * rnd.nextInt(d3[0]) : (long) (rnd.nextDouble() * n);
                for (long i = m - 1; i <= m + 1; i++) {
                    if (i >= 0 && i < n) {
                        indices.add((int) i);
                    }
                }
            }
            for (int i : indices) {
                at.moveTo(i);
                assertEquals(i / plane, at.z, Arrays.toString(d3) + " z of " + i);
                assertEquals(i / d3[2] % d3[1], at.y, Arrays.toString(d3) + " y of " + i);
                assertEquals(i - i % d3[2], at.rowStart, Arrays.toString(d3) + " row of " + i);
            }
        }
    }
}
