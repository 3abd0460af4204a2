package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The first pass's shortcut ({@link DistanceTransform#binaryLine}): on a line of 0 and +inf it writes
 * the bits of the parabola envelope ({@link DistanceTransform#line}, which the OpenCL and CUDA kernels
 * follow step for step), checked against that envelope and against a brute-force nearest feature, on
 * random lines, ties and the spacings whose squares are not exact in binary; and the whole transform
 * with the shortcut equals the transform done by the envelope on every pass; and the envelope of the later
 * passes (lines of any finite values) gives the bits of the kernels' steps, written out here.
 */
class DistanceTransformFirstPassTest {
    /** 0.8^2 and 0.3^2 round up, sqrt(2)^2 is not 2, 2 and 1 are exact. */
    private static final double[] SPACINGS = {1.0, 0.8, 2.0, 0.3, Math.sqrt(2), 1.7e-3, 913.25};

    private static float[] randomBinaryLine(Random rnd, int n, double density) {
        float[] line = new float[n];
        for (int i = 0; i < n; i++) {
            line[i] = rnd.nextDouble() < density ? 0f : Float.POSITIVE_INFINITY;
        }
        return line;
    }

    /** The envelope on a copy of {@code line}, positions from..to. */
    private static float[] envelope(float[] line, double w, int from, int to) {
        int n = line.length;
        float[] g = line.clone();
        DistanceTransform.line(g, 0, 1, n, w, new int[n], new float[n], new double[n], new double[n], from, to);
        return g;
    }

    private static float[] shortcut(float[] line, double w, int from, int to) {
        int n = line.length;
        float[] g = line.clone();
        float[] infinities = new float[n];
        Arrays.fill(infinities, Float.POSITIVE_INFINITY);
        assertTrue(DistanceTransform.binaryLine(g, 0, n, w, new int[n], infinities, from, to), "a binary line takes the shortcut");
        return g;
    }

    /** Brute force: w d^2 with d the distance in steps to the nearest 0 (by scanning every position), +inf without one. */
    private static float nearest(float[] line, double w, int p) {
        long best = Long.MAX_VALUE;
        for (int q = 0; q < line.length; q++) {
            if (line[q] == 0f) {
                best = Math.min(best, Math.abs((long) p - q));
            }
        }
        if (best == Long.MAX_VALUE) {
            return Float.POSITIVE_INFINITY;
        }
        double d = best;
        return (float) (w * d * d);
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    what + ", position " + i + ": " + expected[i] + " vs " + actual[i]);
        }
    }

    @Test
    void randomBinaryLinesGiveTheEnvelopesBitsAndTheNearestFeature() {
        Random rnd = new Random(20261202);
        int lines = 0;
        for (double spacing : SPACINGS) {
            double w = spacing * spacing;
            for (double density : new double[] {0, 0.01, 0.05, 0.3, 0.9, 1}) {
                for (int rep = 0; rep < 40; rep++) {
                    int n = 1 + rnd.nextInt(300);
                    float[] line = randomBinaryLine(rnd, n, density);
                    int from = rnd.nextInt(n);
                    int to = rep % 4 == 0 ? n - 1 : from + rnd.nextInt(n - from);
                    String what = "spacing " + spacing + ", density " + density + ", n " + n + ", " + from + ".." + to;
                    float[] fast = shortcut(line, w, from, to);
                    assertSameBits(envelope(line, w, from, to), fast, what);
                    for (int p = 0; p < n; p++) {
                        float expected = p >= from && p <= to ? nearest(line, w, p) : line[p];
                        assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(fast[p]), what + ", position " + p);
                    }
                    lines++;
                }
            }
        }
        assertEquals(SPACINGS.length * 6 * 40, lines);
    }

    @Test
    void tiesBetweenTwoFeaturesAndFeaturesAtTheEndsGiveTheEnvelopesBits() {
        // Features an even and an odd number of steps apart (a midpoint on a voxel, or between two), at both ends,
        // neighbours, a single feature, and no feature (the line is left as it is).
        int[][] featureSets = {{0, 4}, {3, 8}, {0}, {20}, {0, 20}, {5, 6}, {2, 4, 6, 8, 10, 12}, {1, 19}, {}};
        for (double spacing : SPACINGS) {
            double w = spacing * spacing;
            for (int[] features : featureSets) {
                float[] line = new float[21];
                Arrays.fill(line, Float.POSITIVE_INFINITY);
                for (int f : features) {
                    line[f] = 0f;
                }
                String what = "spacing " + spacing + ", features " + Arrays.toString(features);
                float[] fast = shortcut(line, w, 0, 20);
                assertSameBits(envelope(line, w, 0, 20), fast, what);
                if (features.length == 0) {
                    assertSameBits(line, fast, what + " (no feature: unchanged)");
                }
            }
        }
    }

    @Test
    void aLineWithAFiniteNonZeroValueIsLeftToTheEnvelope() {
        float[][] lines = {
            {Float.POSITIVE_INFINITY, 0f, 2.5f, Float.POSITIVE_INFINITY},
            {Float.POSITIVE_INFINITY, Float.POSITIVE_INFINITY, 1f},
            {Float.NaN, 0f},
        };
        for (float[] line : lines) {
            float[] g = line.clone();
            float[] infinities = new float[line.length];
            Arrays.fill(infinities, Float.POSITIVE_INFINITY);
            assertFalse(DistanceTransform.binaryLine(g, 0, g.length, 1.0, new int[g.length], infinities, 0, g.length - 1),
                    Arrays.toString(line));
            assertArrayEquals(line, g, "nothing written: " + Arrays.toString(line));
        }
    }

    /**
     * The separable transform with the envelope on every pass (the kernels' steps), as a reference for
     * {@link DistanceTransform#squared(float[], int[], double[])}, which takes the shortcut on the first.
     */
    private static void envelopeEverywhere(float[] grid, int[] dims, double[] spacing) {
        int total = grid.length;
        int stride = 1;
        for (int axis = dims.length - 1; axis >= 0; axis--) {
            int len = dims[axis];
            double w = spacing[axis] * spacing[axis];
            float[] line = new float[len];
            for (int outer = 0; outer < total / (len * stride); outer++) {
                for (int inner = 0; inner < stride; inner++) {
                    int base = outer * len * stride + inner;
                    for (int p = 0; p < len; p++) {
                        line[p] = grid[base + p * stride];
                    }
                    float[] done = envelope(line, w, 0, len - 1);
                    for (int p = 0; p < len; p++) {
                        grid[base + p * stride] = done[p];
                    }
                }
            }
            stride *= len;
        }
    }

    @Test
    void theWholeTransformEqualsTheEnvelopeOnEveryPass() {
        Random rnd = new Random(7);
        int[][] shapes = {{90}, {33, 47}, {17, 29, 41}, {8, 1, 60}, {5, 64, 3}};
        double[][] spacings = {{0.8}, {1.2, 0.8}, {2, 0.8, 0.8}, {1, 1, 1}, {0.3, Math.sqrt(2), 2.5}};
        for (int s = 0; s < shapes.length; s++) {
            int[] dims = shapes[s];
            int n = Arrays.stream(dims).reduce(1, (a, b) -> a * b);
            for (double density : new double[] {0.0005, 0.01, 0.1, 0.6}) {
                float[] grid = randomBinaryLine(rnd, n, density);
                float[] expected = grid.clone();
                envelopeEverywhere(expected, dims, spacings[s]);
                DistanceTransform.squared(grid, dims, spacings[s]);
                assertSameBits(expected, grid, Arrays.toString(dims) + ", density " + density);
            }
        }
    }

    /**
     * The envelope as the kernels write it (kernels-cl/edt.cl), positions from..to: parabolas pushed and
     * popped on their intersections, then each position read from the parabola it lies under.
     */
    private static float[] kernelSteps(float[] f, double w, int from, int to) {
        int n = f.length;
        int[] v = new int[n];
        float[] fv = new float[n];
        double[] z = new double[n];
        int k = -1;
        for (int q = 0; q < n; q++) {
            if (f[q] == Float.POSITIVE_INFINITY) {
                continue;
            }
            double dq = q;
            double s = Double.NEGATIVE_INFINITY;
            while (k >= 0) {
                double dv = v[k];
                s = ((f[q] + w * dq * dq) - (fv[k] + w * dv * dv)) / (2.0 * w * (dq - dv));
                if (s > z[k]) {
                    break;
                }
                k--;
                s = Double.NEGATIVE_INFINITY;
            }
            k++;
            v[k] = q;
            fv[k] = f[q];
            z[k] = s;
        }
        float[] g = f.clone();
        if (k < 0) {
            return g;
        }
        int j = 0;
        for (int p = from; p <= to; p++) {
            while (j < k && z[j + 1] < p) {
                j++;
            }
            double d = p - v[j];
            g[p] = (float) (w * d * d + fv[j]);
        }
        return g;
    }

    @Test
    void laterPassLinesOfAnyFiniteValuesGiveTheKernelsSteps() {
        // The later passes read squared distances: random multiples of w' k^2 and arbitrary finite values, with gaps of +inf.
        Random rnd = new Random(99);
        for (double spacing : SPACINGS) {
            double w = spacing * spacing;
            for (int rep = 0; rep < 300; rep++) {
                int n = 1 + rnd.nextInt(200);
                float[] f = new float[n];
                double wOther = rnd.nextBoolean() ? 0.64 : 4.0;
                for (int i = 0; i < n; i++) {
                    int kind = rnd.nextInt(4);
                    f[i] = kind == 0 ? Float.POSITIVE_INFINITY
                            : kind == 1 ? (float) (wOther * rnd.nextInt(30) * rnd.nextInt(30)) : (float) (rnd.nextDouble() * 50);
                }
                int from = rnd.nextInt(n);
                int to = rep % 3 == 0 ? n - 1 : from + rnd.nextInt(n - from);
                assertSameBits(kernelSteps(f, w, from, to), envelope(f, w, from, to),
                        "spacing " + spacing + ", n " + n + ", " + from + ".." + to);
            }
        }
    }
}
