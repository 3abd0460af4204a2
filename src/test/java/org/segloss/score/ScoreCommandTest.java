package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.segloss.CommandRun;

/** Bad files, exit codes, output formats, field names, sharded merges and the HTML report. */
class ScoreCommandTest {
    static final int H = 11;
    static final int W = 9;
    static final int K = 4;

    @TempDir
    Path dir;

    Path pred;
    Path target;

    /** Good pairs img0..img{n-1} (8-bit gray PNG); returns the expected summed counts. */
    long[][] goodPairs(int n, long seed, String prefix) throws Exception {
        pred = dir.resolve("pred");
        target = dir.resolve("target");
        Random rnd = new Random(seed);
        long[][] expected = new long[3][K];
        for (int i = 0; i < n; i++) {
            int[] t = Fixtures.randomLabels(rnd, H * W, K);
            int[] p = Fixtures.noisy(rnd, t, K, 0.6);
            Fixtures.gray8(target.resolve(prefix + "img" + i + ".png"), t, H, W);
            Fixtures.gray8(pred.resolve(prefix + "img" + i + ".png"), p, H, W);
            Fixtures.add(expected, Fixtures.expected(K, p, t, null));
        }
        return expected;
    }

    static void assertCounts(long[][] expected, JsonNode report) {
        for (int c = 0; c < expected[0].length; c++) {
            JsonNode o = report.get("per_class").get(c);
            assertEquals(expected[0][c], o.get("tp").asLong(), "tp of class " + c);
            assertEquals(expected[1][c], o.get("fp").asLong(), "fp of class " + c);
            assertEquals(expected[2][c], o.get("fn").asLong(), "fn of class " + c);
        }
    }

    String[] args(String... extra) {
        List<String> a = new ArrayList<>(List.of("--pred", pred.toString(), "--target", target.toString(), "--quiet",
                "--classes", Integer.toString(K)));
        a.addAll(Arrays.asList(extra));
        return a.toArray(new String[0]);
    }

    /** One bad pair "bad": how to write it, and words its reason must contain. */
    interface BadWriter {
        void write(Path predFile, Path targetFile) throws Exception;
    }

    static Stream<Arguments> badFiles() {
        return Stream.of(
                Arguments.of("corrupt PNG (random bytes)", "corrupt", (BadWriter) (p, t) -> {
                    Fixtures.gray8(t, new int[H * W], H, W);
                    byte[] junk = new byte[300];
                    new Random(1).nextBytes(junk);
                    Files.write(p, junk);
                }),
                Arguments.of("truncated PNG", "corrupt", (BadWriter) (p, t) -> {
                    Fixtures.gray8(t, new int[H * W], H, W);
                    Fixtures.gray8(p, Fixtures.randomLabels(new Random(2), H * W, K), H, W);
                    byte[] all = Files.readAllBytes(p);
                    Files.write(p, Arrays.copyOf(all, all.length / 2));
                }),
                Arguments.of("RGB PNG is not a label map", "not a label map", (BadWriter) (p, t) -> {
                    Fixtures.gray8(t, new int[H * W], H, W);
                    Fixtures.rgb(p, H, W);
                }),
                Arguments.of("size mismatch", "size mismatch", (BadWriter) (p, t) -> {
                    Fixtures.gray8(t, new int[H * W], H, W);
                    Fixtures.gray8(p, new int[(H + 1) * W], H + 1, W);
                }),
                Arguments.of("target class index out of range", "out of range", (BadWriter) (p, t) -> {
                    int[] labels = new int[H * W];
                    labels[5] = K;
                    Fixtures.gray8(t, labels, H, W);
                    Fixtures.gray8(p, new int[H * W], H, W);
                }),
                Arguments.of("prediction class index out of range", "out of range", (BadWriter) (p, t) -> {
                    int[] labels = new int[H * W];
                    labels[H * W - 1] = 200;
                    Fixtures.gray8(t, new int[H * W], H, W);
                    Fixtures.gray8(p, labels, H, W);
                }),
                Arguments.of("empty prediction file", "corrupt PNG", (BadWriter) (p, t) -> {
                    Fixtures.gray8(t, new int[H * W], H, W);
                    Files.write(p, new byte[0]);
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void aBadFileIsSkippedWithItsReasonAndNeverCounted(String name, String reason, BadWriter bad) throws Exception {
        long[][] expected = goodPairs(3, 7, "");
        bad.write(pred.resolve("bad.png"), target.resolve("bad.png"));
        CommandRun r = CommandRunner.score(args("--format", "json"));
        assertEquals(3, r.code, r::toString);
        JsonNode j = r.json();
        assertEquals(3, j.get("images").asInt());
        assertEquals(1, j.get("skipped").size(), r::toString);
        JsonNode s = j.get("skipped").get(0);
        assertTrue(s.get("file").asText().endsWith("bad.png"), s::toString);
        assertTrue(s.get("reason").asText().contains(reason), s::toString);
        assertCounts(expected, j);

        CommandRun strict = CommandRunner.score(args("--format", "json", "--strict"));
        assertEquals(2, strict.code, strict::toString);
        assertTrue(strict.err.startsWith("error: "), strict::toString);
        assertTrue(strict.err.contains("bad.png"), strict::toString);
        assertEquals(1, strict.err.strip().lines().count(), "one line, no stack trace: " + strict.err);
        assertEquals("", strict.out, "no numbers when --strict stops");
    }

    @Test
    void anUnreadableFileIsSkipped() throws Exception {
        Assumptions.assumeFalse("root".equals(System.getProperty("user.name")),
                "running as root: every file is readable, so permission denial cannot be produced");
        long[][] expected = goodPairs(2, 2, "");
        Path locked = target.resolve("locked.png");
        Fixtures.gray8(locked, new int[H * W], H, W);
        Fixtures.gray8(pred.resolve("locked.png"), new int[H * W], H, W);
        Files.setPosixFilePermissions(locked, java.util.Set.of());
        CommandRun r = CommandRunner.score(args("--format", "json"));
        assertEquals(3, r.code, r::toString);
        assertTrue(r.json().get("skipped").get(0).get("reason").asText().startsWith("unreadable"), r::toString);
        assertCounts(expected, r.json());
    }

    @Test
    void probabilitiesOutsideZeroOneAreSkippedWithTheEngineReason() throws Exception {
        long[][] expected = goodPairs(2, 3, "");
        float[] v = new float[K * H * W];
        Arrays.fill(v, 0.25f);
        v[17] = 3.5f;
        Fixtures.npy(pred.resolve("logits.npy"), "<f4", new long[] {K, H, W}, Fixtures.boxed(v));
        Fixtures.gray8(target.resolve("logits.png"), new int[H * W], H, W);
        CommandRun r = CommandRunner.score(args("--format", "json", "--backend", "cpu"));
        assertEquals(3, r.code, r::toString);
        JsonNode s = r.json().get("skipped").get(0);
        assertTrue(s.get("reason").asText().contains("from_logits"), s::toString);
        assertCounts(expected, r.json());
    }

    @Test
    void truncatedNpyAndWrongChannelCountAreSkipped() throws Exception {
        long[][] expected = goodPairs(2, 4, "");
        Fixtures.npy(pred.resolve("a.npy"), "<f4", new long[] {K + 1, H, W}, Fixtures.boxed(new float[(K + 1) * H * W]));
        Fixtures.gray8(target.resolve("a.png"), new int[H * W], H, W);
        Fixtures.npy(pred.resolve("b.npy"), "<i4", new long[] {H, W}, Fixtures.boxed(new int[H * W]));
        byte[] all = Files.readAllBytes(pred.resolve("b.npy"));
        Files.write(pred.resolve("b.npy"), Arrays.copyOf(all, all.length - 10));
        Fixtures.gray8(target.resolve("b.png"), new int[H * W], H, W);
        CommandRun r = CommandRunner.score(args("--format", "json", "--backend", "cpu"));
        assertEquals(3, r.code, r::toString);
        JsonNode sk = r.json().get("skipped");
        assertEquals(2, sk.size(), r::toString);
        assertTrue(sk.get(0).get("reason").asText().contains("5 class channels, --classes is 4"), sk::toString);
        assertTrue(sk.get(1).get("reason").asText().contains("truncated"), sk::toString);
        assertCounts(expected, r.json());
    }

    @Test
    void unpairedFilesAreListedAndTheRestIsScored() throws Exception {
        long[][] expected = goodPairs(3, 5, "");
        Fixtures.gray8(pred.resolve("only-pred.png"), new int[H * W], H, W);
        Fixtures.gray8(target.resolve("only-target.png"), new int[H * W], H, W);
        CommandRun r = CommandRunner.score(args("--format", "json"));
        assertEquals(3, r.code, r::toString);
        JsonNode sk = r.json().get("skipped");
        assertEquals(2, sk.size());
        assertTrue(sk.get(0).get("reason").asText().startsWith("unpaired: no target"), sk::toString);
        assertTrue(sk.get(1).get("reason").asText().startsWith("unpaired: no prediction"), sk::toString);
        assertCounts(expected, r.json());
    }

    @Test
    void jsonHasExactlyTheDocumentedFields() throws Exception {
        goodPairs(3, 6, "");
        CommandRun r = CommandRunner.score(args("--format", "json"));
        assertEquals(0, r.code, r::toString);
        JsonNode j = r.json();
        assertEquals(Set.of("images", "classes", "per_class", "mean_dice", "mean_iou", "skipped", "exclude_background",
                "micro_dice", "micro_iou", "imagewise_dice", "imagewise_iou"), names(j));
        assertEquals(Set.of("class", "tp", "fp", "fn", "tn", "dice", "iou", "precision", "recall"), names(j.get("per_class").get(0)));
        CommandRun more = CommandRunner.score(args("--format", "json", "--per-image", "--worst", "2"));
        JsonNode m = more.json();
        assertEquals(Set.of("images", "classes", "per_class", "mean_dice", "mean_iou", "skipped", "exclude_background",
                "micro_dice", "micro_iou", "imagewise_dice", "imagewise_iou", "per_image", "worst"), names(m));
        assertEquals(3, m.get("per_image").size());
        assertEquals(2, m.get("worst").size());
        assertTrue(m.get("worst").get(0).get("mean_dice").asDouble() <= m.get("worst").get(1).get("mean_dice").asDouble());
    }

    private static Set<String> names(JsonNode o) {
        Set<String> s = new TreeSet<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
            s.add(it.next());
        }
        return s;
    }

    @Test
    void worstImagesAreTheLowestPerImageDice() throws Exception {
        goodPairs(5, 8, "");
        CommandRun r = CommandRunner.score(args("--format", "json", "--per-image", "--worst", "3"));
        JsonNode j = r.json();
        List<double[]> rows = new ArrayList<>();
        for (JsonNode o : j.get("per_image")) {
            // Per-image Dice recomputed here from the image's counts: mean over its defined classes.
            double sum = 0;
            int n = 0;
            for (int c = 0; c < K; c++) {
                long tp = o.get("tp").get(c).asLong();
                long d = 2 * tp + o.get("fp").get(c).asLong() + o.get("fn").get(c).asLong();
                if (d > 0) {
                    sum += 2.0 * tp / d;
                    n++;
                }
            }
            assertEquals(sum / n, o.get("mean_dice").asDouble(), 1e-12);
            rows.add(new double[] {sum / n});
        }
        rows.sort((a, b) -> Double.compare(a[0], b[0]));
        for (int i = 0; i < 3; i++) {
            assertEquals(rows.get(i)[0], j.get("worst").get(i).get("mean_dice").asDouble(), 1e-12);
        }
    }

    @Test
    void tableAndCsvShowTheSameCounts() throws Exception {
        long[][] expected = goodPairs(2, 9, "");
        Path names = dir.resolve("names.txt");
        Files.writeString(names, "# VOC-like\nbackground\ncat\ndog\nbird\n");
        CommandRun csv = CommandRunner.score(args("--format", "csv", "--class-names", names.toString()));
        assertEquals(0, csv.code, csv::toString);
        List<String> lines = csv.out.lines().collect(java.util.stream.Collectors.toList());
        assertEquals("kind,id,name,tp,fp,fn,dice,iou,precision,recall,tn,hd95,assd,nsd,surface_missed", lines.get(0));
        String[] cat = lines.get(2).split(",");
        assertEquals("class", cat[0]);
        assertEquals("cat", cat[2]);
        assertEquals(expected[0][1], Long.parseLong(cat[3]));
        assertEquals(expected[1][1], Long.parseLong(cat[4]));
        assertEquals(expected[2][1], Long.parseLong(cat[5]));
        assertTrue(lines.get(K + 1).startsWith("mean,"), lines::toString);
        Path out = dir.resolve("out/report.txt");
        CommandRun table = CommandRunner.score(args("--class-names", names.toString(), "--out", out.toString()));
        assertEquals(0, table.code, table::toString);
        assertEquals("", table.out);
        String text = Files.readString(out);
        assertTrue(text.contains("dog"), text);
        assertTrue(text.contains(Long.toString(expected[0][2])), text);
    }

    @Test
    void classesAreInferredAndStated() throws Exception {
        goodPairs(2, 10, "");
        CommandRun r = CommandRunner.score("--pred", pred.toString(), "--target", target.toString());
        assertEquals(0, r.code, r::toString);
        assertTrue(r.out.contains(K + " classes (inferred)"), r::toString);
        assertTrue(r.err.contains("inferred"), r::toString);
        assertFalse(r.err.contains("score ["), "no progress bar without a terminal: " + r.err);
    }

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                Arguments.of(new String[] {"--threshold", "1.5"}, "error: --threshold must be in [0, 1], was 1.5"),
                Arguments.of(new String[] {"--classes", "0"}, "error: --classes must be in [1, 65536], was 0"),
                Arguments.of(new String[] {"--format", "xml"}, "error: --format must be one of table, json, csv, was xml"),
                Arguments.of(new String[] {"--layout", "chw"}, "error: --layout must be one of auto, nchw, nhwc, was chw"),
                Arguments.of(new String[] {"--backend", "tpu"}, "error: --backend must be one of auto, cpu, opencl, cuda, was tpu"),
                Arguments.of(new String[] {"--worst", "-1"}, "error: --worst must be >= 0, was -1"),
                Arguments.of(new String[] {"--threads", "0"}, "error: --threads must be >= 1, was 0"),
                Arguments.of(new String[] {"--classes", "x"}, "error: Invalid value for option '--classes': 'x' is not an int"),
                Arguments.of(new String[] {"--bogus"}, "error: Unknown option: '--bogus'"),
                Arguments.of(new String[] {"--class-names", "/nonexistent/names.txt"}, "error: --class-names /nonexistent/names.txt cannot be read"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("usageErrors")
    void usageErrorsExit2WithOneErrorLine(String[] extra, String message) throws Exception {
        goodPairs(1, 11, "");
        List<String> a = new ArrayList<>(List.of("--pred", pred.toString(), "--target", target.toString()));
        a.addAll(Arrays.asList(extra));
        CommandRun r = CommandRunner.score(a.toArray(new String[0]));
        assertEquals(2, r.code, r::toString);
        assertTrue(r.err.startsWith(message), r::toString);
        assertEquals(1, r.err.strip().lines().count(), r::toString);
        assertEquals("", r.out);
    }

    @Test
    void missingInputsAndMixedKindsAreRefused() throws Exception {
        goodPairs(1, 12, "");
        CommandRun none = CommandRunner.score("--pred", dir.resolve("nope").toString(), "--target", target.toString());
        assertEquals(2, none.code);
        assertTrue(none.err.startsWith("error: --pred " + dir.resolve("nope") + ": no such file"), none::toString);
        CommandRun mixed = CommandRunner.score("--pred", pred.toString(), "--target", target.resolve("img0.png").toString());
        assertEquals(2, mixed.code);
        assertTrue(mixed.err.startsWith("error: --target "), mixed::toString);
        CommandRun missing = CommandRunner.score("--pred", pred.toString());
        assertEquals(2, missing.code);
        assertTrue(missing.err.startsWith("error: Missing required option: '--target=T'"), missing::toString);
        CommandRun debug = CommandRunner.score("--pred", dir.resolve("nope").toString(), "--target", target.toString(), "--debug");
        assertTrue(debug.err.contains("at org.segloss.score"), "--debug prints the stack trace: " + debug.err);
    }

    @Test
    void theReportDoesNotDependOnTheNumberOfDecodeThreads() throws Exception {
        goodPairs(9, 16, "");
        Fixtures.gray8(pred.resolve("m_bad.png"), new int[(H + 2) * W], H + 2, W);
        Fixtures.gray8(target.resolve("m_bad.png"), new int[H * W], H, W);
        CommandRun one = CommandRunner.score(args("--format", "json", "--per-image", "--worst", "3", "--threads", "1"));
        CommandRun four = CommandRunner.score(args("--format", "json", "--per-image", "--worst", "3", "--threads", "4"));
        assertEquals(3, one.code, one::toString);
        assertEquals(one.out, four.out);
    }

    @Test
    void strictStopsAtTheFirstBadFileInNameOrder() throws Exception {
        goodPairs(4, 17, "");
        for (String n : new String[] {"a_bad.png", "z_bad.png"}) {
            Fixtures.gray8(pred.resolve(n), new int[(H + 1) * W], H + 1, W);
            Fixtures.gray8(target.resolve(n), new int[H * W], H, W);
        }
        CommandRun r = CommandRunner.score(args("--strict", "--threads", "3"));
        assertEquals(2, r.code, r::toString);
        assertTrue(r.err.startsWith("error: " + pred.resolve("a_bad.png") + ": size mismatch"), r::toString);
    }

    @Test
    void anUnavailableBackendIsAUsageErrorNamingIt() throws Exception {
        goodPairs(1, 18, "");
        Fixtures.npy(pred.resolve("s.npy"), "<f4", new long[] {K, H, W}, Fixtures.boxed(new float[K * H * W]));
        Fixtures.gray8(target.resolve("s.png"), new int[H * W], H, W);
        org.junit.jupiter.api.Assumptions.assumeFalse(org.segloss.backend.Dispatcher.probe("cuda", false).usable(),
                "cuda is present here, so no backend is unavailable");
        CommandRun r = CommandRunner.score(args("--backend", "cuda"));
        assertEquals(2, r.code, r::toString);
        assertTrue(r.err.startsWith("error: --backend cuda: "), r::toString);
    }

    @Test
    void twoFilesAreOnePair() throws Exception {
        long[][] expected = goodPairs(1, 13, "");
        CommandRun r = CommandRunner.score("--pred", pred.resolve("img0.png").toString(), "--target",
                target.resolve("img0.png").toString(), "--format", "json", "--classes", Integer.toString(K));
        assertEquals(0, r.code, r::toString);
        assertEquals(1, r.json().get("images").asInt());
        assertCounts(expected, r.json());
    }

    @Test
    void shardedScoringMergedEqualsOneRunExactly() throws Exception {
        // Shards are subdirectories, so one run over the parent sees exactly the same file paths.
        long[][] expected = new long[3][K];
        for (int s = 0; s < 3; s++) {
            Fixtures.add(expected, goodPairs(4 + s, 100 + s, "shard" + s + "/"));
        }
        Fixtures.gray8(pred.resolve("shard1/broken.png"), new int[H * W], H, W);
        Files.write(target.resolve("shard1/broken.png"), new byte[] {1, 2, 3});
        Fixtures.gray8(pred.resolve("shard2/lonely.png"), new int[H * W], H, W);
        Path whole = dir.resolve("whole.json");
        CommandRun one = CommandRunner.score(args("--format", "json", "--per-image", "--worst", "4", "--save-stats",
                whole.toString()));
        assertEquals(3, one.code, one::toString);
        assertCounts(expected, one.json());
        List<String> stats = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            Path f = dir.resolve("shard" + s + ".json");
            CommandRun r = CommandRunner.score("--pred", pred.resolve("shard" + s).toString(), "--target",
                    target.resolve("shard" + s).toString(), "--quiet", "--classes", Integer.toString(K), "--per-image",
                    "--worst", "4", "--save-stats", f.toString(), "--format", "json");
            assertEquals(s == 0 ? 0 : 3, r.code, r::toString);
            stats.add(f.toString());
        }
        List<String> mergeArgs = new ArrayList<>(stats);
        mergeArgs.addAll(List.of("--format", "json", "--per-image", "--worst", "4"));
        CommandRun merged = CommandRunner.merge(mergeArgs.toArray(new String[0]));
        assertEquals(3, merged.code, merged::toString);
        assertEquals(one.json(), merged.json(), "merge of shards == one run");
        assertEquals(one.out, merged.out, "byte for byte");
        // Merging the single whole-run stats file gives the same report again; so does merging a merge.
        CommandRun again = CommandRunner.merge(whole.toString(), "--format", "json", "--per-image", "--worst", "4");
        assertEquals(one.out, again.out);
        Path mm = dir.resolve("merged.json");
        CommandRunner.merge(stats.get(0), stats.get(1), "--save-stats", mm.toString(), "--quiet");
        CommandRun twoLevel = CommandRunner.merge(mm.toString(), stats.get(2), "--format", "json", "--worst", "4");
        assertEquals(CommandRunner.merge(whole.toString(), "--format", "json", "--worst", "4").out, twoLevel.out);
    }

    @Test
    void shardsWithInferredClassesMergeToTheLargestCount() throws Exception {
        pred = dir.resolve("pred");
        target = dir.resolve("target");
        Fixtures.gray8(pred.resolve("a/x.png"), new int[] {0, 1, 1, 0}, 2, 2);
        Fixtures.gray8(target.resolve("a/x.png"), new int[] {0, 1, 0, 0}, 2, 2);
        Fixtures.gray8(pred.resolve("b/y.png"), new int[] {0, 3, 2, 0}, 2, 2);
        Fixtures.gray8(target.resolve("b/y.png"), new int[] {0, 3, 3, 1}, 2, 2);
        CommandRun one = CommandRunner.score("--pred", pred.toString(), "--target", target.toString(), "--format", "json", "--quiet");
        for (String s : new String[] {"a", "b"}) {
            CommandRun r = CommandRunner.score("--pred", pred.resolve(s).toString(), "--target", target.resolve(s).toString(),
                    "--quiet", "--save-stats", dir.resolve(s + ".json").toString());
            assertEquals(0, r.code, r::toString);
        }
        CommandRun merged = CommandRunner.merge(dir.resolve("a.json").toString(), dir.resolve("b.json").toString(), "--format", "json");
        assertEquals(4, one.json().get("classes").asInt());
        assertEquals(one.out, merged.out);
        // By hand: class 3 has TP 1 (pixel 1), FN 1 (pixel 2, predicted 2); class 1: TP 1, FP 1, FN 1.
        JsonNode c3 = merged.json().get("per_class").get(3);
        assertEquals(1, c3.get("tp").asInt());
        assertEquals(0, c3.get("fp").asInt());
        assertEquals(1, c3.get("fn").asInt());
        JsonNode c1 = merged.json().get("per_class").get(1);
        assertEquals(List.of(1, 1, 1), List.of(c1.get("tp").asInt(), c1.get("fp").asInt(), c1.get("fn").asInt()));
    }

    @Test
    void mergeRefusesShardsScoredDifferentlyAndMalformedFiles() throws Exception {
        goodPairs(2, 14, "");
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.json");
        CommandRunner.score(args("--save-stats", a.toString()));
        CommandRunner.score(args("--save-stats", b.toString(), "--ignore-index", "255"));
        CommandRun r = CommandRunner.merge(a.toString(), b.toString());
        assertEquals(2, r.code, r::toString);
        assertTrue(r.err.startsWith("error: stats file " + b + " was scored with ignore_index 255"), r::toString);
        Path junk = dir.resolve("junk.json");
        Files.writeString(junk, "{\"images\": 3}");
        CommandRun j = CommandRunner.merge(a.toString(), junk.toString());
        assertEquals(2, j.code);
        assertTrue(j.err.startsWith("error: stats file " + junk + ": not a segloss stats file"), j::toString);
        Files.writeString(junk, Files.readString(a).replaceFirst("\"tp\" : \\[ (\\d+)", "\"tp\" : [ -$1"));
        CommandRun neg = CommandRunner.merge(a.toString(), junk.toString());
        assertEquals(2, neg.code, neg::toString);
        assertTrue(neg.err.contains("tp[0] must be an integer >= 0"), neg::toString);
    }

    @Test
    void mergeWritesTheReportWithOverlaysFromTheSavedPaths() throws Exception {
        goodPairs(3, 19, "");
        Path stats = dir.resolve("s.json");
        assertEquals(0, CommandRunner.score(args("--save-stats", stats.toString())).code);
        Path report = dir.resolve("merged-report");
        CommandRun r = CommandRunner.merge(stats.toString(), "--report", report.toString(), "--quiet");
        assertEquals(0, r.code, r::toString);
        String html = Files.readString(report.resolve("index.html"));
        assertEquals(3 * 3, html.split("src=\"data:image/png;base64,", -1).length - 1, "target, prediction, errors of 3 images");
        try (java.util.stream.Stream<Path> files = Files.list(report)) {
            assertEquals(1, files.count(), "one file, no folder of PNGs");
        }
    }

    @Test
    void reportIsSelfContainedWithChartsAndOverlays() throws Exception {
        goodPairs(4, 15, "");
        Path report = dir.resolve("report");
        CommandRun r = CommandRunner.score(args("--report", report.toString(), "--worst", "2"));
        assertEquals(0, r.code, r::toString);
        String html = Files.readString(report.resolve("index.html"));
        assertEquals(2, html.split("<svg ", -1).length - 1, "two charts");
        assertTrue(html.contains("width=\"100%\""), "charts take the page's width");
        assertFalse(html.contains("<script"), "no script");
        assertFalse(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").matches("(?s).*(https?:|//cdn).*"),
                "nothing loaded from the network");
        String[] uris = html.split("src=\"data:image/png;base64,", -1);
        assertEquals(2 * 3, uris.length - 1, "target, prediction and errors of the 2 worst images, inline");
        java.util.List<BufferedImage> panels = new java.util.ArrayList<>();
        for (int i = 1; i < uris.length; i++) {
            byte[] png = java.util.Base64.getDecoder().decode(uris[i].substring(0, uris[i].indexOf('"')));
            panels.add(ImageIO.read(new java.io.ByteArrayInputStream(png)));
        }
        BufferedImage overlay = panels.get(2);
        assertNotNull(overlay);
        int scale = Math.max(1, 192 / W);
        assertEquals(W * scale, overlay.getWidth());
        assertEquals(H * scale, overlay.getHeight());
        assertEquals(HtmlReport.classColour(1) != HtmlReport.classColour(2), true, "classes in different colours");
        boolean coloured = false;
        for (int y = 0; y < overlay.getHeight(); y++) {
            for (int x = 0; x < overlay.getWidth(); x++) {
                int rgb = overlay.getRGB(x, y) & 0xFFFFFF;
                coloured |= rgb == HtmlReport.FP_RGB || rgb == HtmlReport.FN_RGB || rgb == HtmlReport.WRONG_CLASS_RGB;
            }
        }
        assertTrue(coloured, "the worst image shows its errors in colour");
    }

    @Test
    void progressRateIsFilesOverElapsedNanosecondsFromTheFirstFile() {
        // the library's own rate shows "?" in the first second and then divides by whole seconds
        assertEquals("4.0 files/s", ScoreCommand.rateText(1, 250_000_000L));
        assertEquals("1.5 files/s", ScoreCommand.rateText(3, 2_000_000_000L));
        assertEquals("0.7 files/s", ScoreCommand.rateText(1, 1_500_000_000L));
    }
}
