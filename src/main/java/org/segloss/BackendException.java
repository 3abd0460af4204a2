package org.segloss;

/** A device runtime failed (out of memory, build failure, lost device); the message names the operation and status. */
public class BackendException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BackendException(String message) {
        super(message);
    }

    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
