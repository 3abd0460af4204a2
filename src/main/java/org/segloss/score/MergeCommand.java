package org.segloss.score;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code segloss merge A.json B.json ...}: adds the integer counts written by
 * {@code score --save-stats} and prints the same report as {@code score}. The sum is exact, so
 * shards scored apart and merged give the result of one run.
 */
@Command(name = "merge", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Adds stats files written by 'segloss score --save-stats' (exactly: integer counts) and prints the report."},
        exitCodeListHeading = "Exit codes:%n",
        exitCodeList = {"0:merged; no file was skipped in any shard", "1:runtime failure (I/O)",
                "2:usage error, unreadable or malformed stats file, or shards scored with different settings",
                "3:merged; some files were skipped in the shards (listed)"})
public final class MergeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "STATS", description = "Stats files (JSON) from score --save-stats.")
    List<Path> files;

    @Option(names = "--class-names", paramLabel = "FILE", description = "One class name per line.")
    Path classNames;

    @Option(names = "--per-image", description = "Also print one row per image (when every shard saved them).")
    boolean perImage;

    @Mixin
    ReportOptions reportOptions;

    @Option(names = "--out", paramLabel = "FILE", description = "Write the report here instead of standard output.")
    Path out;

    @Option(names = "--report", paramLabel = "DIR", description = "Write an offline HTML report into DIR.")
    Path report;

    @Option(names = "--save-stats", paramLabel = "FILE", description = "Write the merged counts (to merge again later).")
    Path saveStats;

    @Option(names = "--quiet", description = "No notes on standard error.")
    boolean quiet;

    @Option(names = "--exclude-background", description = "Leave class 0 out of every mean (per_class still lists it).")
    boolean excludeBackground;

    private static String surfaceSettings(StatsFile.Loaded l) {
        return l.nsdTolerance == null ? "no surface distances"
                : "surface distances (nsd tolerance " + l.nsdTolerance + ", spacing " + (l.spacing == null ? "from the files" : l.spacing)
                + (l.surfaceFromClass == 1 ? ", class 0 left out by --exclude-background" : "") + ")";
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        try {
            return run(err, spec.commandLine().getOut());
        } catch (CommandSupport.UsageException e) {
            return CommandSupport.fail(err, e, reportOptions.debug, CommandSupport.EXIT_USAGE);
        } catch (IOException e) {
            return CommandSupport.fail(err, e, reportOptions.debug, CommandSupport.EXIT_FAILURE);
        }
    }

    private int run(PrintWriter err, PrintWriter stdout) throws CommandSupport.UsageException, IOException {
        String fmt = CommandSupport.format(reportOptions.format);
        if (reportOptions.worst != null && reportOptions.worst < 0) {
            throw new CommandSupport.UsageException("--worst must be >= 0, was " + reportOptions.worst);
        }
        StatsFile.Loaded[] loaded = new StatsFile.Loaded[files.size()];
        for (int i = 0; i < loaded.length; i++) {
            Path f = files.get(i);
            try {
                loaded[i] = StatsFile.load(f);
            } catch (NoSuchFileException e) {
                throw new CommandSupport.UsageException("stats file " + f + ": no such file");
            } catch (IOException e) {
                throw new CommandSupport.UsageException("stats file " + f + " cannot be read: " + e.getMessage());
            } catch (BadFileException e) {
                throw new CommandSupport.UsageException("stats file " + f + ": " + e.getMessage());
            }
        }
        StatsFile.Loaded first = loaded[0];
        boolean inferred = true;
        Integer explicitClasses = null;
        boolean allPerImage = true;
        int worstK = Integer.MAX_VALUE;
        for (StatsFile.Loaded l : loaded) {
            if (!Objects.equals(l.ignoreIndex, first.ignoreIndex) || l.fromLogits != first.fromLogits
                    || Double.compare(l.threshold, first.threshold) != 0) {
                throw new CommandSupport.UsageException("stats file " + l.file + " was scored with ignore_index "
                        + l.ignoreIndex + ", threshold " + l.threshold + ", from_logits " + l.fromLogits + " but " + first.file
                        + " with ignore_index " + first.ignoreIndex + ", threshold " + first.threshold + ", from_logits "
                        + first.fromLogits + ": their counts do not add up");
            }
            if (!l.classesInferred) {
                if (explicitClasses != null && explicitClasses != l.classes) {
                    throw new CommandSupport.UsageException("stats file " + l.file + " has " + l.classes
                            + " classes, another shard " + explicitClasses + " (both set with --classes)");
                }
                explicitClasses = l.classes;
                inferred = false;
            }
            if (!Objects.equals(l.nsdTolerance, first.nsdTolerance) || !Objects.equals(l.spacing, first.spacing)
                    || l.surfaceFromClass != first.surfaceFromClass) {
                throw new CommandSupport.UsageException("stats file " + l.file + " was scored with "
                        + surfaceSettings(l) + " but " + first.file + " with " + surfaceSettings(first)
                        + ": their surface distances do not add up");
            }
            allPerImage &= l.perImage != null;
            worstK = Math.min(worstK, l.worstK);
        }
        for (StatsFile.Loaded l : loaded) {
            if (explicitClasses != null && l.classes > explicitClasses) {
                throw new CommandSupport.UsageException("stats file " + l.file + " has " + l.classes
                        + " classes (inferred), more than the " + explicitClasses + " another shard set with --classes");
            }
        }
        if (reportOptions.worst != null && reportOptions.worst > worstK) {
            throw new CommandSupport.UsageException("--worst " + reportOptions.worst + " is more than the " + worstK
                    + " worst images the shards saved (score with --worst " + reportOptions.worst + ")");
        }
        if (perImage && !allPerImage) {
            throw new CommandSupport.UsageException("--per-image needs per-image rows in every stats file (score with --per-image --save-stats)");
        }
        Tally tally = new Tally(new Tally.Settings(first.ignoreIndex, first.threshold, first.fromLogits, inferred),
                explicitClasses == null ? 0 : explicitClasses, allPerImage, reportOptions.worst != null ? reportOptions.worst : worstK);
        tally.excludeBackground = excludeBackground;
        tally.surfaceTolerance = first.nsdTolerance;
        tally.spacing = first.spacing;
        tally.surfaceFromClass = first.surfaceFromClass;
        for (StatsFile.Loaded l : loaded) {
            try {
                tally.merge(l.counts, l.sums, l.images, l.histogram, l.skipped, l.perImage, l.worst);
            } catch (org.segloss.InvalidInputException e) {
                throw new CommandSupport.UsageException("stats file " + l.file + ": " + e.getMessage());
            }
        }
        List<String> names = CommandSupport.classNames(classNames, null);
        String header = "segloss merge: " + loaded.length + " stats files, " + tally.images() + " images, "
                + tally.classes() + " classes" + (inferred ? " (inferred)" : "")
                + (first.ignoreIndex == null ? "" : ", ignore index " + first.ignoreIndex) + ", "
                + tally.skipped().size() + " skipped";
        if (saveStats != null) {
            StatsFile.save(tally, saveStats);
        }
        if (report != null) {
            Path index = HtmlReport.write(report, tally, names, first.threshold, first.fromLogits,
                    "segloss merge: " + loaded.length + " shards");
            if (!quiet) {
                err.println("report: " + index.toAbsolutePath());
            }
        }
        CommandSupport.emit(tally, names, fmt, perImage, reportOptions.worst != null, header, out, stdout);
        err.flush();
        return tally.skipped().isEmpty() ? 0 : CommandSupport.EXIT_SKIPPED;
    }

    /** Runs the command on its own ({@code java -cp segloss.jar org.segloss.score.MergeCommand ...}). */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** A command line with this command and the error convention installed. */
    public static CommandLine commandLine() {
        return CommandSupport.configure(new CommandLine(new MergeCommand()));
    }
}
