package org.segloss.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.backend.Dispatcher;
import org.segloss.score.CommandSupport;
import org.segloss.score.ScoreParts;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The main class for {@code spark-submit}: {@code segloss score} over a dataset on a Spark cluster.
 * Prints the same report (table, JSON or CSV) and writes the per-image rows as Parquet where asked.
 * Exit codes as {@code segloss score}: 0, 3 when files were skipped, 2 for a usage error, 1 for a
 * runtime failure.
 *
 * <pre>
 * spark-submit --class org.segloss.spark.SparkScoreMain segloss.jar \
 *     --pred s3a://bucket/preds --target s3a://bucket/gt --ignore-index 255 \
 *     --format json --out score.json --per-image-out s3a://bucket/per-image.parquet
 * </pre>
 */
@Command(name = "segloss-spark-score", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"segloss score as a Spark job: pairs files by stem on any Hadoop filesystem, decodes and counts them",
                "on the executors, adds the integer counts with a tree reduce and prints the report of segloss score."})
public final class SparkScoreMain implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--pred", required = true, paramLabel = "P", description = "Prediction file or directory (any Hadoop path).")
    String pred;

    @Option(names = "--target", required = true, paramLabel = "T", description = "Target file or directory (any Hadoop path).")
    String target;

    @Option(names = "--classes", paramLabel = "K", description = "Number of classes (default: inferred and stated).")
    Integer classes;

    @Option(names = "--ignore-index", paramLabel = "K", description = "Target label to leave out of every count (e.g. 255).")
    Integer ignoreIndex;

    @Option(names = "--threshold", paramLabel = "T", defaultValue = "0.5", description = "Binary threshold (default: ${DEFAULT-VALUE}).")
    double threshold;

    @Option(names = "--from-logits", description = "Per-class .npy predictions are logits.")
    boolean fromLogits;

    @Option(names = "--layout", paramLabel = "L", defaultValue = "auto", description = "Class axis of .npy scores: auto, nchw, nhwc.")
    String layout;

    @Option(names = "--class-names", paramLabel = "FILE", description = "One class name per line (a file on the driver).")
    Path classNames;

    @Option(names = {"--worst", "--top-k"}, paramLabel = "K", description = "Print the K images with the lowest mean Dice.")
    Integer worst;

    @Option(names = "--format", paramLabel = "F", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the report to this file on the driver instead of standard output.")
    Path out;

    @Option(names = "--per-image-out", paramLabel = "PATH", description = "Write one row per image as Parquet here (any Hadoop path).")
    String perImageOut;

    @Option(names = "--save-stats", paramLabel = "FILE", description = "Write the integer counts for 'segloss merge' (a file on the driver).")
    Path saveStats;

    @Option(names = "--backend", paramLabel = "B", description = "auto, cpu, opencl or cuda on every executor (default: each executor's"
            + " segloss.backend / SEGLOSS_BACKEND, else auto).")
    String backend;

    @Option(names = "--partitions", paramLabel = "N", description = "Partitions (default: 4 per default-parallelism slot).")
    Integer partitions;

    @Option(names = "--quiet", description = "No notes on standard error.")
    boolean quiet;

    @Option(names = "--debug", description = "Print stack traces with errors.")
    boolean debug;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(err, spec.commandLine().getOut());
        } catch (IllegalArgumentException e) {
            return fail(err, e, CommandSupport.EXIT_USAGE);
        } catch (IOException | RuntimeException e) {
            return fail(err, e, CommandSupport.EXIT_FAILURE);
        }
    }

    private int fail(PrintWriter err, Exception e, int code) {
        err.println("error: " + e.getMessage());
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    private int run(PrintWriter err, PrintWriter stdout) throws IOException {
        String fmt = format.toLowerCase(Locale.ROOT);
        if (!fmt.equals("table") && !fmt.equals("json") && !fmt.equals("csv")) {
            throw new IllegalArgumentException("--format must be one of table, json, csv, was " + format);
        }
        if (partitions != null && partitions < 1) {
            throw new IllegalArgumentException("--partitions must be >= 1, was " + partitions);
        }
        ScoreParts.Options o = options();
        List<String> names = ScoreParts.classNames(classNames, classes);
        // Under spark-submit this creates the session; inside an application that has one, it is reused and left running.
        boolean ownSession = SparkSession.getDefaultSession().isEmpty();
        SparkSession spark = SparkSession.builder().appName("segloss score").getOrCreate();
        try {
            long t0 = System.nanoTime();
            SparkScoring.Result r = SparkScoring.score(spark, pred, target, o, partitions == null ? 0 : partitions);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (perImageOut != null) {
                r.perImage().write().mode("errorifexists").parquet(perImageOut);
            }
            if (!quiet) {
                long files = r.images() + r.skipped().size();
                err.println(String.format(Locale.ROOT, "scored %d files in %.2f s (%.1f files/s) on %d partitions;"
                        + " counted on %s", files, seconds, files / Math.max(seconds, 1e-9), r.partitions(),
                        r.countedOnByPartition().values().stream().distinct().sorted().reduce((a, b) -> a + ", " + b)
                                .orElse("none")));
                if (r.otherFiles() > 0) {
                    err.println("note: " + r.otherFiles() + " files that are neither .png nor .npy were left out");
                }
                if (classes == null) {
                    err.println("note: " + r.classes() + " classes, inferred from the largest label seen (or the"
                            + " prediction's channels); set --classes to fix the count");
                }
            }
            if (saveStats != null) {
                r.total().saveStats(saveStats);
            }
            String text = r.report(fmt, names, worst != null);
            if (out != null) {
                Path parent = out.toAbsolutePath().getParent();
                if (parent != null) {
                    Files.createDirectories(parent);
                }
                Files.writeString(out, text);
            } else {
                stdout.print(text);
                stdout.flush();
            }
            r.unpersist();
            err.flush();
            return r.skipped().isEmpty() ? 0 : CommandSupport.EXIT_SKIPPED;
        } finally {
            if (ownSession) {
                spark.stop();
            }
        }
    }

    ScoreParts.Options options() {
        ScoreParts.Options o = new ScoreParts.Options();
        o.classes = classes;
        o.ignoreIndex = ignoreIndex;
        o.threshold = threshold;
        o.fromLogits = fromLogits;
        String l = layout.toLowerCase(Locale.ROOT);
        if (!l.equals("auto")) {
            try {
                o.layout = Layout.parse(l);
            } catch (InvalidInputException e) {
                throw new IllegalArgumentException("--layout must be one of auto, nchw, nhwc, was " + layout);
            }
        }
        if (backend != null) {
            try {
                o.backend = Dispatcher.requested(backend);
            } catch (InvalidInputException e) {
                throw new IllegalArgumentException("--backend must be one of auto, cpu, opencl, cuda, was " + backend);
            }
        }
        if (worst != null) {
            o.worstK = worst;
        }
        o.check();
        return o;
    }

    /** A command line with segloss's error convention (parse errors: one line, exit 2). */
    public static CommandLine commandLine() {
        return CommandSupport.configure(new CommandLine(new SparkScoreMain()));
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }
}
