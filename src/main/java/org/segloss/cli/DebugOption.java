package org.segloss.cli;

import picocli.CommandLine.Option;

/** {@code --debug}: stack traces with errors (read by {@link ErrorHandlers} from the arguments). */
final class DebugOption {
    @Option(names = "--debug", description = "Print the stack trace with an error.")
    boolean debug;
}
