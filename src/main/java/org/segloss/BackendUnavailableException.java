package org.segloss;

/** The requested backend cannot run here; the message says why. */
public class BackendUnavailableException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * The backend cannot be used here; the message says why.
     *
     * @param message why the backend cannot be used (e.g. no driver, no device)
     */
    public BackendUnavailableException(String message) {
        super(message);
    }

    /**
     * The backend cannot be used here, with the probe's failure as the cause.
     *
     * @param message why the backend cannot be used (e.g. no driver, no device)
     * @param cause the probe's failure, e.g. an UnsatisfiedLinkError of the native library
     */
    public BackendUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
