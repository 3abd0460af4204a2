package org.segloss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.backend.cpu.CpuBackend;

/**
 * A device backend agrees with the scalar CPU reference (double) on the loss value, on the gradient and on
 * the confusion counts (TP, FP, FN, TN per class, identical), over one table of losses x modes x layouts x
 * logits/probabilities x target types x shapes, random inputs of odd sizes. A subclass names the backend
 * and the tolerances it is held to; where the backend is absent every case skips with the probe's reason
 * (fails when the environment requires the backend, see {@link TestBackends}).
 *
 * <p>{@code -Dsegloss.test.cases=REGEX} keeps only the cases whose name matches (ci/emulated-gpu-check.sh
 * uses it to leave out the nhwc cases with thousands of channels, which take minutes to hours each on the
 * emulated GPU).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendAgreementTest {
    private LossEngine device;
    private LossEngine cpu;

    /** The backend under test, as {@link LossEngine#create(String)} names it. */
    protected abstract String backendName();

    /** How far the backend may be from the scalar reference; see {@link Tolerances}. */
    protected abstract Tolerances tolerances();

    /**
     * The message of the {@link InvalidInputException} with which the backend refuses case {@code k} (a documented
     * limit of the backend, checked instead of the comparison), or null when it runs the case; none by default.
     */
    protected String documentedLimit(Case k) {
        return null;
    }

    /**
     * The value passes when {@code |device - cpu| <= valueRelative * max(|cpu|, valueFloor)}; each gradient
     * element passes when {@code |device - cpu| <= gradRelative * |cpu| + gradOfLargest * max|cpu| + gradAbsolute}
     * (max over the whole gradient of the case).
     */
    public record Tolerances(double valueRelative, double valueFloor, double gradRelative, double gradOfLargest,
                             double gradAbsolute) {
    }

    /**
     * Opens the engines once, before the first case. This runs before each case rather than once before all so
     * that, where the backend is absent, every case is reported skipped with the probe's reason (an abort in a
     * before-all method reports no case at all); the probe is cached, so later cases skip without probing again.
     */
    @BeforeEach
    void openOnce() {
        if (device == null) {
            device = TestBackends.openOrSkip(backendName());
            cpu = LossEngine.of(CpuBackend.scalar());
        }
    }

    @AfterAll
    void close() {
        if (device != null) {
            device.close();
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    /** One row of the table; {@code ignore} is null for no ignore index, {@code gamma} is used by focal only. */
    protected record Case(Loss loss, Mode mode, Layout layout, boolean logits, ElementType target, long[] shape,
                          Integer ignore, double gamma, boolean batch) {
        /** The channel count: shape[1] under nchw, the last dimension under nhwc. */
        public int channels() {
            return (int) (layout == Layout.NHWC ? shape[shape.length - 1] : shape[1]);
        }

        @Override
        public String toString() {
            return loss + " " + mode + " " + layout + (logits ? " logits" : " probs") + " target="
                    + target.name().toLowerCase(Locale.ROOT) + " shape=" + Arrays.toString(shape)
                    + (ignore == null ? "" : " ignore=" + ignore) + (gamma == 2 ? "" : " gamma=" + gamma)
                    + (batch ? " batch" : "");
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        Loss[] binaryLosses = {Loss.BCE, Loss.DICE, Loss.IOU, Loss.FOCAL, Loss.TVERSKY, Loss.BCE_LOGDICE};
        Loss[] multiclassLosses = {Loss.CE, Loss.DICE, Loss.IOU, Loss.FOCAL, Loss.TVERSKY, Loss.CE_LOGDICE};
        for (Layout layout : Layout.values()) {
            for (boolean logits : new boolean[] {true, false}) {
                // odd 2-D sizes for every loss and mode; int32 class maps with an ignore index
                for (Loss loss : binaryLosses) {
                    out.add(new Case(loss, Mode.BINARY, layout, logits, ElementType.FLOAT32, new long[] {3, 1, 37, 29},
                            null, 2, false));
                    out.add(new Case(loss, Mode.MULTILABEL, layout, logits, ElementType.FLOAT32,
                            new long[] {2, 3, 41, 23}, null, 2, false));
                }
                for (Loss loss : multiclassLosses) {
                    out.add(new Case(loss, Mode.MULTICLASS, layout, logits, ElementType.UINT8, new long[] {2, 5, 43, 31},
                            null, 2, false));
                    out.add(new Case(loss, Mode.MULTICLASS, layout, logits, ElementType.INT32, new long[] {3, 4, 1000},
                            255, 2, false));
                }
                // float class maps, batch reduction, focal gamma 0 / 0.5 / 1.5, uint8 and int32 binary targets
                out.add(new Case(Loss.CE_LOGDICE, Mode.MULTICLASS, layout, logits, ElementType.FLOAT32,
                        new long[] {2, 3, 17, 19}, 7, 2, true));
                out.add(new Case(Loss.FOCAL, Mode.MULTICLASS, layout, logits, ElementType.UINT8, new long[] {2, 6, 33, 33},
                        255, 0.5, false));
                out.add(new Case(Loss.FOCAL, Mode.MULTILABEL, layout, logits, ElementType.UINT8, new long[] {2, 2, 33, 35},
                        null, 1.5, false));
                out.add(new Case(Loss.FOCAL, Mode.BINARY, layout, logits, ElementType.INT32, new long[] {2, 1, 4099},
                        null, 0, false));
                out.add(new Case(Loss.DICE, Mode.MULTILABEL, layout, logits, ElementType.FLOAT32, new long[] {2, 2, 9000},
                        null, 2, true));
                // long rows ([1, 1, 70000]; under nhwc 70000 channels of one pixel), a tiny [3, 4, 5], float and
                // uint8 multilabel targets
                for (Loss loss : binaryLosses) {
                    for (ElementType target : new ElementType[] {ElementType.FLOAT32, ElementType.UINT8}) {
                        for (long[] shape : new long[][] {{2, 3, 17, 19}, {1, 1, 70000}, {3, 4, 5}}) {
                            out.add(new Case(loss, Mode.MULTILABEL, layout, logits, target, shape, null, 2, false));
                        }
                    }
                }
                // long multiclass rows, 40 classes; uint8 maps ignore 255, int32 maps ignore -1
                for (Loss loss : multiclassLosses) {
                    for (ElementType target : new ElementType[] {ElementType.UINT8, ElementType.INT32}) {
                        int ignore = target == ElementType.UINT8 ? 255 : -1;
                        for (long[] shape : new long[][] {{2, 5, 13, 11}, {1, 2, 70000}, {2, 40, 300}}) {
                            out.add(new Case(loss, Mode.MULTICLASS, layout, logits, target, shape, ignore, 2, false));
                        }
                    }
                }
                // int64 class maps (DJL / PyTorch labels) with ignore -100, and an int64 binary mask
                for (Loss loss : multiclassLosses) {
                    out.add(new Case(loss, Mode.MULTICLASS, layout, logits, ElementType.INT64, new long[] {2, 4, 23, 17},
                            -100, 2, false));
                }
                out.add(new Case(Loss.BCE_LOGDICE, Mode.BINARY, layout, logits, ElementType.INT64, new long[] {2, 1, 517},
                        null, 2, false));
            }
        }
        // nhwc with more channels than a work-group (block): the strided path.
        out.add(new Case(Loss.BCE_LOGDICE, Mode.MULTILABEL, Layout.NHWC, true, ElementType.FLOAT32,
                new long[] {1, 7, 5, 300}, null, 2, false));
        String filter = System.getProperty("segloss.test.cases", "");
        return out.stream().filter(k -> filter.isEmpty() || k.toString().matches(filter));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void valueGradientAndConfusionCountsAgreeWithTheScalarCpuReference(Case k) {
        Random rnd = new Random(k.toString().hashCode());
        long total = 1;
        for (long d : k.shape) {
            total *= d;
        }
        float[] pred = new float[(int) total];
        for (int i = 0; i < pred.length; i++) {
            pred[i] = k.logits ? (float) (rnd.nextGaussian() * 3) : edgeProbability(rnd);
        }
        LossSpec.Builder b = LossSpec.builder(k.loss, k.mode).fromLogits(k.logits).layout(k.layout).batch(k.batch);
        if (k.loss == Loss.FOCAL) {
            b.gamma(k.gamma);
        }
        if (k.ignore != null) {
            b.ignoreIndex(k.ignore);
        }
        LossSpec spec = b.build();
        Object target = target(k, rnd, (int) total);
        float[] gradDevice = new float[pred.length];
        float[] gradCpu = new float[pred.length];
        String limit = documentedLimit(k);
        if (limit != null) {
            for (Executable pass : List.<Executable>of(
                    () -> forwardBackward(device, spec, pred, k.shape, target, gradDevice),
                    () -> device.confusion(k.mode, k.logits, k.layout, k.ignore, 0.5, pred, k.shape, target))) {
                assertEquals(limit, assertThrows(InvalidInputException.class, pass).getMessage(), k.toString());
            }
            return;
        }
        LossResult r = forwardBackward(device, spec, pred, k.shape, target, gradDevice);
        LossResult ref = forwardBackward(cpu, spec, pred, k.shape, target, gradCpu);
        assertAgrees(k.toString(), pred, r, ref, gradDevice, gradCpu);
        ConfusionCounts cd = device.confusion(k.mode, k.logits, k.layout, k.ignore, 0.5, pred, k.shape, target);
        ConfusionCounts cr = cpu.confusion(k.mode, k.logits, k.layout, k.ignore, 0.5, pred, k.shape, target);
        for (int ci = 0; ci < k.channels(); ci++) {
            long[] expected = {cr.tp(ci), cr.fp(ci), cr.fn(ci), cr.tn(ci)};
            long[] actual = {cd.tp(ci), cd.fp(ci), cd.fn(ci), cd.tn(ci)};
            assertArrayEquals(expected, actual, k + ": TP, FP, FN, TN of class " + ci);
        }
    }

    /** Value and gradient of the device within {@link #tolerances()} of the scalar CPU's. */
    private void assertAgrees(String what, float[] pred, LossResult r, LossResult ref, float[] gradDevice, float[] gradCpu) {
        Tolerances tol = tolerances();
        double valueAllowed = tol.valueRelative() * Math.max(Math.abs(ref.value()), tol.valueFloor());
        assertTrue(Math.abs(r.value() - ref.value()) <= valueAllowed,
                what + ": value " + r.value() + " vs cpu " + ref.value() + ", allowed difference " + valueAllowed);
        double maxRef = 0;
        for (float g : gradCpu) {
            maxRef = Math.max(maxRef, Math.abs(g));
        }
        for (int i = 0; i < pred.length; i++) {
            double allowed = tol.gradRelative() * Math.abs(gradCpu[i]) + tol.gradOfLargest() * maxRef + tol.gradAbsolute();
            if (!(Math.abs(gradDevice[i] - gradCpu[i]) <= allowed)) {
                throw new AssertionError(what + ": grad[" + i + "] = " + gradDevice[i] + " vs cpu " + gradCpu[i] + " (pred "
                        + pred[i] + ", max |grad| " + maxRef + ", allowed difference " + allowed + ")");
            }
        }
    }

    /** The MONAI / smp catalogue's rows on tensors larger than one work-group ({@link CatalogueCases#larger()}). */
    static Stream<LossCase> catalogueCases() {
        String filter = System.getProperty("segloss.test.cases", "");
        return CatalogueCases.larger().stream().filter(c -> filter.isEmpty() || c.name.matches(filter));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogueCases")
    void catalogueValueAndGradientAgreeWithTheScalarCpuReference(LossCase c) {
        float[] gradDevice = new float[c.pred.length];
        float[] gradCpu = new float[c.pred.length];
        LossResult r = c.forwardBackward(device, gradDevice);
        LossResult ref = c.forwardBackward(cpu, gradCpu);
        assertAgrees(c.name, c.pred, r, ref, gradDevice, gradCpu);
    }

    /** Probabilities with the clamp edges: exact 0 and 1 and values within eps of them. */
    private static float edgeProbability(Random rnd) {
        int r = rnd.nextInt(40);
        if (r == 0) {
            return 0f;
        } else if (r == 1) {
            return 1f;
        } else if (r == 2) {
            return 1e-8f;
        } else if (r == 3) {
            return 1f - 5e-8f;
        }
        return rnd.nextFloat();
    }

    /**
     * Binary / multilabel: 0/1 targets as uint8, int32 or int64, float targets mostly hard with some soft labels.
     * Multiclass: class indices in [0, C) of the case's type, about one in ten set to the ignore index.
     */
    private static Object target(Case k, Random rnd, int total) {
        if (k.mode != Mode.MULTICLASS) {
            switch (k.target) {
                case UINT8: {
                    byte[] t = new byte[total];
                    for (int i = 0; i < total; i++) {
                        t[i] = (byte) rnd.nextInt(2);
                    }
                    return t;
                }
                case INT32: {
                    int[] t = new int[total];
                    for (int i = 0; i < total; i++) {
                        t[i] = rnd.nextInt(2);
                    }
                    return t;
                }
                case INT64: {
                    long[] t = new long[total];
                    for (int i = 0; i < total; i++) {
                        t[i] = rnd.nextInt(2);
                    }
                    return t;
                }
                default: {
                    float[] t = new float[total];
                    for (int i = 0; i < total; i++) {
                        int r = rnd.nextInt(10);
                        t[i] = r < 2 ? rnd.nextFloat() : r < 6 ? 1f : 0f;
                    }
                    return t;
                }
            }
        }
        int c = k.channels();
        int pixels = total / c;
        int[] y = new int[pixels];
        for (int i = 0; i < pixels; i++) {
            y[i] = k.ignore != null && rnd.nextInt(10) == 0 ? k.ignore : rnd.nextInt(c);
        }
        switch (k.target) {
            case UINT8: {
                byte[] t = new byte[pixels];
                for (int i = 0; i < pixels; i++) {
                    t[i] = (byte) y[i];
                }
                return t;
            }
            case FLOAT32: {
                float[] t = new float[pixels];
                for (int i = 0; i < pixels; i++) {
                    t[i] = y[i];
                }
                return t;
            }
            case INT64: {
                long[] t = new long[pixels];
                for (int i = 0; i < pixels; i++) {
                    t[i] = y[i];
                }
                return t;
            }
            default:
                return y;
        }
    }

    private static LossResult forwardBackward(LossEngine e, LossSpec spec, float[] pred, long[] shape, Object target,
                                              float[] grad) {
        if (target instanceof byte[]) {
            return e.forwardBackward(spec, pred, shape, (byte[]) target, grad);
        } else if (target instanceof int[]) {
            return e.forwardBackward(spec, pred, shape, (int[]) target, grad);
        } else if (target instanceof long[]) {
            return e.forwardBackward(spec, pred, shape, (long[]) target, grad);
        }
        return e.forwardBackward(spec, pred, shape, (float[]) target, grad);
    }
}
