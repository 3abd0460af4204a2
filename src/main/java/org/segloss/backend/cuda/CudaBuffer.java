package org.segloss.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.segloss.ElementType;
import org.segloss.backend.BackendBuffer;

/** Device memory of the CUDA backend: allocated by it (freed on close) or the caller's (never freed here). */
final class CudaBuffer extends BackendBuffer {
    final CUdeviceptr pointer;
    private final boolean owned;
    private final CudaBackend backend;
    private boolean closed;

    CudaBuffer(CudaBackend backend, CUdeviceptr pointer, ElementType type, long length, boolean owned) {
        super(backend, type, length);
        this.backend = backend;
        this.pointer = pointer;
        this.owned = owned;
    }

    boolean belongsTo(CudaBackend b) {
        return backend == b;
    }

    boolean isClosed() {
        return closed;
    }

    @Override
    protected boolean isReleased() {
        return closed;
    }

    long bytes() {
        return length() * type.bytes();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (owned && !backend.isClosed()) {
            backend.makeCurrent();
            CudaDriver.check(JCudaDriver.cuMemFree(pointer), "cuMemFree");
        }
    }
}
