package org.segloss.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.backend.Dispatcher;
import org.segloss.score.ScoreCommand;
import org.segloss.score.ScoreParts;
import picocli.CommandLine;

/**
 * The Spark job against {@code segloss score} on the same files, in local mode with two cores and
 * several partitions, one session for the class. {@code local[2,2]}: a task may fail once and is
 * retried. The local filesystem is {@link FlakyLocalFileSystem}, which fails the first attempt of
 * the task that opens a {@code retry-trigger*} file.
 */
class SparkScoringTest {
    private static SparkSession spark;
    @TempDir
    static Path tmp;
    /** 30 PNG pairs with ignored pixels, an unpaired file, and three bad pairs. */
    private static Path png;

    @BeforeAll
    static void start() throws Exception {
        png = tmp.resolve("png");
        SparkFixtures.pngPairs(png, "img", 30, 48, 6, 255, 7);
        Random rnd = new Random(3);
        SparkFixtures.gray8(png.resolve("pred/zz-only-pred.png"), new int[16], 4, 4);
        byte[] junk = new byte[300];
        rnd.nextBytes(junk);
        Files.write(png.resolve("pred/bad-random.png"), junk);
        Files.copy(png.resolve("target/img000.png"), png.resolve("target/bad-random.png"));
        Files.copy(png.resolve("pred/img001.png"), png.resolve("pred/bad-truncated.png"));
        byte[] t = Files.readAllBytes(png.resolve("target/img001.png"));
        Files.write(png.resolve("target/bad-truncated.png"), Arrays.copyOf(t, t.length / 2));
        SparkFixtures.gray8(png.resolve("pred/bad-size.png"), new int[32 * 32], 32, 32);
        Files.copy(png.resolve("target/img002.png"), png.resolve("target/bad-size.png"));
        Files.writeString(png.resolve("pred/notes.txt"), "not scored");

        spark = SparkSession.builder().master("local[2,2]").appName("segloss-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.log.level", "ERROR")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.hadoop.fs.file.impl", FlakyLocalFileSystem.class.getName())
                .config("spark.hadoop.fs.file.impl.disable.cache", "true")
                .getOrCreate();
        spark.sparkContext().setLogLevel("ERROR");
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** Runs {@code segloss score} in-process; returns {exit code, stdout}. */
    private static Object[] score(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = ScoreCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Object[] {code, out.toString(), err.toString()};
    }

    private static ScoreParts.Options ignore255() {
        ScoreParts.Options o = new ScoreParts.Options();
        o.ignoreIndex = 255;
        o.worstK = 5;
        return o;
    }

    @Test
    void pngLabelMapsGiveTheReportOfSeglossScore() throws Exception {
        String pred = png.resolve("pred").toString();
        String target = png.resolve("target").toString();
        Object[] json = score("--pred", pred, "--target", target, "--ignore-index", "255", "--format", "json",
                "--worst", "5", "--per-image", "--quiet");
        Object[] csv = score("--pred", pred, "--target", target, "--ignore-index", "255", "--format", "csv",
                "--worst", "5", "--quiet");
        Object[] table = score("--pred", pred, "--target", target, "--ignore-index", "255", "--worst", "5", "--quiet");
        assertEquals(3, json[0], () -> "score exits 3 when files were skipped: " + json[2]);

        SparkScoring.Result r = SparkScoring.score(spark, pred, target, ignore255(), 5);
        assertEquals(5, r.partitions());
        assertEquals(33, r.pairs());
        assertEquals(1, r.otherFiles());
        JsonNode expected = new ObjectMapper().readTree((String) json[1]);
        JsonNode got = new ObjectMapper().readTree(r.report("json", null, true));
        assertEquals(30, got.get("images").asLong());
        // Same report except per_image, which the Spark job keeps distributed (checked below).
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected).remove("per_image");
        assertEquals(expected, got);
        assertEquals(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(expected) + "\n",
                r.report("json", null, true));
        assertEquals(csv[1], r.report("csv", null, true));
        String tableBody = ((String) table[1]).substring(((String) table[1]).indexOf('\n'));
        String ours = r.report("table", null, true);
        assertEquals(tableBody, ours.substring(ours.indexOf('\n')));

        // The bad files are skipped with score's reasons (corrupt, truncated, size mismatch, unpaired).
        JsonNode skipped = got.get("skipped");
        assertEquals(4, skipped.size(), skipped::toString);
        assertTrue(skipped.toString().contains("bad-random.png") && skipped.toString().contains("corrupt PNG"), skipped::toString);
        assertTrue(skipped.toString().contains("size mismatch"), skipped::toString);
        assertTrue(skipped.toString().contains("target/bad-truncated.png"), skipped::toString);

        // Per-image rows: one per scored image, with score's per-image counts.
        Map<String, JsonNode> perImage = new HashMap<>();
        for (JsonNode n : new ObjectMapper().readTree((String) json[1]).get("per_image")) {
            perImage.put(n.get("file").asText(), n);
        }
        List<Row> rows = r.perImage().collectAsList();
        assertEquals(30, rows.size());
        for (Row row : rows) {
            JsonNode e = perImage.get(row.<String>getAs("file"));
            assertTrue(e != null, () -> "no score row for " + row);
            for (String col : new String[] {"tp", "fp", "fn"}) {
                List<Long> want = new ArrayList<>();
                e.get(col).forEach(v -> want.add(v.asLong()));
                assertEquals(want, row.getList(row.fieldIndex(col)), col + " of " + row.getAs("file"));
            }
            assertEquals(e.get("mean_dice").asDouble(), row.<Double>getAs("mean_dice"), 0.0);
            assertEquals("host", row.getAs("counted_on"));
            String base = Path.of(row.<String>getAs("file")).getFileName().toString();
            assertEquals(png.resolve("pred").resolve(base).toAbsolutePath().toString(), row.getAs("pred"));
            assertEquals(png.resolve("target").resolve(base).toAbsolutePath().toString(), row.getAs("target"));
        }
        r.unpersist();
    }

    /** Boxes of classes 1..3 on background 0, over dims (z, y, x). */
    private static int[] boxes(Random rnd, int[] dims, int count) {
        int[] out = new int[dims[0] * dims[1] * dims[2]];
        for (int b = 0; b < count; b++) {
            int c = 1 + rnd.nextInt(3);
            int[] lo = new int[3];
            int[] hi = new int[3];
            for (int d = 0; d < 3; d++) {
                lo[d] = rnd.nextInt(dims[d]);
                hi[d] = Math.min(dims[d] - 1, lo[d] + 1 + rnd.nextInt(dims[d] / 2));
            }
            for (int z = lo[0]; z <= hi[0]; z++) {
                for (int y = lo[1]; y <= hi[1]; y++) {
                    for (int x = lo[2]; x <= hi[2]; x++) {
                        out[(z * dims[1] + y) * dims[2] + x] = c;
                    }
                }
            }
        }
        return out;
    }

    @Test
    void niftiVolumesWithSurfaceDistancesGiveTheReportOfSeglossScore() throws Exception {
        Path vol = tmp.resolve("nifti");
        Random rnd = new Random(11);
        int[] dims = {5, 8, 7};
        for (int i = 0; i < 9; i++) {
            int[] target = boxes(rnd, dims, 3);
            int[] pred = i % 3 == 0 ? boxes(rnd, dims, 2) : target.clone();
            for (int j = 0; j < pred.length; j++) {
                if (rnd.nextDouble() < 0.05) {
                    pred[j] = rnd.nextInt(4);
                }
            }
            org.segloss.io.NiftiFixtures.Spec s = new org.segloss.io.NiftiFixtures.Spec(dims[2], dims[1], dims[0]).type(4, 16);
            s.pixdim = new double[] {1, 0.7, 0.8, 2.0, 1, 1, 1, 1};
            org.segloss.io.NiftiFixtures.write(vol.resolve("target/case_0" + i + ".nii.gz"), s, org.segloss.io.NiftiFixtures.of(target));
            org.segloss.io.NiftiFixtures.write(vol.resolve("pred/case_0" + i + ".nii"), s, org.segloss.io.NiftiFixtures.of(pred));
        }
        Files.write(vol.resolve("pred/case_bad.nii.gz"), new byte[] {31, -117, 8, 0, 1, 2});
        org.segloss.io.NiftiFixtures.write(vol.resolve("target/case_bad.nii"), new org.segloss.io.NiftiFixtures.Spec(dims[2], dims[1], dims[0]),
                new double[dims[0] * dims[1] * dims[2]]);
        String pred = vol.resolve("pred").toString();
        String target = vol.resolve("target").toString();
        String[] common = {"--pred", pred, "--target", target, "--surface", "--nsd-tolerance", "0.9", "--exclude-background",
            "--quiet", "--worst", "3"};
        Object[] json = score(concat(common, "--format", "json"));
        Object[] csv = score(concat(common, "--format", "csv"));
        assertEquals(3, json[0], () -> "the bad volume is skipped: " + json[2]);
        ScoreParts.Options o = new ScoreParts.Options();
        o.surface = true;
        o.nsdTolerance = 0.9;
        o.excludeBackground = true;
        o.worstK = 3;
        SparkScoring.Result r = SparkScoring.score(spark, pred, target, o, 4);
        assertEquals(json[1], r.report("json", null, true), "identical JSON");
        assertEquals(csv[1], r.report("csv", null, true), "identical CSV");
        JsonNode got = new ObjectMapper().readTree(r.report("json", null, true));
        assertEquals(9, got.get("images").asInt());
        assertTrue(got.get("mean_hd95").isNumber() && got.get("per_class").get(1).has("surface_missed"), got::toString);
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void aRetriedTaskDoesNotCountTwice() throws Exception {
        Path dir = tmp.resolve("retry");
        SparkFixtures.pngPairs(dir, "img", 11, 40, 5, -1, 11);
        SparkFixtures.pngPairs(dir, FlakyLocalFileSystem.TRIGGER, 1, 40, 5, -1, 12);
        String pred = dir.resolve("pred").toString();
        String target = dir.resolve("target").toString();
        Object[] json = score("--pred", pred, "--target", target, "--format", "json", "--worst", "3", "--quiet");
        assertEquals(0, json[0], () -> (String) json[2]);

        FlakyLocalFileSystem.INJECTED.set(0);
        ScoreParts.Options o = new ScoreParts.Options();
        o.worstK = 3;
        // 4 partitions of 3 pairs: the trigger is the last pair of the last partition, so the failed
        // attempt had counted two images before it failed.
        SparkScoring.Result r = SparkScoring.score(spark, pred, target, o, 4);
        assertEquals(1, FlakyLocalFileSystem.INJECTED.get(), "the first attempt of one task must have failed");
        assertEquals(12, r.images());
        assertEquals(json[1], r.report("json", null, true));
        assertEquals(12, r.perImage().count());
        r.unpersist();
    }

    @Test
    void scoreArraysAreCountedOnTheCpuWhenTheExecutorHasNoGpu() throws Exception {
        String before = System.getProperty("segloss.backend");
        System.setProperty("segloss.backend", "auto");
        try {
            String auto = Dispatcher.autoChoice();
            assumeTrue(auto.equals("cpu"), () -> "this machine has a device backend (auto picks " + auto
                    + "), the no-GPU case needs a machine without one");
            Path dir = tmp.resolve("npy");
            Random rnd = new Random(5);
            int size = 24;
            int classes = 4;
            for (int i = 0; i < 8; i++) {
                int[] t = SparkFixtures.target(rnd, size, size, classes, 255);
                int[] p = SparkFixtures.prediction(rnd, t, classes, 0.7);
                SparkFixtures.scores(dir.resolve("pred").resolve("s" + i + ".npy"), rnd, p, classes, size, size);
                SparkFixtures.gray8(dir.resolve("target").resolve("s" + i + ".png"), t, size, size);
            }
            String pred = dir.resolve("pred").toString();
            String target = dir.resolve("target").toString();
            Object[] json = score("--pred", pred, "--target", target, "--ignore-index", "255", "--format", "json",
                    "--worst", "5", "--quiet");
            assertEquals(0, json[0], () -> (String) json[2]);

            SparkScoring.Result r = SparkScoring.score(spark, pred, target, ignore255(), 4);
            assertEquals(json[1], r.report("json", null, true));
            assertEquals(4, r.countedOnByPartition().size());
            for (Map.Entry<Integer, String> e : r.countedOnByPartition().entrySet()) {
                assertEquals("cpu", e.getValue(), "partition " + e.getKey());
            }
            assertTrue(r.header().contains("counted on cpu"), r.header());
            assertEquals(List.of("cpu"), r.perImage().select("counted_on").distinct().collectAsList().stream()
                    .map(x -> x.getString(0)).toList());
            r.unpersist();
        } finally {
            if (before == null) {
                System.clearProperty("segloss.backend");
            } else {
                System.setProperty("segloss.backend", before);
            }
        }
    }

    @Test
    void sparkSubmitMainWritesTheReportAndParquetRows() throws Exception {
        String pred = png.resolve("pred").toString();
        String target = png.resolve("target").toString();
        Path scoreStats = tmp.resolve("main/score-stats.json");
        Path sparkStats = tmp.resolve("main/spark-stats.json");
        Object[] json = score("--pred", pred, "--target", target, "--ignore-index", "255", "--format", "json", "--quiet",
                "--save-stats", scoreStats.toString());
        Path out = tmp.resolve("main/score.json");
        Path rows = tmp.resolve("main/rows.parquet");
        StringWriter err = new StringWriter();
        CommandLine cl = SparkScoreMain.commandLine();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute("--pred", pred, "--target", target, "--ignore-index", "255", "--format", "json",
                "--out", out.toString(), "--per-image-out", rows.toString(), "--partitions", "3", "--quiet",
                "--save-stats", sparkStats.toString());
        assertEquals(3, code, err::toString);
        assertEquals(json[1], Files.readString(out));
        // The integer counts file is score's, byte for byte, so segloss merge adds it to other shards.
        assertEquals(Files.readString(scoreStats), Files.readString(sparkStats));
        assertEquals(30, spark.read().parquet(rows.toString()).count());
        assertFalse(spark.sparkContext().isStopped(), "the main class must not stop a session it did not create");

        StringWriter err2 = new StringWriter();
        CommandLine bad = SparkScoreMain.commandLine();
        bad.setErr(new PrintWriter(err2, true));
        assertEquals(2, bad.execute("--pred", tmp.resolve("missing").toString(), "--target", target));
        assertEquals("error: --pred " + tmp.resolve("missing") + ": no such file or directory", err2.toString().strip());
    }
}
