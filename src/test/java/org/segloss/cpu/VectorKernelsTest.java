package org.segloss.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.segloss.cpu.VectorAgreement.assertClose;
import static org.segloss.cpu.VectorAgreement.assertGradClose;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The Vector API kernels against the scalar reference kernels, through the public engine: the same
 * loss values (relative 1e-6) and gradients (max abs difference 1e-5 of the largest gradient) for every
 * loss x mode x layout x from_logits x target type, on random inputs with odd sizes (lane tails,
 * several units per sample, one pixel), and identical results whatever the thread count.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VectorKernelsTest {

    private LossEngine vector;
    private LossEngine scalar;

    @BeforeAll
    void open() {
        CpuBackend v = CpuBackend.vector();
        vector = LossEngine.of(v);
        scalar = LossEngine.of(CpuBackend.scalar());
    }

    @AfterAll
    void close() {
        vector.close();
        scalar.close();
    }

    @Test
    void surefireRunsTheVectorKernels() {
        assertEquals("vector", ((CpuBackend) vector.backend()).kernelKind(),
                "surefire passes --add-modules jdk.incubator.vector, so CpuBackend must pick the vector kernels");
        assertEquals("scalar", ((CpuBackend) scalar.backend()).kernelKind());
    }

    @Test
    void theJvmTakesTheDirectiveThatCompilesEachLaneLoopOnItsOwn() {
        assertTrue(org.segloss.backend.cpu.VectorLanes.addCompilerDirectives(),
                "jcmd Compiler.directives_add through the DiagnosticCommand MBean must be accepted by this JDK");
    }

    /** One row of the table. */
    static final class Case {
        final LossSpec spec;
        final long[] shape;
        final String targetType;
        final long seed;

        Case(LossSpec spec, long[] shape, String targetType, long seed) {
            this.spec = spec;
            this.shape = shape;
            this.targetType = targetType;
            this.seed = seed;
        }

        @Override
        public String toString() {
            return spec + " shape=" + Arrays.toString(shape) + " target=" + targetType;
        }
    }

    /** Shapes in NCHW order (N, C, *S); NHWC cases move C last. */
    private static final long[][] BINARY_SHAPES = {
        {3, 1, 37, 29},      // C = 1, 1073 pixels: a lane tail
        {2, 3, 130, 131},    // 17030 pixels: two units per sample, tail in the second
        {1, 5, 7},           // 7 pixels: tail only
        {2, 4, 64, 64},      // power of two: no tail
        {1, 2},              // no spatial axis
    };
    private static final long[][] MULTICLASS_SHAPES = {
        {2, 4, 37, 29},
        {1, 19, 130, 131},
        {2, 3, 5},
        {1, 2, 1},
        {2, 7, 16, 16},
    };

    static Stream<Case> binaryCases() {
        List<Case> cases = new ArrayList<>();
        long seed = 1;
        Loss[] losses = {Loss.BCE, Loss.DICE, Loss.IOU, Loss.TVERSKY, Loss.FOCAL, Loss.BCE_LOGDICE};
        for (Loss loss : losses) {
            for (Mode mode : new Mode[] {Mode.BINARY, Mode.MULTILABEL}) {
                for (Layout layout : Layout.values()) {
                    for (boolean logits : new boolean[] {true, false}) {
                        for (String tt : new String[] {"float", "uint8", "int32"}) {
                            long[] shape = BINARY_SHAPES[(int) (seed % BINARY_SHAPES.length)];
                            LossSpec.Builder b = LossSpec.builder(loss, mode).fromLogits(logits).layout(layout);
                            if (loss == Loss.TVERSKY) {
                                b.alpha(0.3).beta(0.7);
                            }
                            if (seed % 4 == 1 && loss != Loss.FOCAL) {
                                b.batch(true);
                            }
                            cases.add(new Case(b.build(), withLayout(shape, layout), tt, seed++));
                        }
                    }
                }
            }
        }
        // Focal gamma variants: 0, 1, 3 on lanes; 1.5 delegated to the scalar kernels; alpha = none.
        for (double gamma : new double[] {0, 1, 3, 1.5}) {
            for (boolean logits : new boolean[] {true, false}) {
                LossSpec spec = LossSpec.builder(Loss.FOCAL, Mode.MULTILABEL).fromLogits(logits).gamma(gamma)
                        .alphaNone().build();
                cases.add(new Case(spec, BINARY_SHAPES[1], "float", seed++));
            }
        }
        cases.add(new Case(LossSpec.builder(Loss.DICE, Mode.MULTILABEL).fromLogits(true).classWeights(1, 2, 0.5)
                .includeBackground(false).build(), BINARY_SHAPES[1], "float", seed++));
        return cases.stream();
    }

    static Stream<Case> multiclassCases() {
        List<Case> cases = new ArrayList<>();
        long seed = 100;
        Loss[] losses = {Loss.CE, Loss.CE_LOGDICE, Loss.DICE, Loss.IOU, Loss.TVERSKY, Loss.FOCAL};
        for (Loss loss : losses) {
            for (Layout layout : Layout.values()) {
                for (boolean logits : new boolean[] {true, false}) {
                    for (String tt : new String[] {"uint8", "int32", "float"}) {
                        long[] shape = MULTICLASS_SHAPES[(int) (seed % MULTICLASS_SHAPES.length)];
                        LossSpec.Builder b = LossSpec.builder(loss, Mode.MULTICLASS).fromLogits(logits).layout(layout);
                        if (seed % 2 == 0) {
                            b.ignoreIndex(ignoreValue(tt));
                        }
                        if (seed % 3 == 0 && loss.hasRegionTerm()) {
                            b.batch(true);
                        }
                        cases.add(new Case(b.build(), withLayout(shape, layout), tt, seed++));
                    }
                }
            }
        }
        for (double gamma : new double[] {0, 1, 3, 2.5}) {
            for (boolean logits : new boolean[] {true, false}) {
                LossSpec spec = LossSpec.builder(Loss.FOCAL, Mode.MULTICLASS).fromLogits(logits).gamma(gamma)
                        .ignoreIndex(255).build();
                cases.add(new Case(spec, MULTICLASS_SHAPES[1], "uint8", seed++));
            }
        }
        cases.add(new Case(LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true)
                .classWeights(1, 2, 0.5, 3).includeBackground(false).build(), MULTICLASS_SHAPES[0], "uint8", seed++));
        // ce alone keeps the residual p_c - t_c and scales it by ps_y in its grad pass: class weights make ps_y differ
        // per class (NCHW in place, NHWC interleaved with its lane tail, 19 classes in rows), with ignored pixels
        double[] weights19 = new double[19];
        for (int i = 0; i < weights19.length; i++) {
            weights19[i] = 0.25 + 0.1 * i;
        }
        for (Layout layout : Layout.values()) {
            cases.add(new Case(LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true).layout(layout)
                    .classWeights(1, 2, 0.5, 3).ignoreIndex(255).build(), withLayout(MULTICLASS_SHAPES[0], layout),
                    "uint8", seed++));
            cases.add(new Case(LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true).layout(layout)
                    .classWeights(weights19).ignoreIndex(-100).build(), withLayout(MULTICLASS_SHAPES[1], layout),
                    "int32", seed++));
        }
        // int64 class maps (as DJL and PyTorch make them), ignore -100, every loss and layout; binary int64 masks
        seed = 500;
        for (Loss loss : losses) {
            for (Layout layout : Layout.values()) {
                boolean logits = seed % 2 == 0;
                LossSpec.Builder b = LossSpec.builder(loss, Mode.MULTICLASS).fromLogits(logits).layout(layout);
                if (seed % 3 != 0) {
                    b.ignoreIndex(ignoreValue("int64"));
                }
                long[] shape = MULTICLASS_SHAPES[(int) (seed % MULTICLASS_SHAPES.length)];
                cases.add(new Case(b.build(), withLayout(shape, layout), "int64", seed++));
            }
        }
        for (Loss loss : new Loss[] {Loss.BCE, Loss.DICE, Loss.FOCAL}) {
            for (Layout layout : Layout.values()) {
                LossSpec spec = LossSpec.builder(loss, Mode.MULTILABEL).fromLogits(true).layout(layout).build();
                cases.add(new Case(spec, withLayout(BINARY_SHAPES[(int) (seed % BINARY_SHAPES.length)], layout), "int64",
                        seed++));
            }
        }
        return cases.stream();
    }

    static Stream<Case> allCases() {
        return Stream.concat(binaryCases(), multiclassCases());
    }

    private static int ignoreValue(String targetType) {
        return targetType.equals("int32") || targetType.equals("int64") ? -100 : 255;
    }

    static long[] withLayout(long[] nchw, Layout layout) {
        if (layout == Layout.NCHW || nchw.length == 2) {
            return layout == Layout.NCHW ? nchw.clone() : nchw.clone();
        }
        long[] s = new long[nchw.length];
        s[0] = nchw[0];
        System.arraycopy(nchw, 2, s, 1, nchw.length - 2);
        s[nchw.length - 1] = nchw[1];
        return s;
    }

    /** Inputs of one case: pred, and the target as a float[], byte[] or int[]. */
    static final class Inputs {
        float[] pred;
        Object target;
        long predLength;
    }

    static Inputs inputs(Case k) {
        Random r = new Random(k.seed);
        long total = 1;
        for (long d : k.shape) {
            total *= d;
        }
        LossSpec spec = k.spec;
        boolean multiclass = spec.mode() == Mode.MULTICLASS;
        long c = spec.layout() == Layout.NHWC ? k.shape[k.shape.length - 1] : k.shape[1];
        Inputs in = new Inputs();
        in.predLength = total;
        in.pred = new float[(int) total];
        for (int i = 0; i < total; i++) {
            if (spec.fromLogits()) {
                double u = r.nextDouble();
                in.pred[i] = u < 0.01 ? (r.nextBoolean() ? 100f : -100f) : (float) (r.nextGaussian() * 4);
            } else {
                double u = r.nextDouble();
                in.pred[i] = u < 0.02 ? 0f : u < 0.04 ? 1f : u < 0.05 ? 0.5f : r.nextFloat();
            }
        }
        int targetLength = (int) (multiclass ? total / c : total);
        int ignore = spec.ignoreIndex() == null ? Integer.MIN_VALUE : spec.ignoreIndex();
        switch (k.targetType) {
            case "uint8": {
                byte[] t = new byte[targetLength];
                for (int i = 0; i < targetLength; i++) {
                    int v = multiclass ? r.nextInt((int) c) : r.nextInt(2);
                    t[i] = (byte) (ignore != Integer.MIN_VALUE && r.nextInt(10) == 0 ? ignore : v);
                }
                in.target = t;
                break;
            }
            case "int32": {
                int[] t = new int[targetLength];
                for (int i = 0; i < targetLength; i++) {
                    int v = multiclass ? r.nextInt((int) c) : r.nextInt(2);
                    t[i] = multiclass && ignore != Integer.MIN_VALUE && r.nextInt(10) == 0 ? ignore : v;
                }
                in.target = t;
                break;
            }
            case "int64": {
                long[] t = new long[targetLength];
                for (int i = 0; i < targetLength; i++) {
                    int v = multiclass ? r.nextInt((int) c) : r.nextInt(2);
                    t[i] = multiclass && ignore != Integer.MIN_VALUE && r.nextInt(10) == 0 ? ignore : v;
                }
                in.target = t;
                break;
            }
            default: {
                float[] t = new float[targetLength];
                for (int i = 0; i < targetLength; i++) {
                    if (multiclass) {
                        t[i] = ignore != Integer.MIN_VALUE && r.nextInt(10) == 0 ? ignore : r.nextInt((int) c);
                    } else {
                        t[i] = r.nextInt(3) == 0 ? r.nextFloat() : r.nextInt(2);
                    }
                }
                in.target = t;
            }
        }
        return in;
    }

    static LossResult run(LossEngine engine, Case k, Inputs in, float[] grad) {
        Object t = in.target;
        if (grad == null) {
            if (t instanceof byte[]) {
                return engine.forward(k.spec, in.pred, k.shape, (byte[]) t);
            } else if (t instanceof int[]) {
                return engine.forward(k.spec, in.pred, k.shape, (int[]) t);
            } else if (t instanceof long[]) {
                return engine.forward(k.spec, in.pred, k.shape, (long[]) t);
            }
            return engine.forward(k.spec, in.pred, k.shape, (float[]) t);
        }
        if (t instanceof byte[]) {
            return engine.forwardBackward(k.spec, in.pred, k.shape, (byte[]) t, grad);
        } else if (t instanceof int[]) {
            return engine.forwardBackward(k.spec, in.pred, k.shape, (int[]) t, grad);
        } else if (t instanceof long[]) {
            return engine.forwardBackward(k.spec, in.pred, k.shape, (long[]) t, grad);
        }
        return engine.forwardBackward(k.spec, in.pred, k.shape, (float[]) t, grad);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allCases")
    void vectorKernelsGiveTheScalarValuesAndGradients(Case k) {
        Inputs in = inputs(k);
        float[] gv = new float[in.pred.length];
        float[] gs = new float[in.pred.length];
        LossResult v = run(vector, k, in, gv);
        LossResult s = run(scalar, k, in, gs);
        assertClose(s.value(), v.value(), k + ": value");
        assertArrayClose(s.perClassCoefficient(), v.perClassCoefficient(), k + ": per-class coefficient");
        assertArrayClose(s.perClassPixelLoss(), v.perClassPixelLoss(), k + ": per-class pixel loss");
        assertGradClose(gs, gv, k.toString());
        LossResult again = run(vector, k, in, null);
        assertEquals(Double.doubleToLongBits(v.value()), Double.doubleToLongBits(again.value()),
                k + ": the same input gives the same bits from call to call");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("directCases")
    void directBuffersWithoutArraysGiveTheSameResultAsArrays(Case k) {
        Inputs in = inputs(k);
        float[] gHeap = new float[in.pred.length];
        LossResult heap = run(vector, k, in, gHeap);
        FloatBuffer pred = direct(in.pred);
        Buffer target = directTarget(in.target);
        FloatBuffer grad = ByteBuffer.allocateDirect(in.pred.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        LossResult dir = vector.forwardBackward(k.spec, pred, k.shape, target, grad);
        assertClose(heap.value(), dir.value(), k + ": value");
        float[] gDirect = new float[in.pred.length];
        grad.get(0, gDirect);
        assertGradClose(gHeap, gDirect, k.toString());
    }

    /**
     * NHWC binary / multilabel with C dividing the lane count are read flat (lane j in channel j % C, no transposes):
     * C = 2, 4, 8 on spatial sizes whose flat rows end in a lane tail, with the per-channel options (pos_weight,
     * class weights) that give each lane its channel's constants, and ignore_index.
     */
    static Stream<Case> flatNhwcCases() {
        List<Case> cases = new ArrayList<>();
        long seed = 900;
        long[][] shapes = {{2, 2, 37, 29}, {3, 4, 23, 19}, {1, 8, 130, 131}};
        for (long[] shape : shapes) {
            int c = (int) shape[1];
            double[] w = new double[c];
            for (int i = 0; i < c; i++) {
                w[i] = 0.5 + i;
            }
            for (boolean logits : new boolean[] {true, false}) {
                cases.add(new Case(LossSpec.builder(Loss.DICE, Mode.MULTILABEL).fromLogits(logits).layout(Layout.NHWC)
                        .classWeights(w).build(), withLayout(shape, Layout.NHWC), "float", seed++));
                cases.add(new Case(LossSpec.builder(Loss.BCE_LOGDICE, Mode.MULTILABEL).fromLogits(logits)
                        .layout(Layout.NHWC).build(), withLayout(shape, Layout.NHWC), "uint8", seed++));
                cases.add(new Case(LossSpec.builder(Loss.FOCAL, Mode.MULTILABEL).fromLogits(logits).layout(Layout.NHWC)
                        .classWeights(w).build(), withLayout(shape, Layout.NHWC), "int32", seed++));
                cases.add(new Case(LossSpec.builder(Loss.BCE, Mode.MULTILABEL).fromLogits(logits).layout(Layout.NHWC)
                        .posWeight(w).labelSmoothing(0.1).build(), withLayout(shape, Layout.NHWC), "float", seed++));
                cases.add(new Case(LossSpec.builder(Loss.DICE_CE, Mode.MULTILABEL).fromLogits(logits).layout(Layout.NHWC)
                        .posWeight(w).squaredPred(true).ignoreIndex(255).build(), withLayout(shape, Layout.NHWC),
                        "uint8", seed++));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("flatNhwcCases")
    void nhwcRowsReadFlatGiveTheScalarValuesAndGradientsFromArraysAndDirectBuffers(Case k) {
        vectorKernelsGiveTheScalarValuesAndGradients(k);
        directBuffersWithoutArraysGiveTheSameResultAsArrays(k);
    }

    static Stream<Case> directCases() {
        return allCases().filter(k -> k.seed % 5 == 0);
    }

    @Test
    void resultsAreTheSameBitsWithOneThreadAndWithAll() throws Exception {
        List<Case> cases = new ArrayList<>();
        cases.add(new Case(LossSpec.builder(Loss.BCE_LOGDICE, Mode.MULTILABEL).fromLogits(true).build(),
                new long[] {2, 3, 130, 131}, "float", 7));
        cases.add(new Case(LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true).ignoreIndex(255).build(),
                new long[] {2, 5, 150, 150}, "uint8", 8));
        cases.add(new Case(LossSpec.builder(Loss.FOCAL, Mode.BINARY).layout(Layout.NHWC).build(),
                new long[] {2, 150, 150, 2}, "float", 9));
        ForkJoinPool one = new ForkJoinPool(1);
        try {
            for (Case k : cases) {
                Inputs in = inputs(k);
                float[] gAll = new float[in.pred.length];
                float[] gOne = new float[in.pred.length];
                LossResult all = run(vector, k, in, gAll);
                LossResult single = one.submit(() -> run(vector, k, in, gOne)).get();
                assertEquals(Double.doubleToLongBits(all.value()), Double.doubleToLongBits(single.value()), k.toString());
                assertArrayEquals(gAll, gOne, k.toString());
            }
        } finally {
            one.shutdown();
        }
    }

    static FloatBuffer direct(float[] a) {
        FloatBuffer b = ByteBuffer.allocateDirect(a.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(a).flip();
        return b;
    }

    static Buffer directTarget(Object t) {
        if (t instanceof byte[]) {
            byte[] a = (byte[]) t;
            ByteBuffer b = ByteBuffer.allocateDirect(a.length);
            b.put(a).flip();
            return b;
        } else if (t instanceof int[]) {
            int[] a = (int[]) t;
            IntBuffer b = ByteBuffer.allocateDirect(a.length * 4).order(ByteOrder.nativeOrder()).asIntBuffer();
            b.put(a).flip();
            return b;
        } else if (t instanceof long[]) {
            long[] a = (long[]) t;
            java.nio.LongBuffer b = ByteBuffer.allocateDirect(a.length * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
            b.put(a).flip();
            return b;
        }
        return direct((float[]) t);
    }


    static void assertArrayClose(double[] expected, double[] actual, String what) {
        if (expected == null) {
            assertEquals(null, actual, what);
            return;
        }
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            if (Double.isNaN(expected[i])) {
                assertTrue(Double.isNaN(actual[i]), what + "[" + i + "] must be NaN, was " + actual[i]);
            } else {
                assertClose(expected[i], actual[i], what + "[" + i + "]");
            }
        }
    }

}
