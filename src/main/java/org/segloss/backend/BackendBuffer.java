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

    /** The backend instance that made (or wrapped) this buffer; buffers of other instances are refused. */
    private final Backend owner;

    /**
     * A buffer of {@code owner}.
     *
     * @param owner the backend instance that made or wrapped the buffer
     * @param type element type
     * @param length number of elements, >= 0
     */
    protected BackendBuffer(Backend owner, ElementType type, long length) {
        if (length < 0) {
            throw new InvalidInputException("length must be >= 0, was " + length);
        }
        this.owner = owner;
        this.backend = owner.name();
        this.type = type;
        this.length = length;
    }

    /**
     * The backend instance that made or wrapped this buffer.
     *
     * @return the owner
     */
    protected final Backend owner() {
        return owner;
    }

    /**
     * Whether the buffer was closed (its memory released); a closed buffer is refused by every pass.
     *
     * @return true once {@link #close()} ran
     */
    protected abstract boolean isReleased();

    /**
     * The one check every backend makes of a buffer argument, so that misuse reads the same on every
     * backend: not null, made by (or wrapped into) {@code owner} itself, not closed.
     *
     * @param <T> the backend's buffer class
     * @param owner the backend the buffer is used with
     * @param b the buffer given
     * @param what the argument's name, for the message
     * @param kind the backend's buffer class
     * @return {@code b} as the backend's buffer class
     * @throws InvalidInputException naming the argument and what is wrong
     */
    public static <T extends BackendBuffer> T owned(Backend owner, DeviceBuffer b, String what, Class<T> kind) {
        if (b == null) {
            throw new InvalidInputException(what + " must not be null");
        }
        if (!kind.isInstance(b) || ((BackendBuffer) b).owner != owner) {
            String from = !(b instanceof BackendBuffer) ? "a " + b.getClass().getName()
                    : b.backend().equals(owner.name()) ? "a buffer of another " + b.backend() + " engine"
                    : "a " + b.backend() + " buffer";
            throw new InvalidInputException(what + " must be a buffer of this " + owner.name()
                    + " engine (from its upload, allocateFloats or wrap), was " + from);
        }
        T t = kind.cast(b);
        if (t.isReleased()) {
            throw new InvalidInputException(what + " was closed: its memory is released");
        }
        return t;
    }

    /**
     * The null check of every backend's array and host-buffer arguments, so the message reads the same on
     * every backend.
     *
     * @param <T> the argument's type
     * @param value the argument given
     * @param name the argument's name, for the message
     * @return {@code value}
     * @throws InvalidInputException "{@code name} must not be null"
     */
    public static <T> T nonNull(T value, String name) {
        if (value == null) {
            throw new InvalidInputException(name + " must not be null");
        }
        return value;
    }

    /**
     * Checks a download into host floats, the same on every backend: {@code src} is a float32 buffer and the
     * destination holds exactly its length.
     *
     * @param src the buffer downloaded (already checked by {@link #owned})
     * @param dstLength floats the destination holds (array length or remaining elements)
     * @throws InvalidInputException naming {@code src} or {@code dst} with the value given
     */
    public static void requireDownload(BackendBuffer src, long dstLength) {
        if (src.type != ElementType.FLOAT32) {
            throw new InvalidInputException("src must be a float32 buffer to download into floats, was " + src.type);
        }
        if (dstLength != src.length) {
            throw new InvalidInputException("dst must hold " + src.length + " floats, had " + dstLength);
        }
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
