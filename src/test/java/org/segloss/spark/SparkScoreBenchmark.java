package org.segloss.spark;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * Each side runs twice on the same files (the first run warms the JIT and the page cache) and the
 * second is timed; the Spark session's start-up is timed apart.
 */
final class SparkScoreBenchmark {
    private SparkScoreBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
        int cores = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int size = 512;
        int classes = 19;
        Path dir = Files.createTempDirectory("segloss-spark-bench");
        try {
            SparkFixtures.pngPairs(dir, "img", pairs, size, classes, -1, 1);
            String pred = dir.resolve("pred").toString();
            String target = dir.resolve("target").toString();
            System.out.printf(Locale.ROOT, "%d PNG pairs %dx%d, %d classes, %d cores (machine has %d)%n", pairs, size, size,
                    classes, cores, Runtime.getRuntime().availableProcessors());

            String single = null;
            double singleSeconds = 0;
            for (int round = 0; round < 2; round++) {
                StringWriter out = new StringWriter();
                CommandLine cl = ScoreCommand.commandLine();
                cl.setOut(new PrintWriter(out, true));
                long t0 = System.nanoTime();
                cl.execute("--pred", pred, "--target", target, "--threads", Integer.toString(cores), "--format", "json", "--quiet");
                singleSeconds = (System.nanoTime() - t0) / 1e9;
                single = out.toString();
            }
            System.out.printf(Locale.ROOT, "segloss score --threads %d: %.2f s, %.1f images/s%n", cores, singleSeconds,
                    pairs / singleSeconds);

            long s0 = System.nanoTime();
            SparkSession spark = SparkSession.builder().master("local[" + cores + "]").appName("segloss-bench")
                    .config("spark.ui.enabled", "false").config("spark.log.level", "ERROR")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            double startSeconds = (System.nanoTime() - s0) / 1e9;
            try {
                System.out.printf(Locale.ROOT, "spark session start (local[%d]): %.2f s%n", cores, startSeconds);
                for (int partitions : new int[] {0, cores}) {
                    double sparkSeconds = 0;
                    SparkScoring.Result r = null;
                    for (int round = 0; round < 2; round++) {
                        long t0 = System.nanoTime();
                        r = SparkScoring.score(spark, pred, target, new ScoreParts.Options(), partitions);
                        sparkSeconds = (System.nanoTime() - t0) / 1e9;
                        r.unpersist();
                    }
                    boolean same = r.report("json", null, false).equals(single);
                    System.out.printf(Locale.ROOT, "spark local[%d], %d partitions: %.2f s, %.1f images/s, overhead %+.0f%%"
                                    + " vs segloss score; report identical: %s%n", cores, r.partitions(), sparkSeconds,
                            pairs / sparkSeconds, 100 * (sparkSeconds / singleSeconds - 1), same);
                }
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
