package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.ConfusionCounts;

/**
 * The host count of label maps, which counts a row holding one predicted and one target label at once: on maps
 * mixing such rows (some all ignored) with rows of many labels, against counts by the definition, voxel by voxel,
 * class by class; and an out-of-range label is reported at its own first voxel, in a uniform row or a mixed one.
 */
class CountingRowsTest {
    /** A case: dims, the class count given (null: inferred), the ignore index, the fraction of uniform rows. */
    static Stream<Arguments> maps() {
        List<Arguments> c = new ArrayList<>();
        long[][] dims = {{7, 9, 33}, {40, 17}, {1, 64}, {5, 1}, {3, 4, 1}};
        for (long[] d : dims) {
            for (Integer classes : new Integer[] {null, 6}) {
                for (Integer ignore : new Integer[] {null, 255, 2}) {
                    c.add(Arguments.of(d, classes, ignore, 0.7));
                    c.add(Arguments.of(d, classes, ignore, 0.0));
                }
            }
        }
        return c.stream();
    }

    /** A map of dims d whose rows are uniform with probability {@code uniform}, labels below 5 or {@code ignore}. */
    static int[] map(long[] d, double uniform, Integer ignore, Random rnd, boolean target) {
        int n = 1;
        for (long x : d) {
            n *= (int) x;
        }
        int row = (int) d[d.length - 1];
        int[] out = new int[n];
        for (int from = 0; from < n; from += row) {
            boolean one = rnd.nextDouble() < uniform;
            int v = rnd.nextInt(5);
            for (int i = from; i < from + row; i++) {
                out[i] = one ? v : rnd.nextInt(5);
                if (target && ignore != null && (one ? v == 4 : rnd.nextInt(6) == 0)) {
                    out[i] = ignore;
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "dims {0}, classes {1}, ignore {2}, uniform rows {3}")
    @MethodSource("maps")
    void uniformAndMixedRowsCountAsTheDefinitionSays(long[] d, Integer classes, Integer ignore, double uniform) throws Exception {
        Random rnd = new Random(d.length * 1000L + d[d.length - 1] + (classes == null ? 0 : 7) + (ignore == null ? 0 : ignore));
        for (int trial = 0; trial < 4; trial++) {
            int[] p = map(d, uniform, null, rnd, false);
            int[] t = map(d, uniform, ignore, rnd, true);
            ConfusionCounts got = Counting.countLabels(new Decoder.LabelMap(d, p), new Decoder.LabelMap(d, t), classes, ignore);
            int k = classes != null ? classes : inferred(p, t, ignore);
            long[][] want = Fixtures.expected(k, p, t, ignore);
            long valid = 0;
            for (int v : t) {
                valid += ignore != null && v == ignore ? 0 : 1;
            }
            assertEquals(k, got.classes());
            for (int c = 0; c < k; c++) {
                String at = "class " + c + ", trial " + trial;
                assertEquals(want[0][c], got.tp(c), at + " tp");
                assertEquals(want[1][c], got.fp(c), at + " fp");
                assertEquals(want[2][c], got.fn(c), at + " fn");
                assertEquals(valid - want[0][c] - want[1][c] - want[2][c], got.tn(c), at + " tn");
            }
        }
    }

    /** The class count a map implies: 1 + its largest label (ignored target voxels left out). */
    static int inferred(int[] p, int[] t, Integer ignore) {
        int max = 0;
        for (int i = 0; i < t.length; i++) {
            if (ignore != null && t[i] == ignore) {
                continue;
            }
            max = Math.max(max, Math.max(p[i], t[i]));
        }
        return max + 1;
    }

    static Stream<Arguments> badLabels() {
        // (prediction or target, voxel of the bad label, whether its row is otherwise uniform, classes given)
        List<Arguments> c = new ArrayList<>();
        for (boolean inTarget : new boolean[] {false, true}) {
            for (boolean uniformRow : new boolean[] {false, true}) {
                for (Integer classes : new Integer[] {null, 3}) {
                    c.add(Arguments.of(inTarget, uniformRow, classes));
                }
            }
        }
        return c.stream();
    }

    @ParameterizedTest(name = "in the target {0}, uniform row {1}, classes {2}")
    @MethodSource("badLabels")
    void anOutOfRangeLabelIsReportedAtItsFirstVoxel(boolean inTarget, boolean uniformRow, Integer classes) {
        long[] d = {4, 5, 6};
        int[] p = new int[120];
        int[] t = new int[120];
        for (int i = 0; i < 120; i++) {
            p[i] = (i / 6) % 3;
            t[i] = (i / 6 + 1) % 3;
        }
        // row (z=2, y=1): voxels 66..71; bad from x = 0 when the row is uniform, else at x = 3 only
        int bad = classes == null ? -4 : 7;
        int[] into = inTarget ? t : p;
        if (uniformRow) {
            Arrays.fill(into, 66, 72, bad);
        } else {
            into[69] = bad;
        }
        BadFileException e = assertThrows(BadFileException.class,
                () -> Counting.countLabels(new Decoder.LabelMap(d, p), new Decoder.LabelMap(d, t), classes, null));
        String where = uniformRow ? "(z=2, y=1, x=0)" : "(z=2, y=1, x=3)";
        String which = inTarget ? "target" : "prediction";
        assertTrue(e.getMessage().contains(which + " label " + bad + " at " + where), e.getMessage());
    }
}
