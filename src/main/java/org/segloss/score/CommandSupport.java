package org.segloss.score;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.segloss.InvalidInputException;
import org.segloss.backend.Dispatcher;
import picocli.CommandLine;

/**
 * What {@code score} and {@code merge} share: the CLI error convention (usage errors and refused
 * inputs exit 2 with one {@code error:} line naming the argument and the value; skipped files exit
 * 3), class names, and printing the report in the chosen format.
 */
public final class CommandSupport {
    /** Exit code of a run where files were skipped (the numbers exclude them). */
    public static final int EXIT_SKIPPED = 3;
    /** Exit code of a usage error or a refused input. */
    public static final int EXIT_USAGE = 2;
    /** Exit code of a runtime failure (I/O, device). */
    public static final int EXIT_FAILURE = 1;

    private CommandSupport() {
    }

    /**
     * Installs the convention for picocli's own parse errors (unknown option, bad number): one
     * {@code error:} line and exit 2. {@code org.segloss.cli.Main} may install its own equivalent.
     */
    public static CommandLine configure(CommandLine cl) {
        cl.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("error: " + ex.getMessage()
                    + " (see " + ex.getCommandLine().getCommandName() + " --help)");
            return EXIT_USAGE;
        });
        return cl;
    }

    /** A usage error or refused input: becomes exit 2 with {@code error: message}. */
    public static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    /** Prints {@code error: ...} (with the stack trace under --debug) and returns the exit code. */
    public static int fail(PrintWriter err, Throwable e, boolean debug, int code) {
        err.println("error: " + e.getMessage());
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /** The {@code --format} value, lower case: table, json or csv. */
    public static String format(String format) throws UsageException {
        String f = format == null ? "table" : format.toLowerCase(Locale.ROOT);
        if (!f.equals("table") && !f.equals("json") && !f.equals("csv")) {
            throw new UsageException("--format must be one of table, json, csv, was " + format);
        }
        return f;
    }

    /** One class name per line (blank lines and lines starting with # are skipped). */
    static List<String> classNames(Path file, Integer classes) throws UsageException {
        if (file == null) {
            return null;
        }
        List<String> names = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String s = line.strip();
                if (!s.isEmpty() && !s.startsWith("#")) {
                    names.add(s);
                }
            }
        } catch (IOException e) {
            throw new UsageException("--class-names " + file + " cannot be read: " + e.getMessage());
        }
        if (classes != null && names.size() != classes) {
            throw new UsageException("--class-names " + file + " must have one name per class (" + classes + "), has "
                    + names.size());
        }
        return names;
    }

    /** Prints the report to {@code --out} or the command's output. */
    static void emit(Tally t, List<String> names, String format, boolean perImage, boolean worst, String header, Path out,
                     PrintWriter stdout) throws IOException {
        String text;
        switch (format) {
            case "json":
                text = Reports.JSON.writeValueAsString(Reports.json(t, names, perImage, worst)) + "\n";
                break;
            case "csv":
                text = Reports.csv(t, names, perImage, worst);
                break;
            default:
                text = Reports.table(t, names, perImage, worst, header);
        }
        write(text, out, stdout);
    }

    /** The {@code --backend} value as the dispatcher names it. */
    public static String backend(String backend) throws UsageException {
        try {
            return Dispatcher.requested(backend);
        } catch (InvalidInputException e) {
            throw new UsageException("--backend must be one of auto, cpu, opencl, cuda, was " + backend);
        }
    }

    /** Writes a report to {@code --out} (creating its folder) or the command's output. */
    public static void write(String text, Path out, PrintWriter stdout) throws IOException {
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
    }
}
