package org.segloss;

/** A refused input: the message names the argument, the value given and what is allowed. */
public class InvalidInputException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * A refusal; the message names the argument, the value and what is allowed.
     *
     * @param message the refusal, e.g. {@code gamma must be >= 0, was -1.0}
     */
    public InvalidInputException(String message) {
        super(message);
    }
}
