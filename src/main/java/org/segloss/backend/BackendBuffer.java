package org.segloss.backend;

import org.segloss.DeviceBuffer;
import org.segloss.ElementType;

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
