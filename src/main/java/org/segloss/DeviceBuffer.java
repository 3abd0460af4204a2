package org.segloss;

/**
 * A buffer owned by (or wrapped into) one backend: device memory for OpenCL and CUDA, a Java
 * array or direct buffer for the CPU backend. Sizes are 64-bit.
 */
public interface DeviceBuffer extends AutoCloseable {
    /** Element type of the buffer. */
    ElementType type();

    /** Number of elements. */
    long length();

    /** Name of the backend that owns the buffer ({@code cpu}, {@code opencl}, {@code cuda}). */
    String backend();

    /** Releases memory the backend allocated; a wrapped caller buffer is left alone. Idempotent. */
    @Override
    void close();
}
