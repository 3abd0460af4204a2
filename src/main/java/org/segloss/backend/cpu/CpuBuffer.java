package org.segloss.backend.cpu;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import org.segloss.ElementType;
import org.segloss.backend.BackendBuffer;

/** A CPU "device" buffer: a view of the caller's array or buffer, never a copy. */
final class CpuBuffer extends BackendBuffer {
    final FloatBuffer floats;
    final ByteBuffer bytes;
    final IntBuffer ints;
    final LongBuffer longs;

    private volatile boolean closed;

    private CpuBuffer(CpuBackend owner, ElementType type, FloatBuffer floats, ByteBuffer bytes, IntBuffer ints, Buffer view) {
        this(owner, type, floats, bytes, ints, null, view);
    }

    private CpuBuffer(CpuBackend owner, ElementType type, FloatBuffer floats, ByteBuffer bytes, IntBuffer ints,
                      LongBuffer longs, Buffer view) {
        super(owner, type, view.remaining());
        this.floats = floats;
        this.bytes = bytes;
        this.ints = ints;
        this.longs = longs;
    }

    static CpuBuffer of(CpuBackend owner, FloatBuffer b) {
        return new CpuBuffer(owner, ElementType.FLOAT32, b.slice(), null, null, b);
    }

    static CpuBuffer of(CpuBackend owner, ByteBuffer b) {
        return new CpuBuffer(owner, ElementType.UINT8, null, b.slice(), null, b);
    }

    static CpuBuffer of(CpuBackend owner, IntBuffer b) {
        return new CpuBuffer(owner, ElementType.INT32, null, null, b.slice(), b);
    }

    static CpuBuffer of(CpuBackend owner, LongBuffer b) {
        return new CpuBuffer(owner, ElementType.INT64, null, null, null, b.slice(), b);
    }

    /** The view that holds this buffer's elements, whatever its type. */
    Buffer buffer() {
        return floats != null ? floats : bytes != null ? bytes : ints != null ? ints : longs;
    }

    /** Target value at {@code i} as a double (uint8 read unsigned). */
    double target(int i) {
        switch (type) {
            case FLOAT32:
                return floats.get(i);
            case UINT8:
                return bytes.get(i) & 0xFF;
            case INT64:
                return longs.get(i); // a binary target is 0 or 1; anything else stays out of [0, 1]
            default:
                return ints.get(i);
        }
    }

    /** Class index at {@code i} (uint8 read unsigned; a float target is truncated only if it is integral). */
    long classIndex(int i) {
        switch (type) {
            case UINT8:
                return bytes.get(i) & 0xFF;
            case INT32:
                return ints.get(i);
            case INT64:
                return longs.get(i);
            default: {
                float v = floats.get(i);
                return v == Math.rint(v) && Math.abs(v) < 1e9f ? (long) v : Long.MIN_VALUE;
            }
        }
    }

    /** The CPU backend that made this buffer (scratch buffers of its warm-up belong to it too). */
    CpuBackend cpuOwner() {
        return (CpuBackend) owner();
    }

    @Override
    protected boolean isReleased() {
        return closed;
    }

    @Override
    public void close() {
        // a view of caller memory: nothing to release, but a closed buffer is refused like on the devices
        closed = true;
    }
}
