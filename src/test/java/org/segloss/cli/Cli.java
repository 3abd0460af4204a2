package org.segloss.cli;

import java.io.PrintWriter;
import java.io.Writer;
import org.segloss.CommandRun;
import picocli.CommandLine;

/** Runs the {@code segloss} command line in-process with captured output. */
final class Cli {
    private Cli() {
    }

    static CommandRun run(String... args) {
        return run(null, args);
    }

    /** Runs with an extra subcommand registered (for handler tests). */
    static CommandRun run(Object extraCommand, String... args) {
        PrintWriter none = new PrintWriter(Writer.nullWriter());
        CommandLine cl = Main.commandLine(none, none);
        if (extraCommand != null) {
            cl.addSubcommand(extraCommand);
        }
        return CommandRun.run(cl, args); // its writers reach the added subcommand too
    }
}
