package org.segloss.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.ConfusionCounts;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossResult;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.TestBackends;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The OpenCL kernels agree with the scalar CPU reference (double) to relative 1e-5 on the loss value and
 * on the gradient, over a table of losses x modes x layouts x logits x target types, random inputs of odd sizes.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenClAgreementTest {
    static final double VALUE_TOLERANCE = 1e-5;
    /**
     * Gradient, element-wise: |opencl - cpu| <= 1e-5 (|cpu| + max|cpu| / 10). The floor (1e-6 of the largest entry)
     * is for entries where the region terms nearly cancel: their coefficients come from float partial sums whose
     * ~1e-7 relative rounding is then all that is left.
     */
    static final double GRAD_TOLERANCE = 1e-5;

    private LossEngine opencl;
    private LossEngine cpu;

    @BeforeAll
    void open() {
        opencl = TestBackends.openOrSkip("opencl");
        cpu = LossEngine.of(CpuBackend.scalar());
    }

    @AfterAll
    void close() {
        if (opencl != null) {
            opencl.close();
        }
        cpu.close();
    }

    /** One row of the table. */
    record Case(Loss loss, Mode mode, Layout layout, boolean logits, String target, long[] shape, Integer ignore,
                double gamma, boolean batch) {
        @Override
        public String toString() {
            return loss + " " + mode + " " + layout + (logits ? " logits" : " probs") + " target=" + target
                    + " shape=" + java.util.Arrays.toString(shape) + (ignore == null ? "" : " ignore=" + ignore)
                    + (gamma == 2 ? "" : " gamma=" + gamma) + (batch ? " batch" : "");
        }
    }

    static List<Case> cases() {
        List<Case> out = new ArrayList<>();
        Loss[] binaryLosses = {Loss.BCE, Loss.DICE, Loss.IOU, Loss.FOCAL, Loss.TVERSKY, Loss.BCE_LOGDICE};
        Loss[] multiclassLosses = {Loss.CE, Loss.DICE, Loss.IOU, Loss.FOCAL, Loss.TVERSKY, Loss.CE_LOGDICE};
        for (Layout layout : Layout.values()) {
            for (boolean logits : new boolean[] {true, false}) {
                for (Loss loss : binaryLosses) {
                    out.add(new Case(loss, Mode.BINARY, layout, logits, "float", new long[] {3, 1, 37, 29}, null, 2, false));
                    out.add(new Case(loss, Mode.MULTILABEL, layout, logits, "float", new long[] {2, 3, 41, 23}, null, 2, false));
                }
                for (Loss loss : multiclassLosses) {
                    out.add(new Case(loss, Mode.MULTICLASS, layout, logits, "uint8", new long[] {2, 5, 43, 31}, null, 2, false));
                    out.add(new Case(loss, Mode.MULTICLASS, layout, logits, "int32", new long[] {3, 4, 1000}, 255, 2, false));
                }
                out.add(new Case(Loss.CE_LOGDICE, Mode.MULTICLASS, layout, logits, "float", new long[] {2, 3, 17, 19}, 7, 2, true));
                out.add(new Case(Loss.FOCAL, Mode.MULTICLASS, layout, logits, "uint8", new long[] {2, 6, 33, 33}, 255, 0.5, false));
                out.add(new Case(Loss.FOCAL, Mode.MULTILABEL, layout, logits, "uint8", new long[] {2, 2, 33, 35}, null, 1.5, false));
                out.add(new Case(Loss.FOCAL, Mode.BINARY, layout, logits, "int32", new long[] {2, 1, 4099}, null, 0, false));
                out.add(new Case(Loss.DICE, Mode.MULTILABEL, layout, logits, "float", new long[] {2, 2, 9000}, null, 2, true));
            }
        }
        // nhwc with more channels than a work-group: the strided path.
        out.add(new Case(Loss.BCE_LOGDICE, Mode.MULTILABEL, Layout.NHWC, true, "float", new long[] {1, 7, 5, 300}, null, 2, false));
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void valueAndGradientAgreeWithTheCpuReference(Case k) {
        Random rnd = new Random(k.toString().hashCode());
        long total = 1;
        for (long d : k.shape) {
            total *= d;
        }
        int c = (int) (k.layout == Layout.NHWC ? k.shape[k.shape.length - 1] : k.shape[1]);
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
        Object target = target(k, rnd, (int) total, c);
        float[] gradCl = new float[pred.length];
        float[] gradCpu = new float[pred.length];
        LossResult r = run(opencl, spec, pred, k.shape, target, gradCl);
        LossResult ref = run(cpu, spec, pred, k.shape, target, gradCpu);
        double rel = Math.abs(r.value() - ref.value()) / Math.max(Math.abs(ref.value()), 1e-30);
        assertTrue(rel <= VALUE_TOLERANCE, k + ": value " + r.value() + " vs cpu " + ref.value() + ", relative " + rel);
        double maxRef = 0;
        for (float g : gradCpu) {
            maxRef = Math.max(maxRef, Math.abs(g));
        }
        for (int i = 0; i < pred.length; i++) {
            double allowed = GRAD_TOLERANCE * (Math.abs(gradCpu[i]) + maxRef / 10);
            if (Math.abs(gradCl[i] - gradCpu[i]) > allowed) {
                throw new AssertionError(k + ": grad[" + i + "] = " + gradCl[i] + " vs cpu " + gradCpu[i] + " (pred "
                        + pred[i] + ", max |grad| " + maxRef + ")");
            }
        }
        ConfusionCounts cc = opencl.confusion(k.mode, k.logits, k.layout, k.ignore, 0.5, pred, k.shape, target);
        ConfusionCounts cr = cpu.confusion(k.mode, k.logits, k.layout, k.ignore, 0.5, pred, k.shape, target);
        for (int ci = 0; ci < c; ci++) {
            long[] expected = {cr.tp(ci), cr.fp(ci), cr.fn(ci), cr.tn(ci)};
            long[] actual = {cc.tp(ci), cc.fp(ci), cc.fn(ci), cc.tn(ci)};
            assertArrayEquals(expected, actual, k + ": TP, FP, FN, TN of class " + ci);
        }
    }

    /** Probabilities with the clamp edges: exact 0 and 1 and values within eps of them. */
    static float edgeProbability(Random rnd) {
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

    static Object target(Case k, Random rnd, int total, int c) {
        if (k.mode != Mode.MULTICLASS) {
            int len = total;
            switch (k.target) {
                case "uint8": {
                    byte[] t = new byte[len];
                    for (int i = 0; i < len; i++) {
                        t[i] = (byte) rnd.nextInt(2);
                    }
                    return t;
                }
                case "int32": {
                    int[] t = new int[len];
                    for (int i = 0; i < len; i++) {
                        t[i] = rnd.nextInt(2);
                    }
                    return t;
                }
                default: {
                    float[] t = new float[len];
                    for (int i = 0; i < len; i++) {
                        int r = rnd.nextInt(10);
                        t[i] = r == 0 ? rnd.nextFloat() : r < 5 ? 1f : 0f; // mostly hard, some soft labels
                    }
                    return t;
                }
            }
        }
        int len = total / c;
        int[] y = new int[len];
        for (int i = 0; i < len; i++) {
            y[i] = k.ignore != null && rnd.nextInt(13) == 0 ? k.ignore : rnd.nextInt(c);
        }
        switch (k.target) {
            case "uint8": {
                byte[] t = new byte[len];
                for (int i = 0; i < len; i++) {
                    t[i] = (byte) y[i];
                }
                return t;
            }
            case "float": {
                float[] t = new float[len];
                for (int i = 0; i < len; i++) {
                    t[i] = y[i];
                }
                return t;
            }
            default:
                return y;
        }
    }

    static LossResult run(LossEngine e, LossSpec spec, float[] pred, long[] shape, Object target, float[] grad) {
        if (target instanceof byte[]) {
            return e.forwardBackward(spec, pred, shape, (byte[]) target, grad);
        } else if (target instanceof int[]) {
            return e.forwardBackward(spec, pred, shape, (int[]) target, grad);
        }
        return e.forwardBackward(spec, pred, shape, (float[]) target, grad);
    }
}
