package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The keep of the multiclass vector kernels ({@link CpuKernels#keeps}): a forward+backward whose stats pass keeps the
 * softmax probabilities in the gradient buffer gives exactly the bits of the same pass without the keep, on float[]
 * and direct buffers, NCHW and NHWC, uint8 and int32 targets with ignored pixels, unit and lane tails; and a grad
 * pass never reads a keep that its stats pass did not write (a unit with refused values, an intervening pass).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VectorKeepTest {
    private CpuBackend backend;
    private CpuBackend other;

    @BeforeAll
    void open() {
        backend = CpuBackend.vector();
        other = CpuBackend.vector();
    }

    @AfterAll
    void close() {
        backend.close();
        other.close();
    }

    /** One input: shape, layout, buffers, target type. */
    static final class Case {
        final Layout layout;
        final boolean direct;
        final ElementType targetType;
        final int n;
        final int c;
        final int s;

        Case(Layout layout, boolean direct, ElementType targetType, int n, int c, int s) {
            this.layout = layout;
            this.direct = direct;
            this.targetType = targetType;
            this.n = n;
            this.c = c;
            this.s = s;
        }

        int ignoreIndex() {
            return targetType == ElementType.UINT8 ? 255 : -100;
        }

        long[] shape() {
            return layout == Layout.NCHW ? new long[] {n, c, 1, s} : new long[] {n, 1, s, c};
        }

        @Override
        public String toString() {
            return layout + " " + (direct ? "direct" : "float[]") + " " + targetType + " " + n + "x" + c + "x" + s;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        for (Layout layout : Layout.values()) {
            for (boolean direct : new boolean[] {false, true}) {
                // a whole unit and a tail of 1013 pixels (not a whole chunk, not whole vectors); 19 classes
                cases.add(new Case(layout, direct, ElementType.UINT8, 2, 4, CpuBackend.PIXELS_PER_UNIT + 1013));
                cases.add(new Case(layout, direct, ElementType.INT32, 2, 19, 2 * 512 + 77));
            }
        }
        return cases.stream();
    }

    private static FloatBuffer floats(int length, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(4 * length).order(ByteOrder.nativeOrder()).asFloatBuffer()
                : FloatBuffer.allocate(length);
    }

    /** Logits in [-6, 6] with a tied maximum here and there, a class map with about 10% ignored pixels. */
    private static final class Input {
        final FloatBuffer pred;
        final Buffer target;

        Input(Case k, long seed) {
            this(k, seed, Integer.MAX_VALUE);
        }

        /** Ignored pixels (about 10%) only among the first {@code ignoredBelow} pixels of each sample. */
        Input(Case k, long seed, int ignoredBelow) {
            SplittableRandom rnd = new SplittableRandom(seed);
            int length = k.n * k.c * k.s;
            pred = floats(length, k.direct);
            for (int i = 0; i < length; i++) {
                pred.put(i, rnd.nextInt(10) == 0 ? 2f : (float) (rnd.nextDouble() * 12 - 6));
            }
            int pixels = k.n * k.s;
            if (k.targetType == ElementType.UINT8) {
                ByteBuffer t = k.direct ? ByteBuffer.allocateDirect(pixels) : ByteBuffer.allocate(pixels);
                for (int i = 0; i < pixels; i++) {
                    boolean ignored = rnd.nextInt(10) == 0 && i % k.s < ignoredBelow;
                    t.put(i, (byte) (ignored ? k.ignoreIndex() : rnd.nextInt(k.c)));
                }
                target = t;
            } else {
                IntBuffer t = k.direct ? ByteBuffer.allocateDirect(4 * pixels).order(ByteOrder.nativeOrder()).asIntBuffer()
                        : IntBuffer.allocate(pixels);
                for (int i = 0; i < pixels; i++) {
                    boolean ignored = rnd.nextInt(10) == 0 && i % k.s < ignoredBelow;
                    t.put(i, ignored ? k.ignoreIndex() : rnd.nextInt(k.c));
                }
                target = t;
            }
        }

        DeviceBuffer target(CpuBackend b) {
            return target instanceof ByteBuffer ? b.upload((ByteBuffer) target) : b.upload((IntBuffer) target);
        }
    }

    private static float[] download(CpuBackend b, DeviceBuffer d, int length) {
        float[] out = new float[length];
        b.download(d, out);
        return out;
    }

    private static Problem problem(Case k, PixelTerm term, boolean region) {
        return new Problem(true, true, k.layout, k.n, k.c, k.s, k.targetType, true, k.ignoreIndex(), term, region, 0, 0,
                0);
    }

    /** Arbitrary grad coefficients (class weights, region A and B per row), fixed by the seed. */
    private static GradCoefficients coefficients(Case k, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] scale = new float[k.c];
        float[] a = new float[k.n * k.c];
        float[] b = new float[k.n * k.c];
        for (int i = 0; i < k.c; i++) {
            scale[i] = (float) (0.5 + rnd.nextDouble());
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextDouble() * 2e-5 - 1e-5);
            b[i] = (float) (rnd.nextDouble() * 2e-5 - 1e-5);
        }
        return new GradCoefficients(scale, a, b);
    }

    /**
     * Backend level: stats with the gradient buffer then grad (the keep) against stats with the gradient buffer, a
     * pass of another problem, then grad (the keep dropped: the grad computes p again). Same stats, same gradient
     * bits; and the gradient buffer held the softmax probabilities after the stats pass (so the keep did happen).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void keptGradIsTheRecomputedGrad(Case k) {
        // ce with a region term (4 classes) or alone (19: the residual keep), no pixel term, and ce alone at every C
        Problem[] problems = {problem(k, PixelTerm.CE, k.c == 4), problem(k, PixelTerm.NONE, true),
            problem(k, PixelTerm.CE, false)};
        for (Problem p : problems) {
            PixelTerm term = p.pixelTerm;
            Problem another = problem(k, PixelTerm.CE, false);
            assertTrue(new VectorKernels().keeps(p), "keeps " + k);
            Input in = new Input(k, 7);
            int length = k.n * k.c * k.s;
            DeviceBuffer pred = backend.upload(in.pred);
            DeviceBuffer target = in.target(backend);
            DeviceBuffer kept = backend.upload(floats(length, k.direct));
            DeviceBuffer recomputed = backend.upload(floats(length, k.direct));
            GradCoefficients coef = coefficients(k, 11);

            double[] statsKept = backend.stats(p, pred, target, kept);
            assertKept(k, in, VectorMulticlass.residualKeep(p), download(backend, kept, length));
            backend.grad(p, pred, target, coef, kept);

            double[] statsPlain = backend.stats(p, pred, target, recomputed);
            backend.stats(another, pred, target);
            backend.grad(p, pred, target, coef, recomputed);

            assertArrayEquals(statsPlain, statsKept, k + " " + term + ": stats");
            assertArrayEquals(download(backend, recomputed, length), download(backend, kept, length),
                    k + " " + term + ": gradient");
        }
    }

    /**
     * ce alone with one pixel scale for every class (no class weights) and chunks without ignored pixels (the second
     * half of each sample): the NHWC grad pass then scales the kept residual by that one value
     * ({@code VectorMulticlass.scaleAllPass}), other chunks pixel by pixel. Same gradient bits as without the keep
     * (where every chunk takes the per-pixel coefficients); and, at sampled pixels, ps (p_c - t_c) from a softmax in
     * double, 0 at ignored pixels.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void uniformScaleKeptGradIsTheRecomputedGrad(Case k) {
        Problem p = problem(k, PixelTerm.CE, false);
        assertTrue(VectorMulticlass.residualKeep(p), "residual keep " + k);
        Input in = new Input(k, 17, k.s / 2);
        int length = k.n * k.c * k.s;
        DeviceBuffer pred = backend.upload(in.pred);
        DeviceBuffer target = in.target(backend);
        DeviceBuffer kept = backend.upload(floats(length, k.direct));
        DeviceBuffer recomputed = backend.upload(floats(length, k.direct));
        float scale = 0.7f;
        float[] scales = new float[k.c];
        java.util.Arrays.fill(scales, scale);
        GradCoefficients coef = new GradCoefficients(scales, new float[k.n * k.c], new float[k.n * k.c]);

        backend.stats(p, pred, target, kept);
        backend.grad(p, pred, target, coef, kept);
        backend.stats(p, pred, target, recomputed);
        backend.stats(problem(k, PixelTerm.CE, true), pred, target);
        backend.grad(p, pred, target, coef, recomputed);

        float[] g = download(backend, kept, length);
        assertArrayEquals(download(backend, recomputed, length), g, k + ": gradient");
        for (int n = 0; n < k.n; n++) {
            for (int j = 0; j < k.s; j += 89) {
                long y = in.target instanceof ByteBuffer ? ((ByteBuffer) in.target).get(n * k.s + j) & 0xFF
                        : ((IntBuffer) in.target).get(n * k.s + j);
                double[] x = new double[k.c];
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k.c; c++) {
                    x[c] = in.pred.get(index(k, n, c, j));
                    max = Math.max(max, x[c]);
                }
                double sum = 0;
                for (int c = 0; c < k.c; c++) {
                    sum += Math.exp(x[c] - max);
                }
                for (int c = 0; c < k.c; c++) {
                    double expected = y == k.ignoreIndex() ? 0
                            : scale * (Math.exp(x[c] - max) / sum - (c == y ? 1 : 0));
                    assertEquals(expected, g[index(k, n, c, j)], 1e-6 + 1e-5 * Math.abs(expected),
                            k + " gradient at " + n + "," + c + "," + j);
                }
            }
        }
    }

    /**
     * What the stats pass kept, in pred's layout: the softmax of the logits (in double here) or, with {@code residual}
     * (ce alone), the residual p_c - t_c at counted pixels (t one-hot of the class map) and p_c at ignored ones.
     */
    private static void assertKept(Case k, Input in, boolean residual, float[] kept) {
        FloatBuffer pred = in.pred;
        for (int n = 0; n < k.n; n++) {
            for (int j = 0; j < k.s; j += 97) {
                double[] x = new double[k.c];
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k.c; c++) {
                    x[c] = pred.get(index(k, n, c, j));
                    max = Math.max(max, x[c]);
                }
                double sum = 0;
                for (int c = 0; c < k.c; c++) {
                    sum += Math.exp(x[c] - max);
                }
                long y = in.target instanceof ByteBuffer ? ((ByteBuffer) in.target).get(n * k.s + j) & 0xFF
                        : ((IntBuffer) in.target).get(n * k.s + j);
                for (int c = 0; c < k.c; c++) {
                    double prob = Math.exp(x[c] - max) / sum;
                    double expected = residual && c == y ? prob - 1 : prob;
                    int at = residual ? index(k, n, c, j) : keptIndex(k, n, c, j);
                    assertEquals(expected, kept[at], 1e-6 + 1e-5 * Math.abs(expected),
                            k + (residual ? " p - t" : " p") + " at " + n + "," + c + "," + j);
                }
            }
        }
    }

    /**
     * Where the region keep (not the residual) holds p_c: pred's layout, except NHWC arrays, whose chunks of whole
     * vectors hold it planar: the chunk's m * C floats as class rows m apart (a chunk: pixelChunk(C) pixels of a unit
     * of PIXELS_PER_UNIT pixels, the last ones shorter).
     */
    private static int keptIndex(Case k, int n, int c, int j) {
        if (k.layout == Layout.NCHW || k.direct) {
            return index(k, n, c, j);
        }
        int unit0 = j - j % CpuBackend.PIXELS_PER_UNIT;
        int unit1 = Math.min(k.s, unit0 + CpuBackend.PIXELS_PER_UNIT);
        int px = VectorMulticlass.pixelChunk(k.c);
        int chunk0 = unit0 + (j - unit0) / px * px;
        int m = Math.min(px, unit1 - chunk0);
        if (m % VectorKernels.L != 0) {
            return index(k, n, c, j);
        }
        return index(k, n, 0, chunk0) + c * m + (j - chunk0);
    }

    private static int index(Case k, int n, int c, int j) {
        return k.layout == Layout.NCHW ? (n * k.c + c) * k.s + j : (n * k.s + j) * k.c + c;
    }

    /**
     * Through LossEngine: forwardBackward on the backend (stats keeps p) against forwardBackward on a backend that
     * never gets the gradient buffer in its stats pass (Backend's default: no keep). Same value, same gradient bits.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void engineForwardBackwardIsTheSameWithoutKeep(Case k) {
        Input in = new Input(k, 5);
        int length = k.n * k.c * k.s;
        for (Loss loss : new Loss[] {Loss.CE, Loss.DICE, Loss.CE_LOGDICE}) {
            LossSpec.Builder spec = LossSpec.builder(loss, Mode.MULTICLASS).fromLogits(true).layout(k.layout)
                    .ignoreIndex(k.ignoreIndex());
            if (loss == Loss.CE) {
                double[] weights = new double[k.c];
                for (int c = 0; c < k.c; c++) {
                    weights[c] = 1 + 0.25 * c;
                }
                spec.classWeights(weights);
            }
            FloatBuffer keptGrad = floats(length, k.direct);
            FloatBuffer plainGrad = floats(length, k.direct);
            LossResult kept = run(new EngineRun(backend, false), spec.build(), k, in, keptGrad);
            LossResult plain = run(new EngineRun(other, true), spec.build(), k, in, plainGrad);
            assertEquals(plain.value(), kept.value(), 0, k + " " + loss + ": value");
            float[] a = new float[length];
            float[] b = new float[length];
            keptGrad.get(0, a);
            plainGrad.get(0, b);
            assertArrayEquals(b, a, k + " " + loss + ": gradient");
        }
    }

    /** A backend for one engine call: the CPU backend itself, or it behind {@link NoKeep}. */
    private static final class EngineRun {
        final CpuBackend cpu;
        final boolean noKeep;

        EngineRun(CpuBackend cpu, boolean noKeep) {
            this.cpu = cpu;
            this.noKeep = noKeep;
        }
    }

    private static LossResult run(EngineRun r, LossSpec spec, Case k, Input in, FloatBuffer gradOut) {
        NoKeep wrapped = r.noKeep ? new NoKeep(r.cpu) : null;
        LossEngine engine = LossEngine.of(wrapped != null ? wrapped : r.cpu);
        LossResult result = engine.forwardBackward(spec, in.pred, k.shape(), in.target, gradOut);
        assertNotNull(result);
        if (wrapped != null) {
            assertTrue(wrapped.statsCalls > 0, "the engine ran its stats pass through the wrapper");
        }
        return result;
    }

    /**
     * A grad pass after a stats pass that saw a refused value (NaN in one unit) reads no keep: the stale
     * probabilities of an earlier pass in the gradient buffer must not leak into it. Its gradient is the gradient
     * computed without any keep (NaN inputs give the same bits either way; the engine refuses them anyway).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void noKeepAfterRefusedValues(Case k) {
        Problem p = problem(k, PixelTerm.CE, true);
        int length = k.n * k.c * k.s;
        Input clean = new Input(k, 3);
        Input bad = new Input(k, 4);
        bad.pred.put(index(k, k.n - 1, k.c - 1, k.s - 3), Float.NaN);
        GradCoefficients coef = coefficients(k, 13);
        DeviceBuffer target = bad.target(backend);
        DeviceBuffer badPred = backend.upload(bad.pred);
        DeviceBuffer grad = backend.upload(floats(length, k.direct));
        // an earlier step leaves the probabilities of other logits in the gradient buffer
        backend.stats(p, backend.upload(clean.pred), target, grad);
        double[] stats = backend.stats(p, badPred, target, grad);
        assertTrue(stats[((k.n - 1) * k.c + k.c - 1) * Problem.STATS + Problem.STAT_BAD_PRED] > 0, "NaN counted");
        backend.grad(p, badPred, target, coef, grad);

        DeviceBuffer fresh = backend.upload(floats(length, k.direct));
        backend.stats(p, badPred, target);
        backend.grad(p, badPred, target, coef, fresh);
        float[] expected = download(backend, fresh, length);
        float[] actual = download(backend, grad, length);
        for (int i = 0; i < length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                    k + ": gradient element " + i + " " + expected[i] + " vs " + actual[i]);
        }
    }

    /**
     * A CPU backend whose stats pass never gets the gradient buffer (Backend's default 4-argument stats calls the
     * 3-argument one), so nothing is kept; every other call goes to the CPU backend.
     */
    private static final class NoKeep implements org.segloss.backend.Backend {
        private final CpuBackend cpu;
        int statsCalls;

        NoKeep(CpuBackend cpu) {
            this.cpu = cpu;
        }

        @Override
        public String name() {
            return cpu.name();
        }

        @Override
        public String device() {
            return cpu.device();
        }

        @Override
        public DeviceBuffer upload(FloatBuffer data) {
            return cpu.upload(data);
        }

        @Override
        public DeviceBuffer upload(ByteBuffer data) {
            return cpu.upload(data);
        }

        @Override
        public DeviceBuffer upload(IntBuffer data) {
            return cpu.upload(data);
        }

        @Override
        public DeviceBuffer upload(java.nio.LongBuffer data) {
            return cpu.upload(data);
        }

        @Override
        public DeviceBuffer allocateFloats(long length) {
            return cpu.allocateFloats(length);
        }

        @Override
        public void download(DeviceBuffer src, float[] dst) {
            cpu.download(src, dst);
        }

        @Override
        public void download(DeviceBuffer src, FloatBuffer dst) {
            cpu.download(src, dst);
        }

        @Override
        public double[] stats(Problem problem, DeviceBuffer pred, DeviceBuffer target) {
            statsCalls++;
            return cpu.stats(problem, pred, target);
        }

        @Override
        public void grad(Problem problem, DeviceBuffer pred, DeviceBuffer target, GradCoefficients coefficients,
                         DeviceBuffer gradOut) {
            cpu.grad(problem, pred, target, coefficients, gradOut);
        }

        @Override
        public long[] confusion(Problem problem, DeviceBuffer pred, DeviceBuffer target, double threshold) {
            return cpu.confusion(problem, pred, target, threshold);
        }

        @Override
        public double streamRead(DeviceBuffer buffer) {
            return cpu.streamRead(buffer);
        }

        @Override
        public void copy(DeviceBuffer src, DeviceBuffer dst) {
            cpu.copy(src, dst);
        }

        @Override
        public void close() {
            // the CPU backend is closed by the test
        }

        @Override
        public double[] lovasz(org.segloss.backend.LovaszProblem problem, DeviceBuffer pred, DeviceBuffer target,
                               org.segloss.backend.LovaszProblem.Weights weights, DeviceBuffer gradOut) {
            return cpu.lovasz(problem, pred, target, weights, gradOut);
        }

        @Override
        public void distanceTransform(DeviceBuffer grid, long[] dims, double[] spacing) {
            cpu.distanceTransform(grid, dims, spacing);
        }
    }
}
