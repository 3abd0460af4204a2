package org.segloss.score;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.segloss.BackendException;
import org.segloss.BackendUnavailableException;
import org.segloss.InvalidInputException;
import org.segloss.backend.Dispatcher;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code segloss score}: hard per-class counts and metrics of predictions against targets over a
 * dataset. Exit 0, 3 when files were skipped (listed with the reason, never counted), 2 for a usage
 * error or refused input (and at the first bad file with --strict), 1 for a runtime failure.
 */
@Command(name = "score", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Score a dataset of predictions: per-class counts, Dice, IoU, precision, recall.",
        description = {"Scores predictions against targets: per-class TP, FP, FN, Dice, IoU, precision, recall,",
                "summed over a dataset (64-bit counts), mean Dice and IoU over the defined classes.",
                "Files are paired by name stem (relative path without extension) when --pred and --target are directories.",
                "Predictions: PNG label maps (8/16-bit gray, palette), .npy class maps, or .npy per-class probabilities/logits",
                "(C,*S) or (*S,C) (argmax; one channel or *S alone: threshold). Targets: PNG or integer .npy class maps."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:every file scored", "1:runtime failure (I/O, device)",
                "2:usage error or refused input (first bad file with --strict)",
                "3:some files were skipped (listed with the reason; not counted)"})
public final class ScoreCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--pred", required = true, paramLabel = "P", description = "Prediction file or directory.")
    Path pred;

    @Option(names = "--target", required = true, paramLabel = "T", description = "Target file or directory.")
    Path target;

    @Mixin
    ScoreSettings settings;

    @Option(names = "--class-names", paramLabel = "FILE", description = "One class name per line.")
    Path classNames;

    @Option(names = "--per-image", description = "Also print one row per image.")
    boolean perImage;

    @Mixin
    ReportOptions reportOptions;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the report here instead of standard output.")
    Path out;

    @Option(names = "--report", paramLabel = "DIR", description = "Write an offline HTML report (charts, worst-image overlays) into DIR.")
    Path report;

    @Option(names = "--save-stats", paramLabel = "FILE", description = "Write the integer counts as JSON for 'segloss merge'.")
    Path saveStats;

    @Option(names = "--backend", paramLabel = "B", description = "auto, cpu, opencl or cuda, for per-class score predictions (default: auto).")
    String backend;

    @Option(names = "--threads", paramLabel = "N", description = "Decode threads (default: the number of CPUs).")
    Integer threads;

    @Option(names = "--quiet", description = "No progress bar, no notes on standard error.")
    boolean quiet;

    @Option(names = "--strict", description = "Stop with exit code 2 at the first file that cannot be scored.")
    boolean strict;

    /** Images kept as worst candidates when --worst is not given (for the report and merges). */
    static final int DEFAULT_WORST = 8;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter stdout = spec.commandLine().getOut();
        try {
            return run(err, stdout);
        } catch (BackendUnavailableException e) {
            return CommandSupport.fail(err, new CommandSupport.UsageException("--backend "
                    + (backend == null ? Dispatcher.requested(null) : backend) + ": " + e.getMessage()), reportOptions.debug,
                    CommandSupport.EXIT_USAGE);
        } catch (CommandSupport.UsageException | InvalidInputException e) {
            return CommandSupport.fail(err, e, reportOptions.debug, CommandSupport.EXIT_USAGE);
        } catch (IOException | BackendException e) {
            return CommandSupport.fail(err, e, reportOptions.debug, CommandSupport.EXIT_FAILURE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CommandSupport.fail(err, e, reportOptions.debug, CommandSupport.EXIT_FAILURE);
        }
    }

    private int run(PrintWriter err, PrintWriter stdout)
            throws CommandSupport.UsageException, IOException, InterruptedException {
        String fmt = CommandSupport.format(reportOptions.format);
        Scorer.Options o = options();
        List<String> names = CommandSupport.classNames(classNames, settings.classes);
        checkPaths();
        Pairing pairing = Pairing.of(pred, target);
        Tally tally = new Tally(new Tally.Settings(settings.ignoreIndex, settings.threshold, settings.fromLogits, settings.classes == null),
                settings.classes == null ? 0 : settings.classes, perImage, o.worstK);
        tally.excludeBackground = settings.excludeBackground;
        if (o.surface) {
            tally.surfaceFromClass = settings.excludeBackground ? 1 : 0;
            tally.surfaceTolerance = o.nsdTolerance;
            tally.spacing = settings.spacing == null ? null : spacingText(o.spacing);
        }
        for (Tally.Skipped s : pairing.unpaired) {
            if (strict) {
                err.println("error: " + s.file + ": " + s.reason + " (--strict)");
                return CommandSupport.EXIT_USAGE;
            }
            tally.skip(s.file, s.reason);
        }
        if (!quiet && pairing.otherFiles > 0) {
            err.println("note: " + pairing.otherFiles + " files that are not .png, .npy, .nii or .nii.gz were left out");
        }
        Scorer.Outcome outcome;
        try (ProgressBar bar = progressBar(pairing.pairs.size())) {
            outcome = new Scorer(o).run(pairing.pairs, tally, bar == null ? null : rate(bar));
        }
        if (outcome.stoppedAt != null) {
            err.println("error: " + outcome.stoppedAt.file + ": " + outcome.stoppedAt.reason + " (--strict)");
            return CommandSupport.EXIT_USAGE;
        }
        String header = header(tally, outcome);
        if (!quiet) {
            err.println(timing(outcome));
            if (settings.classes == null) {
                err.println("note: " + tally.classes() + " classes, inferred from the largest label seen (or the"
                        + " prediction's channels); set --classes to fix the count");
            }
        }
        if (saveStats != null) {
            StatsFile.save(tally, saveStats);
        }
        if (report != null) {
            Path index = HtmlReport.write(report, tally, names, settings.threshold, settings.fromLogits, "segloss score: " + pred.getFileName());
            if (!quiet) {
                err.println("report: " + index.toAbsolutePath());
            }
        }
        CommandSupport.emit(tally, names, fmt, perImage, reportOptions.worst != null, header, out, stdout);
        err.flush();
        return tally.skipped().isEmpty() ? 0 : CommandSupport.EXIT_SKIPPED;
    }

    private Scorer.Options options() throws CommandSupport.UsageException {
        if (settings.classes != null && (settings.classes < 1 || settings.classes > Counting.MAX_INFERRED_CLASSES)) {
            throw new CommandSupport.UsageException("--classes must be in [1, " + Counting.MAX_INFERRED_CLASSES + "], was " + settings.classes);
        }
        if (!(settings.threshold >= 0 && settings.threshold <= 1)) {
            throw new CommandSupport.UsageException("--threshold must be in [0, 1], was " + settings.threshold);
        }
        if (reportOptions.worst != null && reportOptions.worst < 0) {
            throw new CommandSupport.UsageException("--worst must be >= 0, was " + reportOptions.worst);
        }
        if (threads != null && threads < 1) {
            throw new CommandSupport.UsageException("--threads must be >= 1, was " + threads);
        }
        if (settings.maxPixels < 1) {
            throw new CommandSupport.UsageException("--max-pixels must be >= 1, was " + settings.maxPixels);
        }
        Scorer.Options o = new Scorer.Options();
        o.maxPixels = settings.maxPixels;
        o.layout = settings.parsedLayout();
        if (backend != null) {
            o.backend = CommandSupport.backend(backend);
        }
        o.classes = settings.classes;
        o.ignoreIndex = settings.ignoreIndex;
        o.threshold = settings.threshold;
        o.fromLogits = settings.fromLogits;
        if (threads != null) {
            o.threads = threads;
        }
        o.strict = strict;
        o.keepPerImage = perImage;
        o.spacing = settings.parsedSpacing();
        o.surface = settings.surface;
        o.nsdTolerance = settings.nsdTolerance;
        o.excludeBackground = settings.excludeBackground;
        o.worstK = reportOptions.worst != null ? reportOptions.worst : DEFAULT_WORST;
        return o;
    }

    /** The spacing as recorded in stats files ({@code 0.5,0.5,2.0}): merge compares it. */
    static String spacingText(double[] spacing) {
        StringBuilder sb = new StringBuilder();
        for (double v : spacing) {
            sb.append(sb.length() == 0 ? "" : ",").append(v);
        }
        return sb.toString();
    }

    private void checkPaths() throws CommandSupport.UsageException {
        if (!Files.exists(pred)) {
            throw new CommandSupport.UsageException("--pred " + pred + ": no such file or directory");
        }
        if (!Files.exists(target)) {
            throw new CommandSupport.UsageException("--target " + target + ": no such file or directory");
        }
        if (Files.isDirectory(pred) != Files.isDirectory(target)) {
            throw new CommandSupport.UsageException("--target " + target + " must be a " + (Files.isDirectory(pred) ? "directory" : "file")
                    + " like --pred " + pred + ", was a " + (Files.isDirectory(target) ? "directory" : "file"));
        }
        if (!Files.isDirectory(pred)) {
            for (Path p : new Path[] {pred, target}) {
                if (!Pairing.scorable(p)) {
                    throw new CommandSupport.UsageException((p == pred ? "--pred " : "--target ") + p
                            + " must be a .png, .npy, .nii or .nii.gz file");
                }
            }
        }
    }

    private ProgressBar progressBar(int total) {
        if (quiet || !onTerminal() || total == 0) {
            return null;
        }
        return new ProgressBarBuilder().setTaskName("score").setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" files", 1)
                .setUpdateIntervalMillis(250).build();
    }

    /**
     * Steps the bar and shows the rate as files over the elapsed nanoseconds, one decimal (the
     * library's own speed divides by whole elapsed seconds: "?" during the first second, then steps).
     */
    private static Scorer.Progress rate(ProgressBar bar) {
        long start = System.nanoTime();
        return () -> {
            bar.step();
            bar.setExtraMessage(rateText(bar.getCurrent(), System.nanoTime() - start));
        };
    }

    /** {@code 12.3 files/s}. */
    static String rateText(long files, long nanos) {
        return String.format(Locale.ROOT, "%.1f files/s", files / Math.max(nanos / 1e9, 1e-9));
    }

    /** True when standard error goes to a terminal (Java 22+ has a Console even when redirected: ask it). */
    static boolean onTerminal() {
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (NoSuchMethodException e) {
            return true;
        } catch (ReflectiveOperationException | ClassCastException e) {
            return false;
        }
    }

    private String header(Tally t, Scorer.Outcome o) {
        return "segloss score: " + t.images() + " images, " + t.classes() + " classes"
                + (settings.classes == null ? " (inferred)" : "")
                + (settings.ignoreIndex == null ? "" : ", ignore index " + settings.ignoreIndex)
                + (o.engineImages > 0 ? ", score predictions counted on " + o.backend : "")
                + ", " + t.skipped().size() + " skipped";
    }

    static String timing(Scorer.Outcome o) {
        long images = o.tally.images() + o.tally.skipped().size();
        double wall = o.wallNanos / 1e9;
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "scored %d files in %.2f s (%.1f files/s) with %d decode threads",
                images, wall, images / Math.max(wall, 1e-9), o.threads));
        if (images > 0) {
            sb.append(String.format(Locale.ROOT, "; per file: decode %.2f ms", o.decodeNanos / 1e6 / images));
            if (o.hostCountNanos > 0) {
                sb.append(String.format(Locale.ROOT, ", host count %.2f ms", o.hostCountNanos / 1e6 / images));
            }
            if (o.engineImages > 0) {
                sb.append(String.format(Locale.ROOT, ", %s count %.2f ms", o.backend, o.engineCountNanos / 1e6 / o.engineImages));
            }
            if (o.surfaceNanos > 0) {
                sb.append(String.format(Locale.ROOT, ", surface distances %.2f ms (%s)", o.surfaceNanos / 1e6 / images,
                        o.backend == null ? "cpu" : o.backend));
            }
        }
        return sb.toString();
    }

    /** Runs the command on its own ({@code java -cp segloss.jar org.segloss.score.ScoreCommand ...}). */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** A command line with this command and the error convention installed. */
    public static CommandLine commandLine() {
        return CommandSupport.configure(new CommandLine(new ScoreCommand()));
    }
}
