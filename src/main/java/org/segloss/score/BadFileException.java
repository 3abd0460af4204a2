package org.segloss.score;

/** A file that cannot be scored; the message is the reason listed under {@code skipped}. */
final class BadFileException extends Exception {
    private static final long serialVersionUID = 1L;

    BadFileException(String reason) {
        super(reason, null, false, false);
    }
}
