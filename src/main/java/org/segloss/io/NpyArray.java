package org.segloss.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.segloss.InvalidInputException;

/**
 * A checked {@code .npy} file whose data has not been read yet (see {@link Npy#open}). Each
 * {@code read...} method streams the data once from the file into a new Java array.
 */
public final class NpyArray {
    /** Bytes read from the file per step; a multiple of every element size. */
    private static final int CHUNK_BYTES = 1 << 20;

    private final Path file;
    private final NpyDtype dtype;
    private final long[] shape;
    private final long size;
    private final long dataOffset;

    NpyArray(Path file, NpyDtype dtype, long[] shape, long size, long dataOffset) {
        this.file = file;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.size = size;
        this.dataOffset = dataOffset;
    }

    public Path file() {
        return file;
    }

    public NpyDtype dtype() {
        return dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements (the product of the shape). */
    public long size() {
        return size;
    }

    /** The values as floats (any dtype; float64 and int64 are rounded to the nearest float). */
    public float[] readFloats() throws IOException {
        float[] out = new float[arrayLength()];
        stream((chunk, start, count) -> {
            switch (dtype) {
                case FLOAT32:
                    chunk.asFloatBuffer().get(out, start, count);
                    break;
                case FLOAT64:
                    for (int i = 0; i < count; i++) {
                        out[start + i] = (float) chunk.getDouble(i * 8);
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

    /** The bytes of a uint8 array (to be read as unsigned). */
    public byte[] readUint8() throws IOException {
        if (dtype != NpyDtype.UINT8) {
            throw new InvalidInputException(file + ": readUint8 needs dtype uint8, was " + dtype.numpyName());
        }
        byte[] out = new byte[arrayLength()];
        stream((chunk, start, count) -> chunk.get(out, start, count));
        return out;
    }

    /**
     * The values as ints: integer dtypes (int64 only within the int range) and float dtypes whose
     * values are all integral and within the int range. Anything else is refused with the first bad
     * value and its index.
     */
    public int[] readInts() throws IOException {
        int[] out = new int[arrayLength()];
        stream((chunk, start, count) -> {
            for (int i = 0; i < count; i++) {
                long index = (long) start + i;
                if (dtype.isInteger()) {
                    long v = integerAt(chunk, i);
                    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new InvalidInputException(file + ": value " + v + " at index " + index
                                + " is outside the int32 range [" + Integer.MIN_VALUE + ", " + Integer.MAX_VALUE + "]");
                    }
                    out[start + i] = (int) v;
                } else {
                    double v = dtype == NpyDtype.FLOAT32 ? chunk.getFloat(i * 4) : chunk.getDouble(i * 8);
                    if (v != Math.rint(v) || v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                        throw new InvalidInputException(file + ": value " + v + " at index " + index
                                + " is not an integer class index (a " + dtype.numpyName()
                                + " class map must hold whole numbers in the int32 range)");
                    }
                    out[start + i] = (int) v;
                }
            }
        });
        return out;
    }

    /** Integer element {@code i} of a chunk (uint8 unsigned). */
    private long integerAt(ByteBuffer chunk, int i) {
        switch (dtype) {
            case INT8:
                return chunk.get(i);
            case UINT8:
                return chunk.get(i) & 0xFF;
            case INT16:
                return chunk.getShort(i * 2);
            case INT32:
                return chunk.getInt(i * 4);
            case INT64:
                return chunk.getLong(i * 8);
            default:
                throw new IllegalStateException("not an integer dtype: " + dtype);
        }
    }

    private int arrayLength() {
        if (size > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException(file + ": " + size + " elements (shape " + Arrays.toString(shape)
                    + ") do not fit in a Java array (at most " + (Integer.MAX_VALUE - 8) + ")");
        }
        return (int) size;
    }

    /** Receives consecutive elements {@code [start, start + count)} at the beginning of {@code chunk}. */
    private interface ChunkConsumer {
        void accept(ByteBuffer chunk, int start, int count) throws IOException;
    }

    /** Streams the data once, in chunks of whole elements, little-endian. */
    private void stream(ChunkConsumer consumer) throws IOException {
        int item = dtype.bytes();
        ByteBuffer chunk = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ch.position(dataOffset);
            long done = 0;
            while (done < size) {
                int count = (int) Math.min(CHUNK_BYTES / item, size - done);
                chunk.clear();
                chunk.limit(count * item);
                Npy.readUpTo(ch, chunk);
                if (chunk.hasRemaining()) {
                    throw new NpyFormatException(file + ": truncated .npy data: the file ended after "
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
        return file + " (" + dtype.numpyName() + " " + Arrays.toString(shape) + ")";
    }
}
