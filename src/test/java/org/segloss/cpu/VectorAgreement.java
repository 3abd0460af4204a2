package org.segloss.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The agreement the vector kernels owe the scalar reference (see {@code VectorKernels}): values within 1e-6
 * relative, gradients within 1e-5 of the largest gradient magnitude.
 */
public final class VectorAgreement {
    /** Relative tolerance of a value (float lanes against the double reference). */
    public static final double VALUE_RTOL = 1e-6;
    /** Tolerance of a gradient element, relative to the largest |gradient|. */
    public static final double GRAD_RTOL = 1e-5;

    private VectorAgreement() {
    }

    /** Asserts that a vector value agrees with the scalar one. */
    public static void assertClose(double expected, double actual, String what) {
        double tol = VALUE_RTOL * Math.abs(expected) + 1e-12;
        assertTrue(Math.abs(expected - actual) <= tol,
                what + ": vector " + actual + " vs scalar " + expected + " (diff " + Math.abs(expected - actual) + ")");
    }

    /** Asserts that a vector gradient agrees with the scalar one, naming the worst element. */
    public static void assertGradClose(float[] expected, float[] actual, String what) {
        double max = 0;
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs(expected[i]));
            double d = Math.abs(expected[i] - actual[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        assertTrue(worst <= GRAD_RTOL * max, what + ": gradient: max abs diff " + worst + " at " + at + " (scalar "
                + (at < 0 ? 0 : expected[at]) + ", vector " + (at < 0 ? 0 : actual[at]) + "), largest |grad| " + max);
    }
}
