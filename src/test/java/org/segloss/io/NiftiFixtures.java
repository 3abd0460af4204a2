package org.segloss.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Writes NIfTI-1 / NIfTI-2 files byte by byte from the format's layout (for tests; independent of
 * the reader): header fields at their offsets, then the data x fastest.
 */
public final class NiftiFixtures {
    private NiftiFixtures() {
    }

    /** What to write; fields left as they are give a valid file. */
    public static final class Spec {
        public int version = 1;
        public ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        public int datatype = 2;
        public int bitpix = 8;
        /** dim[0..7] (dim[0] = rank). */
        public long[] dim;
        public double[] pixdim = {1, 1, 1, 1, 1, 1, 1, 1};
        public double slope;
        public double inter;
        public String magic;
        /** Bytes between the header (plus the 4 extension bytes) and the data. */
        public int pad;
        /** Data bytes to drop from the end (a file shorter than its header says), or negative to add. */
        public int truncate;

        public Spec(long... dims) {
            dim = new long[8];
            dim[0] = dims.length;
            for (int i = 0; i < dims.length; i++) {
                dim[i + 1] = dims[i];
            }
            for (int i = dims.length + 1; i < 8; i++) {
                dim[i] = 1;
            }
        }

        public Spec type(int datatype, int bitpix) {
            this.datatype = datatype;
            this.bitpix = bitpix;
            return this;
        }
    }

    /** The file's bytes: header, 4 extension bytes (0), pad, data (values in the datatype), maybe gzipped. */
    public static byte[] bytes(Spec s, double[] values, boolean gzip) throws IOException {
        int headerSize = s.version == 1 ? 348 : 540;
        int voxOffset = headerSize + 4 + s.pad;
        ByteBuffer h = ByteBuffer.allocate(voxOffset).order(s.order);
        h.putInt(0, headerSize);
        if (s.version == 1) {
            for (int i = 0; i < 8; i++) {
                h.putShort(40 + 2 * i, (short) s.dim[i]);
                h.putFloat(76 + 4 * i, (float) s.pixdim[i]);
            }
            h.putShort(70, (short) s.datatype);
            h.putShort(72, (short) s.bitpix);
            h.putFloat(108, voxOffset);
            h.putFloat(112, (float) s.slope);
            h.putFloat(116, (float) s.inter);
            byte[] m = (s.magic == null ? "n+1" : s.magic).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < m.length; i++) {
                h.put(344 + i, m[i]);
            }
        } else {
            byte[] m = s.magic == null ? new byte[] {'n', '+', '2', 0, '\r', '\n', 0x1A, '\n'}
                    : s.magic.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < m.length; i++) {
                h.put(4 + i, m[i]);
            }
            h.putShort(12, (short) s.datatype);
            h.putShort(14, (short) s.bitpix);
            for (int i = 0; i < 8; i++) {
                h.putLong(16 + 8 * i, s.dim[i]);
                h.putDouble(104 + 8 * i, s.pixdim[i]);
            }
            h.putLong(168, voxOffset);
            h.putDouble(176, s.slope);
            h.putDouble(184, s.inter);
        }
        int bytesPer = s.bitpix / 8;
        ByteBuffer d = ByteBuffer.allocate(values.length * bytesPer).order(s.order);
        for (double v : values) {
            switch (s.bitpix == 8 ? 2 : s.datatype) {
                case 2:
                case 256:
                    d.put((byte) v);
                    break;
                case 4:
                case 512:
                    d.putShort((short) (long) v);
                    break;
                case 8:
                case 768:
                    d.putInt((int) (long) v);
                    break;
                case 16:
                    d.putFloat((float) v);
                    break;
                case 64:
                    d.putDouble(v);
                    break;
                default:
                    d.putLong((long) v);
                    break;
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(h.array());
        byte[] data = d.array();
        if (s.truncate >= 0) {
            out.write(data, 0, data.length - s.truncate);
        } else {
            out.write(data);
            out.write(new byte[-s.truncate]);
        }
        byte[] raw = out.toByteArray();
        if (!gzip) {
            return raw;
        }
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(z)) {
            g.write(raw);
        }
        return z.toByteArray();
    }

    public static Path write(Path file, Spec s, double[] values) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, bytes(s, values, file.getFileName().toString().endsWith(".gz")));
        return file;
    }

    /** Integer labels as doubles. */
    public static double[] of(int[] labels) {
        double[] d = new double[labels.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = labels[i];
        }
        return d;
    }
}
