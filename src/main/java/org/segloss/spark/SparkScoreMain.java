package org.segloss.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.segloss.score.CommandSupport;
import org.segloss.score.ReportOptions;
import org.segloss.score.ScoreParts;
import org.segloss.score.ScoreSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin
    ScoreSettings settings;

    @Option(names = "--class-names", paramLabel = "FILE", description = "One class name per line (a file on the driver).")
    Path classNames;

    @Mixin
    ReportOptions reportOptions;

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

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(err, spec.commandLine().getOut());
        } catch (IllegalArgumentException | CommandSupport.UsageException e) {
            return CommandSupport.fail(err, e, reportOptions.debug, CommandSupport.EXIT_USAGE);
        } catch (IOException | RuntimeException e) {
            return CommandSupport.fail(err, e, reportOptions.debug, CommandSupport.EXIT_FAILURE);
        }
    }

    private int run(PrintWriter err, PrintWriter stdout) throws IOException, CommandSupport.UsageException {
        String fmt = CommandSupport.format(reportOptions.format);
        if (partitions != null && partitions < 1) {
            throw new IllegalArgumentException("--partitions must be >= 1, was " + partitions);
        }
        ScoreParts.Options o = options();
        List<String> names = ScoreParts.classNames(classNames, settings.classes);
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
                    err.println("note: " + r.otherFiles() + " files that are not .png, .npy, .nii or .nii.gz were left out");
                }
                if (settings.classes == null) {
                    err.println("note: " + r.classes() + " classes, inferred from the largest label seen (or the"
                            + " prediction's channels); set --classes to fix the count");
                }
            }
            if (saveStats != null) {
                r.total().saveStats(saveStats);
            }
            String text = r.report(fmt, names, reportOptions.worst != null);
            CommandSupport.write(text, out, stdout);
            r.unpersist();
            err.flush();
            return r.skipped().isEmpty() ? 0 : CommandSupport.EXIT_SKIPPED;
        } finally {
            if (ownSession) {
                spark.stop();
            }
        }
    }

    ScoreParts.Options options() throws CommandSupport.UsageException {
        ScoreParts.Options o = new ScoreParts.Options();
        o.classes = settings.classes;
        o.ignoreIndex = settings.ignoreIndex;
        o.threshold = settings.threshold;
        o.fromLogits = settings.fromLogits;
        o.maxPixels = settings.maxPixels;
        o.layout = settings.parsedLayout();
        o.excludeBackground = settings.excludeBackground;
        o.spacing = settings.parsedSpacing();
        o.surface = settings.surface;
        o.nsdTolerance = settings.nsdTolerance;
        if (backend != null) {
            o.backend = CommandSupport.backend(backend);
        }
        if (reportOptions.worst != null) {
            o.worstK = reportOptions.worst;
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
