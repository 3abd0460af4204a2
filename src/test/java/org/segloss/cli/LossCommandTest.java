package org.segloss.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.CommandRun;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.Dispatcher;
import org.segloss.io.Npy;
import org.segloss.io.NpyArray;
import org.segloss.io.NpyFixtures;

/**
 * {@code segloss loss}: values against independent double-precision computations in this test,
 * JSON fields, {@code --grad-out}, and one {@code error:} line with exit code 2 for every kind of bad input.
 */
class LossCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String pred(String name, long[] shape, float... v) throws IOException {
        Path f = dir.resolve(name);
        Npy.writeFloat32(f, shape, v);
        return f.toString();
    }

    private String target(String name, String descr, long[] shape, byte[] data) throws IOException {
        return NpyFixtures.write(dir.resolve(name), descr, shape, data).toString();
    }

    private static JsonNode json(CommandRun r) throws IOException {
        r.assertOk();
        return JSON.readTree(r.out);
    }

    private static float[] randomLogits(int n, long seed) {
        Random rnd = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rnd.nextGaussian() * 2);
        }
        return v;
    }

    // ---- values ----------------------------------------------------------------------------------

    @Test
    void diceOfAHandComputedCaseIsOneSixthWithOrWithoutTheClassAxis() throws IOException {
        // I = 0.9 + 0.6 = 1.5, P = 1.8, T = 2: D = (2 * 1.5 + 1) / (1.8 + 2 + 1) = 5/6, loss 1/6
        String p = pred("p.npy", new long[] {1, 1, 4}, 0.9f, 0.2f, 0.6f, 0.1f);
        String withAxis = target("t.npy", "<f4", new long[] {1, 1, 4}, NpyFixtures.f4(1, 0, 1, 0));
        String withoutAxis = target("t2.npy", "|u1", new long[] {1, 4}, NpyFixtures.i1(1, 0, 1, 0));
        for (String t : new String[] {withAxis, withoutAxis}) {
            JsonNode o = json(Cli.run("loss", "--loss", "dice", "--mode", "binary", "--pred", p, "--target", t,
                    "--backend", "cpu", "--json"));
            assertEquals(1.0 / 6.0, o.get("value").asDouble(), 1e-6);
            assertEquals(5.0 / 6.0, o.get("per_class").get(0).get("coefficient").asDouble(), 1e-6);
            assertEquals("dice", o.get("loss").asText());
            assertEquals("binary", o.get("mode").asText());
            assertEquals("cpu", o.get("backend").asText());
            assertTrue(o.get("device").asText().length() > 0);
            assertEquals("[1,1,4]", o.get("shape").toString());
            assertEquals(1.0 / 6.0, o.get("region_loss").asDouble(), 1e-6);
            assertEquals(0.0, o.get("pixel_loss").asDouble(), 0.0);
        }
    }

    @Test
    void bceFromLogitsMatchesAnIndependentSumPerClass() throws IOException {
        int n = 2, c = 3, s = 5;
        float[] x = randomLogits(n * c * s, 1);
        int[] t = new int[x.length];
        Random rnd = new Random(2);
        for (int i = 0; i < t.length; i++) {
            t[i] = rnd.nextInt(2);
        }
        // term = max(x, 0) - x t + log1p(exp(-|x|)), mean over all elements; per class over (n, s)
        double total = 0;
        double[] perClass = new double[c];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                for (int si = 0; si < s; si++) {
                    int i = (ni * c + ci) * s + si;
                    double term = Math.max(x[i], 0) - x[i] * t[i] + Math.log1p(Math.exp(-Math.abs(x[i])));
                    total += term;
                    perClass[ci] += term / (n * s);
                }
            }
        }
        long[] shape = {n, c, s};
        String p = pred("p.npy", shape, x);
        String tf = target("t.npy", "|u1", shape, NpyFixtures.i1(t));
        JsonNode o = json(Cli.run("loss", "--loss", "bce", "--mode", "multilabel", "--pred", p, "--target", tf,
                "--from-logits", "--backend", "cpu", "--json"));
        assertEquals(total / x.length, o.get("value").asDouble(), 1e-5);
        assertEquals(total / x.length, o.get("pixel_loss").asDouble(), 1e-5);
        for (int ci = 0; ci < c; ci++) {
            JsonNode k = o.get("per_class").get(ci);
            assertEquals(ci, k.get("class").asInt());
            assertEquals(perClass[ci], k.get("pixel_loss").asDouble(), 1e-5);
            assertTrue(!k.has("coefficient"), "bce has no region coefficient: " + k);
        }
    }

    /** ce = mean over valid pixels of logsumexp(x) - x_y, computed here in double. */
    private static double referenceCe(float[] x, int[] y, int n, int c, int s, Integer ignore) {
        double sum = 0;
        int valid = 0;
        for (int ni = 0; ni < n; ni++) {
            for (int si = 0; si < s; si++) {
                int label = y[ni * s + si];
                if (ignore != null && label == ignore) {
                    continue;
                }
                double max = Double.NEGATIVE_INFINITY;
                for (int ci = 0; ci < c; ci++) {
                    max = Math.max(max, x[(ni * c + ci) * s + si]);
                }
                double e = 0;
                for (int ci = 0; ci < c; ci++) {
                    e += Math.exp(x[(ni * c + ci) * s + si] - max);
                }
                sum += max + Math.log(e) - x[(ni * c + label) * s + si];
                valid++;
            }
        }
        return sum / valid;
    }

    @Test
    void ceIsTheSameForEveryClassMapDtype() throws IOException {
        int n = 2, c = 3, s = 4;
        float[] x = randomLogits(n * c * s, 3);
        int[] y = {0, 1, 2, 1, 2, 2, 0, 1};
        double expected = referenceCe(x, y, n, c, s, null);
        String p = pred("p.npy", new long[] {n, c, 2, 2}, x);
        long[] map = {n, 2, 2};
        String[] targets = {
                target("u1.npy", "|u1", map, NpyFixtures.i1(y)),
                target("i1.npy", "|i1", map, NpyFixtures.i1(y)),
                target("i2.npy", "<i2", map, NpyFixtures.i2(y)),
                target("i4.npy", "<i4", map, NpyFixtures.i4(y)),
                target("i8.npy", "<i8", map, NpyFixtures.i8(Arrays.stream(y).asLongStream().toArray())),
                target("f4.npy", "<f4", map, NpyFixtures.f4(0, 1, 2, 1, 2, 2, 0, 1)),
                target("f8.npy", "<f8", map, NpyFixtures.f8(0, 1, 2, 1, 2, 2, 0, 1)),
        };
        for (String t : targets) {
            JsonNode o = json(Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--pred", p, "--target", t,
                    "--from-logits", "--backend", "cpu", "--json"));
            assertEquals(expected, o.get("value").asDouble(), 1e-5, t);
        }
    }

    @Test
    void ignoreIndexLeavesPixelsOut() throws IOException {
        int n = 1, c = 3, s = 6;
        float[] x = randomLogits(n * c * s, 4);
        int[] y = {0, -1, 2, 1, -1, 2};
        String p = pred("p.npy", new long[] {n, c, s}, x);
        String t = target("t.npy", "|i1", new long[] {n, s}, NpyFixtures.i1(y));
        JsonNode o = json(Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--pred", p, "--target", t,
                "--from-logits", "--ignore-index=-1", "--json"));
        assertEquals(referenceCe(x, y, n, c, s, -1), o.get("value").asDouble(), 1e-5);
    }

    @Test
    void channelsLastGivesTheSameValueAsChannelsFirst() throws IOException {
        int n = 2, c = 3, s = 4;
        float[] x = randomLogits(n * c * s, 5);
        float[] xLast = new float[x.length];
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                for (int si = 0; si < s; si++) {
                    xLast[(ni * s + si) * c + ci] = x[(ni * c + ci) * s + si];
                }
            }
        }
        int[] y = {2, 1, 0, 0, 1, 1, 2, 0};
        String t = target("t.npy", "<i4", new long[] {n, s}, NpyFixtures.i4(y));
        double expected = referenceCe(x, y, n, c, s, null);
        JsonNode first = json(Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--json",
                "--pred", pred("a.npy", new long[] {n, c, s}, x), "--target", t));
        JsonNode last = json(Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--json",
                "--layout", "nhwc", "--pred", pred("b.npy", new long[] {n, s, c}, xLast), "--target", t));
        assertEquals(expected, first.get("value").asDouble(), 1e-5);
        assertEquals(expected, last.get("value").asDouble(), 1e-5);
        assertEquals("nhwc", last.get("layout").asText());
    }

    @Test
    void multiclassDicePerClassIsTheMeanCoefficientOverTheBatch() throws IOException {
        int n = 2, c = 2, s = 3;
        float[] x = randomLogits(n * c * s, 6);
        int[] y = {0, 1, 1, 1, 0, 0};
        // D[n,c] = (2 I + 1) / (P + T + 1) with p = softmax, t one-hot; per class: mean over n
        double[] perClass = new double[c];
        double mean = 0;
        for (int ni = 0; ni < n; ni++) {
            for (int ci = 0; ci < c; ci++) {
                double i = 0, pSum = 0, tSum = 0;
                for (int si = 0; si < s; si++) {
                    double a = x[(ni * c) * s + si];
                    double b = x[(ni * c + 1) * s + si];
                    double pc = ci == 0 ? 1 / (1 + Math.exp(b - a)) : 1 / (1 + Math.exp(a - b));
                    double tc = y[ni * s + si] == ci ? 1 : 0;
                    i += pc * tc;
                    pSum += pc;
                    tSum += tc;
                }
                double d = (2 * i + 1) / (pSum + tSum + 1);
                perClass[ci] += d / n;
                mean += d / (n * c);
            }
        }
        JsonNode o = json(Cli.run("loss", "--loss", "dice", "--mode", "multiclass", "--from-logits", "--json",
                "--pred", pred("p.npy", new long[] {n, c, s}, x),
                "--target", target("t.npy", "|u1", new long[] {n, s}, NpyFixtures.i1(y))));
        assertEquals(1 - mean, o.get("value").asDouble(), 1e-6);
        for (int ci = 0; ci < c; ci++) {
            assertEquals(perClass[ci], o.get("per_class").get(ci).get("coefficient").asDouble(), 1e-6);
        }
    }

    @Test
    void textOutputShowsValueAndClasses() throws IOException {
        String p = pred("p.npy", new long[] {1, 1, 4}, 0.9f, 0.2f, 0.6f, 0.1f);
        String t = target("t.npy", "<f4", new long[] {1, 1, 4}, NpyFixtures.f4(1, 0, 1, 0));
        CommandRun r = Cli.run("loss", "--loss", "dice", "--mode", "binary", "--pred", p, "--target", t).assertOk();
        assertTrue(r.out.contains("value        0.166667"), r.out);
        assertTrue(r.out.contains("0.833333"), r.out);
    }

    // ---- gradient --------------------------------------------------------------------------------

    @Test
    void gradOutHasPredsShapeAndMatchesTheEngineAndTheFormula() throws IOException {
        int n = 2, c = 2, h = 3, w = 3;
        long[] shape = {n, c, h, w};
        float[] x = randomLogits(n * c * h * w, 7);
        float[] t = new float[x.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = (i * 7 % 5) < 2 ? 1f : 0f;
        }
        Path g = dir.resolve("g.npy");
        Cli.run("loss", "--loss", "bce", "--mode", "multilabel", "--from-logits", "--backend", "cpu",
                "--pred", pred("p.npy", shape, x), "--target", target("t.npy", "<f4", shape, NpyFixtures.f4(t)),
                "--grad-out", g.toString()).assertOk();
        NpyArray written = Npy.open(g);
        assertArrayEquals(shape, written.shape());
        float[] grad = written.readFloats();
        // bce from logits: dL/dx = (sigmoid(x) - t) / M
        for (int i = 0; i < x.length; i++) {
            double expected = (1 / (1 + Math.exp(-x[i])) - t[i]) / x.length;
            assertEquals(expected, grad[i], 1e-7, "element " + i);
        }
        float[] engineGrad = new float[x.length];
        try (LossEngine engine = LossEngine.create("cpu")) {
            engine.forwardBackward(LossSpec.builder(Loss.BCE, Mode.MULTILABEL).fromLogits(true).build(), x, shape, t,
                    engineGrad);
        }
        assertArrayEquals(engineGrad, grad);
    }

    @Test
    void gradOutOfAMulticlassLossMatchesTheEngine() throws IOException {
        long[] shape = {1, 3, 2, 2};
        float[] x = randomLogits(12, 8);
        byte[] y = NpyFixtures.i1(0, 2, 1, 1);
        Path g = dir.resolve("g.npy");
        Cli.run("loss", "--loss", "ce_logdice", "--mode", "multiclass", "--from-logits", "--backend", "cpu",
                "--class-weights", "1,2,0.5", "--pred", pred("p.npy", shape, x),
                "--target", target("t.npy", "|u1", new long[] {1, 2, 2}, y), "--grad-out", g.toString()).assertOk();
        float[] engineGrad = new float[x.length];
        try (LossEngine engine = LossEngine.create("cpu")) {
            engine.forwardBackward(LossSpec.builder(Loss.CE_LOGDICE, Mode.MULTICLASS).fromLogits(true)
                    .classWeights(1, 2, 0.5).build(), x, shape, y, engineGrad);
        }
        assertArrayEquals(engineGrad, Npy.open(g).readFloats());
        assertArrayEquals(shape, Npy.open(g).shape());
    }

    // ---- usage errors ----------------------------------------------------------------------------

    private String[] args(String... extra) throws IOException {
        String p = pred("p.npy", new long[] {1, 2, 2}, 0.2f, 0.7f, 0.4f, 0.9f);
        String t = target("t.npy", "<f4", new long[] {1, 2, 2}, NpyFixtures.f4(0, 1, 0, 1));
        String[] base = {"loss", "--loss", "dice", "--mode", "binary", "--pred", p, "--target", t};
        String[] all = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return all;
    }

    @Test
    void unknownLossModeLayoutAndBackendAreUsageErrors() throws IOException {
        Cli.run("loss", "--loss", "hinge", "--mode", "binary", "--pred", "a", "--target", "b")
                .assertUsageError("--loss", "hinge", "bce_logdice");
        Cli.run("loss", "--loss", "dice", "--mode", "softmax", "--pred", "a", "--target", "b")
                .assertUsageError("--mode", "softmax", "multiclass");
        Cli.run(args("--layout", "nchwc")).assertUsageError("--layout", "nchwc");
        Cli.run(args("--backend", "tpu")).assertUsageError("--backend", "tpu", "opencl");
    }

    @Test
    void badOptionValuesAreUsageErrors() throws IOException {
        Cli.run(args("--smooth", "lots")).assertUsageError("--smooth", "lots");
        Cli.run(args("--smooth", "-1")).assertUsageError("--smooth", "-1.0");
        Cli.run(args("--gamma", "-2")).assertUsageError("--gamma", "-2.0");
        Cli.run(args("--alpha", "1.5")).assertUsageError("alpha", "1.5");
        Cli.run(args("--alpha", "some")).assertUsageError("--alpha", "some");
        Cli.run(args("--alpha", "none")).assertUsageError("--alpha none", "dice");
        Cli.run(args("--beta", "2")).assertUsageError("beta", "2.0");
        Cli.run(args("--class-weights", "1,x")).assertUsageError("--class-weights", "x");
        Cli.run(args("--class-weights", "1,2,3")).assertUsageError("--class-weights", "3");
        Cli.run(args("--class-weights", "-1")).assertUsageError("--class-weights", "-1.0");
        Cli.run(args("--ignore-index", "x")).assertUsageError("--ignore-index", "x");
        Cli.run("loss", "--loss", "dice", "--mode", "binary", "--exclude-background",
                "--pred", pred("one.npy", new long[] {1, 1, 2}, 0.5f, 0.5f),
                "--target", target("one_t.npy", "<f4", new long[] {1, 1, 2}, NpyFixtures.f4(0, 1)))
                .assertUsageError("include_background", "C = 1");
        Cli.run(args("--frobnicate")).assertUsageError("--frobnicate");
        Cli.run("loss", "--loss", "ce", "--mode", "binary", "--pred", "a", "--target", "b")
                .assertUsageError("ce", "multiclass", "binary");
    }

    /** {@code segloss loss} of a (1, 2, 2) binary case with {@code loss} and extra options. */
    private String[] lossArgs(String loss, String... extra) throws IOException {
        String[] a = args(extra);
        a[2] = loss;
        return a;
    }

    @Test
    void optionsOfTheMonaiAndSmpCatalogueThatAreRefusedAreUsageErrorsNamingTheOptionAndTheValue() throws IOException {
        Cli.run(args("--smooth", "1", "--smooth-nr", "0.5")).assertUsageError("smooth", "--smooth-nr", "0.5");
        Cli.run(args("--smooth-dr", "0", "--smooth", "0.25")).assertUsageError("smooth", "--smooth-dr", "0.25");
        Cli.run(args("--smooth-nr", "-1")).assertUsageError("--smooth-nr", "-1.0");
        Cli.run(args("--smooth-dr", "lots")).assertUsageError("--smooth-dr", "lots");
        Cli.run(lossArgs("mcc", "--smooth-nr", "0.1")).assertUsageError("--smooth-nr", "mcc", "0.1");
        Cli.run(lossArgs("mcc", "--smooth", "-0.5")).assertUsageError("smooth", "-0.5");
        Cli.run(lossArgs("bce", "--label-smoothing", "1.5")).assertUsageError("--label-smoothing", "[0, 1)", "1.5");
        Cli.run(lossArgs("bce", "--label-smoothing", "-0.25")).assertUsageError("--label-smoothing", "-0.25");
        Cli.run(lossArgs("focal", "--label-smoothing", "0.1")).assertUsageError("--label-smoothing", "focal", "0.1");
        Cli.run(lossArgs("bce", "--pos-weight", "1,-1")).assertUsageError("--pos-weight[1]", "-1.0");
        Cli.run(lossArgs("bce", "--pos-weight", "1,x")).assertUsageError("--pos-weight", "x");
        Cli.run(lossArgs("dice", "--pos-weight", "2,2")).assertUsageError("--pos-weight", "dice", "[2.0, 2.0]");
        Cli.run(lossArgs("generalized_dice", "--gd-weight", "cubic")).assertUsageError("--gd-weight", "cubic", "square, simple, uniform");
        Cli.run(lossArgs("dice", "--gd-weight", "simple")).assertUsageError("--gd-weight", "simple", "dice");
        Cli.run(lossArgs("generalized_dice", "--class-weights", "1,2")).assertUsageError("--class-weights", "generalized_dice", "[1.0, 2.0]");
        Cli.run(lossArgs("dice_ce", "--lambda-pixel", "-1")).assertUsageError("--lambda-pixel", "-1.0");
        Cli.run(lossArgs("dice_focal", "--lambda-region", "-2")).assertUsageError("--lambda-region", "-2.0");
        Cli.run(lossArgs("dice_ce", "--lambda-pixel", "0", "--lambda-region", "0")).assertUsageError("--lambda-pixel", "--lambda-region", "0.0");
        Cli.run(lossArgs("dice", "--lambda-region", "0.5")).assertUsageError("--lambda-region", "dice", "0.5");
        Cli.run(lossArgs("tversky", "--gamma", "0")).assertUsageError("gamma", "tversky", "0.0");
        Cli.run(lossArgs("tversky", "--gamma", "-1")).assertUsageError("gamma", "tversky", "-1.0");
        Cli.run(lossArgs("tversky", "--squared-pred")).assertUsageError("--squared-pred", "tversky");
        Cli.run(lossArgs("generalized_dice", "--log-loss")).assertUsageError("--log-loss", "generalized_dice");
        Cli.run(lossArgs("iou", "--alpha", "none")).assertUsageError("--alpha none", "iou");
        Cli.run("loss", "--loss", "dice_ce", "--mode", "multiclass", "--pos-weight", "1,2", "--pred", "a", "--target", "b")
                .assertUsageError("--pos-weight", "multiclass", "[1.0, 2.0]");
        Cli.run("loss", "--loss", "dice_cee", "--mode", "binary", "--pred", "a", "--target", "b")
                .assertUsageError("--loss", "dice_cee", "generalized_dice, mcc, dice_ce, dice_focal");
    }

    @Test
    void theOptionsOfTheCatalogueAreEchoedInTheJsonOutput() throws IOException {
        JsonNode o = json(Cli.run(lossArgs("dice_ce", "--json", "--lambda-pixel", "0.5", "--lambda-region", "2",
                "--label-smoothing", "0.1", "--pos-weight", "2,3", "--squared-pred", "--smooth-nr", "0.25",
                "--smooth-dr", "0.25")));
        JsonNode opt = o.get("options");
        assertEquals(0.5, opt.get("lambda_pixel").asDouble(), 0);
        assertEquals(2.0, opt.get("lambda_region").asDouble(), 0);
        assertEquals(0.1, opt.get("label_smoothing").asDouble(), 0);
        assertEquals("[2.0,3.0]", opt.get("pos_weight").toString());
        assertTrue(opt.get("squared_pred").asBoolean());
        assertEquals(0.25, opt.get("smooth_nr").asDouble(), 0);
        assertEquals(0.25, opt.get("smooth_dr").asDouble(), 0);
        assertEquals(0.25, opt.get("smooth").asDouble(), 0);
        assertEquals("dice_ce", o.get("loss").asText());
        JsonNode gd = json(Cli.run(lossArgs("generalized_dice", "--json", "--gd-weight", "uniform"))).get("options");
        assertEquals("uniform", gd.get("gd_weight").asText());
        assertEquals(1e-5, gd.get("smooth_nr").asDouble(), 0);
        assertEquals(1e-5, gd.get("smooth_dr").asDouble(), 0);
    }

    @Test
    void softMulticlassTargetsOfPredsShapeAreClassProbabilities() throws IOException {
        // one pixel, logits (0, ln 3): p = (1/4, 3/4)
        String p = pred("soft_p.npy", new long[] {1, 2, 1}, 0, (float) Math.log(3));
        String oneHot = target("onehot.npy", "<f4", new long[] {1, 2, 1}, NpyFixtures.f4(0, 1));
        String half = target("half.npy", "<f4", new long[] {1, 2, 1}, NpyFixtures.f4(0.5f, 0.5f));
        String map = target("map.npy", "|u1", new long[] {1, 1}, NpyFixtures.i1(1));
        double classMap = json(Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", map, "--json")).get("value").asDouble();
        assertEquals(-Math.log(0.75), classMap, 1e-6);
        double soft = json(Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", oneHot, "--json")).get("value").asDouble();
        assertEquals(classMap, soft, 1e-6, "a one-hot soft target equals the class map");
        // -(0.5 ln(1/4) + 0.5 ln(3/4)) = ln(16/3) / 2
        double halves = json(Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", half, "--json")).get("value").asDouble();
        assertEquals(Math.log(16.0 / 3.0) / 2, halves, 1e-6);
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", target("ints.npy", "<i4", new long[] {1, 2, 1}, NpyFixtures.i4(0, 1)))
                .assertUsageError("--target", "int32", "float");
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", target("bad.npy", "<f4", new long[] {1, 2, 1}, NpyFixtures.f4(0.5f, 0.25f)))
                .assertUsageError("--target", "0.75");
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p, "--target", half,
                "--ignore-index", "255").assertUsageError("--ignore-index", "255");
    }

    @Test
    void ignoreIndexInBinaryModeLeavesElementsOut() throws IOException {
        String p = pred("bp.npy", new long[] {1, 1, 4}, 0.9f, 0.2f, 0.6f, 0.1f);
        String t = target("bt.npy", "|u1", new long[] {1, 1, 4}, NpyFixtures.i1(1, 255, 1, 0));
        double v = json(Cli.run("loss", "--loss", "bce", "--mode", "binary", "--pred", p, "--target", t,
                "--ignore-index", "255", "--json")).get("value").asDouble();
        assertEquals(-(Math.log(0.9f) + Math.log(0.6f) + Math.log(1 - (double) 0.1f)) / 3, v, 1e-6);
        Cli.run("loss", "--loss", "bce", "--mode", "binary", "--pred", p, "--ignore-index", "255",
                "--target", target("bt2.npy", "|u1", new long[] {1, 1, 4}, NpyFixtures.i1(1, 2, 1, 0)))
                .assertUsageError("--target", "2");
    }

    @Test
    void diceCeIsTheWeightedSumOfBceAndOneMinusDice() throws IOException {
        long[] shape = {1, 1, 4};
        String p = pred("dp.npy", shape, 0.9f, 0.2f, 0.6f, 0.1f);
        String t = target("dt.npy", "<f4", shape, NpyFixtures.f4(1, 0, 1, 0));
        // bce = -(ln 0.9 + ln 0.8 + ln 0.6 + ln 0.9) / 4; D = (2 * 1.5 + 1) / (1.8 + 2 + 1) = 5/6
        double bce = -(Math.log(0.9f) + Math.log(1 - (double) 0.2f) + Math.log(0.6f) + Math.log(1 - (double) 0.1f)) / 4;
        JsonNode o = json(Cli.run("loss", "--loss", "dice_ce", "--mode", "binary", "--pred", p, "--target", t, "--json",
                "--lambda-pixel", "0.5", "--lambda-region", "2"));
        assertEquals(0.5 * bce + 2.0 / 6.0, o.get("value").asDouble(), 1e-6);
    }

    @Test
    void missingOptionsAndFilesAreUsageErrors() throws IOException {
        Cli.run("loss", "--loss", "dice", "--mode", "binary", "--pred", "p.npy").assertUsageError("--target");
        String missing = dir.resolve("nothing.npy").toString();
        String[] a = args();
        a[6] = missing;
        Cli.run(a).assertUsageError("--pred", "no such file", missing);
        a = args();
        a[8] = dir.toString();
        Cli.run(a).assertUsageError("--target", "directory");
    }

    @Test
    void refusedInputsAreUsageErrorsNamingTheArgumentAndValue() throws IOException {
        long[] shape = {1, 2, 2};
        String t = target("t.npy", "<f4", shape, NpyFixtures.f4(0, 1, 0, 1));
        // probabilities outside [0, 1] without --from-logits
        Cli.run("loss", "--loss", "bce", "--mode", "binary", "--pred", pred("a.npy", shape, 0.5f, 1.5f, 0.2f, 0.1f),
                "--target", t).assertUsageError("--pred", "a.npy", "1.5");
        // NaN in pred
        Cli.run("loss", "--loss", "bce", "--mode", "binary", "--from-logits",
                "--pred", pred("b.npy", shape, 0.5f, Float.NaN, 0.2f, 0.1f), "--target", t)
                .assertUsageError("--pred", "NaN");
        // binary target outside [0, 1]
        Cli.run("loss", "--loss", "dice", "--mode", "binary", "--pred", pred("c.npy", shape, 0.5f, 0.5f, 0.2f, 0.1f),
                "--target", target("t2.npy", "<f4", shape, NpyFixtures.f4(0, 2, 0, 1))).assertUsageError("--target", "index 1: 2");
        // class index outside [0, C)
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits",
                "--pred", pred("d.npy", new long[] {1, 2, 2}, 1, 2, 3, 4),
                "--target", target("m.npy", "|u1", new long[] {1, 2}, NpyFixtures.i1(0, 7))).assertUsageError("--target", "7");
        // an empty tensor
        Cli.run("loss", "--loss", "dice", "--mode", "binary", "--pred", pred("z.npy", new long[] {0, 2, 2}),
                "--target", target("z_t.npy", "<f4", new long[] {0, 2, 2}, new byte[0])).assertUsageError("empty", "0");
        // multiclass needs C >= 2
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits",
                "--pred", pred("e.npy", new long[] {1, 1, 2}, 1, 2),
                "--target", target("m1.npy", "|u1", new long[] {1, 2}, NpyFixtures.i1(0, 0))).assertUsageError("C = 1");
    }

    @Test
    void targetsOfTheWrongShapeOrTypeAreUsageErrors() throws IOException {
        String p = pred("p.npy", new long[] {1, 2, 3}, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f);
        Cli.run("loss", "--loss", "dice", "--mode", "binary", "--pred", p,
                "--target", target("t.npy", "<f4", new long[] {1, 3, 2}, NpyFixtures.f4(0, 1, 0, 1, 1, 1)))
                .assertUsageError("--target", "[1, 3, 2]", "[1, 2, 3]");
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", target("m.npy", "|u1", new long[] {1, 2}, NpyFixtures.i1(0, 1)))
                .assertUsageError("--target", "[1, 2]", "[1, 3]");
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", target("big.npy", "<i8", new long[] {1, 3}, NpyFixtures.i8(0, 4_000_000_000L, 1)))
                .assertUsageError("--target", "4000000000", "int32");
        Cli.run("loss", "--loss", "ce", "--mode", "multiclass", "--from-logits", "--pred", p,
                "--target", target("frac.npy", "<f4", new long[] {1, 3}, NpyFixtures.f4(0, 0.5f, 1)))
                .assertUsageError("--target", "0.5");
        Cli.run("loss", "--loss", "dice", "--mode", "binary",
                "--pred", target("ip.npy", "<i4", new long[] {1, 1, 2}, NpyFixtures.i4(0, 1)),
                "--target", target("t2.npy", "<f4", new long[] {1, 1, 2}, NpyFixtures.f4(0, 1)))
                .assertUsageError("--pred", "int32", "float32");
        Cli.run("loss", "--loss", "dice", "--mode", "binary", "--pred", pred("r1.npy", new long[] {2}, 0.1f, 0.2f),
                "--target", target("t3.npy", "<f4", new long[] {2}, NpyFixtures.f4(0, 1)))
                .assertUsageError("--pred", "rank >= 2");
    }

    @Test
    void corruptNpyFilesAreUsageErrorsNamingTheOptionAndFile() throws IOException {
        byte[] good = NpyFixtures.file(1, NpyFixtures.dict("<f4", false, 1, 2, 2), NpyFixtures.f4(0, 1, 0, 1));
        Path truncated = dir.resolve("trunc.npy");
        Files.write(truncated, Arrays.copyOf(good, good.length - 3));
        String[] a = args();
        a[8] = truncated.toString();
        Cli.run(a).assertUsageError("--target", "trunc.npy", "truncated");
        Path bigEndian = NpyFixtures.write(dir.resolve("be.npy"), ">f4", new long[] {1, 2, 2}, new byte[16]);
        a = args();
        a[6] = bigEndian.toString();
        Cli.run(a).assertUsageError("--pred", "be.npy", "big-endian");
        Path fortran = NpyFixtures.write(dir.resolve("fo.npy"), 1, NpyFixtures.dict("<f4", true, 1, 2, 2), new byte[16]);
        a[6] = fortran.toString();
        Cli.run(a).assertUsageError("--pred", "fo.npy", "fortran_order");
        Path text = dir.resolve("text.npy");
        Files.writeString(text, "hello");
        a[6] = text.toString();
        Cli.run(a).assertUsageError("--pred", "text.npy", "magic");
        Path claims = NpyFixtures.write(dir.resolve("claims.npy"), "<f4", new long[] {1, 200, 200}, new byte[16]);
        a[6] = claims.toString();
        Cli.run(a).assertUsageError("--pred", "claims.npy", "160000");
    }

    @Test
    void debugAddsTheStackTrace() throws IOException {
        CommandRun r = Cli.run(args("--smooth", "-1", "--debug"));
        assertEquals(2, r.code);
        assertTrue(r.err.startsWith("error: --smooth must be >= 0"), r.err);
        assertTrue(r.err.contains("\tat org.segloss."), r.err);
    }

    @Test
    void anUnavailableBackendIsAUsageErrorWithTheReason() throws IOException {
        assumeFalse(Dispatcher.probe("cuda", false).usable(), "cuda is usable here");
        Cli.run(args("--backend", "cuda")).assertUsageError("cuda");
    }

    // ---- lovasz ----------------------------------------------------------------------------------

    /**
     * By hand: logits (2, -1, 0.5), targets (1, 1, 0): hinge errors (-1, 2, 1.5), sorted (2, 1.5, -1) with
     * g = (1, 0, 1), G = 2: J = (1/2, 2/3, 1), L = (1/2, 1/6, 1/3); loss 2/2 + 1.5/6 = 1.25. Gradient
     * -(2t - 1) L where e > 0: (0, -1/2, 1/6).
     */
    @Test
    void lovaszOfAHandComputedHingeCaseIs1point25WithItsGradient() throws IOException {
        long[] shape = {1, 1, 3};
        String p = pred("lz.npy", shape, 2f, -1f, 0.5f);
        String t = target("lz_t.npy", "|u1", shape, NpyFixtures.i1(1, 1, 0));
        Path g = dir.resolve("lz_g.npy");
        JsonNode o = json(Cli.run("loss", "--loss", "lovasz", "--mode", "binary", "--from-logits", "--pred", p, "--target", t,
                "--backend", "cpu", "--grad-out", g.toString(), "--json"));
        assertEquals(1.25, o.get("value").asDouble(), 1e-6);
        assertEquals("lovasz", o.get("loss").asText());
        assertArrayEquals(new float[] {0f, -0.5f, 1f / 6}, Npy.open(g).readFloats(), 1e-6f);
    }

    @Test
    void lovaszRefusesProbabilitiesInBinaryModeAndSoftTargets() throws IOException {
        long[] shape = {1, 1, 3};
        String p = pred("lz2.npy", shape, 2f, -1f, 0.5f);
        Cli.run("loss", "--loss", "lovasz", "--mode", "binary", "--pred", p,
                "--target", target("lz2_t.npy", "|u1", shape, NpyFixtures.i1(1, 1, 0))).assertUsageError("--from-logits must be true, was false");
        Cli.run("loss", "--loss", "lovasz", "--mode", "multilabel", "--from-logits", "--pred", p,
                "--target", target("lz3_t.npy", "<f4", shape, NpyFixtures.f4(1, 0.25f, 0)))
                .assertUsageError("--target", "exactly 0 or 1", "index 1: 0.25");
    }
}
