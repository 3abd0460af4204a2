package org.segloss.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.CommandRun;
import org.segloss.ConfusionCounts;
import org.segloss.Loss;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.cli.Main;
import org.segloss.io.NpyFixtures;

/**
 * The evaluators count what {@code segloss score} counts on the same predictions, accumulate batches by
 * addition, and report per class and mean.
 */
class EvaluatorTest {
    static final int C = 3;
    static final int H = 11;
    static final int W = 13;

    /** {@code segloss score} of the per-image files, as JSON. */
    static JsonNode score(Path dir, String... extra) throws Exception {
        String[] args = {"score", "--pred", dir.resolve("pred").toString(), "--target", dir.resolve("target").toString(),
            "--format", "json", "--backend", "cpu", "--quiet", "--threads", "1"};
        String[] all = Arrays.copyOf(args, args.length + extra.length);
        System.arraycopy(extra, 0, all, args.length, extra.length);
        PrintWriter none = new PrintWriter(Writer.nullWriter());
        CommandRun r = CommandRun.run(Main.commandLine(none, none), all);
        assertEquals(0, r.code, "segloss score: " + r.err);
        return r.json();
    }

    @Test
    void multiclassCountsAccumulatedOverTwoBatchesEqualSeglossScoreOfTheSameImages(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("pred"));
        Files.createDirectories(dir.resolve("target"));
        LossSpec spec = LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true).ignoreIndex(255).build();
        Random rnd = new Random(5);
        try (NDManager m = Djl.manager(); DiceEvaluator dice = new DiceEvaluator(spec); IouEvaluator iou = new IouEvaluator(spec)) {
            dice.addAccumulator("validate");
            iou.addAccumulator("validate");
            int image = 0;
            for (int batch = 0; batch < 2; batch++) {
                int n = 2 + batch;
                float[] x = new float[n * C * H * W];
                long[] y = new long[n * H * W];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) rnd.nextGaussian();
                }
                for (int i = 0; i < y.length; i++) {
                    y[i] = rnd.nextInt(12) == 0 ? 255 : rnd.nextInt(C);
                }
                for (int k = 0; k < n; k++, image++) {
                    NpyFixtures.write(dir.resolve("pred").resolve("img" + image + ".npy"), "<f4", new long[] {C, H, W},
                            NpyFixtures.f4(Arrays.copyOfRange(x, k * C * H * W, (k + 1) * C * H * W)));
                    NpyFixtures.write(dir.resolve("target").resolve("img" + image + ".npy"), "<i8", new long[] {H, W},
                            NpyFixtures.i8(Arrays.copyOfRange(y, k * H * W, (k + 1) * H * W)));
                }
                NDList labels = new NDList(m.create(y, new Shape(n, H, W)));
                NDList preds = new NDList(m.create(x, new Shape(n, C, H, W)));
                dice.updateAccumulator("validate", labels, preds);
                iou.updateAccumulator("validate", labels, preds);
            }
            JsonNode report = score(dir, "--classes", "3", "--ignore-index", "255", "--from-logits");
            ConfusionCounts k = dice.accumulated("validate");
            assertEquals(C, k.classes());
            for (int c = 0; c < C; c++) {
                JsonNode row = report.get("per_class").get(c);
                assertEquals(row.get("tp").asLong(), k.tp(c), "TP of class " + c);
                assertEquals(row.get("fp").asLong(), k.fp(c), "FP of class " + c);
                assertEquals(row.get("fn").asLong(), k.fn(c), "FN of class " + c);
                assertEquals(row.get("dice").asDouble(), dice.perClass("validate")[c], 1e-12, "Dice of class " + c);
                assertEquals(row.get("iou").asDouble(), iou.perClass("validate")[c], 1e-12, "IoU of class " + c);
            }
            assertEquals((float) report.get("mean_dice").asDouble(), dice.getAccumulator("validate"), 0f);
            assertEquals((float) report.get("mean_iou").asDouble(), iou.getAccumulator("validate"), 0f);
            assertEquals(k, iou.accumulated("validate"), "both evaluators count the same");
        }
    }

    @Test
    void binaryCountsAtTheThresholdEqualSeglossScoreOfTheForegroundClass(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("pred"));
        Files.createDirectories(dir.resolve("target"));
        LossSpec spec = LossSpec.builder(Loss.DICE, Mode.BINARY).fromLogits(true).build();
        Random rnd = new Random(8);
        int n = 3;
        float[] x = new float[n * H * W];
        long[] t = new long[n * H * W];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
            t[i] = rnd.nextInt(3) == 0 ? 1 : 0;
        }
        for (int k = 0; k < n; k++) {
            NpyFixtures.write(dir.resolve("pred").resolve("m" + k + ".npy"), "<f4", new long[] {1, H, W},
                    NpyFixtures.f4(Arrays.copyOfRange(x, k * H * W, (k + 1) * H * W)));
            NpyFixtures.write(dir.resolve("target").resolve("m" + k + ".npy"), "<i8", new long[] {H, W},
                    NpyFixtures.i8(Arrays.copyOfRange(t, k * H * W, (k + 1) * H * W)));
        }
        try (NDManager m = Djl.manager(); DiceEvaluator dice = new DiceEvaluator("dice", spec, 0.3)) {
            dice.addAccumulator("v");
            NDArray labels = m.create(t, new Shape(n, 1, H, W));
            dice.updateAccumulator("v", new NDList(labels), new NDList(m.create(x, new Shape(n, 1, H, W))));
            JsonNode fg = score(dir, "--threshold", "0.3", "--from-logits").get("per_class").get(1);
            ConfusionCounts k = dice.accumulated("v");
            assertEquals(1, k.classes());
            assertEquals(fg.get("tp").asLong(), k.tp(0));
            assertEquals(fg.get("fp").asLong(), k.fp(0));
            assertEquals(fg.get("fn").asLong(), k.fn(0));
            assertEquals(fg.get("dice").asDouble(), dice.perClass("v")[0], 1e-12);
        }
    }

    @Test
    void evaluateGivesOneBatchsMeanAndResetStartsTheCountsAgain() {
        LossSpec spec = LossSpec.builder(Loss.CE, Mode.MULTICLASS).fromLogits(true).build();
        try (NDManager m = Djl.manager(); DiceEvaluator dice = new DiceEvaluator(spec)) {
            // argmax (0, 1, 1, 2) against (0, 1, 2, 2): class 0 Dice 1, class 1 2/3, class 2 2/3
            float[] x = {5, 0, 0, 0, 0, 5, 5, 0, 0, 0, 0, 5};
            NDList preds = new NDList(m.create(x, new Shape(1, 3, 1, 4)));
            NDList labels = new NDList(m.create(new long[] {0, 1, 2, 2}, new Shape(1, 1, 4)));
            assertEquals((1 + 2.0 / 3 + 2.0 / 3) / 3, dice.evaluate(labels, preds).getFloat(), 1e-6);
            dice.addAccumulator("k");
            assertTrue(Float.isNaN(dice.getAccumulator("k")), "no batch yet");
            dice.updateAccumulators(new String[] {"k"}, labels, preds);
            dice.updateAccumulator("k", labels, preds);
            assertEquals(2, dice.accumulated("k").tp(2), "two batches of one TP each for class 2");
            dice.resetAccumulator("k");
            assertNull(dice.accumulated("k"));
            assertThrows(IllegalArgumentException.class, () -> dice.getAccumulator("unknown"));
        }
    }
}
