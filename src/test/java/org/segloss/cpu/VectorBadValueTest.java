package org.segloss.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.Layout;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;
import org.segloss.backend.cpu.CpuBackend;

/**
 * Refused values (NaN, +-inf, probabilities outside [0, 1], targets outside [0, 1], class indices out of
 * range) are counted per row exactly as the scalar reference counts them, with the vector kernels, in lane
 * bodies and in lane tails, in ignored pixels too.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VectorBadValueTest {
    private CpuBackend vector;
    private CpuBackend scalar;

    @BeforeAll
    void open() {
        vector = CpuBackend.vector();
        scalar = CpuBackend.scalar();
    }

    @AfterAll
    void close() {
        vector.close();
        scalar.close();
    }

    /** A problem with the positions and values of the refused entries it plants. */
    static final class Case {
        final Problem problem;
        final String label;
        final long seed;

        Case(Problem problem, String label, long seed) {
            this.problem = problem;
            this.label = label;
            this.seed = seed;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    static Stream<Case> cases() {
        List<Case> cases = new ArrayList<>();
        long seed = 1;
        for (boolean logits : new boolean[] {true, false}) {
            for (Layout layout : Layout.values()) {
                for (ElementType tt : new ElementType[] {ElementType.FLOAT32, ElementType.UINT8}) {
                    for (PixelTerm term : new PixelTerm[] {PixelTerm.BCE, PixelTerm.NONE, PixelTerm.FOCAL}) {
                        boolean region = term != PixelTerm.FOCAL;
                        Problem p = new Problem(false, logits, layout, 2, 3, 1037, tt, false, 0, term, region,
                                0.25, 0.75, 2.0);
                        cases.add(new Case(p, "binary " + layout + " logits=" + logits + " target=" + tt + " " + term,
                                seed++));
                    }
                }
            }
        }
        for (boolean logits : new boolean[] {true, false}) {
            for (Layout layout : Layout.values()) {
                for (ElementType tt : ElementType.values()) {
                    for (PixelTerm term : new PixelTerm[] {PixelTerm.CE, PixelTerm.NONE}) {
                        Problem p = new Problem(true, logits, layout, 2, 5, 1037, tt, true, 255, term,
                                term == PixelTerm.NONE, 1, 1, 2.0);
                        cases.add(new Case(p, "multiclass " + layout + " logits=" + logits + " target=" + tt + " "
                                + term, seed++));
                    }
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedValuesAreCountedAsTheScalarKernelsCountThem(Case k) {
        Problem p = k.problem;
        Random r = new Random(k.seed);
        int predLength = (int) p.predLength();
        int targetLength = (int) p.targetLength();
        float[] pred = new float[predLength];
        for (int i = 0; i < predLength; i++) {
            pred[i] = p.fromLogits ? (float) r.nextGaussian() : r.nextFloat();
        }
        float[] badPreds = p.fromLogits
                ? new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}
                : new float[] {Float.NaN, -0.25f, 1.5f, Float.POSITIVE_INFINITY};
        // One in a lane body, some in lane tails (last elements), some anywhere.
        int[] predAt = {3, predLength - 1, predLength - 2, r.nextInt(predLength), r.nextInt(predLength)};
        for (int j = 0; j < predAt.length; j++) {
            pred[predAt[j]] = badPreds[j % badPreds.length];
        }
        DeviceBuffer x = vector.upload(pred);
        DeviceBuffer xs = scalar.upload(pred);
        DeviceBuffer t;
        DeviceBuffer ts;
        int c = (int) p.c;
        switch (p.targetType) {
            case FLOAT32: {
                float[] target = new float[targetLength];
                for (int i = 0; i < targetLength; i++) {
                    target[i] = p.multiclass ? r.nextInt(c) : r.nextInt(2);
                }
                int[] at = {7, targetLength - 1, r.nextInt(targetLength)};
                float[] bad = p.multiclass ? new float[] {c, 2.5f, 255f} : new float[] {Float.NaN, 2f, -1f};
                for (int j = 0; j < at.length; j++) {
                    target[at[j]] = bad[j];
                }
                t = vector.upload(target);
                ts = scalar.upload(target);
                break;
            }
            case UINT8: {
                byte[] target = new byte[targetLength];
                for (int i = 0; i < targetLength; i++) {
                    target[i] = (byte) (p.multiclass ? r.nextInt(c) : r.nextInt(2));
                }
                int[] at = {7, targetLength - 1, r.nextInt(targetLength)};
                int[] bad = p.multiclass ? new int[] {c, 200, 255} : new int[] {2, 255, 7};
                for (int j = 0; j < at.length; j++) {
                    target[at[j]] = (byte) bad[j];
                }
                t = vector.upload(target);
                ts = scalar.upload(target);
                break;
            }
            default: {
                int[] target = new int[targetLength];
                for (int i = 0; i < targetLength; i++) {
                    target[i] = r.nextInt(c);
                }
                int[] at = {7, targetLength - 1, r.nextInt(targetLength)};
                int[] bad = {c, -1, 255};
                for (int j = 0; j < at.length; j++) {
                    target[at[j]] = bad[j];
                }
                t = vector.upload(target);
                ts = scalar.upload(target);
            }
        }
        double[] sv = vector.stats(p, x, t);
        double[] ss = scalar.stats(p, xs, ts);
        long totalPred = 0;
        long totalTarget = 0;
        for (int row = 0; row < p.rows(); row++) {
            int base = row * Problem.STATS;
            assertEquals(ss[base + Problem.STAT_BAD_PRED], sv[base + Problem.STAT_BAD_PRED], 0.0,
                    k + ": bad pred count of row " + row);
            assertEquals(ss[base + Problem.STAT_BAD_TARGET], sv[base + Problem.STAT_BAD_TARGET], 0.0,
                    k + ": bad target count of row " + row);
            totalPred += (long) sv[base + Problem.STAT_BAD_PRED];
            totalTarget += (long) sv[base + Problem.STAT_BAD_TARGET];
        }
        assertTrue(totalPred > 0, k + ": planted bad preds must be counted");
        assertTrue(totalTarget > 0, k + ": planted bad targets must be counted");
    }
}
