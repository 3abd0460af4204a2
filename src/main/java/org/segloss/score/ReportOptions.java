package org.segloss.score;

import picocli.CommandLine.Option;

/** The report options {@code score}, {@code merge} and the Spark job share (a picocli mixin). */
public final class ReportOptions {
    @Option(names = {"--worst", "--top-k"}, paramLabel = "K", description = "Print the K images with the lowest mean Dice.")
    public Integer worst;

    @Option(names = "--format", paramLabel = "F", defaultValue = "table", description = "table, json or csv (default: ${DEFAULT-VALUE}).")
    public String format;

    @Option(names = "--debug", description = "Print stack traces with errors.")
    public boolean debug;
}
