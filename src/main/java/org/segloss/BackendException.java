package org.segloss;

/** A device runtime failed (out of memory, build failure, lost device); the message names the operation and status. */
public class BackendException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * A device failure, the message naming the operation and the status.
     *
     * @param message what failed: the operation and the runtime's status
     */
    public BackendException(String message) {
        super(message);
    }

    /**
     * A device failure with the runtime's exception as its cause.
     *
     * @param message what failed: the operation and the runtime's status
     * @param cause the runtime's exception (e.g. JOCL's CLException or JCuda's CudaException)
     */
    public BackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
