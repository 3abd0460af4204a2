package org.segloss.cli;

/** A command-line argument whose value was refused after parsing; the message names the argument and the value. */
final class CliInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    CliInputException(String message) {
        super(message);
    }
}
