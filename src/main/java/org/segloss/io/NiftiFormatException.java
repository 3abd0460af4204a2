package org.segloss.io;

import java.io.IOException;

/** A NIfTI file this reader refuses; the message is the reason (no path). */
public final class NiftiFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * A refused file.
     *
     * @param message the reason, e.g. an unsupported datatype or a size the file does not hold; the caller
     *     adds the path
     */
    public NiftiFormatException(String message) {
        super(message);
    }
}
