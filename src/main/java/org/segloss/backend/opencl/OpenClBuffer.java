package org.segloss.backend.opencl;

import org.jocl.cl_mem;
import org.segloss.ElementType;
import org.segloss.backend.BackendBuffer;

/** A buffer in OpenCL memory: allocated by the backend (released on close) or a caller's wrapped cl_mem (left alone). */
final class OpenClBuffer extends BackendBuffer {
    final OpenClBackend owner;
    final cl_mem mem;
    final boolean owned;
    private boolean closed;

    OpenClBuffer(OpenClBackend owner, cl_mem mem, ElementType type, long length, boolean owned) {
        super(owner, type, length);
        this.owner = owner;
        this.mem = mem;
        this.owned = owned;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    protected boolean isReleased() {
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
        return "opencl " + type + "[" + length() + "]" + (owned ? "" : " (wrapped)");
    }
}
