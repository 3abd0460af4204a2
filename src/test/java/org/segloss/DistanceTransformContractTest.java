package org.segloss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.backend.cpu.DistanceTransform;

/**
 * {@code Backend.distanceTransform} on one backend against a brute-force reference in double (the
 * minimum over every feature of the squared physical distance), and bit for bit against the Java
 * transform of {@link DistanceTransform} (every backend must give the same numbers). One subclass per
 * backend.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DistanceTransformContractTest {
    protected LossEngine engine;
    private org.opentest4j.TestAbortedException absent;

    /** Opens the engine under test (skips with the reason when the backend is absent). */
    protected abstract LossEngine createEngine();

    @BeforeAll
    void open() {
        try {
            engine = createEngine();
        } catch (org.opentest4j.TestAbortedException e) {
            absent = e; // each test then skips with the probe's reason, so the report counts them as skipped
        }
    }

    @BeforeEach
    void skipWhenTheBackendIsAbsent() {
        if (absent != null) {
            throw absent;
        }
    }

    @AfterAll
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    /** A grid: dims slowest first, spacing per axis, features where the grid is 0. */
    static final class Case {
        final String name;
        final long[] dims;
        final double[] spacing;
        final float[] grid;

        Case(String name, long[] dims, double[] spacing, float[] grid) {
            this.name = name;
            this.dims = dims;
            this.spacing = spacing;
            this.grid = grid;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static float[] features(int n, Random rnd, double density) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = rnd.nextDouble() < density ? 0f : Float.POSITIVE_INFINITY;
        }
        return g;
    }

    static Stream<Arguments> cases() {
        List<Case> c = new ArrayList<>();
        Random rnd = new Random(13);
        c.add(new Case("a line of 40 with three features", new long[] {40}, new double[] {1},
                line(40, 0, 17, 39)));
        c.add(new Case("a line with spacing 0.3 and one feature in the middle", new long[] {25}, new double[] {0.3},
                line(25, 12)));
        c.add(new Case("2-D 23x31 sparse random features", new long[] {23, 31}, new double[] {1, 1}, features(23 * 31, rnd, 0.02)));
        c.add(new Case("2-D 17x29 anisotropic spacing 0.85 x 1.2", new long[] {17, 29}, new double[] {1.2, 0.85},
                features(17 * 29, rnd, 0.05)));
        c.add(new Case("2-D 1x50 (a single row)", new long[] {1, 50}, new double[] {1, 1}, features(50, rnd, 0.1)));
        c.add(new Case("2-D 40x1 (a single column)", new long[] {40, 1}, new double[] {2, 1}, features(40, rnd, 0.1)));
        c.add(new Case("3-D 9x13x11 random features", new long[] {9, 13, 11}, new double[] {1, 1, 1}, features(9 * 13 * 11, rnd, 0.01)));
        c.add(new Case("3-D 7x12x10 spacing 2.5 x 0.7 x 1.3", new long[] {7, 12, 10}, new double[] {2.5, 0.7, 1.3},
                features(7 * 12 * 10, rnd, 0.03)));
        float[] corner = new float[6 * 8 * 10];
        Arrays.fill(corner, Float.POSITIVE_INFINITY);
        corner[0] = 0;
        c.add(new Case("3-D one feature in a corner", new long[] {6, 8, 10}, new double[] {1, 1, 1}, corner));
        float[] none = new float[5 * 6 * 7];
        Arrays.fill(none, Float.POSITIVE_INFINITY);
        c.add(new Case("3-D no feature at all: +inf everywhere", new long[] {5, 6, 7}, new double[] {1, 1, 1}, none));
        c.add(new Case("3-D every voxel a feature: 0 everywhere", new long[] {4, 5, 6}, new double[] {1, 1, 1}, new float[120]));
        c.add(new Case("3-D 3x4x300 long lines, dense features", new long[] {3, 4, 300}, new double[] {0.5, 0.5, 0.5},
                features(3 * 4 * 300, rnd, 0.3)));
        return c.stream().map(Arguments::of);
    }

    static float[] line(int n, int... at) {
        float[] g = new float[n];
        Arrays.fill(g, Float.POSITIVE_INFINITY);
        for (int a : at) {
            g[a] = 0;
        }
        return g;
    }

    /** min over features f of sum_i ((x_i - f_i) spacing_i)^2, in double; +inf without features. */
    static double[] bruteForce(Case k) {
        int n = k.grid.length;
        int rank = k.dims.length;
        List<int[]> feats = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (k.grid[i] == 0f) {
                feats.add(coords(i, k.dims));
            }
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            int[] x = coords(i, k.dims);
            double best = Double.POSITIVE_INFINITY;
            for (int[] f : feats) {
                double s = 0;
                for (int d = 0; d < rank; d++) {
                    double dd = (x[d] - f[d]) * k.spacing[d];
                    s += dd * dd;
                }
                best = Math.min(best, s);
            }
            out[i] = best;
        }
        return out;
    }

    static int[] coords(int i, long[] dims) {
        int[] c = new int[dims.length];
        int rest = i;
        for (int d = dims.length - 1; d >= 0; d--) {
            c[d] = (int) (rest % dims[d]);
            rest /= dims[d];
        }
        return c;
    }

    float[] onBackend(Case k) {
        float[] out = new float[k.grid.length];
        try (DeviceBuffer b = engine.upload(k.grid.clone())) {
            engine.backend().distanceTransform(b, k.dims, k.spacing);
            engine.download(b, out);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void squaredDistancesEqualTheBruteForceMinimumOverEveryFeature(Case k) {
        float[] got = onBackend(k);
        double[] want = bruteForce(k);
        for (int i = 0; i < want.length; i++) {
            String at = k.name + " at " + Arrays.toString(coords(i, k.dims));
            if (Double.isInfinite(want[i])) {
                assertEquals(Float.POSITIVE_INFINITY, got[i], at);
            } else {
                assertEquals(want[i], got[i], 1e-6 * Math.max(1, want[i]), at);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void everyBackendGivesTheBitsOfTheJavaTransform(Case k) {
        float[] ref = k.grid.clone();
        int[] d = new int[k.dims.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = (int) k.dims[i];
        }
        DistanceTransform.squared(ref, d, k.spacing);
        assertArrayEquals(ref, onBackend(k), k.name);
    }

    @Test
    void refusedArgumentsNameTheArgumentAndTheValue() {
        try (DeviceBuffer b = engine.upload(new float[12])) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> engine.backend().distanceTransform(b, new long[] {3, 4}, new double[] {1, 0}));
            assertTrue(e.getMessage().contains("spacing[1]") && e.getMessage().contains("0.0"), e.getMessage());
            e = assertThrows(InvalidInputException.class,
                    () -> engine.backend().distanceTransform(b, new long[] {3, 5}, new double[] {1, 1}));
            assertTrue(e.getMessage().contains("grid must hold") && e.getMessage().contains("12"), e.getMessage());
            e = assertThrows(InvalidInputException.class,
                    () -> engine.backend().distanceTransform(b, new long[] {2, 2, 3}, new double[] {1, 1}));
            assertTrue(e.getMessage().contains("spacing must have one value per axis (3)"), e.getMessage());
            e = assertThrows(InvalidInputException.class,
                    () -> engine.backend().distanceTransform(b, new long[] {1, 2, 2, 3}, new double[] {1, 1, 1, 1}));
            assertTrue(e.getMessage().contains("dims must have 1 to 3 axes"), e.getMessage());
        }
        try (DeviceBuffer b = engine.upload(new int[12])) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> engine.backend().distanceTransform(b, new long[] {3, 4}, new double[] {1, 1}));
            assertTrue(e.getMessage().contains("grid must be a float32 buffer, was INT32"), e.getMessage());
        }
    }
}
