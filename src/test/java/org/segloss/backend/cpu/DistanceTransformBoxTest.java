package org.segloss.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DistanceTransform#squared(float[], int[], double[], int[], int[])}: inside the wanted box,
 * bit for bit the values of the whole transform, which the device kernels reproduce (the box only
 * saves work, it must not change a value).
 */
class DistanceTransformBoxTest {
    static Stream<Arguments> cases() {
        List<Arguments> c = new ArrayList<>();
        c.add(Arguments.of("a line of 70, box 20..33", new int[] {70}, new double[] {0.8}, new int[] {20}, new int[] {33}));
        c.add(Arguments.of("a line of 70, box of one voxel at the end", new int[] {70}, new double[] {1}, new int[] {69},
                new int[] {69}));
        c.add(Arguments.of("2-D 41x57, box 3..30 x 10..12", new int[] {41, 57}, new double[] {1.2, 0.85}, new int[] {3, 10},
                new int[] {30, 12}));
        c.add(Arguments.of("2-D 41x57, the whole grid as box", new int[] {41, 57}, new double[] {1, 1}, new int[] {0, 0},
                new int[] {40, 56}));
        c.add(Arguments.of("3-D 19x37x45 spacing 2 x 0.8 x 0.8, box 4..9 x 0..20 x 17..44", new int[] {19, 37, 45},
                new double[] {2, 0.8, 0.8}, new int[] {4, 0, 17}, new int[] {9, 20, 44}));
        c.add(Arguments.of("3-D 12x40x50, box one voxel wide on x", new int[] {12, 40, 50}, new double[] {1, 1, 1},
                new int[] {0, 5, 31}, new int[] {11, 35, 31}));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void valuesInsideTheBoxAreTheWholeTransformsBits(String name, int[] dims, double[] spacing, int[] lo, int[] hi) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        for (double density : new double[] {0.002, 0.03, 0.3}) {
            Random rnd = new Random(n + (long) (density * 1000));
            float[] whole = new float[n];
            for (int i = 0; i < n; i++) {
                whole[i] = rnd.nextDouble() < density ? 0f : Float.POSITIVE_INFINITY;
            }
            float[] boxed = whole.clone();
            float[] lined = whole.clone();
            // Every third line of the last pass (by offset in the slowest slab), as the surface code marks those it reads.
            int lineCount = n / dims[0];
            boolean[] lastLines = new boolean[lineCount];
            for (int i = 0; i < lineCount; i++) {
                lastLines[i] = i % 3 == 0;
            }
            DistanceTransform.squared(whole, dims, spacing);
            DistanceTransform.squared(boxed, dims, spacing, lo, hi);
            DistanceTransform.squared(lined, dims, spacing, lo, hi, lastLines);
            int checkedLines = 0;
            int checked = 0;
            for (int i = 0; i < n; i++) {
                int rest = i;
                boolean inside = true;
                for (int a = dims.length - 1; a >= 0; a--) {
                    int x = rest % dims[a];
                    rest /= dims[a];
                    inside &= x >= lo[a] && x <= hi[a];
                }
                if (inside) {
                    assertEquals(Float.floatToRawIntBits(whole[i]), Float.floatToRawIntBits(boxed[i]),
                            name + ", density " + density + ", voxel " + i + ": " + whole[i] + " vs " + boxed[i]);
                    checked++;
                    if (lastLines[i % lineCount]) {
                        assertEquals(Float.floatToRawIntBits(whole[i]), Float.floatToRawIntBits(lined[i]),
                                name + ", density " + density + ", marked line, voxel " + i + ": " + whole[i] + " vs " + lined[i]);
                        checkedLines++;
                    }
                }
            }
            assertTrue(checkedLines > 0 || dims.length == 1, name + ": no marked line inside the box");
            int want = 1;
            for (int a = 0; a < dims.length; a++) {
                want *= hi[a] - lo[a] + 1;
            }
            assertEquals(want, checked, name + ": voxels checked");
        }
    }

    /**
     * {@link DistanceTransform#afterFirstPass} on a grid that keeps only the box's positions along the fastest
     * axis, each row written by {@link DistanceTransform#nearestFeature} from its features (as the surface
     * code builds it): inside the box, the whole transform's bits.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void aGridNarrowedToTheBoxWithItsFirstPassGivenHasTheWholeTransformsBits(String name, int[] dims, double[] spacing,
                                                                             int[] lo, int[] hi) {
        int rank = dims.length;
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        int len = dims[rank - 1];
        int rows = n / len;
        int width = hi[rank - 1] - lo[rank - 1] + 1;
        int[] narrowDims = dims.clone();
        narrowDims[rank - 1] = width;
        int[] narrowLo = lo.clone();
        int[] narrowHi = hi.clone();
        narrowLo[rank - 1] = 0;
        narrowHi[rank - 1] = width - 1;
        double w = spacing[rank - 1] * spacing[rank - 1];
        for (double density : new double[] {0.002, 0.03, 0.3}) {
            Random rnd = new Random(3 * n + (long) (density * 1000));
            float[] whole = new float[n];
            for (int i = 0; i < n; i++) {
                whole[i] = rnd.nextDouble() < density ? 0f : Float.POSITIVE_INFINITY;
            }
            // Left over from an earlier use: every value read must be written first.
            float[] narrow = new float[rows * width + 7];
            java.util.Arrays.fill(narrow, Float.NaN);
            int[] features = new int[len];
            for (int r = 0; r < rows; r++) {
                int count = 0;
                for (int x = 0; x < len; x++) {
                    if (whole[r * len + x] == 0f) {
                        features[count++] = x;
                    }
                }
                DistanceTransform.nearestFeature(narrow, r * width, features, count, w, lo[rank - 1], hi[rank - 1]);
            }
            int lineCount = rows * width / narrowDims[0];
            boolean[] lastLines = new boolean[lineCount];
            for (int i = 0; i < lineCount; i++) {
                lastLines[i] = i % 2 == 0;
            }
            // Every fifth voxel of the box (as grid indices, in no particular order), some twice.
            List<Integer> wantedList = new ArrayList<>();
            for (int j = narrow.length - 8; j >= 0; j--) {
                int rest = j;
                boolean inside = true;
                for (int a = rank - 1; a >= 0; a--) {
                    int x = rest % narrowDims[a];
                    rest /= narrowDims[a];
                    inside &= x >= narrowLo[a] && x <= narrowHi[a];
                }
                if (inside && (j % 5 == 0 || j % 17 == 0)) {
                    wantedList.add(j);
                    if (j % 3 == 0) {
                        wantedList.add(j);
                    }
                }
            }
            int[] wanted = wantedList.stream().mapToInt(Integer::intValue).toArray();
            float[] atWanted = narrow.clone();
            DistanceTransform.squared(whole, dims, spacing);
            DistanceTransform.afterFirstPass(narrow, narrowDims, spacing, narrowLo, narrowHi, lastLines);
            DistanceTransform.afterFirstPass(atWanted, narrowDims, spacing, narrowLo, narrowHi, wanted);
            int checkedWanted = 0;
            for (int j : wanted) {
                int i = (j / width) * len + j % width + lo[rank - 1];
                assertEquals(Float.floatToRawIntBits(whole[i]), Float.floatToRawIntBits(atWanted[j]),
                        name + ", density " + density + ", wanted voxel " + i + ": " + whole[i] + " vs " + atWanted[j]);
                checkedWanted++;
            }
            assertTrue(checkedWanted > 0, name + ": no wanted voxel checked");
            int checked = 0;
            for (int i = 0; i < n; i++) {
                int rest = i;
                boolean inside = true;
                for (int a = rank - 1; a >= 0; a--) {
                    int x = rest % dims[a];
                    rest /= dims[a];
                    inside &= x >= lo[a] && x <= hi[a];
                }
                int j = (i / len) * width + i % len - lo[rank - 1];
                if (inside && lastLines[j % lineCount]) {
                    assertEquals(Float.floatToRawIntBits(whole[i]), Float.floatToRawIntBits(narrow[j]),
                            name + ", density " + density + ", voxel " + i + ": " + whole[i] + " vs " + narrow[j]);
                    checked++;
                }
            }
            assertTrue(checked > 0, name + ": nothing checked");
        }
    }
}
