package org.segloss.io;

import java.io.IOException;

/** A NIfTI file this reader refuses; the message is the reason (no path). */
public final class NiftiFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public NiftiFormatException(String message) {
        super(message);
    }
}
