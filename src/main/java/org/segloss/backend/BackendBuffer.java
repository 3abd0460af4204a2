package org.segloss.backend;

import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;

/** What every backend's {@link DeviceBuffer} holds: element type, length and the backend's name. */
public abstract class BackendBuffer implements DeviceBuffer {
    /** Element type (read directly by the backends' passes). */
    public final ElementType type;
    private final long length;
    private final String backend;

    protected BackendBuffer(String backend, ElementType type, long length) {
        this.backend = backend;
        this.type = type;
        this.length = length;
    }

    /**
     * Checks the arguments of {@link Backend#copy}: both float32, the same length; throws
     * {@link InvalidInputException} naming the one that is not.
     */
    public static void requireCopyable(BackendBuffer src, BackendBuffer dst) {
        if (src.type != ElementType.FLOAT32) {
            throw new InvalidInputException("src must be a float32 buffer, was " + src.type);
        }
        if (dst.type != ElementType.FLOAT32) {
            throw new InvalidInputException("dst must be a float32 buffer, was " + dst.type);
        }
        if (dst.length != src.length) {
            throw new InvalidInputException("dst must have the length of src, " + src.length + ", was " + dst.length);
        }
    }

    @Override
    public final ElementType type() {
        return type;
    }

    @Override
    public final long length() {
        return length;
    }

    @Override
    public final String backend() {
        return backend;
    }
}
