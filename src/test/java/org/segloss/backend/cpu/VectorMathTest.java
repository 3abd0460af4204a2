package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.UnaryOperator;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/**
 * The cheaper exps of {@link VectorMath} give {@link VectorMath#exp}'s bits on their domain, and exp is within a few
 * ulp of {@code Math.exp} (the independent reference) where its result is a normal float.
 */
class VectorMathTest {
    private static final int L = VectorKernels.FS.length();

    /** Values to try: a sweep, random values, and the edges (clamps, zeros, infinities, NaN). */
    private static float[] values(float from, float to) {
        Random r = new Random(14);
        float[] edges = {0f, -0f, -87.33f, -87.329994f, -87.33001f, 88.37f, 88.37001f, 88.36999f, -1e-30f, 1e-30f,
            -100f, 100f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, -Float.MIN_VALUE,
            Float.MIN_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE, -0.5f, 0.5f, -1f, 1f};
        int sweep = 20000;
        float[] v = new float[edges.length + 2 * sweep];
        System.arraycopy(edges, 0, v, 0, edges.length);
        for (int i = 0; i < sweep; i++) {
            v[edges.length + i] = from + (to - from) * i / (sweep - 1);
            v[edges.length + sweep + i] = from + (to - from) * r.nextFloat();
        }
        return v;
    }

    private static float[] apply(UnaryOperator<FloatVector> f, float[] x) {
        int n = (x.length + L - 1) / L * L;
        float[] in = new float[n];
        System.arraycopy(x, 0, in, 0, x.length);
        float[] out = new float[n];
        for (int i = 0; i < n; i += L) {
            f.apply(FloatVector.fromArray(VectorKernels.FS, in, i)).intoArray(out, i);
        }
        return out;
    }

    @Test
    void expNonPositiveGivesExpsBitsForEveryValueAtMostZero() {
        float[] x = values(-120f, 0f);
        float[] want = apply(VectorMath::exp, x);
        float[] got = apply(VectorMath::expNonPositive, x);
        for (int i = 0; i < x.length; i++) {
            if (x[i] <= 0 || Float.isNaN(x[i])) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "x = " + x[i]);
            }
        }
    }

    @Test
    void expBlendClampedGivesExpsBitsForEveryValue() {
        float[] x = values(-120f, 120f);
        float[] want = apply(VectorMath::exp, x);
        float[] got = apply(VectorMath::expBlendClamped, x);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "x = " + x[i]);
        }
    }

    @Test
    void expIsWithinFourUlpOfMathExpWhereTheResultIsNormal() {
        float[] x = values(-87f, 88f);
        float[] got = apply(VectorMath::exp, x);
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i]) || x[i] < -87f || x[i] > 88f) {
                continue;
            }
            double want = Math.exp(x[i]);
            double ulp = Math.ulp((float) want);
            assertTrue(Math.abs(got[i] - want) <= 4 * ulp, "exp(" + x[i] + ") = " + got[i] + ", Math.exp " + want);
        }
    }
}
