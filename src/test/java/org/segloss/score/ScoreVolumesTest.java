package org.segloss.score;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.segloss.CommandRun;
import org.segloss.io.NiftiFixtures;

/**
 * {@code segloss score} on NIfTI volumes with {@code --surface}: per-class HD95, ASSD, NSD and
 * surface_missed, the new means and TN against references computed here (SurfaceTest's brute force,
 * counts by the definition), exact --save-stats + merge, bad volumes skipped with the reason.
 */
class ScoreVolumesTest {
    static final int K = 4;
    static final int[] DIMS = {6, 9, 8};  // z, y, x
    static final double[] SPACING = {0.8, 0.9, 2.5};  // x, y, z (pixdim[1..3])

    @TempDir
    Path dir;

    /** Volumes written as NIfTI (targets .nii.gz int16, predictions .nii uint8); returns {pred, target} per volume. */
    List<int[][]> volumes(int count, long seed) throws Exception {
        Random rnd = new Random(seed);
        List<int[][]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int[] target = SurfaceTest.blobs(rnd, DIMS, K, 4);
            int[] pred = i == 1 ? SurfaceTest.blobs(rnd, DIMS, K, 2) : SurfaceTest.noisy(rnd, target, K, 0.08);
            if (i == 2) {
                // class 3 only in the prediction of this volume: surface_missed
                for (int j = 0; j < target.length; j++) {
                    target[j] = target[j] == 3 ? 0 : target[j];
                }
                pred[5] = 3;
            }
            write(dir.resolve("target/case_0" + i + ".nii.gz"), 4, 16, target);
            write(dir.resolve("pred/case_0" + i + ".nii"), 2, 8, pred);
            out.add(new int[][] {pred, target});
        }
        return out;
    }

    static void write(Path f, int datatype, int bitpix, int[] labels) throws Exception {
        NiftiFixtures.Spec s = new NiftiFixtures.Spec(DIMS[2], DIMS[1], DIMS[0]).type(datatype, bitpix);
        s.pixdim = new double[] {1, SPACING[0], SPACING[1], SPACING[2], 1, 1, 1, 1};
        NiftiFixtures.write(f, s, NiftiFixtures.of(labels));
    }

    CommandRun score(String... more) {
        List<String> a = new ArrayList<>(List.of("--pred", dir.resolve("pred").toString(), "--target",
                dir.resolve("target").toString(), "--quiet", "--format", "json"));
        a.addAll(List.of(more));
        return CommandRunner.score(a.toArray(new String[0]));
    }

    @Test
    void surfaceDistancesAndMeansOfVolumesMatchTheReference() throws Exception {
        List<int[][]> vols = volumes(3, 1);
        for (boolean excludeBackground : new boolean[] {false, true}) {
            CommandRun r = excludeBackground ? score("--surface", "--nsd-tolerance", "1.5", "--backend", "cpu", "--exclude-background")
                    : score("--surface", "--nsd-tolerance", "1.5", "--backend", "cpu");
            assertEquals(0, r.code, r::toString);
            JsonNode j = r.json();
            assertEquals(3, j.get("images").asInt());
            int from = excludeBackground ? 1 : 0;
            double[][] sum = new double[3][K];
            int[][] n = new int[3][K];
            int[] missed = new int[K];
            long[][] counts = new long[3][K];
            double imageDice = 0;
            int images = 0;
            for (int[][] v : vols) {
                long[][] k = Fixtures.expected(K, v[0], v[1], null);
                Fixtures.add(counts, k);
                double s = 0;
                int d = 0;
                for (int c = from; c < K; c++) {
                    if (k[0][c] + k[1][c] + k[2][c] > 0) {
                        s += 2.0 * k[0][c] / (2 * k[0][c] + k[1][c] + k[2][c]);
                        d++;
                    }
                }
                if (d > 0) {
                    imageDice += s / d;
                    images++;
                }
                for (int c = from; c < K; c++) {
                    // with --exclude-background class 0's surface distances are not computed (they enter no mean)
                    double[] ref = SurfaceTest.Reference.of(v[0], v[1], c, null, DIMS, SurfaceTest.reversed(SPACING), 1.5);
                    for (int m = 0; m < 3; m++) {
                        if (!Double.isNaN(ref[m])) {
                            sum[m][c] += ref[m];
                            n[m][c]++;
                        }
                    }
                    missed[c] += (int) ref[3];
                }
            }
            String[] keys = {"hd95", "assd", "nsd"};
            double[] meanOfClasses = new double[3];
            int[] defined = new int[3];
            long total = 3L * DIMS[0] * DIMS[1] * DIMS[2];
            for (int c = 0; c < K; c++) {
                JsonNode o = j.get("per_class").get(c);
                assertEquals(total - counts[0][c] - counts[1][c] - counts[2][c], o.get("tn").asLong(), "tn " + c);
                assertEquals(missed[c], o.get("surface_missed").asInt(), "missed " + c);
                for (int m = 0; m < 3; m++) {
                    if (n[m][c] == 0) {
                        assertTrue(o.get(keys[m]).isNull(), keys[m] + " " + c);
                    } else {
                        double want = sum[m][c] / n[m][c];
                        assertEquals(want, o.get(keys[m]).asDouble(), 1e-6 * Math.max(1, want), keys[m] + " class " + c);
                        if (c >= from) {
                            meanOfClasses[m] += want;
                            defined[m]++;
                        }
                    }
                }
            }
            assertTrue(missed[3] >= 1, "the case has a missed surface");
            for (int m = 0; m < 3; m++) {
                assertEquals(meanOfClasses[m] / defined[m], j.get("mean_" + keys[m]).asDouble(), 1e-6, "mean_" + keys[m]);
            }
            long tp = 0;
            long fp = 0;
            long fn = 0;
            for (int c = from; c < K; c++) {
                tp += counts[0][c];
                fp += counts[1][c];
                fn += counts[2][c];
            }
            assertEquals(2.0 * tp / (2 * tp + fp + fn), j.get("micro_dice").asDouble(), 1e-12);
            assertEquals((double) tp / (tp + fp + fn), j.get("micro_iou").asDouble(), 1e-12);
            assertEquals(imageDice / images, j.get("imagewise_dice").asDouble(), 1e-12);
            assertEquals(excludeBackground, j.get("exclude_background").asBoolean());
            assertEquals(1.5, j.get("nsd_tolerance").asDouble());
        }
    }

    @Test
    void spacingOptionOverridesTheHeaderAndBadOptionsAreUsageErrors() throws Exception {
        List<int[][]> vols = volumes(1, 2);
        JsonNode j = score("--surface", "--spacing", "1,1,1", "--classes", "4").json();
        int[][] v = vols.get(0);
        for (int c = 0; c < K; c++) {
            double want = SurfaceTest.Reference.of(v[0], v[1], c, null, DIMS, new double[] {1, 1, 1}, 1)[0];
            JsonNode got = j.get("per_class").get(c).get("hd95");
            if (Double.isNaN(want)) {
                assertTrue(got.isNull());
            } else {
                assertEquals(want, got.asDouble(), 1e-6 * Math.max(1, want));
            }
        }
        score("--surface", "--spacing", "1,0,1").assertUsageError("--spacing", "1,0,1");
        score("--surface", "--nsd-tolerance", "-1").assertUsageError("--nsd-tolerance", "-1");
        CommandRun twoAxes = score("--surface", "--spacing", "1,1");
        assertEquals(3, twoAxes.code, twoAxes::toString);
        assertTrue(twoAxes.json().get("skipped").get(0).get("reason").asText().contains("--spacing has 2 values"), twoAxes.out);
    }

    @Test
    void tnCountsEveryPixelOfImagesThatLackAClassWhenClassesAreInferred() throws Exception {
        // volume 0 holds classes 0..4, volume 1 only 0 and 1: TN of classes 2..4 must include all of volume 1
        int n = DIMS[0] * DIMS[1] * DIMS[2];
        Random rnd = new Random(3);
        int[] t0 = Fixtures.randomLabels(rnd, n, 5);
        int[] p0 = Fixtures.noisy(rnd, t0, 5, 0.7);
        int[] t1 = Fixtures.randomLabels(rnd, n, 2);
        int[] p1 = Fixtures.noisy(rnd, t1, 2, 0.7);
        write(dir.resolve("target/a.nii.gz"), 4, 16, t0);
        write(dir.resolve("pred/a.nii.gz"), 4, 16, p0);
        write(dir.resolve("target/b.nii.gz"), 4, 16, t1);
        write(dir.resolve("pred/b.nii.gz"), 4, 16, p1);
        Path stats = dir.resolve("stats.json");
        JsonNode j = score("--save-stats", stats.toString()).json();
        JsonNode s = Reports.JSON.readTree(Files.readString(stats));
        long[][] k = Fixtures.expected(5, p0, t0, null);
        Fixtures.add(k, Fixtures.expected(5, p1, t1, null));
        for (int c = 0; c < 5; c++) {
            long tn = 2L * n - k[0][c] - k[1][c] - k[2][c];
            assertEquals(tn, j.get("per_class").get(c).get("tn").asLong(), "report tn " + c);
            assertEquals(tn, s.get("tn").get(c).asLong(), "stats tn " + c);
        }
    }

    @Test
    void scoreArraysAndLabelVolumesMixedOnOneDecodeThreadCountAsTheDefinitionSays() throws Exception {
        // One decode thread reads every target, each into the array of its last pair when that pair's label maps
        // are done with; a score array's target stays with its engine job, so it must not be read into again (the
        // job keeps the int labels themselves when they do not fit a byte: here the ignore index 300).
        int n = DIMS[0] * DIMS[1] * DIMS[2];
        Random rnd = new Random(11);
        long[][] want = new long[3][K];
        for (int i = 0; i < 6; i++) {
            int[] t = Fixtures.randomLabels(rnd, n, K);
            int[] hard = Fixtures.noisy(rnd, t, K, 0.5);
            for (int j = i; j < n; j += 7) {
                t[j] = 300;
            }
            write(dir.resolve("target/v" + i + ".nii.gz"), 4, 16, t);
            if (i % 3 == 0) {
                write(dir.resolve("pred/v" + i + ".nii"), 2, 8, hard);
            } else {
                // per-class scores (K, z, y, x) whose argmax is `hard`
                float[] v = new float[K * n];
                for (int j = 0; j < n; j++) {
                    for (int c = 0; c < K; c++) {
                        v[c * n + j] = c == hard[j] ? 0.7f : 0.1f;
                    }
                }
                Fixtures.npy(dir.resolve("pred/v" + i + ".npy"), "<f4", new long[] {K, DIMS[0], DIMS[1], DIMS[2]}, Fixtures.boxed(v));
            }
            Fixtures.add(want, Fixtures.expected(K, hard, t, 300));
        }
        JsonNode j = score("--threads", "1", "--backend", "cpu", "--classes", String.valueOf(K), "--ignore-index", "300").json();
        assertEquals(6, j.get("images").asInt(), j::toString);
        for (int c = 0; c < K; c++) {
            JsonNode o = j.get("per_class").get(c);
            assertEquals(want[0][c], o.get("tp").asLong(), "tp " + c);
            assertEquals(want[1][c], o.get("fp").asLong(), "fp " + c);
            assertEquals(want[2][c], o.get("fn").asLong(), "fn " + c);
        }
    }

    @Test
    void shardsMergedEqualOneRunWithSurfaceSums() throws Exception {
        volumes(3, 4);
        Path all = dir.resolve("all.json");
        CommandRun one = score("--surface", "--save-stats", all.toString());
        assertEquals(0, one.code, one::toString);
        // shard a: case_00 and case_01; shard b: case_02 (moved into their own directories)
        for (String shard : new String[] {"a", "b"}) {
            Files.createDirectories(dir.resolve(shard + "/pred"));
            Files.createDirectories(dir.resolve(shard + "/target"));
        }
        for (int i = 0; i < 3; i++) {
            String s = i < 2 ? "a" : "b";
            Files.copy(dir.resolve("pred/case_0" + i + ".nii"), dir.resolve(s + "/pred/case_0" + i + ".nii"));
            Files.copy(dir.resolve("target/case_0" + i + ".nii.gz"), dir.resolve(s + "/target/case_0" + i + ".nii.gz"));
        }
        List<String> files = new ArrayList<>();
        for (String shard : new String[] {"b", "a"}) {
            Path st = dir.resolve(shard + ".json");
            CommandRun r = CommandRunner.score("--pred", dir.resolve(shard + "/pred").toString(), "--target",
                    dir.resolve(shard + "/target").toString(), "--quiet", "--surface", "--save-stats", st.toString());
            assertEquals(0, r.code, r::toString);
            files.add(st.toString());
        }
        List<String> merge = new ArrayList<>(files);
        merge.addAll(List.of("--format", "json"));
        CommandRun m = CommandRunner.merge(merge.toArray(new String[0]));
        assertEquals(0, m.code, m::toString);
        assertEquals(one.out, m.out, "merged shards print the one run's report byte for byte");
        CommandRun again = CommandRunner.merge(all.toString(), "--format", "json");
        assertEquals(one.out, again.out);
        // --exclude-background is a reporting choice for the means: merge gives score's report with it
        CommandRun oneEx = score("--surface", "--exclude-background");
        List<String> mergeEx = new ArrayList<>(merge);
        mergeEx.add("--exclude-background");
        JsonNode merged = Reports.JSON.readTree(CommandRunner.merge(mergeEx.toArray(new String[0])).out);
        JsonNode direct = oneEx.json();
        for (String key : new String[] {"mean_dice", "mean_iou", "micro_dice", "micro_iou", "imagewise_dice", "imagewise_iou",
            "mean_hd95", "mean_assd", "mean_nsd"}) {
            assertEquals(direct.get(key), merged.get(key), key);
        }
        // a shard without --surface does not merge with one that has it
        Path plain = dir.resolve("plain.json");
        CommandRunner.score("--pred", dir.resolve("b/pred").toString(), "--target", dir.resolve("b/target").toString(),
                "--quiet", "--save-stats", plain.toString());
        CommandRunner.merge(files.get(1), plain.toString()).assertUsageError("surface distances do not add up");
    }

    @Test
    void badVolumesAreSkippedWithTheReasonAndStrictStops() throws Exception {
        volumes(1, 5);
        int n = DIMS[0] * DIMS[1] * DIMS[2];
        int[] labels = new int[n];
        // truncated gzip
        write(dir.resolve("target/trunc.nii.gz"), 4, 16, labels);
        byte[] b = Files.readAllBytes(dir.resolve("target/trunc.nii.gz"));
        Files.write(dir.resolve("target/trunc.nii.gz"), java.util.Arrays.copyOf(b, b.length / 2));
        write(dir.resolve("pred/trunc.nii"), 2, 8, labels);
        // header dims that disagree with the data length
        NiftiFixtures.Spec shortData = new NiftiFixtures.Spec(DIMS[2], DIMS[1], DIMS[0]);
        shortData.truncate = 10;
        NiftiFixtures.write(dir.resolve("pred/short.nii"), shortData, NiftiFixtures.of(labels));
        write(dir.resolve("target/short.nii"), 2, 8, labels);
        // dims that differ from the pair's
        NiftiFixtures.write(dir.resolve("pred/other.nii"), new NiftiFixtures.Spec(DIMS[2], DIMS[1], DIMS[0] - 1),
                new double[DIMS[2] * DIMS[1] * (DIMS[0] - 1)]);
        write(dir.resolve("target/other.nii"), 2, 8, labels);
        // non-integral float labels
        double[] frac = new double[n];
        frac[3] = 0.25;
        NiftiFixtures.write(dir.resolve("pred/frac.nii"), new NiftiFixtures.Spec(DIMS[2], DIMS[1], DIMS[0]).type(16, 32), frac);
        write(dir.resolve("target/frac.nii"), 2, 8, labels);
        // a header declaring 10^12 voxels
        NiftiFixtures.Spec huge = new NiftiFixtures.Spec(1);
        huge.version = 2;
        huge.dim = new long[] {3, 10_000, 10_000, 10_000, 1, 1, 1, 1};
        Files.write(dir.resolve("pred/huge.nii.gz"), NiftiFixtures.bytes(huge, new double[0], true));
        write(dir.resolve("target/huge.nii"), 2, 8, labels);
        CommandRun r = score("--surface");
        assertEquals(3, r.code, r::toString);
        JsonNode j = r.json();
        assertEquals(1, j.get("images").asInt(), "only the good volume is counted");
        String skipped = j.get("skipped").toString();
        for (String why : new String[] {"truncated", "declare", "size mismatch", "non-integral label 0.25", "1000000000000 voxels"}) {
            assertTrue(skipped.contains(why), why + " in " + skipped);
        }
        assertEquals(5, j.get("skipped").size(), skipped);
        CommandRun strict = score("--surface", "--strict");
        assertEquals(2, strict.code, strict::toString);
        assertTrue(strict.err.startsWith("error: ") && strict.err.contains("(--strict)"), strict.err);
    }

    @Test
    void openClGivesTheSameReportAsTheCpu() throws Exception {
        org.segloss.TestBackends.openOrSkip("opencl").close();
        volumes(3, 6);
        CommandRun cpu = score("--surface", "--backend", "cpu", "--per-image");
        CommandRun cl = score("--surface", "--backend", "opencl", "--per-image");
        assertEquals(0, cl.code, cl::toString);
        assertEquals(cpu.out, cl.out, "the distance transform gives the same bits on every backend");
    }

    @Test
    void perClassScoresAreRefusedWithSurfaceAndPngUsesUnitSpacing() throws Exception {
        Fixtures.npy(dir.resolve("pred/s.npy"), "<f4", new long[] {2, 4, 5}, Fixtures.boxed(new float[40]));
        int[] t = new int[20];
        t[6] = 1;
        t[7] = 1;
        Fixtures.gray8(dir.resolve("target/s.png"), t, 4, 5);
        CommandRun r = score("--surface");
        assertEquals(3, r.code, r::toString);
        assertTrue(r.json().get("skipped").get(0).get("reason").asText().contains("--surface needs a class-map prediction"), r.out);
        Files.delete(dir.resolve("pred/s.npy"));
        int[] p = new int[20];
        p[8] = 1;
        Fixtures.gray8(dir.resolve("pred/s.png"), p, 4, 5);
        JsonNode j = score("--surface").json();
        // class 1: target pixels (1,1),(1,2), prediction (1,3): boundary distances {2, 1} and {1}: hd95 = max(p95{1,2}, 1) = 1.95
        assertEquals(1.95, j.get("per_class").get(1).get("hd95").asDouble(), 1e-9);
        assertEquals((2 + 1 + 1) / 3.0, j.get("per_class").get(1).get("assd").asDouble(), 1e-9);
    }
}
