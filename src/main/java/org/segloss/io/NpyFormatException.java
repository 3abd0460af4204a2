package org.segloss.io;

import java.io.IOException;

/** A {@code .npy} file that segloss cannot read; the message names the file and the problem. */
public final class NpyFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * A malformed or unsupported file; the message names the file and the problem.
     *
     * @param message the file's name and the problem, e.g. an unsupported dtype or a short file
     */
    public NpyFormatException(String message) {
        super(message);
    }
}
