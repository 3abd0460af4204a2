package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.CommandRun;

/**
 * Every input format, scored through the command, against counts computed here by the definition
 * (one class at a time over every non-ignored pixel). Metrics are checked from those counts.
 */
class ScoreCountsTest {
    static final int IMAGES = 3;
    static final int H = 13;
    static final int W = 17;

    /** Writes one pair; returns {the hard prediction (class per pixel) the contract implies, the target as written}. */
    interface PairWriter {
        int[][] write(Path pred, Path target, int index, Random rnd) throws Exception;
    }

    /** A case: the files, the class count the report must show, the ignore index, the extra arguments. */
    static final class Case {
        final String name;
        final int classes;
        final Integer ignore;
        final PairWriter writer;
        final String[] args;
        final int[][] targets = new int[IMAGES][];

        Case(String name, int classes, Integer ignore, PairWriter writer, String... args) {
            this.name = name;
            this.classes = classes;
            this.ignore = ignore;
            this.writer = writer;
            this.args = args;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    static int[] withIgnore(Random rnd, int[] labels, int ignore, double fraction) {
        int[] out = labels.clone();
        for (int i = 0; i < out.length; i++) {
            if (rnd.nextDouble() < fraction) {
                out[i] = ignore;
            }
        }
        return out;
    }

    /** Argmax over the class axis, ties to the lowest index. */
    static int[] argmax(float[] v, int classes, int pixels, boolean channelsFirst) {
        int[] out = new int[pixels];
        for (int i = 0; i < pixels; i++) {
            int best = 0;
            for (int c = 1; c < classes; c++) {
                float x = channelsFirst ? v[c * pixels + i] : v[i * classes + c];
                float b = channelsFirst ? v[best * pixels + i] : v[i * classes + best];
                if (x > b) {
                    best = c;
                }
            }
            out[i] = best;
        }
        return out;
    }

    static float[] uniform(Random rnd, int n, float lo, float hi) {
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = lo + (hi - lo) * rnd.nextFloat();
        }
        return out;
    }

    static Stream<Arguments> cases() {
        List<Case> c = new ArrayList<>();
        // --classes 6 with labels in [0, 5): class 5 is undefined (null, left out of the means).
        c.add(new Case("8-bit gray PNG label maps, one class never present", 6, null, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 5);
            int[] pr = Fixtures.noisy(rnd, tg, 5, 0.7);
            Fixtures.gray8(t.resolve("img" + i + ".png"), tg, H, W);
            Fixtures.gray8(p.resolve("img" + i + ".png"), pr, H, W);
            return new int[][] {pr, tg};
        }, "--classes", "6"));
        c.add(new Case("16-bit gray PNG with ignore index 1000", 7, 1000, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 7);
            int[] pr = Fixtures.noisy(rnd, tg, 7, 0.6);
            Fixtures.gray16(t.resolve("img" + i + ".png"), (tg = withIgnore(rnd, tg, 1000, 0.1)), H, W);
            Fixtures.gray16(p.resolve("img" + i + ".png"), pr, H, W);
            return new int[][] {pr, tg};
        }, "--ignore-index", "1000", "--classes", "7"));
        c.add(new Case("8-bit palette PNG, classes inferred", 6, null, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 6);
            int[] pr = Fixtures.noisy(rnd, tg, 6, 0.5);
            Fixtures.palette(t.resolve("img" + i + ".png"), tg, H, W, 8);
            Fixtures.palette(p.resolve("img" + i + ".png"), pr, H, W, 8);
            return new int[][] {pr, tg};
        }));
        c.add(new Case("4-bit palette PNG with ignore index 15", 9, 15, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 9);
            int[] pr = Fixtures.noisy(rnd, tg, 9, 0.5);
            Fixtures.palette(t.resolve("img" + i + ".png"), (tg = withIgnore(rnd, tg, 15, 0.2)), H, W, 4);
            Fixtures.palette(p.resolve("img" + i + ".png"), pr, H, W, 4);
            return new int[][] {pr, tg};
        }, "--ignore-index", "15", "--classes", "9"));
        c.add(new Case("uint8 .npy class maps (H, W)", 4, null, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 4);
            int[] pr = Fixtures.noisy(rnd, tg, 4, 0.8);
            Fixtures.npy(t.resolve("img" + i + ".npy"), "|u1", new long[] {H, W}, Fixtures.boxed(tg));
            Fixtures.npy(p.resolve("img" + i + ".npy"), "|u1", new long[] {H, W}, Fixtures.boxed(pr));
            return new int[][] {pr, tg};
        }, "--classes", "4"));
        c.add(new Case("int32 .npy volumes (D, H, W) and a big-endian int16 prediction", 3, null, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, 3 * 5 * 6, 3);
            int[] pr = Fixtures.noisy(rnd, tg, 3, 0.6);
            Fixtures.npy(t.resolve("vol" + i + ".npy"), "<i4", new long[] {3, 5, 6}, Fixtures.boxed(tg));
            Fixtures.npy(p.resolve("vol" + i + ".npy"), ">i2", new long[] {3, 5, 6}, Fixtures.boxed(pr));
            return new int[][] {pr, tg};
        }));
        c.add(new Case("PNG prediction against int64 .npy target, paired by stem", 5, null, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 5);
            int[] pr = Fixtures.noisy(rnd, tg, 5, 0.6);
            Fixtures.npy(t.resolve("img" + i + ".npy"), "<i8", new long[] {H, W}, Fixtures.boxed(tg));
            Fixtures.gray8(p.resolve("img" + i + ".png"), pr, H, W);
            return new int[][] {pr, tg};
        }, "--classes", "5"));
        c.add(new Case("float32 probabilities (C, H, W), ignore 255", 4, 255, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 4);
            float[] v = uniform(rnd, 4 * H * W, 0f, 1f);
            Fixtures.gray8(t.resolve("img" + i + ".png"), (tg = withIgnore(rnd, tg, 255, 0.15)), H, W);
            Fixtures.npy(p.resolve("img" + i + ".npy"), "<f4", new long[] {4, H, W}, Fixtures.boxed(v));
            return new int[][] {argmax(v, 4, H * W, true), tg};
        }, "--ignore-index", "255"));
        c.add(new Case("float32 scores with 300 classes against a 16-bit target, ignore 65535", 300, 65535, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 300);
            float[] v = uniform(rnd, 300 * H * W, 0f, 1f);
            Fixtures.gray16(t.resolve("img" + i + ".png"), (tg = withIgnore(rnd, tg, 65535, 0.1)), H, W);
            Fixtures.npy(p.resolve("img" + i + ".npy"), "<f4", new long[] {300, H, W}, Fixtures.boxed(v));
            return new int[][] {argmax(v, 300, H * W, true), tg};
        }, "--ignore-index", "65535"));
        c.add(new Case("float64 logits (H, W, C) from logits", 5, null, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 5);
            float[] v = uniform(rnd, 5 * H * W, -5f, 5f);
            Fixtures.gray8(t.resolve("img" + i + ".png"), tg, H, W);
            Fixtures.npy(p.resolve("img" + i + ".npy"), "<f8", new long[] {H, W, 5}, Fixtures.boxed(v));
            return new int[][] {argmax(v, 5, H * W, false), tg};
        }, "--from-logits", "--classes", "5"));
        c.add(new Case("binary probabilities (H, W), threshold 0.3, ignore 255", 2, 255, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 2);
            float[] v = uniform(rnd, H * W, 0f, 1f);
            Fixtures.gray8(t.resolve("img" + i + ".png"), (tg = withIgnore(rnd, tg, 255, 0.2)), H, W);
            Fixtures.npy(p.resolve("img" + i + ".npy"), "<f4", new long[] {H, W}, Fixtures.boxed(v));
            int[] hard = new int[v.length];
            for (int k = 0; k < v.length; k++) {
                hard[k] = v[k] >= 0.3f ? 1 : 0;
            }
            return new int[][] {hard, tg};
        }, "--threshold", "0.3", "--ignore-index", "255"));
        c.add(new Case("binary logits (1, H, W), threshold 0.7", 2, null, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 2);
            float[] v = uniform(rnd, H * W, -4f, 4f);
            Fixtures.gray8(t.resolve("img" + i + ".png"), tg, H, W);
            Fixtures.npy(p.resolve("img" + i + ".npy"), "<f4", new long[] {1, H, W}, Fixtures.boxed(v));
            int[] hard = new int[v.length];
            for (int k = 0; k < v.length; k++) {
                hard[k] = 1 / (1 + Math.exp(-v[k])) >= 0.7 ? 1 : 0;
            }
            return new int[][] {hard, tg};
        }, "--from-logits", "--threshold", "0.7"));
        c.add(new Case("binary probabilities at threshold 0 (everything positive) with ignored pixels", 2, 9, (p, t, i, rnd) -> {
            int[] tg = Fixtures.randomLabels(rnd, H * W, 2);
            float[] v = uniform(rnd, H * W, 0f, 1f);
            Fixtures.gray8(t.resolve("img" + i + ".png"), (tg = withIgnore(rnd, tg, 9, 0.3)), H, W);
            Fixtures.npy(p.resolve("img" + i + ".npy"), "<f4", new long[] {H, W}, Fixtures.boxed(v));
            int[] hard = new int[v.length];
            Arrays.fill(hard, 1);
            return new int[][] {hard, tg};
        }, "--threshold", "0", "--ignore-index", "9", "--classes", "2"));
        return c.stream().map(Arguments::of);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void countsAndMetricsMatchTheDefinition(Case k, @TempDir Path dir) throws Exception {
        Path pred = dir.resolve("pred");
        Path target = dir.resolve("target");
        long[][] expected = new long[3][k.classes];
        Random rnd = new Random(k.name.hashCode());
        for (int i = 0; i < IMAGES; i++) {
            int[][] written = k.writer.write(pred, target, i, rnd);
            Fixtures.add(expected, Fixtures.expected(k.classes, written[0], written[1], k.ignore));
        }
        List<String> args = new ArrayList<>(List.of("--pred", pred.toString(), "--target", target.toString(),
                "--format", "json", "--quiet", "--backend", "cpu"));
        args.addAll(Arrays.asList(k.args));
        CommandRun r = CommandRunner.score(args.toArray(new String[0]));
        assertEquals(0, r.code, r::toString);
        assertEquals("", r.err, "--quiet leaves standard error empty");
        JsonNode j = r.json();
        assertEquals(IMAGES, j.get("images").asLong());
        assertEquals(k.classes, j.get("classes").asInt());
        assertEquals(0, j.get("skipped").size());
        double sumDice = 0;
        double sumIou = 0;
        int defined = 0;
        for (int c = 0; c < k.classes; c++) {
            JsonNode o = j.get("per_class").get(c);
            long tp = expected[0][c];
            long fp = expected[1][c];
            long fn = expected[2][c];
            String at = k.name + " class " + c;
            assertEquals(c, o.get("class").asInt(), at);
            assertEquals(tp, o.get("tp").asLong(), at + " tp");
            assertEquals(fp, o.get("fp").asLong(), at + " fp");
            assertEquals(fn, o.get("fn").asLong(), at + " fn");
            if (tp + fp + fn == 0) {
                assertTrue(o.get("dice").isNull() && o.get("iou").isNull(), at + " undefined: " + o);
            } else {
                double dice = 2.0 * tp / (2 * tp + fp + fn);
                double iou = (double) tp / (tp + fp + fn);
                assertEquals(dice, o.get("dice").asDouble(), 1e-12, at);
                assertEquals(iou, o.get("iou").asDouble(), 1e-12, at);
                sumDice += dice;
                sumIou += iou;
                defined++;
            }
            if (tp + fp == 0) {
                assertTrue(o.get("precision").isNull(), at);
            } else {
                assertEquals((double) tp / (tp + fp), o.get("precision").asDouble(), 1e-12, at);
            }
            if (tp + fn == 0) {
                assertTrue(o.get("recall").isNull(), at);
            } else {
                assertEquals((double) tp / (tp + fn), o.get("recall").asDouble(), 1e-12, at);
            }
        }
        assertEquals(sumDice / defined, j.get("mean_dice").asDouble(), 1e-12);
        assertEquals(sumIou / defined, j.get("mean_iou").asDouble(), 1e-12);
    }
}
