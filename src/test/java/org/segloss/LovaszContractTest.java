package org.segloss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Lovasz losses of {@code shared/spec/losses.md} on every backend (one subclass per backend).
 * Expected values: {@link LovaszReference} (an independent double implementation in the tests), hand
 * computations (in the comments of the golden cases), and the reference's own finite differences.
 *
 * <p>{@code -Dsegloss.test.lovaszMaxElements=K} leaves out the cases with more than K pred elements
 * (ci/emulated-gpu-check.sh: the host emulation of CUDA runs a million-element sort for hours).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class LovaszContractTest {
    protected LossEngine engine;
    private org.opentest4j.TestAbortedException absent;

    /** Opens the engine under test (skips with the reason when the backend is absent). */
    protected abstract LossEngine createEngine();

    /** Allowed error of a value, relative to max(|expected|, 0.1). */
    protected double valueTolerance() {
        return 1e-5;
    }

    /** Allowed max-abs error of a gradient, relative to the expected gradient's max-abs value. */
    protected double gradTolerance() {
        return 1e-4;
    }

    @BeforeAll
    void openEngine() {
        try {
            engine = createEngine();
        } catch (org.opentest4j.TestAbortedException e) {
            absent = e;
        }
    }

    @BeforeEach
    void skipWhenTheBackendIsAbsent() {
        if (absent != null) {
            throw absent;
        }
    }

    @AfterAll
    void closeEngine() {
        if (engine != null) {
            engine.close();
        }
    }

    // ---- the table ---------------------------------------------------------------------------

    /** Target element types of a case. */
    enum Target { FLOAT, UINT8, INT32, INT64 }

    /** One row: options, input (generated from a seed), and how closely the gradient is compared. */
    static final class Case {
        final String name;
        final Mode mode;
        final boolean batch;
        final Layout layout;
        final long[] shape;
        final Integer ignore;
        final boolean fromLogits;
        final Target targetType;
        final float[] pred;
        final double[] target;
        /** Compare the gradient too (big multiclass cases: float softmax near-ties reorder ranks, value only). */
        final boolean compareGradient;

        Case(String name, Mode mode, boolean batch, Layout layout, long[] shape, Integer ignore, boolean fromLogits,
             Target targetType, float[] pred, double[] target, boolean compareGradient) {
            this.name = name;
            this.mode = mode;
            this.batch = batch;
            this.layout = layout;
            this.shape = shape;
            this.ignore = ignore;
            this.fromLogits = fromLogits;
            this.targetType = targetType;
            this.pred = pred;
            this.target = target;
            this.compareGradient = compareGradient;
        }

        long size() {
            return pred.length;
        }

        LossSpec spec() {
            LossSpec.Builder b = LossSpec.builder(Loss.LOVASZ, mode).fromLogits(fromLogits).layout(layout).batch(batch);
            if (ignore != null) {
                b.ignoreIndex(ignore);
            }
            return b.build();
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static int product(long[] shape) {
        long p = 1;
        for (long d : shape) {
            p *= d;
        }
        return Math.toIntExact(p);
    }

    /** Random logits in [-spread, spread], optionally rounded to a few levels (ties). */
    private static float[] logits(int size, long seed, double spread, int levels) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            double v = (r.nextDouble() * 2 - 1) * spread;
            x[i] = (float) (levels > 0 ? Math.rint(v * levels / spread) * spread / levels : v);
        }
        return x;
    }

    /** Binary targets: 1 with probability pos, else 0; the ignore value with probability ign. */
    private static double[] binaryTargets(int size, long seed, double pos, double ign, int ignoreValue) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] t = new double[size];
        for (int i = 0; i < size; i++) {
            double u = r.nextDouble();
            t[i] = u < ign ? ignoreValue : (r.nextDouble() < pos ? 1 : 0);
        }
        return t;
    }

    /** Class map over the given classes; the ignore value with probability ign. */
    private static double[] classMap(int pixels, long seed, int[] classes, double ign, int ignoreValue) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] t = new double[pixels];
        for (int i = 0; i < pixels; i++) {
            t[i] = r.nextDouble() < ign ? ignoreValue : classes[r.nextInt(classes.length)];
        }
        return t;
    }

    private static Case binary(String name, Mode mode, boolean batch, Layout layout, long[] shape, long seed, int levels,
                               double pos, Integer ignore, double ign, Target type) {
        int size = product(shape);
        return new Case(name, mode, batch, layout, shape, ignore, true, type, logits(size, seed, 3, levels),
                binaryTargets(size, seed + 1, pos, ign, ignore == null ? 0 : ignore), true);
    }

    private static Case multiclass(String name, boolean batch, Layout layout, long[] shape, long seed, int levels,
                                   int[] classes, Integer ignore, double ign, boolean fromLogits, Target type) {
        int size = product(shape);
        int c = (int) (layout == Layout.NHWC ? shape[shape.length - 1] : shape[1]);
        float[] x = logits(size, seed, 3, levels);
        if (!fromLogits) { // probabilities: a softmax over C computed here, in float
            Reference.Geometry g = new Reference.Geometry(shape, layout);
            float[] p = new float[size];
            for (int n = 0; n < g.n; n++) {
                for (int s = 0; s < g.s; s++) {
                    double sum = 0;
                    for (int k = 0; k < c; k++) {
                        sum += Math.exp(x[g.index(n, k, s)]);
                    }
                    for (int k = 0; k < c; k++) {
                        p[g.index(n, k, s)] = (float) (Math.exp(x[g.index(n, k, s)]) / sum);
                    }
                }
            }
            x = p;
        }
        return new Case(name, Mode.MULTICLASS, batch, layout, shape, ignore, fromLogits, type, x,
                classMap(size / c, seed + 1, classes, ign, ignore == null ? 0 : ignore), size <= 200_000);
    }

    static Stream<Case> cases() {
        List<Case> all = new ArrayList<>();
        Layout nchw = Layout.NCHW;
        Layout nhwc = Layout.NHWC;
        all.add(binary("binary, segments of 1 element", Mode.BINARY, false, nchw, new long[] {5, 1, 1}, 1, 0, 0.5, null, 0, Target.FLOAT));
        all.add(binary("binary, one segment of 1 element", Mode.BINARY, false, nchw, new long[] {1, 1}, 2, 0, 0.5, null, 0, Target.FLOAT));
        all.add(binary("binary, 3 x 1 x 37 x 29 float target", Mode.BINARY, false, nchw, new long[] {3, 1, 37, 29}, 3, 0, 0.3, null, 0, Target.FLOAT));
        all.add(binary("binary, batch, 3 x 1 x 37 x 29", Mode.BINARY, true, nchw, new long[] {3, 1, 37, 29}, 4, 0, 0.3, null, 0, Target.UINT8));
        all.add(binary("binary, many ties (logits on 5 levels)", Mode.BINARY, false, nchw, new long[] {2, 1, 300}, 5, 2, 0.5, null, 0, Target.FLOAT));
        all.add(binary("binary, all logits equal", Mode.BINARY, false, nchw, new long[] {2, 1, 97}, 6, 1, 0.5, null, 0, Target.INT32));
        all.add(binary("binary, all targets positive", Mode.BINARY, false, nchw, new long[] {2, 1, 513}, 7, 0, 1.0, null, 0, Target.FLOAT));
        all.add(binary("binary, all targets negative", Mode.BINARY, false, nchw, new long[] {2, 1, 513}, 8, 0, 0.0, null, 0, Target.FLOAT));
        all.add(binary("multilabel, 2 x 5 x 13 x 11 nchw", Mode.MULTILABEL, false, nchw, new long[] {2, 5, 13, 11}, 9, 0, 0.4, null, 0, Target.FLOAT));
        all.add(binary("multilabel, 2 x 13 x 11 x 5 nhwc", Mode.MULTILABEL, false, nhwc, new long[] {2, 13, 11, 5}, 9, 0, 0.4, null, 0, Target.FLOAT));
        all.add(binary("multilabel, batch, nhwc, ties", Mode.MULTILABEL, true, nhwc, new long[] {3, 40, 3}, 10, 3, 0.4, null, 0, Target.UINT8));
        all.add(binary("binary, ignored pixels (uint8 255)", Mode.BINARY, false, nchw, new long[] {2, 1, 1000}, 11, 0, 0.4, 255, 0.3, Target.UINT8));
        all.add(binary("multilabel, ignored pixels (float -1), batch", Mode.MULTILABEL, true, nchw, new long[] {2, 3, 500}, 12, 0, 0.4, -1, 0.3, Target.FLOAT));
        all.add(binary("multilabel, int64 target with ignored pixels", Mode.MULTILABEL, false, nhwc, new long[] {2, 30, 3}, 15, 0, 0.4, -1, 0.2, Target.INT64));
        all.add(multiclass("multiclass, int64 class map, batch", true, nchw, new long[] {2, 3, 70}, 29, 0, new int[] {0, 1, 2}, 255, 0.1, true, Target.INT64));
        all.add(binary("binary, every pixel ignored", Mode.BINARY, false, nchw, new long[] {2, 1, 50}, 13, 0, 0.4, 7, 1.0, Target.INT32));
        all.add(binary("binary, one segment of 2^21 + 77 elements", Mode.BINARY, false, nchw, new long[] {1, 1, (1 << 21) + 77}, 14, 0, 0.3, null, 0, Target.FLOAT));
        all.add(multiclass("multiclass, 2 x 4 x 9 x 11 uint8, classes 1 and 3 absent", false, nchw, new long[] {2, 4, 9, 11}, 20, 0, new int[] {0, 2}, null, 0, true, Target.UINT8));
        all.add(multiclass("multiclass, 2 x 9 x 11 x 4 nhwc int32", false, nhwc, new long[] {2, 9, 11, 4}, 21, 0, new int[] {0, 1, 2, 3}, null, 0, true, Target.INT32));
        all.add(multiclass("multiclass, batch, 3 x 5 x 200", true, nchw, new long[] {3, 5, 200}, 22, 0, new int[] {0, 1, 2, 3, 4}, null, 0, true, Target.UINT8));
        all.add(multiclass("multiclass, ignored pixels (255)", false, nchw, new long[] {2, 3, 400}, 23, 0, new int[] {0, 1, 2}, 255, 0.25, true, Target.UINT8));
        all.add(multiclass("multiclass, every pixel ignored", false, nchw, new long[] {2, 3, 40}, 24, 0, new int[] {0, 1, 2}, 255, 1.0, true, Target.INT32));
        all.add(multiclass("multiclass, probabilities (not logits)", false, nchw, new long[] {2, 3, 300}, 25, 0, new int[] {0, 1, 2}, null, 0, false, Target.FLOAT));
        all.add(multiclass("multiclass, ties (logits on 2 levels)", false, nhwc, new long[] {2, 50, 3}, 26, 1, new int[] {0, 1, 2}, null, 0, true, Target.UINT8));
        all.add(multiclass("multiclass, one class present, segments of 1 pixel", false, nchw, new long[] {4, 3, 1}, 27, 0, new int[] {1}, null, 0, true, Target.UINT8));
        all.add(multiclass("multiclass, batch, 2 x 3 x 600 x 500 (segments of 600,000)", true, nchw, new long[] {2, 3, 600, 500}, 28, 0, new int[] {0, 1, 2}, 255, 0.1, true, Target.UINT8));
        long max = Long.getLong("segloss.test.lovaszMaxElements", Long.MAX_VALUE);
        return all.stream().filter(c -> c.size() <= max);
    }

    // ---- running a case ----------------------------------------------------------------------

    private static double[] toDoubles(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }

    LossResult run(Case c, float[] grad) {
        LossSpec spec = c.spec();
        switch (c.targetType) {
            case UINT8: {
                byte[] t = new byte[c.target.length];
                for (int i = 0; i < t.length; i++) {
                    t[i] = (byte) (int) c.target[i];
                }
                return grad == null ? engine.forward(spec, c.pred, c.shape, t) : engine.forwardBackward(spec, c.pred, c.shape, t, grad);
            }
            case INT64: {
                long[] t = new long[c.target.length];
                for (int i = 0; i < t.length; i++) {
                    t[i] = (long) c.target[i];
                }
                return grad == null ? engine.forward(spec, c.pred, c.shape, t) : engine.forwardBackward(spec, c.pred, c.shape, t, grad);
            }
            case INT32: {
                int[] t = new int[c.target.length];
                for (int i = 0; i < t.length; i++) {
                    t[i] = (int) c.target[i];
                }
                return grad == null ? engine.forward(spec, c.pred, c.shape, t) : engine.forwardBackward(spec, c.pred, c.shape, t, grad);
            }
            default: {
                float[] t = new float[c.target.length];
                for (int i = 0; i < t.length; i++) {
                    t[i] = (float) c.target[i];
                }
                return grad == null ? engine.forward(spec, c.pred, c.shape, t) : engine.forwardBackward(spec, c.pred, c.shape, t, grad);
            }
        }
    }

    void assertValue(double expected, double actual, String what) {
        assertEquals(expected, actual, valueTolerance() * Math.max(Math.abs(expected), 0.1), what);
    }

    void assertGradient(double[] expected, float[] actual, String what) {
        double scale = 0;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(expected[i] - actual[i]);
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        double allowed = gradTolerance() * Math.max(scale, 1e-12);
        assertTrue(worst <= allowed, what + ": max gradient error " + worst + " at " + at + " (expected "
                + (at < 0 ? 0 : expected[at]) + ", got " + (at < 0 ? 0 : actual[at]) + "), allowed " + allowed);
    }

    // ---- tests -------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0}: value and gradient equal the double reference")
    @MethodSource("cases")
    void valueAndGradientEqualTheReference(Case c) {
        LovaszReference.Result ref = LovaszReference.compute(c.mode, c.batch, c.layout, c.shape, toDoubles(c.pred), c.target,
                c.ignore, c.fromLogits, true);
        float[] grad = new float[c.pred.length];
        LossResult r = run(c, grad);
        assertValue(ref.value, r.value(), c.name + " value");
        if (c.compareGradient) {
            assertGradient(ref.grad, grad, c.name);
        }
        assertEquals(r.value(), run(c, null).value(), 0.0, "forward equals forward+backward");
    }

    @ParameterizedTest(name = "{0}: two runs give the same bits")
    @MethodSource("smallCases")
    void twoRunsGiveTheSameBits(Case c) {
        float[] g1 = new float[c.pred.length];
        float[] g2 = new float[c.pred.length];
        double v1 = run(c, g1).value();
        double v2 = run(c, g2).value();
        assertEquals(Double.doubleToLongBits(v1), Double.doubleToLongBits(v2));
        assertArrayEquals(g1, g2);
    }

    static Stream<Case> smallCases() {
        return cases().filter(c -> c.size() <= 5000);
    }

    /**
     * The reference's gradient against central finite differences of its own value (errors not rounded to
     * float), on inputs away from ties and kinks: distinct logits with |e| > 0.05 everywhere.
     */
    @ParameterizedTest(name = "{0}: the reference gradient matches finite differences")
    @MethodSource("finiteDifferenceCases")
    void theReferenceGradientMatchesFiniteDifferences(Case c) {
        double[] x = toDoubles(c.pred);
        LovaszReference.Result ref = LovaszReference.compute(c.mode, c.batch, c.layout, c.shape, x, c.target, c.ignore,
                c.fromLogits, false);
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double keep = x[i];
            x[i] = keep + h;
            double up = LovaszReference.compute(c.mode, c.batch, c.layout, c.shape, x, c.target, c.ignore, c.fromLogits, false).value;
            x[i] = keep - h;
            double down = LovaszReference.compute(c.mode, c.batch, c.layout, c.shape, x, c.target, c.ignore, c.fromLogits, false).value;
            x[i] = keep;
            assertEquals((up - down) / (2 * h), ref.grad[i], 1e-6, c.name + " element " + i);
        }
    }

    static Stream<Case> finiteDifferenceCases() {
        List<Case> out = new ArrayList<>();
        // logits of distinct magnitudes 0.2 + 0.061 k (k a permutation), none within 0.03 of +-1: the hinge
        // errors 1 -+ |x| are distinct and away from 0
        int size = 2 * 2 * 7;
        float[] x = new float[size];
        double[] t = binaryTargets(size, 40, 0.5, 0, 0);
        for (int i = 0; i < size; i++) {
            double m = 0.2 + 0.061 * ((i * 5) % size);
            if (Math.abs(1 - m) < 0.03) {
                m = 2.5;
            }
            x[i] = (float) ((i % 2 == 0 ? 1 : -1) * m);
        }
        out.add(new Case("multilabel hinge, 2 x 2 x 7", Mode.MULTILABEL, false, Layout.NCHW, new long[] {2, 2, 7}, null, true,
                Target.FLOAT, x, t, true));
        out.add(new Case("multilabel hinge, batch, ignored pixels", Mode.MULTILABEL, true, Layout.NCHW, new long[] {2, 2, 7}, -1,
                true, Target.FLOAT, x, binaryTargets(size, 41, 0.5, 0.2, -1), true));
        out.add(multiclass("multiclass softmax, 2 x 3 x 6", false, Layout.NCHW, new long[] {2, 3, 6}, 42, 0, new int[] {0, 1}, null, 0,
                true, Target.UINT8));
        out.add(multiclass("multiclass softmax, batch, nhwc, ignored pixels", true, Layout.NHWC, new long[] {2, 5, 3}, 43, 0,
                new int[] {0, 1, 2}, 9, 0.2, true, Target.UINT8));
        out.add(multiclass("multiclass probabilities, 2 x 3 x 6", false, Layout.NCHW, new long[] {2, 3, 6}, 44, 0, new int[] {0, 2},
                null, 0, false, Target.FLOAT));
        return out.stream();
    }

    // ---- goldens by hand -----------------------------------------------------------------------

    /**
     * Binary, one segment, logits (2, -1, 0.5), targets (1, 1, 0): errors 1 - x(2t - 1) = (-1, 2, 1.5);
     * sorted decreasing: e = (2, 1.5, -1) with g = (1, 0, 1), G = 2. J_1 = 1 - 1/2 = 1/2,
     * J_2 = 1 - 1/3 = 2/3, J_3 = 1 - 0/3 = 1: L = (1/2, 1/6, 1/3).
     * Loss = 2 (1/2) + 1.5 (1/6) + 0 = 1.25. Gradient -(2t - 1) L where e > 0: x_1 (e = -1): 0;
     * x_2 (g = 1, rank 1): -1/2; x_3 (g = 0, rank 2): +1/6.
     */
    @Test
    void aHandComputedHingeSegmentGives1point25() {
        LossSpec spec = LossSpec.builder(Loss.LOVASZ, Mode.BINARY).fromLogits(true).build();
        float[] grad = new float[3];
        LossResult r = engine.forwardBackward(spec, new float[] {2f, -1f, 0.5f}, new long[] {1, 1, 3}, new float[] {1, 1, 0}, grad);
        assertEquals(1.25, r.value(), 1e-6);
        assertArrayEquals(new float[] {0f, -0.5f, 1f / 6}, grad, 1e-6f);
    }

    /**
     * Ties by lower index: logits (0, 0) with targets (1, 0): errors (1, 1), a tie; the lower index goes first:
     * g = (1, 0), G = 1: J_1 = 1 - 0/1 = 1, J_2 = 1 - 0/2 = 1: L = (1, 0). Loss = 1. Gradient: element 0
     * (g = 1, L = 1): -1; element 1 (L = 0): 0. The other order would give (0, +1).
     */
    @Test
    void tiedErrorsRankTheLowerIndexFirst() {
        LossSpec spec = LossSpec.builder(Loss.LOVASZ, Mode.BINARY).fromLogits(true).build();
        float[] grad = new float[2];
        LossResult r = engine.forwardBackward(spec, new float[] {0f, 0f}, new long[] {1, 1, 2}, new float[] {1, 0}, grad);
        assertEquals(1.0, r.value(), 1e-6);
        assertArrayEquals(new float[] {-1f, 0f}, grad, 0f);
    }

    /**
     * Multiclass from probabilities, one sample, C = 2, pixels with p_1 = (0.9, 0.2, 0.6) and y = (1, 0, 1).
     * Class 0: p_0 = (0.1, 0.8, 0.4), g = (0, 1, 0), e = (0.1, 0.2, 0.4): sorted (0.4, 0.2, 0.1), g (0, 1, 0),
     * G = 1: J = (1 - 1/2, 1 - 0/2, 1 - 0/2) = (1/2, 1, 1), L = (1/2, 1/2, 0): term 0.2 + 0.1 = 0.3.
     * Class 1: g = (1, 0, 1), e = (0.1, 0.2, 0.4): sorted (0.4, 0.2, 0.1) g (1, 0, 1), G = 2:
     * J = (1 - 1/2, 1 - 1/3, 1 - 0/3) = (1/2, 2/3, 1), L = (1/2, 1/6, 1/3): term 0.2 + 0.2/6 + 0.1/3 = 4/15.
     * Both present: loss = (0.3 + 4/15) / 2 = 17/60.
     */
    @Test
    void aHandComputedSoftmaxSampleGives17Over60() {
        LossSpec spec = LossSpec.builder(Loss.LOVASZ, Mode.MULTICLASS).fromLogits(false).build();
        float[] pred = {0.1f, 0.8f, 0.4f, 0.9f, 0.2f, 0.6f};
        LossResult r = engine.forward(spec, pred, new long[] {1, 2, 3}, new byte[] {1, 0, 1});
        assertEquals(17.0 / 60, r.value(), 1e-6);
    }

    // ---- peer values (segmentation_models_pytorch) -------------------------------------------------

    /**
     * smp's own tests (tests/test_losses.py, qubvel-org/segmentation_models.pytorch at 5006616, and its
     * history) have no Lovasz case, so these values were computed by smp's LovaszLoss itself
     * (segmentation_models_pytorch/losses/lovasz.py at 5006616, run with torch 1.13 in float32; the inputs
     * are the literals below), value and autograd gradient, printed to 6 decimals. Mapping (spec "Where peers
     * differ"): smp flattens every channel into one binary problem, so its binary cases use C = 1;
     * per_image=False is our batch, per_image=True our per-sample segments; multiclass LovaszLoss applies
     * the softmax, as our from_logits. Its gradient of tied errors follows torch.sort's order, so the inputs
     * have no ties.
     */
    static final class Peer {
        final String name;
        final Mode mode;
        final boolean batch;
        final long[] shape;
        final Integer ignore;
        final float[] x;
        final int[] y;
        final double value;
        final float[] grad;

        Peer(String name, Mode mode, boolean batch, long[] shape, Integer ignore, float[] x, int[] y, double value, float[] grad) {
            this.name = name;
            this.mode = mode;
            this.batch = batch;
            this.shape = shape;
            this.ignore = ignore;
            this.x = x;
            this.y = y;
            this.value = value;
            this.grad = grad;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Peer> peerCases() {
        return Stream.of(
            new Peer("smp LovaszLoss(mode=binary, per_image=False) = ours binary batch", Mode.BINARY, true, new long[] {2, 1, 2, 3}, null,
                    new float[] {-0.022000f, 1.609000f, -2.469000f, -2.208000f, -1.155000f, 0.804000f, -0.059000f, 2.379000f, -0.266000f, 0.794000f, -0.907000f, -0.590000f},
                    new int[] {1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0},
                    1.328813076,
                    new float[] {-0.142857f, 0.119048f, -0.166667f, 0.000000f, 0.000000f, -0.111111f, 0.053571f, 0.000000f, -0.142857f, -0.111111f, 0.011111f, 0.041667f}),
            new Peer("smp LovaszLoss(mode=binary, per_image=True, ignore_index=255) = ours binary per sample", Mode.BINARY, false, new long[] {2, 1, 2, 3}, 255,
                    new float[] {-0.022000f, 1.609000f, -2.469000f, -2.208000f, -1.155000f, 0.804000f, -0.059000f, 2.379000f, -0.266000f, 0.794000f, -0.907000f, -0.590000f},
                    new int[] {1, 255, 1, 0, 0, 1, 0, 1, 255, 255, 0, 0},
                    1.054458380,
                    new float[] {-0.166667f, 0.000000f, -0.166667f, 0.000000f, 0.000000f, -0.166667f, 0.250000f, 0.000000f, 0.000000f, 0.000000f, 0.041667f, 0.083333f}),
            new Peer("smp LovaszLoss(mode=multiclass, per_image=False) = ours multiclass batch", Mode.MULTICLASS, true, new long[] {2, 3, 2, 3}, null,
                    new float[] {-2.866000f, -1.987000f, -1.237000f, 0.111000f, 1.186000f, 1.800000f, -2.034000f, -1.306000f, 1.090000f, 2.491000f, -0.617000f, 2.245000f, -0.484000f, 0.317000f, 2.716000f, -2.783000f, -1.889000f, -0.759000f, -1.169000f, 2.592000f, -1.945000f, -1.381000f, -2.096000f, -2.810000f, -1.751000f, 2.579000f, 1.339000f, 1.454000f, 0.158000f, -1.538000f, 0.508000f, -2.801000f, -2.168000f, -1.547000f, 1.893000f, 1.759000f},
                    new int[] {0, 2, 2, 1, 0, 2, 1, 1, 0, 0, 1, 1},
                    0.748316109,
                    new float[] {-0.006397f, 0.002791f, 0.000609f, 0.002134f, -0.008277f, 0.001181f, -0.000389f, 0.005975f, 0.006838f, -0.002252f, 0.006540f, 0.002313f, 0.006786f, -0.008765f, -0.007447f, 0.000118f, 0.001737f, -0.003494f, -0.001840f, 0.014535f, -0.004285f, -0.005318f, -0.000323f, -0.000502f, -0.005522f, -0.014563f, 0.005372f, 0.006084f, -0.010110f, -0.004145f, 0.007363f, 0.000028f, -0.001087f, -0.000766f, 0.010434f, 0.004647f}),
            new Peer("smp LovaszLoss(mode=multiclass, per_image=True, ignore_index=255) = ours multiclass per sample", Mode.MULTICLASS, false, new long[] {2, 3, 2, 3}, 255,
                    new float[] {-2.866000f, -1.987000f, -1.237000f, 0.111000f, 1.186000f, 1.800000f, -2.034000f, -1.306000f, 1.090000f, 2.491000f, -0.617000f, 2.245000f, -0.484000f, 0.317000f, 2.716000f, -2.783000f, -1.889000f, -0.759000f, -1.169000f, 2.592000f, -1.945000f, -1.381000f, -2.096000f, -2.810000f, -1.751000f, 2.579000f, 1.339000f, 1.454000f, 0.158000f, -1.538000f, 0.508000f, -2.801000f, -2.168000f, -1.547000f, 1.893000f, 1.759000f},
                    new int[] {0, 255, 2, 1, 0, 2, 255, 1, 1, 255, 255, 0},
                    0.588326395,
                    new float[] {-0.007310f, 0.000000f, 0.000686f, 0.002560f, -0.008930f, -0.011223f, 0.001280f, 0.000000f, 0.009275f, -0.002702f, 0.007223f, 0.015351f, 0.006030f, 0.000000f, -0.009961f, 0.000142f, 0.001707f, -0.004128f, 0.000000f, 0.031106f, 0.004111f, 0.000000f, 0.000000f, -0.002450f, 0.000000f, -0.031248f, -0.007401f, 0.000000f, 0.000000f, 0.000087f, 0.000000f, 0.000141f, 0.003290f, 0.000000f, 0.000000f, 0.002363f}));
    }

    @ParameterizedTest(name = "{0}: value and gradient equal smp's")
    @MethodSource("peerCases")
    void valueAndGradientEqualSmpsLovaszLoss(Peer c) {
        LossSpec.Builder b = LossSpec.builder(Loss.LOVASZ, c.mode).fromLogits(true).batch(c.batch);
        if (c.ignore != null) {
            b.ignoreIndex(c.ignore);
        }
        float[] grad = new float[c.x.length];
        LossResult r;
        if (c.mode == Mode.MULTICLASS) {
            r = engine.forwardBackward(b.build(), c.x, c.shape, c.y, grad);
        } else {
            float[] t = new float[c.y.length];
            for (int i = 0; i < t.length; i++) {
                t[i] = c.y[i];
            }
            r = engine.forwardBackward(b.build(), c.x, c.shape, t, grad);
        }
        assertEquals(c.value, r.value(), 2e-6, c.name);
        assertArrayEquals(c.grad, grad, 2e-6f, c.name);
    }

    // ---- refused input -------------------------------------------------------------------------

    @Test
    void binaryLovaszWithoutFromLogitsIsRefused() {
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> LossSpec.builder(Loss.LOVASZ, Mode.BINARY).build());
        assertTrue(e.getMessage().contains("from_logits must be true"), e.getMessage());
    }

    @Test
    void softBinaryTargetsAreRefusedNamingTheFirst() {
        LossSpec spec = LossSpec.builder(Loss.LOVASZ, Mode.BINARY).fromLogits(true).build();
        float[] grad = new float[4];
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> engine.forwardBackward(spec,
                new float[] {1, 2, 3, 4}, new long[] {1, 1, 4}, new float[] {0, 1, 0.5f, 1}, grad));
        assertTrue(e.getMessage().contains("exactly 0 or 1") && e.getMessage().contains("at index 2: 0.5"), e.getMessage());
    }

    @Test
    void uint8BinaryTargetsOtherThan0And1AreRefused() {
        LossSpec spec = LossSpec.builder(Loss.LOVASZ, Mode.MULTILABEL).fromLogits(true).ignoreIndex(255).build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> engine.forward(spec,
                new float[] {1, 2, 3, 4}, new long[] {1, 2, 2}, new byte[] {0, 1, (byte) 255, 2}));
        assertTrue(e.getMessage().contains("1 value is not") && e.getMessage().contains("at index 3: 2"), e.getMessage());
    }

    @Test
    void nonFiniteLogitsAreRefused() {
        LossSpec spec = LossSpec.builder(Loss.LOVASZ, Mode.BINARY).fromLogits(true).build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> engine.forward(spec,
                new float[] {1, Float.NaN, 3}, new long[] {1, 1, 3}, new float[] {0, 1, 0}));
        assertTrue(e.getMessage().startsWith("pred must hold finite"), e.getMessage());
    }

    @Test
    void classIndicesOutOfRangeAreRefused() {
        LossSpec spec = LossSpec.builder(Loss.LOVASZ, Mode.MULTICLASS).fromLogits(true).build();
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> engine.forward(spec,
                new float[] {1, 2, 3, 4, 5, 6}, new long[] {1, 2, 3}, new byte[] {0, 2, 1}));
        assertTrue(e.getMessage().contains("class indices in [0, 2)"), e.getMessage());
    }

    @Test
    void deviceBuffersGiveTheHostArraysResult() {
        Case c = cases().filter(k -> k.name.startsWith("multilabel, 2 x 5")).findFirst().orElseThrow();
        float[] hostGrad = new float[c.pred.length];
        double host = run(c, hostGrad).value();
        float[] t = new float[c.target.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = (float) c.target[i];
        }
        try (DeviceBuffer p = engine.upload(c.pred); DeviceBuffer tb = engine.upload(t);
             DeviceBuffer g = engine.allocateFloats(c.pred.length)) {
            double dev = engine.forwardBackward(c.spec(), p, c.shape, tb, g).value();
            float[] devGrad = new float[c.pred.length];
            engine.download(g, devGrad);
            assertEquals(host, dev, 0.0);
            assertArrayEquals(hostGrad, devGrad);
        }
    }

    /** Not a test of the loss: guards the table itself (a filter must not leave it empty). */
    @Test
    void theTableHasCases() {
        Assumptions.assumeTrue(engine != null);
        assertTrue(cases().count() >= 10);
    }
}
