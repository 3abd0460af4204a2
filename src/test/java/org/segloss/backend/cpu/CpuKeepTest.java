package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
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
import org.segloss.backend.Backend;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The activations that a forward+backward keeps in its gradient buffer between the stats pass and the grad pass
 * ({@link CpuKernels#keeps}): the loss and the gradient are bit for bit those of the passes without keeping, with
 * every option the kept lanes carry, on arrays and direct buffers, in both layouts; a grad pass never reads values
 * kept by another problem's pass or left stale by a pass that found refused values.
 */
class CpuKeepTest {
    /** 2 samples of 130 x 131 pixels: two units per sample, rows whose length is no multiple of the lane count. */
    private static final long N = 2;
    private static final long H = 130;
    private static final long W = 131;

    /** A case: the spec (with its options), the buffers' kind and the target's element type. */
    static final class Case {
        final LossSpec spec;
        final long c;
        final boolean direct;
        final boolean byteTarget;

        Case(LossSpec spec, long c, boolean direct, boolean byteTarget) {
            this.spec = spec;
            this.c = c;
            this.direct = direct;
            this.byteTarget = byteTarget;
        }

        @Override
        public String toString() {
            return spec + " C=" + c + (direct ? " direct" : " arrays") + (byteTarget ? " uint8" : " float");
        }
    }

    static Stream<Case> cases() {
        List<Case> out = new ArrayList<>();
        for (Layout layout : Layout.values()) {
            for (boolean direct : new boolean[] {false, true}) {
                // C = 4 divides the lane count (NHWC read flat), C = 3 does not (NHWC transposed)
                for (long c : new long[] {4, 3}) {
                    Mode mode = c == 4 ? Mode.BINARY : Mode.MULTILABEL;
                    double[] pw = new double[(int) c];
                    for (int i = 0; i < c; i++) {
                        pw[i] = 0.5 + i;
                    }
                    List<LossSpec.Builder> specs = List.of(
                            LossSpec.builder(Loss.BCE, mode),
                            LossSpec.builder(Loss.DICE, mode),
                            LossSpec.builder(Loss.BCE_LOGDICE, mode),
                            LossSpec.builder(Loss.FOCAL, mode).gamma(2),
                            LossSpec.builder(Loss.DICE_FOCAL, mode).gamma(3).alpha(0.3),
                            LossSpec.builder(Loss.BCE, mode).ignoreIndex(2).posWeight(pw).labelSmoothing(0.1),
                            LossSpec.builder(Loss.DICE, mode).ignoreIndex(2).squaredPred(true),
                            LossSpec.builder(Loss.BCE_LOGDICE, mode).posWeight(pw).labelSmoothing(0.2),
                            LossSpec.builder(Loss.DICE_FOCAL, mode).gamma(2).ignoreIndex(2));
                    for (LossSpec.Builder s : specs) {
                        LossSpec spec = s.fromLogits(true).layout(layout).build();
                        out.add(new Case(spec, c, direct, spec.ignoreIndex() != null && !direct));
                    }
                }
            }
        }
        return out.stream();
    }

    private static FloatBuffer floats(int n, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer()
                : FloatBuffer.allocate(n);
    }

    /** A backend that passes every call to {@code inner} but drops the gradient buffer of the stats pass: no keeping. */
    private static Backend withoutKeeping(CpuBackend inner) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    try {
                        if (method.getName().equals("stats") && args.length == 4) {
                            return inner.stats((Problem) args[0], (DeviceBuffer) args[1], (DeviceBuffer) args[2]);
                        }
                        return method.invoke(inner, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aForwardBackwardThatKeepsGivesTheBitsOfOneThatDoesNot(Case k) {
        long c = k.c;
        long[] shape = k.spec.layout() == Layout.NHWC ? new long[] {N, H, W, c} : new long[] {N, c, H, W};
        int total = (int) (N * c * H * W);
        Random r = new Random(total + k.toString().hashCode());
        FloatBuffer pred = floats(total, k.direct);
        for (int i = 0; i < total; i++) {
            pred.put(i, (float) (r.nextGaussian() * 3));
        }
        Buffer target;
        if (k.byteTarget) {
            ByteBuffer t = ByteBuffer.allocate(total);
            for (int i = 0; i < total; i++) {
                t.put(i, (byte) r.nextInt(3)); // 2 = the ignore index
            }
            target = t;
        } else {
            FloatBuffer t = floats(total, k.direct);
            Integer ignore = k.spec.ignoreIndex();
            for (int i = 0; i < total; i++) {
                t.put(i, ignore != null && r.nextInt(5) == 0 ? ignore : r.nextInt(2));
            }
            target = t;
        }
        FloatBuffer kept = floats(total, k.direct);
        FloatBuffer plain = floats(total, k.direct);
        LossResult a;
        LossResult b;
        try (LossEngine keeping = LossEngine.of(CpuBackend.vector());
             LossEngine notKeeping = LossEngine.of(withoutKeeping(CpuBackend.vector()))) {
            a = keeping.forwardBackward(k.spec, pred, shape, target, kept);
            b = notKeeping.forwardBackward(k.spec, pred, shape, target, plain);
        }
        assertEquals(Double.doubleToRawLongBits(b.value()), Double.doubleToRawLongBits(a.value()),
                k + ": loss " + a.value() + " against " + b.value());
        int differ = 0;
        int first = -1;
        for (int i = 0; i < total; i++) {
            if (Float.floatToRawIntBits(kept.get(i)) != Float.floatToRawIntBits(plain.get(i))) {
                differ++;
                first = first < 0 ? i : first;
            }
        }
        assertEquals(0, differ, k + ": gradient elements that differ, first at " + first
                + (first < 0 ? "" : ": " + kept.get(first) + " against " + plain.get(first)));
    }

    /** A binary problem from logits of N x C x 130 x 131 with pos_weight and label smoothing (kept lanes' options). */
    private static Problem problem(Layout layout, long c, PixelTerm term, boolean region) {
        float[] pw = new float[(int) c];
        for (int i = 0; i < c; i++) {
            pw[i] = 1.5f + i;
        }
        return new Problem(false, true, layout, N, c, H * W, ElementType.FLOAT32, false, 0, term, region, 0.25, 0.75,
                2.0, false, term == PixelTerm.BCE ? pw : null, term == PixelTerm.BCE ? 0.1 : 0.0, false);
    }

    private static GradCoefficients coefficients(Problem p, Random r) {
        float[] ps = new float[(int) p.c];
        float[] a = new float[p.rows()];
        float[] b = new float[p.rows()];
        for (int i = 0; i < ps.length; i++) {
            ps[i] = 1e-3f * (1 + r.nextFloat());
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() - 0.5f;
            b[i] = r.nextFloat() - 0.5f;
        }
        return new GradCoefficients(ps, a, b);
    }

    private static float[] gaussians(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * 3);
        }
        return x;
    }

    private static float[] mask(Random r, int n) {
        float[] t = new float[n];
        for (int i = 0; i < n; i++) {
            t[i] = r.nextInt(2);
        }
        return t;
    }

    private static void assertSameBits(float[] expected, float[] actual, String what) {
        for (int i = 0; i < expected.length; i++) {
            assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(actual[i]),
                    what + " at " + i + ": " + actual[i] + " against " + expected[i]);
        }
    }

    /**
     * Backend calls: the grad pass after a stats pass that kept equals the grad pass after a stats pass of another
     * problem (which ends the keeping), and the stats of the keeping pass are those of the plain one.
     */
    @Test
    void aGradPassReadsKeptValuesOnlyAfterTheStatsPassOfItsOwnProblem() {
        Random r = new Random(17);
        for (Layout layout : Layout.values()) {
            for (PixelTerm term : new PixelTerm[] {PixelTerm.BCE, PixelTerm.FOCAL, PixelTerm.NONE}) {
                Problem p = problem(layout, 3, term, term != PixelTerm.BCE);
                Problem other = problem(layout, 3, PixelTerm.BCE, true);
                int total = (int) p.predLength();
                GradCoefficients k = coefficients(p, r);
                try (CpuBackend b = CpuBackend.vector()) {
                    DeviceBuffer x = b.upload(gaussians(r, total));
                    DeviceBuffer t = b.upload(mask(r, total));
                    DeviceBuffer g = b.allocateFloats(total);
                    float[] keptGrad = new float[total];
                    float[] plainGrad = new float[total];
                    float[] afterStats = new float[total];
                    double[] plainStats = b.stats(p, x, t);
                    double[] keptStats = b.stats(p, x, t, g);
                    b.download(g, afterStats);
                    b.grad(p, x, t, k, g);
                    b.download(g, keptGrad);
                    assertEquals(java.util.Arrays.toString(plainStats), java.util.Arrays.toString(keptStats),
                            p + ": stats of the pass that keeps");
                    b.stats(p, x, t, g);
                    b.stats(other, x, t); // ends the keeping: the grad pass computes everything itself
                    b.grad(p, x, t, k, g);
                    b.download(g, plainGrad);
                    assertSameBits(plainGrad, keptGrad, p + ": gradient");
                    // not vacuous: the stats pass did keep values in the (zeroed) gradient buffer
                    double written = 0;
                    for (float v : afterStats) {
                        written += Math.abs(v);
                    }
                    assertNotEquals(0.0, written, p + ": the stats pass keeps values in the gradient buffer");
                }
            }
        }
    }

    /**
     * A stats pass that finds a refused value stops its lanes early in that unit; the grad pass that follows must
     * still not read values another pass left in the gradient buffer (here a keeping pass over other logits).
     */
    @Test
    void aStatsPassThatFindsARefusedValueLeavesNoStaleKeptValues() {
        Random r = new Random(23);
        for (Layout layout : Layout.values()) {
            for (boolean direct : new boolean[] {false, true}) {
                Problem p = problem(layout, 3, PixelTerm.BCE, true);
                int total = (int) p.predLength();
                GradCoefficients k = coefficients(p, r);
                float[] other = gaussians(r, total);
                float[] logits = gaussians(r, total);
                logits[5] = Float.NaN; // early in the first unit: the lanes stop there
                logits[total - 3] = Float.POSITIVE_INFINITY;
                try (CpuBackend b = CpuBackend.vector()) {
                    DeviceBuffer x = upload(b, logits, direct);
                    DeviceBuffer stale = upload(b, other, direct);
                    DeviceBuffer t = upload(b, mask(r, total), direct);
                    DeviceBuffer g = upload(b, new float[total], direct);
                    b.stats(p, stale, t, g); // the gradient buffer now holds what this pass kept
                    double[] stats = b.stats(p, x, t, g);
                    double bad = 0;
                    for (int row = 0; row < p.rows(); row++) {
                        bad += stats[row * Problem.STATS + Problem.STAT_BAD_PRED];
                    }
                    assertEquals(2, bad, 0, "the refused logits are counted");
                    b.grad(p, x, t, k, g);
                    float[] kept = new float[total];
                    b.download(g, kept);
                    b.stats(p, x, t);
                    b.grad(p, x, t, k, g);
                    float[] plain = new float[total];
                    b.download(g, plain);
                    assertSameBits(plain, kept, p + (direct ? " direct" : " arrays") + ": gradient");
                }
            }
        }
    }

    private static DeviceBuffer upload(CpuBackend b, float[] v, boolean direct) {
        if (!direct) {
            return b.upload(v.clone());
        }
        FloatBuffer f = floats(v.length, true);
        f.put(v).flip();
        return b.upload(f);
    }
}
