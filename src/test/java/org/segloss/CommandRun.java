package org.segloss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** A command line run in-process: its exit code, standard output and standard error. */
public final class CommandRun {
    public final int code;
    public final String out;
    public final String err;

    private CommandRun(int code, String out, String err) {
        this.code = code;
        this.out = out;
        this.err = err;
    }

    /** Runs {@code cl} (and its subcommands) with captured output. */
    public static CommandRun run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CommandRun(code, out.toString(), err.toString());
    }

    /**
     * Asserts exit code 2 and exactly one stderr line, starting with {@code error:}, containing every
     * fragment (the argument and the bad value), and no stack trace.
     */
    public CommandRun assertUsageError(String... fragments) {
        return assertError(2, fragments);
    }

    public CommandRun assertError(int expectedCode, String... fragments) {
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

    public CommandRun assertOk() {
        assertEquals(0, code, "exit code; stderr: " + err + "\nstdout: " + out);
        return this;
    }

    public JsonNode json() throws Exception {
        return new ObjectMapper().readTree(out);
    }

    @Override
    public String toString() {
        return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
