package org.segloss;

/**
 * A buffer owned by (or wrapped into) one backend: device memory for OpenCL and CUDA, a Java
 * array or direct buffer for the CPU backend. Sizes are 64-bit.
 */
public interface DeviceBuffer extends AutoCloseable {
    /**
     * Element type of the buffer.
     *
     * @return float32, uint8, int32 or int64; never null
     */
    ElementType type();

    /**
     * Number of elements.
     *
     * @return the number of elements (not bytes), >= 0
     */
    long length();

    /**
     * Name of the backend that owns the buffer ({@code cpu}, {@code opencl}, {@code cuda}).
     *
     * @return the owning backend's name
     */
    String backend();

    /** Releases memory the backend allocated; a wrapped caller buffer is left alone. Idempotent. */
    @Override
    void close();
}
