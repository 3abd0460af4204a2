package org.segloss.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Path;
import java.util.Arrays;
import org.segloss.InvalidInputException;

/**
 * A checked {@code .npy} file whose data has not been read yet (see {@link Npy#open}). Each
 * {@code read...} method streams the data once from its source into a new Java array. Messages
 * start with the file's name, when it has one.
 */
public final class NpyArray {
    /** Bytes read from the file per step; a multiple of every element size. */
    private static final int CHUNK_BYTES = 1 << 20;

    private final String where;
    private final Path file;
    private final Npy.Source source;
    private final NpyDtype dtype;
    private final ByteOrder order;
    private final long[] shape;
    private final long size;
    private final long dataOffset;

    NpyArray(String name, Path file, Npy.Source source, NpyDtype dtype, ByteOrder order, long[] shape, long size,
            long dataOffset) {
        this.where = Npy.where(name);
        this.file = file;
        this.source = source;
        this.dtype = dtype;
        this.order = order;
        this.shape = shape.clone();
        this.size = size;
        this.dataOffset = dataOffset;
    }

    /**
     * The file read, or null for bytes given in memory.
     *
     * @return the path given to {@link Npy#open(Path)}, or null
     */
    public Path file() {
        return file;
    }

    /**
     * The dtype of the file.
     *
     * @return the element type the header declares, never null
     */
    public NpyDtype dtype() {
        return dtype;
    }

    /**
     * The shape (a copy).
     *
     * @return a new array with one extent >= 0 per axis (empty for a 0-d array)
     */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Number of elements (the product of the shape).
     *
     * @return the element count, >= 0 (1 for a 0-d array)
     */
    public long size() {
        return size;
    }

    /**
     * The values as floats (any dtype; float64 and int64 are rounded to the nearest float). A finite
     * float64 value outside the float32 range is refused, naming the value and its index.
     *
     * @return a new array of {@link #size()} floats
     * @throws IOException when the file cannot be read
     */
    public float[] readFloats() throws IOException {
        float[] out = new float[arrayLength()];
        stream((chunk, start, count) -> {
            switch (dtype) {
                case FLOAT32:
                    chunk.asFloatBuffer().get(out, start, count);
                    break;
                case FLOAT64:
                    for (int i = 0; i < count; i++) {
                        double v = chunk.getDouble(i * 8);
                        float f = (float) v;
                        if (Float.isInfinite(f) && !Double.isInfinite(v)) {
                            throw new InvalidInputException(where + "float64 value " + v + " at index " + ((long) start + i)
                                    + " is outside the float32 range (magnitude at most " + Float.MAX_VALUE
                                    + "); values are computed in float32");
                        }
                        out[start + i] = f;
                    }
                    break;
                default:
                    for (int i = 0; i < count; i++) {
                        out[start + i] = (float) integerAt(chunk, i);
                    }
            }
        });
        return out;
    }

    /**
     * The bytes of a uint8 array (to be read as unsigned).
     *
     * @return a new array of {@link #size()} bytes, in C order
     * @throws org.segloss.InvalidInputException when the dtype is not uint8, or the array has more than
     *     {@code Integer.MAX_VALUE - 8} elements
     * @throws IOException when the file cannot be read
     */
    public byte[] readUint8() throws IOException {
        if (dtype != NpyDtype.UINT8) {
            throw new InvalidInputException(where + "readUint8 needs dtype uint8, was " + dtype.numpyName());
        }
        byte[] out = new byte[arrayLength()];
        stream((chunk, start, count) -> chunk.get(out, start, count));
        return out;
    }

    /**
     * The values as ints: integer dtypes (int64 only within the int range) and float dtypes whose values are
     * all integral and within the int range. Anything else is refused with the first bad value and its index.
     *
     * @return a new array of {@link #size()} ints, in C order
     * @throws org.segloss.InvalidInputException at the first value that is not integral or not in the int
     *     range, naming it and its index
     * @throws IOException when the file cannot be read
     */
    public int[] readInts() throws IOException {
        int[] out = new int[arrayLength()];
        stream((chunk, start, count) -> {
            for (int i = 0; i < count; i++) {
                long index = (long) start + i;
                if (dtype.isInteger()) {
                    long v = integerAt(chunk, i);
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE || (dtype == NpyDtype.UINT64 && v < 0)) {
                        String shown = dtype == NpyDtype.UINT64 ? Long.toUnsignedString(v) : Long.toString(v);
                        throw new InvalidInputException(where + "value " + shown + " at index " + index
                                + " is outside the int32 range [" + Integer.MIN_VALUE + ", " + Integer.MAX_VALUE + "]");
                    }
                    out[start + i] = (int) v;
                } else {
                    double v = dtype == NpyDtype.FLOAT32 ? chunk.getFloat(i * 4) : chunk.getDouble(i * 8);
                    if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new InvalidInputException(where + "value " + v + " at index " + index
                                + " is not an integer class index (a " + dtype.numpyName()
                                + " class map must hold whole numbers in the int32 range)");
                    }
                    out[start + i] = (int) v;
                }
            }
        });
        return out;
    }

    /** Integer element {@code i} of a chunk (unsigned types as unsigned; uint64 as its bits). */
    private long integerAt(ByteBuffer chunk, int i) {
        switch (dtype) {
            case INT8:
                return chunk.get(i);
            case UINT8:
            case BOOL:
                return chunk.get(i) & 0xFF;
            case INT16:
                return chunk.getShort(i * 2);
            case UINT16:
                return chunk.getShort(i * 2) & 0xFFFF;
            case INT32:
                return chunk.getInt(i * 4);
            case UINT32:
                return chunk.getInt(i * 4) & 0xFFFFFFFFL;
            case INT64:
            case UINT64:
                return chunk.getLong(i * 8);
            default:
                throw new IllegalStateException("not an integer dtype: " + dtype);
        }
    }

    private int arrayLength() {
        if (size > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(where + "" + size + " elements (shape " + Arrays.toString(shape)
                    + ") do not fit in a Java array (at most " + (Integer.MAX_VALUE - 8) + ")");
        }
        return (int) size;
    }

    /** Receives consecutive elements {@code [start, start + count)} at the beginning of {@code chunk}. */
    private interface ChunkConsumer {
        void accept(ByteBuffer chunk, int start, int count) throws IOException;
    }

    /** Streams the data once, in chunks of whole elements, in the file's byte order. */
    private void stream(ChunkConsumer consumer) throws IOException {
        int item = dtype.bytes();
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(order);
        try (SeekableByteChannel ch = source.open()) {
            ch.position(dataOffset);
            long done = 0;
            while (done < size) {
                int count = (int) Math.min(CHUNK_BYTES / item, size - done);
                chunk.clear();
                chunk.limit(count * item);
                Npy.readUpTo(ch, chunk);
                if (chunk.hasRemaining()) {
                    throw new NpyFormatException(where + "truncated .npy data: the file ended after "
                            + (done + chunk.position() / item) + " of " + size + " elements");
                }
                chunk.flip();
                consumer.accept(chunk, (int) done, count);
                done += count;
            }
        }
    }

    @Override
    public String toString() {
        return (file == null ? "<bytes>" : file.toString()) + " (" + dtype.numpyName() + " " + Arrays.toString(shape) + ")";
    }
}
