package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.ElementType;
import org.segloss.Layout;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The refusal check of the binary logits lanes ({@link VectorBinary#stats}): a cheap check on what the loop carries
 * (the targets' bits, sums that a non-finite x makes non-finite), then an element check of a suspect chunk. Every
 * lanes loop (bce; bce with region; region alone, with e staged in a keep or computed in the loop) must refuse a
 * unit with a planted refused value wherever it sits, and must not refuse lookalikes: -0.0 targets (their stats the
 * bits of +0.0 targets) and finite logits so large that a lane's float sum of the bce term overflows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VectorBinaryCheckTest {
    /** Pixels per sample: several chunks of {@link VectorBinary#SUM_CHUNK} and a lane tail. */
    private static final int S = 3 * VectorBinary.SUM_CHUNK + 5;
    private static final int C = 4;
    private CpuBackend owner;

    @BeforeAll
    void open() {
        owner = CpuBackend.vector();
    }

    @AfterAll
    void close() {
        owner.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> cases = new ArrayList<>();
        for (Layout layout : Layout.values()) {
            for (PixelTerm term : new PixelTerm[] {PixelTerm.BCE, PixelTerm.NONE}) {
                for (boolean region : new boolean[] {true, false}) {
                    if (term == PixelTerm.BCE || region) {
                        for (boolean keep : new boolean[] {false, true}) {
                            cases.add(Arguments.of(layout, term, region, keep));
                        }
                    }
                }
            }
        }
        return cases.stream();
    }

    private static Problem problem(Layout layout, PixelTerm term, boolean region) {
        return new Problem(false, true, layout, 1, C, S, ElementType.FLOAT32, false, 0, term, region, 0.25, 0.75, 2.0);
    }

    /** VectorBinary.stats of the whole sample; acc gets the stats; returns whether the lanes accepted it. */
    private boolean stats(Problem p, float[] pred, float[] target, boolean keep, double[] acc) {
        CpuBuffer x = CpuBuffer.of(owner, FloatBuffer.wrap(pred));
        CpuBuffer t = CpuBuffer.of(owner, FloatBuffer.wrap(target));
        CpuBuffer k = keep ? CpuBuffer.of(owner, FloatBuffer.wrap(new float[pred.length])) : null;
        return VectorBinary.stats(p, x, t, 0, 0, S, acc, new VectorScratch(), k);
    }

    /** As {@link #stats}, every buffer direct (no accessible array: the rows are copied, 512 elements at a time). */
    private boolean statsDirect(Problem p, float[] pred, float[] target, boolean keep, double[] acc) {
        CpuBuffer x = CpuBuffer.of(owner, direct(pred));
        CpuBuffer t = CpuBuffer.of(owner, direct(target));
        CpuBuffer k = keep ? CpuBuffer.of(owner, direct(new float[pred.length])) : null;
        return VectorBinary.stats(p, x, t, 0, 0, S, acc, new VectorScratch(), k);
    }

    private static FloatBuffer direct(float[] a) {
        FloatBuffer b = ByteBuffer.allocateDirect(4 * a.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(a).flip();
        return b;
    }

    private static float[][] input(long seed) {
        Random r = new Random(seed);
        float[] pred = new float[C * S];
        float[] target = new float[C * S];
        for (int i = 0; i < pred.length; i++) {
            pred[i] = (float) r.nextGaussian() * 3;
            target[i] = r.nextInt(3) == 0 ? 1f : 0f;
        }
        return new float[][] {pred, target};
    }

    @ParameterizedTest(name = "{0} {1} region={2} keep={3}")
    @MethodSource("cases")
    void plantedRefusedValuesAreRefusedWhereverTheySit(Layout layout, PixelTerm term, boolean region, boolean keep) {
        Problem p = problem(layout, term, region);
        float[] badPred = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        float[] badTarget = {Float.NaN, -Float.NaN, 2f, -1f, 1.0000001f, -Float.MIN_VALUE, Float.POSITIVE_INFINITY};
        // in the first lane, a lane body, the last lane of a chunk, the last whole vector, the lane tail
        int[] at = {0, 37, VectorBinary.SUM_CHUNK - 1, C * S - 6 - VectorKernels.L, C * S - 1};
        double[] acc = new double[C * Problem.STATS];
        for (int where : at) {
            for (float v : badPred) {
                float[][] in = input(where);
                in[0][where] = v;
                assertFalse(stats(p, in[0], in[1], keep, acc), "x = " + v + " at " + where + " must be refused");
            }
            for (float v : badTarget) {
                float[][] in = input(where);
                in[1][where] = v;
                assertFalse(stats(p, in[0], in[1], keep, acc), "t = " + v + " at " + where + " must be refused");
            }
        }
        float[][] clean = input(1);
        assertTrue(stats(p, clean[0], clean[1], keep, acc), "a clean input must not be refused");
    }

    @ParameterizedTest(name = "{0} {1} region={2} keep={3}")
    @MethodSource("cases")
    void negativeZeroTargetsAreTakenAsZero(Layout layout, PixelTerm term, boolean region, boolean keep) {
        Problem p = problem(layout, term, region);
        float[][] in = input(7);
        float[] negative = in[1].clone();
        Random r = new Random(8);
        for (int i = 0; i < negative.length; i++) {
            if (negative[i] == 0f && r.nextBoolean()) {
                negative[i] = -0f;
            }
        }
        double[] expected = new double[C * Problem.STATS];
        double[] actual = new double[C * Problem.STATS];
        assertTrue(stats(p, in[0], in[1], keep, expected));
        assertTrue(stats(p, in[0], negative, keep, actual), "-0.0 targets must not be refused");
        assertArrayEquals(expected, actual, "-0.0 targets must give the stats of +0.0 targets");
    }

    @ParameterizedTest(name = "{0} {1} region={2} keep={3}")
    @MethodSource("cases")
    void hugeFiniteLogitsAreNotRefused(Layout layout, PixelTerm term, boolean region, boolean keep) {
        Problem p = problem(layout, term, region);
        float[][] in = input(9);
        for (int i = 0; i < VectorBinary.SUM_CHUNK; i++) { // bce 3e38 per element: a lane's float sum overflows
            in[0][i] = 3e38f;
            in[1][i] = 0f;
        }
        double[] acc = new double[C * Problem.STATS];
        assertTrue(stats(p, in[0], in[1], keep, acc), "finite logits must not be refused");
    }

    /**
     * A row copied from a direct buffer is summed in the order of the same row in an array (one set of double lanes
     * per row, added once, then the tail), so the stats are the same bits; NHWC with C = 4 is read flat. Logits of
     * 3e9 to 2.1e10 in the first chunk make the bce sums round in double, so a row flushed copy by copy gives other bits.
     */
    @ParameterizedTest(name = "{0} {1} region={2} keep={3}")
    @MethodSource("cases")
    void directBuffersGiveTheStatsBitsOfArrays(Layout layout, PixelTerm term, boolean region, boolean keep) {
        Problem p = problem(layout, term, region);
        float[][] in = input(11);
        for (int i = 0; i < VectorBinary.SUM_CHUNK; i++) {
            in[0][i] = 3e9f * (1 + i % 7);
        }
        double[] expected = new double[C * Problem.STATS];
        double[] actual = new double[C * Problem.STATS];
        assertTrue(stats(p, in[0], in[1], keep, expected));
        assertTrue(statsDirect(p, in[0], in[1], keep, actual));
        assertArrayEquals(expected, actual, "stats of direct buffers against arrays");
    }
}
