package org.segloss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract of {@code shared/spec/losses.md}, run against every backend: one subclass per
 * backend supplies the engine. Expected values come from hand computation (in the comments of the
 * golden table) or from {@link Reference}, an independent double-precision implementation in the
 * tests; expected gradients from hand computation or from central finite differences of the
 * reference.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class LossContractTest {
    protected LossEngine engine;

    /** Opens the engine under test (skip with a reason when the backend is absent, see {@link TestBackends}). */
    protected abstract LossEngine createEngine();

    /**
     * Allowed error of a loss value, relative to {@code max(|expected|, 0.1)}. Float device backends may
     * loosen it slightly.
     */
    protected double valueTolerance() {
        return 1e-5;
    }

    /** Allowed max-abs error of a gradient, relative to the expected gradient's max-abs value. */
    protected double gradTolerance() {
        return 1e-4;
    }

    /** Why the backend is absent (set when createEngine skipped), re-raised before each test so every test reports it. */
    private org.opentest4j.TestAbortedException absent;

    @BeforeAll
    void openEngine() {
        try {
            engine = createEngine();
        } catch (org.opentest4j.TestAbortedException e) {
            absent = e;
        }
    }

    @org.junit.jupiter.api.BeforeEach
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

    // ---- assertions ------------------------------------------------------------------------

    void assertValue(double expected, double actual, String what) {
        double allowed = valueTolerance() * Math.max(Math.abs(expected), 0.1);
        if (!(Math.abs(actual - expected) <= allowed)) {
            fail(what + ": expected " + expected + " but was " + actual + " (allowed error " + allowed + ")");
        }
    }

    void assertGradient(double[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": gradient length");
        double scale = 0;
        for (double e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]);
            if (!(err <= worst) || Double.isNaN(err)) {
                worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                worstAt = i;
            }
        }
        double allowed = gradTolerance() * scale;
        if (scale == 0) {
            for (int i = 0; i < actual.length; i++) {
                if (actual[i] != 0f) {
                    fail(what + ": expected a zero gradient, element " + i + " was " + actual[i]);
                }
            }
        } else if (!(worst <= allowed)) {
            fail(what + ": gradient element " + worstAt + " expected " + expected[worstAt] + " but was "
                    + actual[worstAt] + " (max-abs error " + worst + " > allowed " + allowed + " = "
                    + gradTolerance() + " x max|grad| " + scale + ")");
        }
    }

    static void assertBitIdentical(float[] a, float[] b, String what) {
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                fail(what + ": element " + i + " differs: " + a[i] + " vs " + b[i]);
            }
        }
    }

    // ---- golden cases, computed by hand ---------------------------------------------------------

    /** A hand-computed case: expected value and (when given) expected gradient. */
    static final class Golden {
        final LossCase input;
        final double value;
        final double[] grad;

        Golden(String name, LossSpec spec, long[] shape, float[] pred, Object target, double value, double... grad) {
            this.input = new LossCase(name, spec, shape, pred, target);
            this.value = value;
            this.grad = grad.length == 0 ? null : grad;
        }

        @Override
        public String toString() {
            return input.name;
        }
    }

    static LossSpec.Builder spec(Loss loss, Mode mode) {
        return LossSpec.builder(loss, mode);
    }

    static final double LN2 = Math.log(2);
    static final double LN3F = (float) Math.log(3);

    static Stream<Golden> goldenCases() {
        float[] p4 = {0.9f, 0.2f, 0.6f, 0.1f};
        float[] t4 = {1, 0, 1, 0};
        long[] s4 = {1, 1, 4};
        // multiclass probabilities (1, 2, 2) nchw: class 0 = [0.8, 0.3], class 1 = [0.2, 0.7], y = [0, 1]
        float[] mp = {0.8f, 0.3f, 0.2f, 0.7f};
        int[] my = {0, 1};
        long[] ms = {1, 2, 2};
        double d0 = 2.6 / 3.1; // class 0: I = 0.8, P = 1.1, T = 1: (1.6 + 1) / (2.1 + 1)
        double d1 = 2.4 / 2.9; // class 1: I = 0.7, P = 0.9, T = 1: (1.4 + 1) / (1.9 + 1)
        return Stream.of(
            // -(log 0.5 + log(1 - 0.8)) / 2 = (ln 2 + ln 5) / 2; dL/dp = (-t/p + (1-t)/(1-p)) / 2 = [-1, 2.5]
            new Golden("bce of probabilities 0.5 and 0.8 against 1 and 0 is ln(10) / 2",
                    spec(Loss.BCE, Mode.BINARY).build(), new long[] {1, 1, 2}, new float[] {0.5f, 0.8f},
                    new float[] {1, 0}, Math.log(10) / 2, -1.0, 1 / (1 - (double) 0.8f) / 2),
            // both terms log(1 + e^0) = ln 2; dL/dx = (p - t) / M = [(0.5 - 1) / 2, 0.5 / 2]
            new Golden("bce from logits 0 and 0 against 1 and 0 is ln 2 with gradient (p - t) / M",
                    spec(Loss.BCE, Mode.BINARY).fromLogits(true).build(), new long[] {1, 1, 2}, new float[] {0, 0},
                    new float[] {1, 0}, LN2, -0.25, 0.25),
            // channel 0: x = 0, t = 1: ln 2 (w 1); channel 1: x = ln 3, t = 1: softplus(-ln 3) = ln(4/3) (w 3);
            // divided by N*S*sum w = 4; dL/dx = w (p - t) / 4 = [1 (0.5 - 1) / 4, 3 (0.75 - 1) / 4]
            new Golden("bce from logits with class weights 1 and 3 weighs each channel's term",
                    spec(Loss.BCE, Mode.MULTILABEL).fromLogits(true).classWeights(1, 3).build(), new long[] {1, 2, 1},
                    new float[] {0, (float) LN3F}, new float[] {1, 1}, (LN2 + 3 * Reference.softplus(-LN3F)) / 4,
                    -0.125, 3 * (Reference.sigmoid(LN3F) - 1) / 4),
            // I = 0.9 + 0.6 = 1.5, P = 1.8, T = 2: D = (3 + 1) / (3.8 + 1) = 5/6;
            // dD/dp = (2t (P+T+s) - (2I+s)) / (P+T+s)^2 = (9.6 t - 4) / 23.04, dL/dp = -dD/dp
            new Golden("dice of a hand computed binary case is one sixth", spec(Loss.DICE, Mode.BINARY).build(), s4, p4,
                    t4, 1.0 / 6.0, -5.6 / 23.04, 4 / 23.04, -5.6 / 23.04, 4 / 23.04),
            // x = 0: p = 0.5, I = 0.5, P = 1, T = 1: D = 2/3; dD/dp = (6t - 2) / 9, times p(1-p) = 1/4, negated
            new Golden("dice from logits 0 and 0 against 1 and 0 is one third",
                    spec(Loss.DICE, Mode.BINARY).fromLogits(true).build(), new long[] {1, 1, 2}, new float[] {0, 0},
                    new float[] {1, 0}, 1.0 / 3.0, -1.0 / 9, 1.0 / 18),
            // U = P + T - I = 2.3: J = 2.5 / 3.3 = 25/33, loss 8/33; dJ/dp = (t (U+s) - (I+s)(1-t)) / (U+s)^2
            new Golden("iou of the same binary case is 8/33", spec(Loss.IOU, Mode.BINARY).build(), s4, p4, t4,
                    8.0 / 33.0, -1 / 3.3, 2.5 / 10.89, -1 / 3.3, 2.5 / 10.89),
            // FP = 0.3, FN = 0.5: d = 1.5 + 0.3 * 0.3 + 0.7 * 0.5 + 1 = 2.94, TI = 2.5 / 2.94, loss 0.44 / 2.94;
            // dTI/dp = (t d - 2.5 (t + 0.3 (1-t) - 0.7 t)) / d^2: t = 1: 2.19 / 8.6436, t = 0: -0.75 / 8.6436
            new Golden("tversky with alpha 0.3 and beta 0.7 of the same case is 0.44 / 2.94",
                    spec(Loss.TVERSKY, Mode.BINARY).alpha(0.3).beta(0.7).build(), s4, p4, t4, 0.44 / 2.94,
                    -2.19 / 8.6436, 0.75 / 8.6436, -2.19 / 8.6436, 0.75 / 8.6436),
            // with smooth 0 Tversky(0.5, 0.5) = I / (I + (FP + FN) / 2) = 2I / (P + T) = Dice: 3 / 3.8, loss 0.8 / 3.8;
            // dD/dp = (2t (P+T) - 2I) / (P+T)^2 = (7.6 t - 3) / 14.44 (with smooth > 0 the two differ)
            new Golden("tversky with the default alpha and beta and smooth 0 equals dice",
                    spec(Loss.TVERSKY, Mode.BINARY).smooth(0).build(), s4, p4, t4, 0.8 / 3.8,
                    -4.6 / 14.44, 3 / 14.44, -4.6 / 14.44, 3 / 14.44),
            new Golden("dice with smooth 0 of the same case is 0.8 / 3.8",
                    spec(Loss.DICE, Mode.BINARY).smooth(0).build(), s4, p4, t4, 0.8 / 3.8,
                    -4.6 / 14.44, 3 / 14.44, -4.6 / 14.44, 3 / 14.44),
            // p = 0.5: -0.25 * 0.25 * ln 0.5 = ln2 / 16 and -0.75 * 0.25 * ln 0.5 = 3 ln2 / 16, mean ln2 / 8;
            // d/dp: -0.25 (-2 * 0.5 ln 0.5 + 0.25 / 0.5) / 2 = -(ln2 + 0.5) / 8; -0.75 (2 * 0.5 ln 0.5 - 0.5) / 2
            new Golden("focal of p 0.5 against 1 and 0 with alpha 0.25 and gamma 2 is ln(2) / 8",
                    spec(Loss.FOCAL, Mode.BINARY).build(), new long[] {1, 1, 2}, new float[] {0.5f, 0.5f},
                    new float[] {1, 0}, LN2 / 8, -(LN2 + 0.5) / 8, 3 * (LN2 + 0.5) / 8),
            // gamma 0, alpha none: -(ln 0.3 + ln 0.1) / 2 = ln(100/3) / 2, as bce
            new Golden("focal with alpha none and gamma 0 equals bce",
                    spec(Loss.FOCAL, Mode.BINARY).alphaNone().gamma(0).build(), new long[] {1, 1, 2},
                    new float[] {0.3f, 0.9f}, new float[] {1, 0}, -(Math.log(0.3f) + Math.log(1 - (double) 0.9f)) / 2,
                    -1 / (double) 0.3f / 2, 1 / (1 - (double) 0.9f) / 2),
            // x = 0, t = 1: f(p) = -(1-p)^2 ln p = ln2 / 4; f'(p) = 2 (1-p) ln p - (1-p)^2 / p = -ln2 - 0.5, times 1/4
            new Golden("focal from logit 0 with alpha none is ln(2) / 4",
                    spec(Loss.FOCAL, Mode.BINARY).alphaNone().fromLogits(true).build(), new long[] {1, 1, 1},
                    new float[] {0}, new float[] {1}, LN2 / 4, -(LN2 + 0.5) / 4),
            // bce = -(ln 0.9 + ln 0.8 + ln 0.6 + ln 0.9) / 4, D = 5/6
            new Golden("bce_logdice is bce minus log of the mean dice",
                    spec(Loss.BCE_LOGDICE, Mode.BINARY).build(), s4, p4, t4,
                    -(Math.log(0.9f) + Math.log(1 - (double) 0.2f) + Math.log(0.6f) + Math.log(1 - (double) 0.1f)) / 4
                            - Math.log(5.0 / 6.0)),
            // sample 0: I = 0.9, P = 1, T = 1: D = 2.8/3; sample 1: I = 0.6, P = 0.8, T = 1: D = 2.2/2.8
            new Golden("dice without batch averages the per-sample coefficients",
                    spec(Loss.DICE, Mode.BINARY).build(), new long[] {2, 1, 2}, new float[] {0.9f, 0.1f, 0.6f, 0.2f},
                    new float[] {1, 0, 1, 0}, 1 - (2.8 / 3 + 2.2 / 2.8) / 2),
            // summed over the batch: I = 1.5, P = 1.8, T = 2: D = 5/6
            new Golden("dice with batch sums the samples before the coefficient",
                    spec(Loss.DICE, Mode.BINARY).batch(true).build(), new long[] {2, 1, 2},
                    new float[] {0.9f, 0.1f, 0.6f, 0.2f}, new float[] {1, 0, 1, 0}, 1.0 / 6.0),
            // smooth 0: channel 0 I = 1, P = 1, T = 1: D = 1, dD/dp = (4t - 2) / 4; channel 1 is empty with
            // P = T = 0: D = 1 and gradient 0. dL/dp = -dD/dp / 2
            new Golden("an empty class with smooth 0 has coefficient 1 and gradient 0",
                    spec(Loss.DICE, Mode.MULTILABEL).smooth(0).build(), new long[] {1, 2, 2},
                    new float[] {1, 0, 0, 0}, new float[] {1, 0, 0, 0}, 0.0, -0.25, 0.25, 0, 0),
            // J = 1 for both channels; dJ/dp = (t U - I (1-t)) / U^2 = [1, -1] on channel 0, / 2, negated
            new Golden("an empty class with smooth 0 in iou has coefficient 1 and gradient 0",
                    spec(Loss.IOU, Mode.MULTILABEL).smooth(0).build(), new long[] {1, 2, 2},
                    new float[] {1, 0, 0, 0}, new float[] {1, 0, 0, 0}, 0.0, -0.5, 0.5, 0, 0),
            new Golden("an empty class with smooth 0 in tversky has coefficient 1 and gradient 0",
                    spec(Loss.TVERSKY, Mode.MULTILABEL).smooth(0).build(), new long[] {1, 2, 2},
                    new float[] {1, 0, 0, 0}, new float[] {1, 0, 0, 0}, 0.0, -0.25, 0.25, 0, 0),
            // smooth 0, I = 0: D = 0 < eps, log part -ln(1e-7) = 7 ln 10, constant (no gradient);
            // bce: p = 0 clamped to 1e-7: (-ln(1e-7) - ln 0.5) / 2; dL/dp = [-1 / 1e-7 / 2, 1 / 0.5 / 2]
            new Golden("bce_logdice below the dice floor is constant in its log part",
                    spec(Loss.BCE_LOGDICE, Mode.BINARY).smooth(0).build(), new long[] {1, 1, 2},
                    new float[] {0, 0.5f}, new float[] {1, 0}, 7 * Math.log(10) + (7 * Math.log(10) + LN2) / 2,
                    -0.5e7, 1.0),
            // pixel 0: x = (0, ln 3), p = (1/4, 3/4), y = 1: -ln(3/4); pixel 1: x = (0, 0), y = 0: ln 2;
            // mean ln(8/3) / 2; dL/dx = (p - onehot) / 2, nchw order [c0s0, c0s1, c1s0, c1s1]
            new Golden("ce from logits of two pixels is ln(8/3) / 2 with gradient (p - onehot) / M",
                    spec(Loss.CE, Mode.MULTICLASS).fromLogits(true).build(), ms, new float[] {0, 0, (float) LN3F, 0},
                    new int[] {1, 0}, (-Math.log(Reference.sigmoid(LN3F)) + LN2) / 2,
                    Reference.sigmoid(-LN3F) / 2, -0.25, (Reference.sigmoid(LN3F) - 1) / 2, 0.25),
            new Golden("ce from logits in nhwc reads the class axis last",
                    spec(Loss.CE, Mode.MULTICLASS).fromLogits(true).layout(Layout.NHWC).build(), new long[] {1, 2, 2},
                    new float[] {0, (float) LN3F, 0, 0}, new int[] {1, 0},
                    (-Math.log(Reference.sigmoid(LN3F)) + LN2) / 2,
                    Reference.sigmoid(-LN3F) / 2, (Reference.sigmoid(LN3F) - 1) / 2, -0.25, 0.25),
            // the third pixel (y = 255) is ignored: same value, gradient 0 there
            new Golden("ce with an ignored uint8 pixel leaves it out of every sum",
                    spec(Loss.CE, Mode.MULTICLASS).fromLogits(true).ignoreIndex(255).build(), new long[] {1, 2, 3},
                    new float[] {0, 0, 5, (float) LN3F, 0, -7}, new byte[] {1, 0, (byte) 255},
                    (-Math.log(Reference.sigmoid(LN3F)) + LN2) / 2,
                    Reference.sigmoid(-LN3F) / 2, -0.25, 0, (Reference.sigmoid(LN3F) - 1) / 2, 0.25, 0),
            // -ln 0.5; dL/dp_y = -1 / p_y = -2, other classes 0
            new Golden("ce of probabilities is -log p of the target class",
                    spec(Loss.CE, Mode.MULTICLASS).build(), new long[] {1, 3, 1}, new float[] {0.2f, 0.5f, 0.3f},
                    new int[] {1}, LN2, 0, -2, 0),
            // pixel 0: y = 0, -ln 0.5 (w 3); pixel 1: y = 1, -ln 0.8 (w 1); / (3 + 1);
            // dL/dp_y = w_y (-1 / p_y) / 4: [-1.5, 0, 0, -1 / 0.8 / 4]
            new Golden("ce with class weights divides by the sum of the target classes' weights",
                    spec(Loss.CE, Mode.MULTICLASS).classWeights(3, 1).build(), ms, new float[] {0.5f, 0.2f, 0.5f, 0.8f},
                    new int[] {0, 1}, (3 * LN2 - Math.log(0.8f)) / 4, -1.5, 0, 0, -1 / (double) 0.8f / 4),
            // -(1 - 0.5)^2 ln 0.5 = ln2 / 4; d/dp_y = 2 (1-p) ln p - (1-p)^2 / p = -ln2 - 0.5
            new Golden("multiclass focal of p_y 0.5 with gamma 2 is ln(2) / 4",
                    spec(Loss.FOCAL, Mode.MULTICLASS).build(), new long[] {1, 2, 1}, new float[] {0.5f, 0.5f},
                    new int[] {0}, LN2 / 4, -(LN2 + 0.5), 0),
            // 1 - (D0 + D1) / 2; dD_c/dp = (2 t den - num) / den^2, dL/dp = -dD/dp / 2:
            // class 0 (den 3.1, num 2.6): [3.6, -2.6] / 9.61; class 1 (den 2.9, num 2.4): [-2.4, 3.4] / 8.41
            new Golden("multiclass dice of probabilities averages the per-class coefficients",
                    spec(Loss.DICE, Mode.MULTICLASS).build(), ms, mp, my, 1 - (d0 + d1) / 2,
                    -1.8 / 9.61, 1.3 / 9.61, 1.2 / 8.41, -1.7 / 8.41),
            new Golden("multiclass dice without background counts class 1 only",
                    spec(Loss.DICE, Mode.MULTICLASS).includeBackground(false).build(), ms, mp, my, 1 - d1,
                    0, 0, 2.4 / 8.41, -3.4 / 8.41),
            new Golden("multiclass dice with class weights 1 and 3 is a weighted mean",
                    spec(Loss.DICE, Mode.MULTICLASS).classWeights(1, 3).build(), ms, mp, my, 1 - (d0 + 3 * d1) / 4),
            // ce = -(ln 0.8 + ln 0.7) / 2, minus ln of the mean dice
            new Golden("ce_logdice is ce minus log of the mean dice",
                    spec(Loss.CE_LOGDICE, Mode.MULTICLASS).build(), ms, mp, my,
                    -(Math.log(0.8f) + Math.log(0.7f)) / 2 - Math.log((d0 + d1) / 2)),
            // smooth 0, class 2 absent with p = 0: D2 = 1, gradient 0; D0 = 1.2/1.9, D1 = 1.4/2.1;
            // class 0: [2.6, -1.2] / 3.61, class 1: [-1.4, 2.8] / 4.41, each divided by -3
            new Golden("multiclass empty class with smooth 0 has coefficient 1 and gradient 0",
                    spec(Loss.DICE, Mode.MULTICLASS).smooth(0).build(), new long[] {1, 3, 2},
                    new float[] {0.6f, 0.3f, 0.4f, 0.7f, 0, 0}, new int[] {0, 1}, 1 - (1.2 / 1.9 + 1.4 / 2.1 + 1) / 3,
                    -2.6 / (3 * 3.61), 1.2 / (3 * 3.61), 1.4 / (3 * 4.41), -2.8 / (3 * 4.41), 0, 0),
            // p = 0 is clamped to 1e-7: -(1 - 1e-7)^2 ln(1e-7); the gradient is the derivative at the clamped
            // value: -(-2 (1 - pc) ln pc + (1 - pc)^2 / pc)
            new Golden("focal at a probability of 0 uses the clamped value in the whole term",
                    spec(Loss.FOCAL, Mode.BINARY).alphaNone().build(), new long[] {1, 1, 1}, new float[] {0},
                    new float[] {1}, -Math.pow(1 - 1e-7, 2) * Math.log(1e-7),
                    -(-2 * (1 - 1e-7) * Math.log(1e-7) + Math.pow(1 - 1e-7, 2) / 1e-7)),
            // p_y = 0 is clamped to 1e-7: -ln(1e-7) = 7 ln 10; dL/dp_y = -1 / 1e-7
            new Golden("ce at a probability of 0 is -log(1e-7) with the gradient at the clamp",
                    spec(Loss.CE, Mode.MULTICLASS).build(), new long[] {1, 2, 1}, new float[] {1, 0},
                    new int[] {1}, 7 * Math.log(10), 0, -1e7),
            // x = (0, 0), y = 0: p_y = 0.5, -(0.5)^2 ln 0.5 = ln2 / 4; dterm/dx_c = F (t_c - p_c) with
            // F = f'(p_y) p_y = (2 (1-p) ln p - (1-p)^2 / p) p = -(ln2 + 0.5) / 2
            new Golden("multiclass focal from logits 0 and 0 is ln(2) / 4",
                    spec(Loss.FOCAL, Mode.MULTICLASS).fromLogits(true).build(), new long[] {1, 2, 1},
                    new float[] {0, 0}, new int[] {0}, LN2 / 4, -(LN2 + 0.5) / 4, (LN2 + 0.5) / 4),
            // every pixel ignored: M = 0, loss 0 and gradient 0
            new Golden("ce with every pixel ignored is 0 with gradient 0",
                    spec(Loss.CE, Mode.MULTICLASS).fromLogits(true).ignoreIndex(-100).build(), new long[] {1, 2, 2},
                    new float[] {1, -2, 3, 0.5f}, new int[] {-100, -100}, 0.0, 0, 0, 0, 0),
            // every pixel ignored: each coefficient is s / s = 1, both parts 0
            new Golden("ce_logdice with every pixel ignored is 0 with gradient 0",
                    spec(Loss.CE_LOGDICE, Mode.MULTICLASS).ignoreIndex(7).build(), new long[] {1, 2, 2},
                    new float[] {0.1f, 0.6f, 0.9f, 0.4f}, new byte[] {7, 7}, 0.0, 0, 0, 0, 0));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void goldenCaseHasItsHandComputedValueAndGradient(Golden g) {
        LossResult forward = g.input.forward(engine);
        assertValue(g.value, forward.value(), g.input.name + " (forward)");
        float[] grad = new float[g.input.pred.length];
        LossResult both = g.input.forwardBackward(engine, grad);
        assertValue(g.value, both.value(), g.input.name + " (forwardBackward)");
        if (g.grad != null) {
            assertGradient(g.grad, grad, g.input.name);
            for (int i = 0; i < grad.length; i++) {
                if (g.grad[i] == 0) {
                    assertEquals(0f, grad[i], 0f, g.input.name + ": element " + i + " must get gradient exactly 0");
                }
            }
        }
        // the hand computation and the test reference agree too
        assertEquals(g.value, g.input.referenceValue(), 1e-6 * Math.max(1, Math.abs(g.value)), "reference of " + g);
    }

    // ---- random cases against the reference -------------------------------------------------------

    static List<LossCase> randomCases() {
        return RandomCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void forwardMatchesTheReference(LossCase c) {
        assertValue(c.referenceValue(), c.forward(engine).value(), c.name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("randomCases")
    void gradientMatchesFiniteDifferencesOfTheReference(LossCase c) {
        float[] grad = new float[c.pred.length];
        LossResult r = c.forwardBackward(engine, grad);
        assertValue(c.referenceValue(), r.value(), c.name + " (forwardBackward value)");
        assertGradient(c.referenceGradient(), grad, c.name);
        if (c.spec.ignoreIndex() != null) {
            Reference.Geometry g = new Reference.Geometry(c.shape, c.spec.layout());
            double[] y = c.targetValues();
            for (int ni = 0; ni < g.n; ni++) {
                for (int si = 0; si < g.s; si++) {
                    if (y[ni * g.s + si] == c.spec.ignoreIndex()) {
                        for (int ci = 0; ci < g.c; ci++) {
                            assertEquals(0f, grad[g.index(ni, ci, si)], 0f,
                                    c.name + ": ignored pixel " + (ni * g.s + si) + " must get gradient exactly 0");
                        }
                    }
                }
            }
        }
    }

    /** Cases larger than one work unit / work-group, so partial sums are combined. */
    static Stream<LossCase> largerCases() {
        List<LossCase> cases = new ArrayList<>();
        Random rnd = new Random(42);
        long[] shape = {2, 3, 131, 127};
        int len = 2 * 3 * 131 * 127;
        float[] logits = new float[len];
        float[] probs = new float[len];
        float[] mask = new float[len];
        for (int i = 0; i < len; i++) {
            logits[i] = (float) (3 * rnd.nextGaussian());
            probs[i] = (float) rnd.nextDouble();
            mask[i] = rnd.nextInt(3) == 0 ? 1 : 0;
        }
        byte[] classes = new byte[2 * 131 * 127];
        for (int i = 0; i < classes.length; i++) {
            classes[i] = (byte) (rnd.nextInt(10) == 0 ? 255 : rnd.nextInt(3));
        }
        for (Loss loss : Loss.values()) {
            for (Mode mode : new Mode[] {Mode.MULTILABEL, Mode.MULTICLASS}) {
                if (!loss.supports(mode)) {
                    continue;
                }
                for (boolean fromLogits : new boolean[] {false, true}) {
                    LossSpec.Builder b = LossSpec.builder(loss, mode).fromLogits(fromLogits);
                    if (mode == Mode.MULTICLASS) {
                        b.ignoreIndex(255);
                    }
                    cases.add(new LossCase(loss + " " + mode + (fromLogits ? " from logits" : "")
                            + " on 2x3x131x127 (several work units)", b.build(), shape, fromLogits ? logits : probs,
                            mode == Mode.MULTICLASS ? classes : mask));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("largerCases")
    void forwardOfATensorLargerThanOneWorkUnitMatchesTheReference(LossCase c) {
        assertValue(c.referenceValue(), c.forward(engine).value(), c.name);
    }

    // ---- extreme logits -----------------------------------------------------------------------------

    static Stream<LossCase> extremeLogitCases() {
        List<LossCase> cases = new ArrayList<>();
        for (Loss loss : Loss.values()) {
            for (Mode mode : Mode.values()) {
                if (!loss.supports(mode)) {
                    continue;
                }
                for (Layout layout : Layout.values()) {
                    long[] shape = RandomCases.inLayout(new long[] {2, 3, 4}, layout);
                    float[] x = new float[24];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (i * 7 % 5 < 2 ? 100f : -100f) * (i % 3 == 0 ? 1f : 0.5f);
                    }
                    Object target;
                    if (mode == Mode.MULTICLASS) {
                        target = new int[] {0, 1, 2, 1, 2, 0, 0, 2};
                    } else {
                        float[] t = new float[24];
                        for (int i = 0; i < t.length; i++) {
                            t[i] = i % 4 == 1 ? 1 : 0;
                        }
                        target = t;
                    }
                    cases.add(new LossCase(loss + " " + mode + " " + layout + " with logits of +-100 and +-50",
                            LossSpec.builder(loss, mode).fromLogits(true).layout(layout).build(), shape, x, target));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("extremeLogitCases")
    void logitsOfMagnitude100GiveAFiniteValueAndGradient(LossCase c) {
        float[] grad = new float[c.pred.length];
        LossResult r = c.forwardBackward(engine, grad);
        assertTrue(Double.isFinite(r.value()), c.name + ": value " + r.value());
        for (int i = 0; i < grad.length; i++) {
            assertTrue(Float.isFinite(grad[i]), c.name + ": gradient element " + i + " is " + grad[i]);
        }
        assertValue(c.referenceValue(), r.value(), c.name);
    }

    // ---- the MONAI / smp catalogue (issue 10) ----------------------------------------------------------

    static List<LossCase> catalogueCases() {
        return CatalogueCases.all();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogueCases")
    void catalogueLossMatchesTheReference(LossCase c) {
        assertValue(c.referenceValue(), c.forward(engine).value(), c.name);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("catalogueCases")
    void catalogueGradientMatchesTheReferenceAndFiniteDifferences(LossCase c) {
        float[] grad = new float[c.pred.length];
        LossResult r = c.forwardBackward(engine, grad);
        assertValue(c.referenceValue(), r.value(), c.name + " (forwardBackward value)");
        double[] x = c.predValues();
        double[] t = c.targetValues();
        assertGradient(Reference.analyticGradient(c.spec, x, c.shape, t), grad, c.name + " (analytic reference)");
        assertGradient(c.referenceGradient(), grad, c.name + " (finite differences)");
        assertIgnoredElementsGetGradientZero(c, grad);
    }

    /** Where the target holds ignore_index (a class map pixel, or a binary/multilabel element) the gradient is exactly 0. */
    static void assertIgnoredElementsGetGradientZero(LossCase c, float[] grad) {
        if (c.spec.ignoreIndex() == null) {
            return;
        }
        Reference.Geometry g = new Reference.Geometry(c.shape, c.spec.layout());
        double[] y = c.targetValues();
        boolean classMap = y.length == g.n * g.s && c.spec.mode() == Mode.MULTICLASS;
        for (int ni = 0; ni < g.n; ni++) {
            for (int ci = 0; ci < g.c; ci++) {
                for (int si = 0; si < g.s; si++) {
                    int i = g.index(ni, ci, si);
                    if ((classMap ? y[ni * g.s + si] : y[i]) == c.spec.ignoreIndex()) {
                        assertEquals(0f, grad[i], 0f, c.name + ": ignored element " + i + " must get gradient exactly 0");
                    }
                }
            }
        }
    }

    static Stream<LossCase> largerCatalogueCases() {
        return CatalogueCases.larger().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("largerCatalogueCases")
    void catalogueLossOfATensorLargerThanOneWorkUnitMatchesTheReference(LossCase c) {
        assertValue(c.referenceValue(), c.forward(engine).value(), c.name);
    }

    static List<PeerCases.Peer> peerCases() {
        return PeerCases.all();
    }

    /** The value a peer library's own test expects (mapped to our options; see {@link PeerCases}). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("peerCases")
    void peerCaseHasThePeerLibrarysPublishedValue(PeerCases.Peer peer) {
        double actual = peer.input().forward(engine).value();
        double allowed = peer.tolerance() + valueTolerance() * Math.max(Math.abs(peer.expected()), 0.1);
        if (!(Math.abs(actual - peer.expected()) <= allowed)) {
            fail(peer + ": expected " + peer.expected() + " but was " + actual + " (allowed error " + allowed + ")");
        }
        if (peer.grad() != null) {
            float[] grad = new float[peer.input().pred.length];
            peer.input().forwardBackward(engine, grad);
            assertGradient(peer.grad(), grad, peer.toString());
        }
    }

    // ---- determinism and buffer paths --------------------------------------------------------------

    static Stream<LossCase> sampledCases() {
        List<LossCase> all = RandomCases.all();
        return IntStream.range(0, all.size()).filter(i -> i % 9 == 0).mapToObj(all::get);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sampledCases")
    void twoRunsGiveBitIdenticalValueAndGradient(LossCase c) {
        float[] g1 = new float[c.pred.length];
        float[] g2 = new float[c.pred.length];
        LossResult r1 = c.forwardBackward(engine, g1);
        LossResult r2 = c.forwardBackward(engine, g2);
        assertEquals(Double.doubleToRawLongBits(r1.value()), Double.doubleToRawLongBits(r2.value()),
                c.name + ": values " + r1.value() + " vs " + r2.value());
        assertBitIdentical(g1, g2, c.name);
        assertEquals(Double.doubleToRawLongBits(r1.value()), Double.doubleToRawLongBits(c.forward(engine).value()),
                c.name + ": forward and forwardBackward values differ");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sampledCases")
    void deviceBuffersGiveTheSameResultAsHostArrays(LossCase c) {
        float[] hostGrad = new float[c.pred.length];
        LossResult host = c.forwardBackward(engine, hostGrad);
        float[] deviceGrad = new float[c.pred.length];
        LossResult onDevice;
        LossResult forwardOnDevice;
        try (DeviceBuffer pred = engine.upload(c.pred); DeviceBuffer target = c.uploadTarget(engine);
             DeviceBuffer grad = engine.allocateFloats(c.pred.length)) {
            assertEquals(c.pred.length, pred.length());
            assertEquals(engine.backendName(), pred.backend());
            onDevice = engine.forwardBackward(c.spec, pred, c.shape, target, grad);
            forwardOnDevice = engine.forward(c.spec, pred, c.shape, target);
            engine.download(grad, deviceGrad);
        }
        assertEquals(host.value(), onDevice.value(), 0.0, c.name + ": forwardBackward value");
        assertEquals(host.value(), forwardOnDevice.value(), 0.0, c.name + ": forward value");
        assertBitIdentical(hostGrad, deviceGrad, c.name);
    }

    /** The benchmark's references: streamRead sums the buffer, copy reproduces it bit for bit; odd lengths included. */
    @Test
    void theBenchmarkReferencesReadAndCopyEveryElement() {
        Random rnd = new Random(31);
        for (int n : new int[] {1, 255, 4097, 1_000_003}) {
            float[] x = new float[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                x[i] = rnd.nextFloat();
                sum += x[i];
            }
            float[] back = new float[n];
            try (DeviceBuffer src = engine.upload(x); DeviceBuffer dst = engine.allocateFloats(n)) {
                // float partial sums: relative 1e-6 covers their rounding (sum of n values in [0, 1))
                assertEquals(sum, engine.backend().streamRead(src), 1e-6 * sum, "streamRead of " + n + " elements");
                engine.backend().copy(src, dst);
                engine.download(dst, back);
            }
            assertBitIdentical(x, back, "copy of " + n + " elements");
        }
    }

    @Test
    void theBenchmarkCopyRefusesBuffersThatDoNotMatch() {
        try (DeviceBuffer src = engine.upload(new float[10]); DeviceBuffer shorter = engine.allocateFloats(9);
             DeviceBuffer bytes = engine.upload(new byte[10])) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> engine.backend().copy(src, shorter));
            assertEquals("dst must have the length of src, 10, was 9", e.getMessage());
            e = assertThrows(InvalidInputException.class, () -> engine.backend().copy(bytes, src));
            assertEquals("src must be a float32 buffer, was UINT8", e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sampledCases")
    void directNioBuffersGiveTheSameResultAsArrays(LossCase c) {
        float[] arrayGrad = new float[c.pred.length];
        LossResult arrays = c.forwardBackward(engine, arrayGrad);
        FloatBuffer pred = ByteBuffer.allocateDirect(4 * c.pred.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        pred.put(c.pred).flip();
        FloatBuffer grad = ByteBuffer.allocateDirect(4 * c.pred.length).order(ByteOrder.nativeOrder()).asFloatBuffer();
        java.nio.Buffer target;
        if (c.target instanceof float[]) {
            float[] t = (float[]) c.target;
            target = ByteBuffer.allocateDirect(4 * t.length).order(ByteOrder.nativeOrder()).asFloatBuffer().put(t).flip();
        } else if (c.target instanceof byte[]) {
            byte[] t = (byte[]) c.target;
            target = ByteBuffer.allocateDirect(t.length).put(t).flip();
        } else if (c.target instanceof long[]) {
            long[] t = (long[]) c.target;
            target = ByteBuffer.allocateDirect(8 * t.length).order(ByteOrder.nativeOrder()).asLongBuffer().put(t).flip();
        } else {
            int[] t = (int[]) c.target;
            target = ByteBuffer.allocateDirect(4 * t.length).order(ByteOrder.nativeOrder()).asIntBuffer().put(t).flip();
        }
        LossResult buffers = engine.forwardBackward(c.spec, pred, c.shape, target, grad);
        float[] bufferGrad = new float[c.pred.length];
        grad.get(0, bufferGrad);
        assertEquals(arrays.value(), buffers.value(), 0.0, c.name + ": value");
        assertBitIdentical(arrayGrad, bufferGrad, c.name);
        assertEquals(arrays.value(), engine.forward(c.spec, pred, c.shape, target).value(), 0.0, c.name + ": forward");
    }

    @Test
    void aBufferWindowIsReadFromItsPositionToItsLimit() {
        LossCase c = RandomCases.all().stream().filter(k -> k.spec.loss() == Loss.CE_LOGDICE && k.spec.fromLogits()
                && k.target instanceof int[]).findFirst().orElseThrow();
        int len = c.pred.length;
        int[] classes = (int[]) c.target;
        float[] paddedPred = new float[len + 5];
        System.arraycopy(c.pred, 0, paddedPred, 3, len);
        Arrays.fill(paddedPred, 0, 3, Float.NaN); // outside the window: must not be read
        Arrays.fill(paddedPred, len + 3, len + 5, Float.NaN);
        int[] paddedTarget = new int[classes.length + 4];
        System.arraycopy(classes, 0, paddedTarget, 2, classes.length);
        Arrays.fill(paddedTarget, 0, 2, 99);
        Arrays.fill(paddedTarget, classes.length + 2, classes.length + 4, 99);
        float[] paddedGrad = new float[len + 2];
        paddedGrad[0] = 42f;
        FloatBuffer pred = FloatBuffer.wrap(paddedPred, 3, len);
        java.nio.IntBuffer target = java.nio.IntBuffer.wrap(paddedTarget, 2, classes.length);
        FloatBuffer grad = FloatBuffer.wrap(paddedGrad, 1, len);
        LossResult window = engine.forwardBackward(c.spec, pred, c.shape, target, grad);
        float[] arrayGrad = new float[len];
        LossResult arrays = c.forwardBackward(engine, arrayGrad);
        assertEquals(arrays.value(), window.value(), 0.0, c.name);
        assertBitIdentical(arrayGrad, Arrays.copyOfRange(paddedGrad, 1, len + 1), c.name);
        assertEquals(42f, paddedGrad[0], 0f, "the element before the grad window is left alone");
        assertEquals(0f, paddedGrad[len + 1], 0f, "the element after the grad window is left alone");
    }

    // ---- hard confusion counts ----------------------------------------------------------------------

    static void assertCounts(long[][] expected, ConfusionCounts actual, String what) {
        assertEquals(expected[0].length, actual.classes(), what + ": classes");
        for (int c = 0; c < actual.classes(); c++) {
            long[] got = {actual.tp(c), actual.fp(c), actual.fn(c), actual.tn(c)};
            long[] want = {expected[0][c], expected[1][c], expected[2][c], expected[3][c]};
            assertArrayEquals(want, got, what + ": class " + c + " {TP, FP, FN, TN}");
        }
    }

    @Test
    void binaryCountsPutAProbabilityEqualToTheThresholdOnThePositiveSide() {
        // predicted [1, 0, 1, 0] against [1, 1, 0, 0]: TP 1, FP 1, FN 1, TN 1
        float[] p = {0.5f, 0.49f, 0.9f, 0.1f};
        float[] t = {1, 1, 0, 0};
        ConfusionCounts k = engine.confusion(Mode.BINARY, false, Layout.NCHW, null, 0.5, p, new long[] {1, 1, 4}, t);
        assertCounts(new long[][] {{1}, {1}, {1}, {1}}, k, "threshold 0.5");
        assertEquals(0.5, k.dice(0), 1e-12); // 2 / (2 + 1 + 1)
        assertEquals(1.0 / 3.0, k.iou(0), 1e-12);
    }

    @Test
    void binaryCountsFromLogitsCompareWithTheLogitOfTheThreshold() {
        // logit(0.7) = ln(7/3) = 0.8473: predicted [1, 0, 0, 1] against [1, 1, 0, 0]
        float[] x = {0.85f, 0.84f, -3f, 5f};
        float[] t = {1, 1, 0, 0};
        ConfusionCounts k = engine.confusion(Mode.BINARY, true, Layout.NCHW, null, 0.7, x, new long[] {1, 1, 4}, t);
        assertCounts(new long[][] {{1}, {1}, {1}, {1}}, k, "threshold 0.7 from logits");
    }

    @Test
    void multiclassCountsBreakArgmaxTiesTowardsTheLowestClassAndSkipIgnoredPixels() {
        // nchw (1, 3, 4): pixel 0 (0.2, 0.4, 0.4) -> 1, y 2; pixel 1 (0.5, 0.5, 0.5) -> 0, y 0;
        // pixel 2 (0.1, 0.1, 0.8) -> 2, y 2; pixel 3 ignored (255)
        float[] p = {0.2f, 0.5f, 0.1f, 0.9f, 0.4f, 0.5f, 0.1f, 0.05f, 0.4f, 0.5f, 0.8f, 0.05f};
        byte[] y = {2, 0, 2, (byte) 255};
        ConfusionCounts k = engine.confusion(Mode.MULTICLASS, false, Layout.NCHW, 255, 0.5, p, new long[] {1, 3, 4}, y);
        // class 0: TP 1 (px1), FP 0, FN 0, TN 2; class 1: TP 0, FP 1 (px0), FN 0, TN 2;
        // class 2: TP 1 (px2), FP 0, FN 1 (px0), TN 1
        assertCounts(new long[][] {{1, 0, 1}, {0, 1, 0}, {0, 0, 1}, {2, 2, 1}}, k, "ties and ignore");
        // dice: class 0 = 2/2, class 1 = 0/1, class 2 = 2/3
        assertEquals((1 + 0 + 2.0 / 3.0) / 3, k.meanDice(), 1e-12);
    }

    @Test
    void aClassThatIsNeitherPredictedNorPresentIsLeftOutOfTheMeans() {
        // nchw (1, 3, 2): argmax (0, 1), y = (0, 1); class 2 has TP + FP + FN == 0
        float[] p = {0.7f, 0.1f, 0.2f, 0.8f, 0.1f, 0.1f};
        int[] y = {0, 1};
        ConfusionCounts k = engine.confusion(Mode.MULTICLASS, false, Layout.NCHW, null, 0.5, p, new long[] {1, 3, 2}, y);
        assertCounts(new long[][] {{1, 1, 0}, {0, 0, 0}, {0, 0, 0}, {1, 1, 2}}, k, "absent class");
        assertTrue(Double.isNaN(k.dice(2)) && Double.isNaN(k.iou(2)), "class 2 is undefined");
        assertEquals(1.0, k.meanDice(), 0.0);
        assertEquals(1.0, k.meanIou(), 0.0);
    }

    @Test
    void countsOfTwoHalvesOfABatchAddUpToTheCountsOfTheWhole() {
        Random rnd = new Random(3);
        long[] whole = {2, 4, 5, 3};
        float[] x = new float[120];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        int[] y = new int[30];
        for (int i = 0; i < y.length; i++) {
            y[i] = rnd.nextInt(5) == 0 ? -1 : rnd.nextInt(4);
        }
        ConfusionCounts all = engine.confusion(Mode.MULTICLASS, true, Layout.NCHW, -1, 0.5, x, whole, y);
        long[] half = {1, 4, 5, 3};
        ConfusionCounts first = engine.confusion(Mode.MULTICLASS, true, Layout.NCHW, -1, 0.5,
                Arrays.copyOfRange(x, 0, 60), half, Arrays.copyOfRange(y, 0, 15));
        ConfusionCounts second = engine.confusion(Mode.MULTICLASS, true, Layout.NCHW, -1, 0.5,
                Arrays.copyOfRange(x, 60, 120), half, Arrays.copyOfRange(y, 15, 30));
        assertEquals(all, first.plus(second));
    }

    static Stream<LossCase> confusionCases() {
        return RandomCases.all().stream()
                .filter(c -> c.spec.loss() == Loss.DICE)
                .filter(c -> !(c.target instanceof float[]) || c.spec.mode() == Mode.MULTICLASS
                        || isHard((float[]) c.target));
    }

    private static boolean isHard(float[] t) {
        for (float v : t) {
            if (v != 0 && v != 1) {
                return false;
            }
        }
        return true;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("confusionCases")
    void confusionCountsMatchTheReference(LossCase c) {
        for (double threshold : new double[] {0.5, 0.3}) {
            ConfusionCounts k = engine.confusion(c.spec.mode(), c.spec.fromLogits(), c.spec.layout(),
                    c.spec.ignoreIndex(), threshold, c.pred, c.shape, c.target);
            long[][] want = Reference.confusion(c.spec.mode(), c.spec.fromLogits(), c.spec.layout(),
                    c.spec.ignoreIndex(), threshold, c.predValues(), c.shape, c.targetValues());
            assertCounts(want, k, c.name + " threshold " + threshold);
        }
    }

    // ---- refused inputs -----------------------------------------------------------------------------

    /** A refused input: what the caller does, and the words the message must contain. */
    static final class Refusal {
        final String name;
        final Consumer<LossEngine> action;
        final String[] mustName;

        Refusal(String name, Consumer<LossEngine> action, String... mustName) {
            this.name = name;
            this.action = action;
            this.mustName = mustName;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private static final long[] S14 = {1, 1, 4};
    private static final float[] P14 = {0.9f, 0.2f, 0.6f, 0.1f};
    private static final float[] T14 = {1, 0, 1, 0};
    private static final long[] S34 = {1, 3, 2};
    private static final float[] P34 = {0.2f, 0.5f, 0.3f, 0.2f, 0.5f, 0.3f};

    private static Refusal binary(String name, float[] pred, float[] target, boolean logits, String... mustName) {
        return new Refusal(name, e -> e.forward(LossSpec.builder(Loss.BCE, Mode.BINARY).fromLogits(logits).build(),
                pred, new long[] {1, 1, pred.length}, target), mustName);
    }

    private static Refusal multiclass(String name, float[] pred, Object target, Integer ignore, String... mustName) {
        return new Refusal(name, e -> {
            LossSpec.Builder b = LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true);
            if (ignore != null) {
                b.ignoreIndex(ignore);
            }
            new LossCase(name, b.build(), new long[] {1, 3, pred.length / 3}, pred, target).forward(e);
        }, mustName);
    }

    private static Refusal option(String name, Consumer<LossSpec.Builder> set, Loss loss, String... mustName) {
        return new Refusal(name, e -> {
            LossSpec.Builder b = LossSpec.builder(loss, loss == Loss.CE ? Mode.MULTICLASS : Mode.BINARY);
            set.accept(b);
            LossSpec spec = b.build();
            if (spec.mode() == Mode.MULTICLASS) {
                e.forward(spec, P34, S34, new int[] {0, 2});
            } else {
                e.forward(spec, P14, S14, T14);
            }
        }, mustName);
    }

    static Stream<Refusal> refusals() {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        return Stream.of(
            binary("NaN in pred", new float[] {0.5f, nan}, new float[] {1, 0}, false, "pred", "NaN"),
            binary("infinite logit in pred", new float[] {inf, 0}, new float[] {1, 0}, true, "pred", "Infinity"),
            multiclass("minus infinite logit in multiclass pred", new float[] {0, 1, -inf, 0, 1, 2}, new int[] {0, 1},
                    null, "pred", "-Infinity"),
            multiclass("NaN logit in multiclass pred", new float[] {0, 1, 2, nan, 1, 2}, new int[] {0, 1},
                    null, "pred", "NaN"),
            binary("probability above 1 without from_logits", new float[] {1.5f, 0.2f}, new float[] {1, 0}, false,
                    "pred", "1.5", "from_logits"),
            binary("negative probability without from_logits", new float[] {0.3f, -0.25f}, new float[] {1, 0}, false,
                    "pred", "-0.25"),
            new Refusal("probability above 1 in multiclass pred without from_logits",
                    e -> e.forward(LossSpec.of(Loss.DICE, Mode.MULTICLASS), new float[] {0.5f, 1.25f, 0.5f, 0.5f},
                            new long[] {1, 2, 2}, new int[] {0, 1}), "pred", "1.25"),
            binary("NaN in target", new float[] {0.5f, 0.5f}, new float[] {nan, 0}, false, "target", "NaN"),
            binary("infinite target", new float[] {0.5f, 0.5f}, new float[] {1, inf}, false, "target", "Infinity"),
            binary("binary float target above 1", new float[] {0.5f, 0.5f}, new float[] {2, 0}, false, "target", "2"),
            binary("binary soft target 1.5", new float[] {0.5f, 0.5f}, new float[] {1.5f, 0}, true, "target", "1.5"),
            binary("negative binary target", new float[] {0.5f, 0.5f}, new float[] {0, -1}, true, "target", "-1"),
            new Refusal("binary uint8 target 3", e -> e.forward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    P14, S14, new byte[] {1, 0, 3, 0}), "target", "3"),
            new Refusal("binary int32 target -2", e -> e.forward(LossSpec.of(Loss.DICE, Mode.MULTILABEL),
                    P14, S14, new int[] {1, 0, -2, 0}), "target", "-2"),
            multiclass("class index C in an int32 map", new float[6], new int[] {0, 3}, null, "target", "3"),
            multiclass("negative class index without ignore_index", new float[6], new int[] {-1, 0}, null,
                    "target", "-1"),
            multiclass("class index 7 in a uint8 map", new float[6], new byte[] {7, 0}, null, "target", "7"),
            multiclass("class index 254 with ignore_index 255", new float[6], new byte[] {(byte) 254, (byte) 255}, 255,
                    "target", "254"),
            multiclass("ignore_index -100 does not admit -99", new float[6], new int[] {-99, -100}, -100,
                    "target", "-99"),
            // int64 values beyond 32 bits must be refused as they are, never narrowed to a valid class
            multiclass("class index 2^32 + 1 in an int64 map (1 if narrowed to 32 bits)", new float[6],
                    new long[] {0, (1L << 32) + 1}, null, "target", "4294967297"),
            multiclass("class index -2^32 - 100 with ignore_index -100 in an int64 map", new float[6],
                    new long[] {-100, -(1L << 32) - 100}, -100, "target", "-4294967396"),
            multiclass("class index C in an int64 map", new float[6], new long[] {3, 0}, null, "target", "3"),
            new Refusal("binary int64 target 2^32 (0 if narrowed)", e -> e.forward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    P14, S14, new long[] {1, 0, 1L << 32, 0}), "target", "4294967296"),
            multiclass("non-integral class 1.5 in a float map", new float[6], new float[] {1.5f, 0}, null,
                    "target", "1.5"),
            multiclass("NaN class in a float map", new float[6], new float[] {0, nan}, null, "target", "NaN"),
            new Refusal("multiclass with one class", e -> e.forward(LossSpec.of(Loss.CE, Mode.MULTICLASS),
                    new float[] {0.5f, 0.5f}, new long[] {1, 1, 2}, new int[] {0, 0}), "C", "1"),
            new Refusal("pred shorter than the shape", e -> e.forward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    new float[] {0.1f, 0.2f, 0.3f}, S14, T14), "pred", "3"),
            new Refusal("target longer than pred", e -> e.forward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    P14, S14, new float[] {1, 0, 1, 0, 1}), "target", "5"),
            new Refusal("multiclass target with the class axis", e -> e.forward(LossSpec.of(Loss.CE, Mode.MULTICLASS),
                    P34, S34, new int[6]), "target", "6"),
            new Refusal("grad of the wrong length", e -> e.forwardBackward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    P14, S14, T14, new float[3]), "grad", "3"),
            new Refusal("device grad of the wrong length", e -> {
                try (DeviceBuffer p = e.upload(P14); DeviceBuffer t = e.upload(T14); DeviceBuffer g = e.allocateFloats(5)) {
                    e.forwardBackward(LossSpec.of(Loss.DICE, Mode.BINARY), p, S14, t, g);
                }
            }, "grad", "5"),
            new Refusal("an empty tensor", e -> e.forward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    new float[0], new long[] {1, 1, 0}, new float[0]), "shape", "0"),
            new Refusal("a shape of rank 1", e -> e.forward(LossSpec.of(Loss.DICE, Mode.BINARY),
                    P14, new long[] {4}, T14), "shape", "[4]"),
            option("negative smooth", b -> b.smooth(-0.5), Loss.DICE, "smooth", "-0.5"),
            option("NaN smooth", b -> b.smooth(Double.NaN), Loss.DICE, "smooth", "NaN"),
            option("negative gamma", b -> b.gamma(-1), Loss.FOCAL, "gamma", "-1.0"),
            option("focal alpha above 1", b -> b.alpha(1.5), Loss.FOCAL, "alpha", "1.5"),
            option("tversky alpha below 0", b -> b.alpha(-0.1), Loss.TVERSKY, "alpha", "-0.1"),
            option("tversky alpha none", b -> b.alphaNone(), Loss.TVERSKY, "alpha", "none"),
            option("tversky beta below 0", b -> b.beta(-0.1), Loss.TVERSKY, "beta", "-0.1"),
            option("tversky beta above 1", b -> b.beta(2), Loss.TVERSKY, "beta", "2.0"),
            option("class_weights of the wrong length", b -> b.classWeights(1, 2), Loss.CE, "class_weights", "2"),
            option("a negative class weight", b -> b.classWeights(1, -1, 1), Loss.CE, "class_weights", "-1.0"),
            option("a NaN class weight", b -> b.classWeights(1, Double.NaN, 1), Loss.CE, "class_weights", "NaN"),
            option("class_weights all zero", b -> b.classWeights(0, 0, 0), Loss.CE, "class_weights", "0.0"),
            option("excluding the only class", b -> b.includeBackground(false), Loss.DICE, "include_background"),
            new Refusal("class weights that leave only the background, with background excluded",
                    e -> e.forward(LossSpec.builder(Loss.DICE, Mode.MULTICLASS).classWeights(1, 0, 0)
                            .includeBackground(false).build(), P34, S34, new int[] {0, 2}), "class_weights"),
            new Refusal("bce in multiclass mode", e -> LossSpec.of(Loss.BCE, Mode.MULTICLASS), "bce", "multiclass"),
            new Refusal("bce_logdice in multiclass mode", e -> LossSpec.of(Loss.BCE_LOGDICE, Mode.MULTICLASS),
                    "bce_logdice", "multiclass"),
            new Refusal("ce in binary mode", e -> LossSpec.of(Loss.CE, Mode.BINARY), "ce", "binary"),
            new Refusal("ce_logdice in multilabel mode", e -> LossSpec.of(Loss.CE_LOGDICE, Mode.MULTILABEL),
                    "ce_logdice", "multilabel"),
            new Refusal("an unknown loss name", e -> Loss.parse("dise"), "loss", "dise"),
            new Refusal("a confusion threshold above 1", e -> e.confusion(Mode.BINARY, false, Layout.NCHW, null, 1.5,
                    P14, S14, T14), "threshold", "1.5"),
            new Refusal("NaN in pred when counting", e -> e.confusion(Mode.BINARY, false, Layout.NCHW, null, 0.5,
                    new float[] {0.1f, nan, 0.2f, 0.3f}, S14, T14), "pred"),
            new Refusal("NaN in a device pred buffer", e -> {
                try (DeviceBuffer p = e.upload(new float[] {0.1f, 0.2f, nan, 0.4f}); DeviceBuffer t = e.upload(T14)) {
                    e.forward(LossSpec.of(Loss.DICE, Mode.BINARY), p, S14, t);
                }
            }, "pred"));
    }

    /** Refused inputs of the catalogue (soft multiclass targets, binary ignore_index, pos_weight, its options). */
    static Stream<Refusal> catalogueRefusals() {
        long[] s32 = {1, 3, 2};
        float[] logits = {0.5f, -1, 2, 0, 1, -0.5f};
        return Stream.of(
            new Refusal("soft multiclass targets summing to 0.75",
                    e -> e.forward(LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true).build(), logits, s32,
                            new float[] {0.5f, 1, 0.25f, 0, 0, 0}), "target", "0.75"),
            new Refusal("a negative soft multiclass target",
                    e -> e.forward(LossSpec.builder(Loss.DICE_CE, Mode.MULTICLASS).fromLogits(true).build(), logits, s32,
                            new float[] {1.25f, 0, -0.25f, 1, 0, 0}), "target", "-0.25"),
            new Refusal("soft multiclass targets with ignore_index",
                    e -> e.forward(LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true).ignoreIndex(255).build(),
                            logits, s32, new float[] {0.5f, 1, 0.5f, 0, 0, 0}), "ignore_index", "255"),
            new Refusal("a binary float target 2 with ignore_index 255",
                    e -> e.forward(LossSpec.builder(Loss.BCE, Mode.BINARY).ignoreIndex(255).build(), P14, S14,
                            new float[] {1, 0, 2, 255}), "target", "2"),
            new Refusal("a binary uint8 target 7 with ignore_index 255",
                    e -> e.forward(LossSpec.builder(Loss.DICE, Mode.MULTILABEL).ignoreIndex(255).build(), P14, S14,
                            new byte[] {1, (byte) 255, 7, 0}), "target", "7"),
            new Refusal("a binary int32 target -1 with ignore_index 255",
                    e -> e.forward(LossSpec.builder(Loss.MCC, Mode.BINARY).ignoreIndex(255).build(), P14, S14,
                            new int[] {1, -1, 0, 0}), "target", "-1"),
            new Refusal("pos_weight of the wrong length",
                    e -> e.forward(LossSpec.builder(Loss.BCE, Mode.MULTILABEL).posWeight(1, 2).build(), P34, S34,
                            new float[] {1, 0, 0, 1, 1, 0}), "pos_weight", "2"),
            new Refusal("class_weights of the wrong length for focal",
                    e -> e.forward(LossSpec.builder(Loss.FOCAL, Mode.MULTILABEL).classWeights(1, 2).build(), P34, S34,
                            new float[] {1, 0, 0, 1, 1, 0}), "class_weights", "2"),
            option("label_smoothing for focal", b -> b.labelSmoothing(0.1), Loss.FOCAL, "label_smoothing", "focal"),
            option("smooth together with smooth_nr", b -> b.smooth(1).smoothNr(0), Loss.DICE, "smooth_nr"),
            option("class_weights for generalized_dice", b -> b.classWeights(1), Loss.GENERALIZED_DICE, "class_weights",
                    "generalized_dice"),
            option("tversky gamma 0", b -> b.gamma(0), Loss.TVERSKY, "gamma", "0.0"),
            option("label_smoothing 1", b -> b.labelSmoothing(1), Loss.BCE, "label_smoothing", "1.0"),
            option("both lambdas 0", b -> b.lambdaPixel(0).lambdaRegion(0), Loss.BCE_LOGDICE, "lambda_pixel", "0.0"));
    }

    @ParameterizedTest(name = "{0} is refused")
    @MethodSource({"refusals", "catalogueRefusals"})
    void refusedInputThrowsAMessageNamingTheArgumentAndTheValue(Refusal r) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> r.action.accept(engine), r.name);
        assertTrue(e instanceof IllegalArgumentException);
        String message = e.getMessage();
        for (String word : r.mustName) {
            assertTrue(message.contains(word), r.name + ": message should name '" + word + "': " + message);
        }
        // the engine stays usable after a refusal
        float[] grad = new float[4];
        LossResult ok = engine.forwardBackward(LossSpec.of(Loss.DICE, Mode.BINARY), P14, S14, T14, grad);
        assertValue(1.0 / 6.0, ok.value(), "dice after the refusal of " + r.name);
        assertGradient(new double[] {-5.6 / 23.04, 4 / 23.04, -5.6 / 23.04, 4 / 23.04}, grad,
                "dice after the refusal of " + r.name);
    }

    @Test
    void refusedInputsLeaveTheCallersArraysUntouched() {
        float[] pred = {0.5f, Float.NaN, 0.25f, 0.75f};
        float[] target = {1, 0, 1, 0};
        float[] grad = {7, 7, 7, 7};
        float[] predCopy = pred.clone();
        assertThrows(InvalidInputException.class,
                () -> engine.forwardBackward(LossSpec.of(Loss.BCE, Mode.BINARY), pred, S14, target, grad));
        assertArrayEquals(predCopy, pred);
        assertArrayEquals(new float[] {1, 0, 1, 0}, target);
        assertArrayEquals(new float[] {7, 7, 7, 7}, grad, "no gradient is written when the input is refused");
        assertEquals(Arrays.toString(predCopy), Arrays.toString(pred));
    }
}
