package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link DistanceTransform#line}: the lower envelope that pops parabolas without dividing where it can
 * gives the bits of the envelope that divides at every comparison (the arithmetic the OpenCL and CUDA
 * kernels do), on lines of the values the passes meet: squared distances of earlier passes (many exact
 * ties with integer spacing), random floats, sparse features.
 */
class DistanceTransformLineTest {
    /** The envelope with a division at every comparison, as the kernels compute it. */
    static void dividingLine(float[] g, int n, double w) {
        int[] v = new int[n];
        float[] fv = new float[n];
        double[] z = new double[n];
        int k = -1;
        for (int q = 0; q < n; q++) {
            float fq = g[q];
            if (fq == Float.POSITIVE_INFINITY) {
                continue;
            }
            double dq = q;
            double s = Double.NEGATIVE_INFINITY;
            while (k >= 0) {
                double dv = v[k];
                s = ((fq + w * dq * dq) - (fv[k] + w * dv * dv)) / (2.0 * w * (dq - dv));
                if (s > z[k]) {
                    break;
                }
                k--;
                s = Double.NEGATIVE_INFINITY;
            }
            k++;
            v[k] = q;
            fv[k] = fq;
            z[k] = s;
        }
        if (k < 0) {
            return;
        }
        int j = 0;
        for (int p = 0; p < n; p++) {
            while (j < k && z[j + 1] < p) {
                j++;
            }
            double d = p - v[j];
            g[p] = (float) (w * d * d + fv[j]);
        }
    }

    @ParameterizedTest(name = "spacing {0}, earlier-pass spacing {1}, lines of {2}")
    @CsvSource({
        "1, 1, 64", "0.8, 0.8, 256", "2, 0.8, 128", "0.3, 1.7, 97", "1e-3, 1, 50", "1e3, 1e-3, 50", "0.7, 3, 300",
        "1, 1, 5", "1.5, 1.5, 1000"
    })
    void poppingWithoutDivisionGivesTheDividingEnvelopesBits(double spacing, double earlier, int n) {
        double w = spacing * spacing;
        double we = earlier * earlier;
        Random rnd = new Random(Double.doubleToLongBits(spacing) ^ n);
        int[] v = new int[n];
        float[] fv = new float[n];
        double[] z = new double[n];
        int lines = 0;
        int finite = 0;
        for (int trial = 0; trial < 3000; trial++) {
            float[] g = new float[n];
            int kind = trial % 4;
            double infinite = rnd.nextDouble() * rnd.nextDouble();
            for (int i = 0; i < n; i++) {
                if (rnd.nextDouble() < infinite) {
                    g[i] = Float.POSITIVE_INFINITY;
                } else if (kind == 0) {
                    int d = rnd.nextInt(1 + n / 4);
                    g[i] = (float) (we * d * d);
                } else if (kind == 1) {
                    int a = rnd.nextInt(1 + n / 4);
                    int b = rnd.nextInt(8);
                    g[i] = (float) (we * a * a + w * b * b);
                } else if (kind == 2) {
                    g[i] = rnd.nextFloat() * (float) (we * n);
                } else {
                    g[i] = rnd.nextInt(3) == 0 ? 0f : (float) (we * (i % 7) * (i % 7));
                }
                finite += g[i] == Float.POSITIVE_INFINITY ? 0 : 1;
            }
            float[] expected = g.clone();
            dividingLine(expected, n, w);
            DistanceTransform.line(g, 0, 1, n, w, v, fv, z, 0, n - 1);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(g[i]),
                        "trial " + trial + ", position " + i + ": " + expected[i] + " vs " + g[i]);
            }
            lines++;
        }
        assertEquals(3000, lines);
        assertTrue(finite > 0, "no finite value drawn");
    }

    @ParameterizedTest(name = "quotients near z, magnitude 2^{0}")
    @CsvSource({"0", "-30", "30", "-1000", "-1060", "1000", "1023"})
    void aPopWithoutDivisionIsOnlyClaimedWhereTheQuotientRoundsToAtMostZ(int exponent) {
        Random rnd = new Random(exponent);
        int claimed = 0;
        for (int trial = 0; trial < 200_000; trial++) {
            double den = Math.scalb(0.5 + rnd.nextDouble(), rnd.nextInt(21) - 10);
            double num = Math.scalb(rnd.nextDouble() - 0.3, exponent) * den;
            double q = num / den;
            // z at, just below and just above the rounded quotient: the hardest cases for the margin
            double[] zs = {q, Math.nextDown(q), Math.nextUp(q), Math.nextUp(Math.nextUp(q)), q * (1 + 0x1p-49), q * (1 - 0x1p-49),
                Double.NEGATIVE_INFINITY, rnd.nextInt(3) == 0 ? -Double.MAX_VALUE : Math.scalb(rnd.nextDouble() - 0.5, exponent)};
            for (double z : zs) {
                if (DistanceTransform.surelyBelow(num, den, z)) {
                    claimed++;
                    assertTrue(num / den <= z, "num " + num + ", den " + den + ", z " + z + ": quotient " + (num / den) + " > z");
                }
            }
        }
        assertTrue(claimed > 100_000, "only " + claimed + " pops claimed: the shortcut would never help");
    }
}
