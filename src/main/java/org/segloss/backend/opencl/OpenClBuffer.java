package org.segloss.backend.opencl;

import org.jocl.cl_mem;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;

/** A buffer in OpenCL memory: allocated by the backend (released on close) or a caller's wrapped cl_mem (left alone). */
final class OpenClBuffer implements DeviceBuffer {
    final OpenClBackend owner;
    final cl_mem mem;
    final ElementType type;
    private final long length;
    final boolean owned;
    private boolean closed;

    OpenClBuffer(OpenClBackend owner, cl_mem mem, ElementType type, long length, boolean owned) {
        this.owner = owner;
        this.mem = mem;
        this.type = type;
        this.length = length;
        this.owned = owned;
    }

    @Override
    public ElementType type() {
        return type;
    }

    @Override
    public long length() {
        return length;
    }

    @Override
    public String backend() {
        return "opencl";
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        synchronized (owner) {
            if (closed) {
                return;
            }
            closed = true;
            if (owned) {
                owner.releaseBuffer(this);
            }
        }
    }

    @Override
    public String toString() {
        return "opencl " + type + "[" + length + "]" + (owned ? "" : " (wrapped)");
    }
}
