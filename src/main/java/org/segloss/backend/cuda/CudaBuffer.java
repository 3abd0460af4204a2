package org.segloss.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;

/** Device memory of the CUDA backend: allocated by it (freed on close) or the caller's (never freed here). */
final class CudaBuffer implements DeviceBuffer {
    final CUdeviceptr pointer;
    final ElementType type;
    private final long length;
    private final boolean owned;
    private final CudaBackend backend;
    private boolean closed;

    CudaBuffer(CudaBackend backend, CUdeviceptr pointer, ElementType type, long length, boolean owned) {
        this.backend = backend;
        this.pointer = pointer;
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
        return "cuda";
    }

    boolean belongsTo(CudaBackend b) {
        return backend == b;
    }

    boolean isClosed() {
        return closed;
    }

    long bytes() {
        return length * type.bytes();
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
