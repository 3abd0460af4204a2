package org.segloss.score;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small reader for NumPy {@code .npy} files (format versions 1, 2 and 3, C order), kept inside
 * the scoring package so it can be swapped for a shared reader ({@code org.segloss.io.Npy}) later.
 * Integer dtypes become {@code int[]} class maps, float dtypes become {@code float[]} values.
 */
final class NpyReader {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private NpyReader() {
    }

    /** One array: its shape and either {@code ints} (integer dtype) or {@code floats} (float dtype). */
    static final class Array {
        final long[] shape;
        final String dtype;
        final int[] ints;
        final float[] floats;

        Array(long[] shape, String dtype, int[] ints, float[] floats) {
            this.shape = shape;
            this.dtype = dtype;
            this.ints = ints;
            this.floats = floats;
        }

        boolean isFloat() {
            return floats != null;
        }
    }

    /** The header only (shape and dtype), for choosing how to score a directory before decoding it. */
    static Array readHeader(Path file) throws IOException, BadFileException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Header h = header(ch);
            return new Array(h.shape, h.descr, null, null);
        }
    }

    static Array read(Path file) throws IOException, BadFileException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(ch);
        }
    }

    /** A file's bytes already in memory (read from another filesystem), as {@link #read(Path)}. */
    static Array read(byte[] bytes) throws IOException, BadFileException {
        return read(new BytesChannel(bytes));
    }

    private static Array read(SeekableByteChannel ch) throws IOException, BadFileException {
        Header h = header(ch);
        long count = 1;
        for (long d : h.shape) {
            count = Math.multiplyExact(count, d);
        }
        if (count > Integer.MAX_VALUE - 8) {
            throw new BadFileException("array of " + count + " elements is too large (at most " + (Integer.MAX_VALUE - 8) + ")");
        }
        long bytes = count * h.itemSize;
        if (ch.size() - h.dataOffset < bytes) {
            throw new BadFileException("truncated .npy: shape " + Arrays.toString(h.shape) + " of " + h.descr
                    + " needs " + bytes + " data bytes, file has " + (ch.size() - h.dataOffset));
        }
        ByteBuffer data = ByteBuffer.allocate((int) Math.min(bytes, Integer.MAX_VALUE - 8)).order(h.order);
        ch.position(h.dataOffset);
        while (data.hasRemaining()) {
            if (ch.read(data) < 0) {
                throw new BadFileException("truncated .npy data");
            }
        }
        data.flip();
        int n = (int) count;
        char kind = h.kind;
        if (kind == 'f') {
            float[] out = new float[n];
            if (h.itemSize == 4) {
                data.asFloatBuffer().get(out);
            } else {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) data.getDouble();
                }
            }
            return new Array(h.shape, h.descr, null, out);
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            long v;
            switch (h.itemSize) {
                case 1:
                    v = kind == 'u' || kind == 'b' ? Byte.toUnsignedInt(data.get()) : data.get();
                    break;
                case 2:
                    v = kind == 'u' ? Short.toUnsignedInt(data.getShort()) : data.getShort();
                    break;
                case 4:
                    v = kind == 'u' ? Integer.toUnsignedLong(data.getInt()) : data.getInt();
                    break;
                default:
                    v = data.getLong();
            }
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new BadFileException("class map value " + (kind == 'u' ? Long.toUnsignedString(v) : v)
                        + " at element " + i + " does not fit a 32-bit class index");
            }
            out[i] = (int) v;
        }
        return new Array(h.shape, h.descr, out, null);
    }

    private static final class Header {
        long[] shape;
        String descr;
        char kind;
        int itemSize;
        ByteOrder order;
        long dataOffset;
    }

    private static Header header(SeekableByteChannel ch) throws IOException, BadFileException {
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        while (pre.hasRemaining() && ch.read(pre) >= 0) {
            // fill the fixed preamble
        }
        if (pre.position() < 10) {
            throw new BadFileException("not a .npy file (shorter than its 10-byte preamble)");
        }
        pre.flip();
        for (byte b : MAGIC) {
            if (pre.get() != b) {
                throw new BadFileException("not a .npy file (no \\x93NUMPY magic)");
            }
        }
        int major = Byte.toUnsignedInt(pre.get());
        pre.get();
        long headerLength;
        long offset;
        if (major == 1) {
            headerLength = Short.toUnsignedInt(pre.getShort());
            offset = 10;
        } else if (major == 2 || major == 3) {
            if (pre.remaining() < 4) {
                throw new BadFileException("truncated .npy preamble");
            }
            headerLength = Integer.toUnsignedLong(pre.getInt());
            offset = 12;
        } else {
            throw new BadFileException(".npy format version " + major + " is not supported (1, 2 or 3)");
        }
        if (headerLength > 1 << 20 || offset + headerLength > ch.size()) {
            throw new BadFileException("corrupt .npy header length " + headerLength);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLength);
        ch.position(offset);
        while (hb.hasRemaining() && ch.read(hb) >= 0) {
            // read the header dictionary
        }
        String text = new String(hb.array(), 0, hb.position(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = new Header();
        h.dataOffset = offset + headerLength;
        Matcher m = DESCR.matcher(text);
        Matcher f = FORTRAN.matcher(text);
        Matcher s = SHAPE.matcher(text);
        if (!m.find() || !f.find() || !s.find()) {
            throw new BadFileException("corrupt .npy header: " + text.trim());
        }
        if (f.group(1).equals("True")) {
            throw new BadFileException(".npy in Fortran order is not supported (save it C-contiguous)");
        }
        h.descr = m.group(1);
        parseDescr(h);
        String[] dims = s.group(1).split(",");
        long[] shape = new long[dims.length];
        int k = 0;
        for (String d : dims) {
            String t = d.trim();
            if (!t.isEmpty()) {
                try {
                    shape[k++] = Long.parseLong(t.endsWith("L") ? t.substring(0, t.length() - 1) : t);
                } catch (NumberFormatException e) {
                    throw new BadFileException("corrupt .npy shape (" + s.group(1) + ")");
                }
            }
        }
        h.shape = Arrays.copyOf(shape, k);
        return h;
    }

    private static void parseDescr(Header h) throws BadFileException {
        String d = h.descr;
        if (d.length() < 3) {
            throw new BadFileException(".npy dtype " + d + " is not supported");
        }
        char endian = d.charAt(0);
        h.kind = d.charAt(1);
        try {
            h.itemSize = Integer.parseInt(d.substring(2));
        } catch (NumberFormatException e) {
            throw new BadFileException(".npy dtype " + d + " is not supported");
        }
        h.order = endian == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        boolean ok;
        switch (h.kind) {
            case 'f':
                ok = h.itemSize == 4 || h.itemSize == 8;
                break;
            case 'i':
            case 'u':
                ok = h.itemSize == 1 || h.itemSize == 2 || h.itemSize == 4 || h.itemSize == 8;
                break;
            case 'b':
                ok = h.itemSize == 1;
                break;
            default:
                ok = false;
        }
        if (!ok || !(endian == '<' || endian == '>' || endian == '|' || endian == '=')) {
            throw new BadFileException(".npy dtype " + d + " is not supported (integer class maps or float32/float64 values)");
        }
    }

    /** A read-only channel over a byte array. */
    private static final class BytesChannel implements SeekableByteChannel {
        private final byte[] bytes;
        private int position;

        BytesChannel(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public int read(ByteBuffer dst) {
            if (position >= bytes.length) {
                return -1;
            }
            int n = Math.min(dst.remaining(), bytes.length - position);
            dst.put(bytes, position, n);
            position += n;
            return n;
        }

        @Override
        public int write(ByteBuffer src) {
            throw new java.nio.channels.NonWritableChannelException();
        }

        @Override
        public long position() {
            return position;
        }

        @Override
        public SeekableByteChannel position(long newPosition) {
            position = (int) Math.min(newPosition, bytes.length);
            return this;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public SeekableByteChannel truncate(long size) {
            throw new java.nio.channels.NonWritableChannelException();
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }
}
