package org.segloss.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads and writes numpy {@code .npy} files (format versions 1.0, 2.0 and 3.0).
 *
 * <p>Reading: {@link #open(Path)} parses and checks the header only (dtype, C order, a shape whose
 * data the file holds exactly); the {@code read...} methods of {@link NpyArray} then stream the data
 * once into a Java array. What is accepted: {@link Accept} (the CLI reads STRICT: little-endian or
 * byte-sized only; score reads LENIENT). Sources: a file, or a file's bytes in memory.
 * Writing: float32, C order.
 */
public final class Npy {
    /** The six magic bytes every .npy file starts with: {@code \x93NUMPY}. */
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** numpy pads the header so that the data starts at a multiple of this many bytes. */
    static final int HEADER_ALIGNMENT = 64;

    private Npy() {
    }

    /** What a reader accepts. */
    public enum Accept {
        /**
         * The CLI contract: little-endian or byte-sized float32/float64/int8/uint8/int16/int32/int64,
         * and a file holding exactly the data its header describes.
         */
        STRICT,
        /**
         * score's class maps and scores: also bool and uint16/uint32/uint64, either byte order
         * ({@code >} and {@code =} too), and bytes after the data (ignored).
         */
        LENIENT
    }

    /** Where the data of an array comes from; each read opens a fresh channel. */
    interface Source {
        SeekableByteChannel open() throws IOException;
    }

    /**
     * Opens a .npy file as the CLI reads it ({@link Accept#STRICT}), messages starting with the file's path;
     * see {@link #open(Path, String, Accept)}.
     *
     * @param file the .npy file, a regular file (opening a FIFO blocks: check with {@link
     *     InputLimits#requireRegularFile} first); not null
     * @return the array's header; the data is read by its {@code read...} methods
     * @throws IOException when the file cannot be opened or read, or {@link NpyFormatException} when its
     *     header is malformed, unsupported or disagrees with its size
     */
    public static NpyArray open(Path file) throws IOException {
        return open(file, file.toString(), Accept.STRICT);
    }

    /**
     * Opens a .npy file: parses and checks its header; the data is read later by the array's methods.
     * Messages start with {@code "name: "}, or are the problem only when {@code name} is null.
     *
     * @param file the .npy file, a regular file (opening a FIFO blocks: check with {@link
     *     InputLimits#requireRegularFile} first); not null
     * @param name how messages name the file (e.g. {@code --pred}'s path), or null for none
     * @param accept which dtypes, byte orders and trailing bytes are read; not null
     * @return the array's header; the data is read by its {@code read...} methods
     * @throws IOException when the file cannot be opened or read, or {@link NpyFormatException} when its
     *     header is malformed, unsupported or disagrees with its size
     */
    public static NpyArray open(Path file, String name, Accept accept) throws IOException {
        return open(name, file, () -> FileChannel.open(file, StandardOpenOption.READ), accept);
    }

    /**
     * A .npy file's bytes already in memory (read from another filesystem), as {@link #open(Path, String,
     * Accept)}; messages are the problem only (no file name).
     *
     * @param bytes the whole file's bytes; not copied, so do not change them while the array is in use; not
     *     null
     * @param accept which dtypes, byte orders and trailing bytes are read; not null
     * @return the array's header; the data is read by its {@code read...} methods
     * @throws IOException ({@link NpyFormatException}) when the header is malformed, unsupported or disagrees
     *     with the size
     */
    public static NpyArray open(byte[] bytes, Accept accept) throws IOException {
        return open(null, null, () -> new BytesChannel(bytes), accept);
    }

    private static NpyArray open(String name, Path file, Source source, Accept accept) throws IOException {
        String where = where(name);
        try (SeekableByteChannel ch = source.open()) {
            long fileSize = ch.size();
            ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            readUpTo(ch, pre);
            pre.flip();
            if (pre.remaining() < 10 || !startsWithMagic(pre)) {
                throw new NpyFormatException(where + "not a .npy file (bad magic: the file must start with \\x93NUMPY)");
            }
            int major = pre.get(6) & 0xFF;
            int minor = pre.get(7) & 0xFF;
            long headerLength;
            int prefix;
            if (major == 1) {
                headerLength = pre.getShort(8) & 0xFFFF;
                prefix = 10;
            } else if (major == 2 || major == 3) {
                if (pre.remaining() < 12) {
                    throw new NpyFormatException(where + "truncated .npy header (file is " + fileSize + " bytes)");
                }
                headerLength = pre.getInt(8) & 0xFFFFFFFFL;
                prefix = 12;
            } else {
                throw new NpyFormatException(where + ".npy format version " + major + "." + minor
                        + " is not supported; allowed 1.0, 2.0, 3.0");
            }
            long dataOffset = prefix + headerLength;
            if (dataOffset > fileSize) {
                throw new NpyFormatException(where + "truncated .npy header: it claims " + headerLength
                        + " bytes but the file has only " + (fileSize - prefix) + " after the prefix");
            }
            if (headerLength > 1 << 20) {
                throw new NpyFormatException(where + ".npy header of " + headerLength + " bytes is too long (at most 1 MiB)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLength);
            ch.position(prefix);
            readUpTo(ch, hb);
            String text = new String(hb.array(), 0, hb.position(),
                    major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
            NpyHeader header = NpyHeader.parse(name, text, accept);
            NpyDtype dtype = dtypeOf(where, header.descr, accept);
            if (header.fortranOrder) {
                throw new NpyFormatException(where + "fortran_order True is not supported; save a C-order array "
                        + "(numpy.ascontiguousarray)");
            }
            long size = 1;
            for (long d : header.shape) {
                if (d < 0) {
                    throw new NpyFormatException(where + "shape " + Arrays.toString(header.shape) + " has a negative dimension");
                }
                try {
                    size = Math.multiplyExact(size, d);
                } catch (ArithmeticException e) {
                    throw new NpyFormatException(where + "shape " + Arrays.toString(header.shape) + " is too large");
                }
            }
            long dataBytes;
            try {
                dataBytes = Math.multiplyExact(size, (long) dtype.bytes());
            } catch (ArithmeticException e) {
                throw new NpyFormatException(where + "shape " + Arrays.toString(header.shape) + " is too large");
            }
            long held = fileSize - dataOffset;
            if (held < dataBytes || (held > dataBytes && accept == Accept.STRICT)) {
                throw new NpyFormatException(where + "the header's shape " + Arrays.toString(header.shape) + " and dtype "
                        + dtype.numpyName() + " need " + dataBytes + " data bytes but the file holds " + held
                        + (held < dataBytes ? " (truncated file)" : " (trailing bytes)"));
            }
            ByteOrder order = header.descr.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
            return new NpyArray(name, file, source, dtype, order, header.shape, size, dataOffset);
        }
    }

    /** The prefix of a message about the file {@code name}: {@code "name: "}, or nothing when null. */
    static String where(String name) {
        return name == null ? "" : name + ": ";
    }

    private static NpyDtype dtypeOf(String where, String descr, Accept accept) throws NpyFormatException {
        NpyDtype d = NpyDtype.ofDescr(descr, accept);
        if (d != null) {
            return d;
        }
        if (descr.startsWith(">") && NpyDtype.ofDescr("<" + descr.substring(1), accept) != null) {
            throw new NpyFormatException(where + "big-endian dtype '" + descr + "' is not supported; save it little-endian "
                    + "(array.astype('<" + descr.substring(1) + "'))");
        }
        throw new NpyFormatException(where + "dtype '" + descr + "' is not supported; allowed: " + NpyDtype.accepted(accept));
    }

    private static boolean startsWithMagic(ByteBuffer b) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(i) != MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    /** Reads until {@code dst} is full or the channel ends. */
    static void readUpTo(SeekableByteChannel ch, ByteBuffer dst) throws IOException {
        while (dst.hasRemaining()) {
            if (ch.read(dst) < 0) {
                return;
            }
        }
    }

    /**
     * Writes {@code data} (C order, shape {@code shape}) as a float32 .npy file, replacing any file there.
     *
     * @param file where to write; created or truncated; not null
     * @param shape the array's shape, each dimension >= 0 (an empty shape is a scalar); not null
     * @param data the values in C order, as many as the shape's product; not null
     * @throws IllegalArgumentException when a dimension is negative or data's length is not the shape's
     *     product
     * @throws IOException when the file cannot be written
     */
    public static void writeFloat32(Path file, long[] shape, float[] data) throws IOException {
        writeFloat32(file, shape, FloatBuffer.wrap(data));
    }

    /**
     * Writes the remaining floats of {@code data} as a float32 .npy file of shape {@code shape}.
     *
     * @param file where to write; created or truncated; not null
     * @param shape the array's shape, each dimension >= 0 (an empty shape is a scalar); not null
     * @param data the values in C order, from position to limit (the position is not moved); not null
     * @throws IllegalArgumentException when a dimension is negative or data's remaining length is not the
     *     shape's product
     * @throws IOException when the file cannot be written
     */
    public static void writeFloat32(Path file, long[] shape, FloatBuffer data) throws IOException {
        long size = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape must not have negative dimensions, was " + Arrays.toString(shape));
            }
            size = Math.multiplyExact(size, d);
        }
        if (size != data.remaining()) {
            throw new IllegalArgumentException("data must hold " + size + " values for shape " + Arrays.toString(shape)
                    + ", had " + data.remaining());
        }
        byte[] header = header(NpyDtype.FLOAT32, shape);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(ch, ByteBuffer.wrap(header));
            ByteBuffer chunk = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            FloatBuffer src = data.duplicate();
            while (src.hasRemaining()) {
                chunk.clear();
                FloatBuffer view = chunk.asFloatBuffer();
                int n = Math.min(view.capacity(), src.remaining());
                FloatBuffer part = src.slice();
                part.limit(n);
                view.put(part);
                src.position(src.position() + n);
                chunk.limit(n * 4);
                writeFully(ch, chunk);
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * The magic, version and header dict of a C-order array, padded with spaces and a newline so
     * that the data starts at a multiple of {@link #HEADER_ALIGNMENT} bytes (version 1.0 while the
     * header fits in 65535 bytes, else 2.0).
     */
    static byte[] header(NpyDtype dtype, long[] shape) {
        StringBuilder dims = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            dims.append(shape[i]);
            if (shape.length == 1 || i < shape.length - 1) {
                dims.append(shape.length == 1 ? "," : ", ");
            }
        }
        dims.append(')');
        String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': " + dims + ", }";
        int prefix = dict.length() + 1 + 10 > 65535 ? 12 : 10;
        int total = prefix + dict.length() + 1;
        int padded = (total + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
        String text = dict + " ".repeat(padded - total) + "\n";
        ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC);
        if (prefix == 10) {
            b.put((byte) 1).put((byte) 0).putShort((short) text.length());
        } else {
            b.put((byte) 2).put((byte) 0).putInt(text.length());
        }
        b.put(text.getBytes(StandardCharsets.ISO_8859_1));
        return b.array();
    }
}
