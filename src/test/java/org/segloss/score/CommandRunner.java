package org.segloss.score;

import org.segloss.CommandRun;

/** Runs {@code score} or {@code merge} in-process with captured output. */
final class CommandRunner {
    private CommandRunner() {
    }

    static CommandRun score(String... args) {
        return CommandRun.run(ScoreCommand.commandLine(), args);
    }

    static CommandRun merge(String... args) {
        return CommandRun.run(MergeCommand.commandLine(), args);
    }
}
