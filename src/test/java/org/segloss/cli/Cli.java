package org.segloss.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs the command line in-process with captured output. */
final class Cli {
    final int code;
    final String out;
    final String err;

    private Cli(int code, String out, String err) {
        this.code = code;
        this.out = out;
        this.err = err;
    }

    static Cli run(String... args) {
        return run(null, args);
    }

    /** Runs with an extra subcommand registered (for handler tests). */
    static Cli run(Object extraCommand, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        PrintWriter outWriter = new PrintWriter(out, true);
        PrintWriter errWriter = new PrintWriter(err, true);
        CommandLine cl = Main.commandLine(outWriter, errWriter);
        if (extraCommand != null) {
            cl.addSubcommand(extraCommand);
            cl.setOut(outWriter); // reaches the added subcommand too
            cl.setErr(errWriter);
        }
        int code = cl.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    /**
     * Asserts exit code 2 and exactly one stderr line, starting with {@code error:}, containing every
     * fragment (the argument and the bad value), and no stack trace.
     */
    Cli assertUsageError(String... fragments) {
        return assertError(2, fragments);
    }

    Cli assertError(int expectedCode, String... fragments) {
        assertEquals(expectedCode, code, "exit code; stderr: " + err);
        String[] lines = err.strip().split("\\R");
        assertEquals(1, lines.length, "one line on stderr, got: " + err);
        assertTrue(lines[0].startsWith("error: "), lines[0]);
        for (String f : fragments) {
            assertTrue(lines[0].contains(f), "'" + f + "' in: " + lines[0]);
        }
        assertFalse(err.contains("\tat "), "no stack trace: " + err);
        return this;
    }

    Cli assertOk() {
        assertEquals(0, code, "exit code; stderr: " + err + "\nstdout: " + out);
        return this;
    }
}
