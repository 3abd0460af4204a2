package org.segloss.cli;

import java.io.PrintWriter;
import org.segloss.BackendException;
import org.segloss.BackendUnavailableException;
import org.segloss.io.NpyFormatException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns every failure into one {@code error:} line on stderr and an exit code: 2 for usage errors,
 * refused inputs, unreadable files and unavailable backends, 1 for device failures and anything
 * unexpected. {@code --debug} adds the stack trace.
 */
final class ErrorHandlers implements CommandLine.IParameterExceptionHandler, CommandLine.IExecutionExceptionHandler {

    @Override
    public int handleParseException(ParameterException ex, String[] args) {
        CommandLine cl = ex.getCommandLine();
        PrintWriter err = cl.getErr();
        err.println("error: " + oneLine(ex.getMessage()));
        if (debug(args)) {
            ex.printStackTrace(err);
        }
        err.flush();
        return Main.EXIT_USAGE;
    }

    @Override
    public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parseResult) {
        PrintWriter err = cl.getErr();
        int code;
        String message;
        if (ex instanceof IllegalArgumentException || ex instanceof NpyFormatException
                || ex instanceof BackendUnavailableException) {
            // InvalidInputException (refused input), CliInputException (bad option value), unreadable .npy
            code = Main.EXIT_USAGE;
            message = ex.getMessage();
        } else if (ex instanceof java.nio.file.NoSuchFileException) {
            code = Main.EXIT_USAGE;
            message = "no such file: " + ex.getMessage();
        } else if (ex instanceof java.nio.file.FileSystemException) {
            code = Main.EXIT_USAGE;
            message = ((java.nio.file.FileSystemException) ex).getFile() + ": "
                    + org.segloss.io.InputLimits.reason((java.io.IOException) ex);
        } else if (ex instanceof java.io.IOException) {
            code = Main.EXIT_USAGE;
            message = "cannot read or write " + ex.getMessage() + " (" + ex.getClass().getSimpleName() + ")";
        } else if (ex instanceof BackendException) {
            code = Main.EXIT_FAILURE;
            message = ex.getMessage();
        } else {
            code = Main.EXIT_FAILURE;
            message = "internal error: " + ex + (debug(parseResult.originalArgs().toArray(new String[0]))
                    ? "" : " (run with --debug for the stack trace)");
        }
        err.println("error: " + oneLine(message));
        if (debug(parseResult.originalArgs().toArray(new String[0]))) {
            ex.printStackTrace(err);
        }
        err.flush();
        return code;
    }

    /**
     * Runs the command as picocli does, but an OutOfMemoryError (which picocli lets through with a
     * stack trace) becomes one {@code error:} line saying how to raise the heap, and exit code 2.
     * The commands check their inputs' needs before allocating; this is the last line of defence.
     */
    static int runWithoutOutOfMemoryErrors(ParseResult parseResult) {
        try {
            return new CommandLine.RunLast().execute(parseResult);
        } catch (OutOfMemoryError e) {
            CommandLine cl = parseResult.commandSpec().commandLine();
            PrintWriter err = cl.getErr();
            err.println("error: out of memory (" + oneLine(e.getMessage()) + "): the Java heap of "
                    + String.format(java.util.Locale.ROOT, "%.2f", Runtime.getRuntime().maxMemory() / (1024.0 * 1024 * 1024))
                    + " GiB is too small for this input; raise -Xmx with SEGLOSS_JAVA_OPTS");
            err.flush();
            return Main.EXIT_USAGE;
        }
    }

    private static boolean debug(String[] args) {
        for (String a : args) {
            if (a.equals("--debug")) {
                return true;
            }
        }
        return false;
    }

    private static String oneLine(String message) {
        return message == null ? "(no message)" : message.replace('\n', ' ').replace('\r', ' ').trim();
    }
}
