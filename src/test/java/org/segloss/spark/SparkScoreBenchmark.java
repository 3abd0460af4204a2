package org.segloss.spark;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.segloss.score.ScoreCommand;
import org.segloss.score.ScoreParts;
import picocli.CommandLine;

/**
 * Images per second of the Spark job in local mode against {@code segloss score} on the same PNG
 * pairs (512x512, 19 classes): {@code java ... org.segloss.spark.SparkScoreBenchmark [pairs] [cores]}.
 * Rounds alternate between the two (a first, untimed round warms the JIT and the page cache) and
 * the medians are compared; the Spark session's start-up is timed apart.
 */
final class SparkScoreBenchmark {
    private SparkScoreBenchmark() {
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    public static void main(String[] args) throws Exception {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int cores = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        int size = 512;
        int classes = 19;
        Path dir = Files.createTempDirectory("segloss-spark-bench");
        try {
            SparkFixtures.pngPairs(dir, "img", pairs, size, classes, -1, 1);
            String pred = dir.resolve("pred").toString();
            String target = dir.resolve("target").toString();
            System.out.printf(Locale.ROOT, "%d PNG pairs %dx%d, %d classes, %d cores (machine has %d)%n", pairs, size, size,
                    classes, cores, Runtime.getRuntime().availableProcessors());

            long s0 = System.nanoTime();
            SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("segloss-bench")
                    .config("spark.ui.enabled", "false").config("spark.log.level", "ERROR")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            System.out.printf(Locale.ROOT, "spark session start (local[%d]): %.2f s%n", cores, (System.nanoTime() - s0) / 1e9);
            try {
                // Rounds alternate between the two so that load from other processes hits both alike;
                // round 0 warms up (JIT, page cache) and is not counted.
                int[] partitionChoices = {0, cores};
                double[] single = new double[rounds];
                double[][] sparkTimes = new double[partitionChoices.length][rounds];
                int[] partitionsUsed = new int[partitionChoices.length];
                String singleJson = null;
                boolean identical = true;
                for (int round = 0; round <= rounds; round++) {
                    StringWriter out = new StringWriter();
                    CommandLine cl = ScoreCommand.commandLine();
                    cl.setOut(new PrintWriter(out, true));
                    long t0 = System.nanoTime();
                    cl.execute("--pred", pred, "--target", target, "--threads", Integer.toString(cores), "--format", "json", "--quiet");
                    double t = (System.nanoTime() - t0) / 1e9;
                    singleJson = out.toString();
                    if (round > 0) {
                        single[round - 1] = t;
                    }
                    for (int k = 0; k < partitionChoices.length; k++) {
                        t0 = System.nanoTime();
                        SparkScoring.Result r = SparkScoring.score(spark, pred, target, new ScoreParts.Options(), partitionChoices[k]);
                        t = (System.nanoTime() - t0) / 1e9;
                        identical &= r.report("json", null, false).equals(singleJson);
                        partitionsUsed[k] = r.partitions();
                        r.unpersist();
                        if (round > 0) {
                            sparkTimes[k][round - 1] = t;
                        }
                    }
                }
                double s = median(single);
                System.out.printf(Locale.ROOT, "segloss score --threads %d: median %.2f s, %.1f images/s (runs %s)%n", cores, s,
                        pairs / s, Arrays.toString(single));
                for (int k = 0; k < partitionChoices.length; k++) {
                    double m = median(sparkTimes[k]);
                    System.out.printf(Locale.ROOT, "spark local[%d], %d partitions: median %.2f s, %.1f images/s, overhead %+.0f%%"
                                    + " (runs %s)%n", cores, partitionsUsed[k], m, pairs / m, 100 * (m / s - 1),
                            Arrays.toString(sparkTimes[k]));
                }
                System.out.println("reports identical to segloss score: " + identical);
            } finally {
                spark.stop();
            }
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
