package org.segloss.io;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads label volumes from NIfTI-1 and NIfTI-2 single files ({@code .nii}, {@code .nii.gz}): the
 * header (either byte order), the voxel data as integer labels, and the voxel spacing from pixdim.
 *
 * <p>Accepted datatypes: uint8, int8, int16, uint16, int32, uint32, int64, uint64 (values must fit a
 * Java int), float32 and float64 holding integral values; {@code scl_slope}/{@code scl_inter} are
 * applied when the slope is not 0 (and the result must be integral). Dims: rank 1 to 7 where every
 * dim after the third is 1; the data is x fastest (NIfTI's i), then y, then z.
 *
 * <p>Checked before any data is allocated: the declared voxel count against {@code maxVoxels}
 * (the caller's memory limit); for an uncompressed file, the declared data length against the bytes
 * the file holds. A compressed stream must hold exactly the declared data (a shorter one is
 * truncated, a longer one disagrees with the header). Everything refused is a
 * {@link NiftiFormatException} with the reason.
 */
public final class Nifti {
    static final int NIFTI1_HEADER = 348;
    static final int NIFTI2_HEADER = 540;

    /** NIfTI datatype codes. */
    static final int DT_UINT8 = 2;
    static final int DT_INT16 = 4;
    static final int DT_INT32 = 8;
    static final int DT_FLOAT32 = 16;
    static final int DT_FLOAT64 = 64;
    static final int DT_INT8 = 256;
    static final int DT_UINT16 = 512;
    static final int DT_UINT32 = 768;
    static final int DT_INT64 = 1024;
    static final int DT_UINT64 = 1280;

    private Nifti() {
    }

    /** A label volume: dims slowest first ((z, y, x), (y, x) or (x)), spacing x first (pixdim[1..]). */
    public static final class Volume {
        /**
         * The extent of each axis, slowest first, each >= 1.
         */
        public final long[] dims;
        /** pixdim[1..rank]: x, y[, z], as stored (may be 0 or negative in a careless header). */
        public final double[] spacing;
        /**
         * One integer label per voxel, in the order of {@link #dims} (x fastest); its length is the product
         * of the dims.
         */
        public final int[] labels;

        Volume(long[] dims, double[] spacing, int[] labels) {
            this.dims = dims;
            this.spacing = spacing;
            this.labels = labels;
        }
    }

    /** The parts of a header this reader uses. */
    static final class Header {
        int version;
        ByteOrder order;
        int datatype;
        int bitpix;
        long[] dim;
        double[] pixdim;
        long voxOffset;
        double slope;
        double inter;
        String magic;
    }

    /**
     * True for the names this reader takes: {@code .nii} and {@code .nii.gz} (any case).
     *
     * @param fileName a file name or path; not null
     * @return whether it ends with {@code .nii} or {@code .nii.gz}
     */
    public static boolean isNifti(String fileName) {
        String n = fileName.toLowerCase(Locale.ROOT);
        return n.endsWith(".nii") || n.endsWith(".nii.gz");
    }

    private static boolean gzipped(String fileName) {
        return fileName.toLowerCase(Locale.ROOT).endsWith(".gz");
    }

    /**
     * Reads a file; {@code maxVoxels} bounds what may be allocated.
     *
     * @param file a NIfTI-1 or NIfTI-2 file, {@code .nii} or {@code .nii.gz}; not null
     * @param maxVoxels the most voxels the volume may hold, > 0; a larger header is refused before any data
     *     is read
     * @return the volume's dims, spacing and labels
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws NiftiFormatException when the header or data is malformed, unsupported, not integral, or above
     *     maxVoxels
     * @throws IOException when the file cannot be read
     */
    public static Volume read(Path file, long maxVoxels) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString());
        }
        long size = Files.size(file);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return read(in, file.getFileName().toString(), size, maxVoxels);
        }
    }

    /**
     * Reads a file's bytes (read elsewhere); {@code name}'s extension says whether they are gzipped.
     *
     * @param name the file's name (its extension says whether the bytes are gzipped); not null
     * @param bytes the whole file; not null
     * @param maxVoxels the most voxels the volume may hold, > 0; a larger header is refused before the data
     *     is decoded
     * @return the volume's dims, spacing and labels
     * @throws NiftiFormatException when the header or data is malformed, unsupported, not integral, or above
     *     maxVoxels
     * @throws IOException when decompressing fails
     */
    public static Volume read(String name, byte[] bytes, long maxVoxels) throws IOException {
        return read(new ByteArrayInputStream(bytes), name, bytes.length, maxVoxels);
    }

    private static Volume read(InputStream raw, String name, long fileSize, long maxVoxels) throws IOException {
        boolean gz = gzipped(name);
        InputStream in;
        try {
            in = gz ? new GZIPInputStream(raw, 1 << 16) : raw;
        } catch (ZipException | EOFException e) {
            throw new NiftiFormatException("corrupt gzip: " + message(e));
        }
        try {
            Header h = header(in);
            long voxels = checkDims(h, maxVoxels);
            int bytesPerVoxel = h.bitpix / 8;
            long dataBytes = voxels * bytesPerVoxel;
            long headerBytes = h.version == 1 ? NIFTI1_HEADER : NIFTI2_HEADER;
            if (!gz && fileSize - h.voxOffset != dataBytes) {
                throw new NiftiFormatException("header dims " + Arrays.toString(spatial(h)) + " of " + typeName(h.datatype)
                        + " declare " + dataBytes + " data bytes from offset " + h.voxOffset + ", the file holds "
                        + Math.max(0, fileSize - h.voxOffset));
            }
            skipFully(in, h.voxOffset - headerBytes, dataBytes);
            byte[] data = new byte[(int) dataBytes];
            int got = in.readNBytes(data, 0, data.length);
            if (got < data.length) {
                throw new NiftiFormatException("truncated: header dims " + Arrays.toString(spatial(h)) + " of "
                        + typeName(h.datatype) + " declare " + dataBytes + " data bytes, the " + (gz ? "gzip stream" : "file")
                        + " holds " + got);
            }
            if (gz && in.read() >= 0) {
                throw new NiftiFormatException("header dims " + Arrays.toString(spatial(h)) + " of " + typeName(h.datatype)
                        + " declare " + dataBytes + " data bytes, the gzip stream holds more");
            }
            return new Volume(dimsSlowestFirst(h), spacing(h), labels(h, data, voxels));
        } catch (ZipException | EOFException e) {
            throw new NiftiFormatException((gz ? "truncated or corrupt gzip: " : "truncated: ") + message(e));
        }
    }

    private static String message(Throwable e) {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    private static void skipFully(InputStream in, long n, long dataBytes) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new NiftiFormatException("truncated: the data starts at vox_offset " + (n) + " bytes after the"
                            + " header, the file ends before (" + dataBytes + " data bytes declared)");
                }
                s = 1;
            }
            left -= s;
        }
    }

    static Header header(InputStream in) throws IOException {
        byte[] first = new byte[NIFTI1_HEADER];
        int got = in.readNBytes(first, 0, first.length);
        if (got < 4) {
            throw new NiftiFormatException("not NIfTI: " + got + " bytes, shorter than a header");
        }
        ByteBuffer b = ByteBuffer.wrap(first);
        Header h = new Header();
        int le = b.order(ByteOrder.LITTLE_ENDIAN).getInt(0);
        int be = b.order(ByteOrder.BIG_ENDIAN).getInt(0);
        if (le == NIFTI1_HEADER || be == NIFTI1_HEADER) {
            h.version = 1;
            h.order = le == NIFTI1_HEADER ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        } else if (le == NIFTI2_HEADER || be == NIFTI2_HEADER) {
            h.version = 2;
            h.order = le == NIFTI2_HEADER ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
        } else {
            throw new NiftiFormatException("not NIfTI: sizeof_hdr is " + le + " (little-endian), neither 348 (NIfTI-1) nor 540 (NIfTI-2)");
        }
        int size = h.version == 1 ? NIFTI1_HEADER : NIFTI2_HEADER;
        byte[] all = first;
        if (got < size && h.version == 2) {
            all = Arrays.copyOf(first, size);
            got += in.readNBytes(all, got, size - got);
        }
        if (got < size) {
            throw new NiftiFormatException("truncated: the NIfTI-" + h.version + " header needs " + size + " bytes, the file holds " + got);
        }
        b = ByteBuffer.wrap(all).order(h.order);
        h.dim = new long[8];
        h.pixdim = new double[8];
        if (h.version == 1) {
            h.magic = ascii(all, 344, 4);
            if (h.magic.equals("ni1")) {
                throw new NiftiFormatException("NIfTI-1 header/image pair (.hdr + .img, magic ni1) is not supported; use a single .nii file");
            }
            if (!h.magic.equals("n+1")) {
                throw new NiftiFormatException("not NIfTI-1: magic is '" + h.magic + "', expected 'n+1'");
            }
            for (int i = 0; i < 8; i++) {
                h.dim[i] = b.getShort(40 + 2 * i);
                h.pixdim[i] = b.getFloat(76 + 4 * i);
            }
            h.datatype = b.getShort(70);
            h.bitpix = b.getShort(72);
            float vox = b.getFloat(108);
            h.voxOffset = (long) vox;
            if (!(vox >= NIFTI1_HEADER) || vox != h.voxOffset) {
                throw new NiftiFormatException("vox_offset must be a whole number >= 348, was " + vox);
            }
            h.slope = b.getFloat(112);
            h.inter = b.getFloat(116);
        } else {
            h.magic = ascii(all, 4, 3);
            if (!h.magic.equals("n+2")) {
                throw new NiftiFormatException(h.magic.equals("ni2")
                        ? "NIfTI-2 header/image pair (magic ni2) is not supported; use a single .nii file"
                        : "not NIfTI-2: magic is '" + h.magic + "', expected 'n+2'");
            }
            h.datatype = b.getShort(12);
            h.bitpix = b.getShort(14);
            for (int i = 0; i < 8; i++) {
                h.dim[i] = b.getLong(16 + 8 * i);
                h.pixdim[i] = b.getDouble(104 + 8 * i);
            }
            h.voxOffset = b.getLong(168);
            if (h.voxOffset < NIFTI2_HEADER) {
                throw new NiftiFormatException("vox_offset must be >= 540, was " + h.voxOffset);
            }
            h.slope = b.getDouble(176);
            h.inter = b.getDouble(184);
        }
        return h;
    }

    private static String ascii(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder();
        for (int i = off; i < off + len && b[i] != 0; i++) {
            sb.append(b[i] >= 32 && b[i] < 127 ? (char) b[i] : '?');
        }
        return sb.toString();
    }

    /** Checks rank, dims, datatype and bitpix; returns the voxel count, refused above {@code maxVoxels}. */
    private static long checkDims(Header h, long maxVoxels) throws NiftiFormatException {
        long rank = h.dim[0];
        if (rank < 1 || rank > 7) {
            throw new NiftiFormatException("dim[0] (the rank) must be in [1, 7], was " + rank);
        }
        for (int i = 4; i <= rank; i++) {
            if (h.dim[i] != 1) {
                throw new NiftiFormatException("only volumes of up to 3 dimensions are supported, dim[" + i + "] is "
                        + h.dim[i] + " (dims " + Arrays.toString(Arrays.copyOfRange(h.dim, 1, (int) rank + 1)) + ")");
            }
        }
        int expectBits = bits(h.datatype);
        if (expectBits == 0) {
            throw new NiftiFormatException("datatype " + h.datatype + " (" + typeName(h.datatype)
                    + ") is not supported for labels (integer types, or float32/float64 holding integers)");
        }
        if (h.bitpix != expectBits) {
            throw new NiftiFormatException("bitpix " + h.bitpix + " does not match datatype " + typeName(h.datatype)
                    + " (" + expectBits + " bits)");
        }
        long voxels = 1;
        int spatialRank = (int) Math.min(rank, 3);
        for (int i = 1; i <= spatialRank; i++) {
            if (h.dim[i] < 1) {
                throw new NiftiFormatException("dim[" + i + "] must be >= 1, was " + h.dim[i]);
            }
            voxels = multiplyCapped(voxels, h.dim[i]);
        }
        long limit = Math.min(maxVoxels, Integer.MAX_VALUE - 8);
        if (voxels > limit || voxels * (h.bitpix / 8) > Integer.MAX_VALUE - 8) {
            throw new NiftiFormatException("header dims " + Arrays.toString(spatial(h)) + " declare "
                    + (voxels == Long.MAX_VALUE ? "more than 2^63" : Long.toString(voxels)) + " voxels, more than the limit of "
                    + limit + " voxels a volume may have in this JVM (raise -Xmx)");
        }
        return voxels;
    }

    private static long multiplyCapped(long a, long b) {
        long r = a * b;
        return (b != 0 && (r / b != a || r < 0)) ? Long.MAX_VALUE : r;
    }

    private static long[] spatial(Header h) {
        return Arrays.copyOfRange(h.dim, 1, (int) Math.min(Math.max(h.dim[0], 1), 3) + 1);
    }

    private static long[] dimsSlowestFirst(Header h) {
        long[] s = spatial(h);
        long[] out = new long[s.length];
        for (int i = 0; i < s.length; i++) {
            out[i] = s[s.length - 1 - i];
        }
        return out;
    }

    private static double[] spacing(Header h) {
        int r = spatial(h).length;
        return Arrays.copyOfRange(h.pixdim, 1, r + 1);
    }

    static int bits(int datatype) {
        switch (datatype) {
            case DT_UINT8:
            case DT_INT8:
                return 8;
            case DT_INT16:
            case DT_UINT16:
                return 16;
            case DT_INT32:
            case DT_UINT32:
            case DT_FLOAT32:
                return 32;
            case DT_INT64:
            case DT_UINT64:
            case DT_FLOAT64:
                return 64;
            default:
                return 0;
        }
    }

    static String typeName(int datatype) {
        switch (datatype) {
            case DT_UINT8: return "uint8";
            case DT_INT8: return "int8";
            case DT_INT16: return "int16";
            case DT_UINT16: return "uint16";
            case DT_INT32: return "int32";
            case DT_UINT32: return "uint32";
            case DT_INT64: return "int64";
            case DT_UINT64: return "uint64";
            case DT_FLOAT32: return "float32";
            case DT_FLOAT64: return "float64";
            case 1: return "binary";
            case 32: return "complex64";
            case 128: return "rgb24";
            case 1536: return "float128";
            case 1792: return "complex128";
            case 2048: return "complex256";
            case 2304: return "rgba32";
            default: return "unknown";
        }
    }

    /** Where voxel {@code i} is, {@code (x=.., y=.., z=..)}. */
    private static String at(Header h, long i) {
        long[] s = spatial(h);
        StringBuilder sb = new StringBuilder("(");
        String[] names = {"x", "y", "z"};
        long rest = i;
        for (int d = 0; d < s.length; d++) {
            if (d > 0) {
                sb.append(", ");
            }
            sb.append(names[d]).append('=').append(rest % s[d]);
            rest /= s[d];
        }
        return sb.append(')').toString();
    }

    private static int[] labels(Header h, byte[] data, long voxels) throws NiftiFormatException {
        int n = (int) voxels;
        int[] out = new int[n];
        ByteBuffer b = ByteBuffer.wrap(data).order(h.order);
        boolean scaled = h.slope != 0 && Double.isFinite(h.slope) && (h.slope != 1 || h.inter != 0);
        if (!scaled) {
            switch (h.datatype) {
                case DT_UINT8:
                    for (int i = 0; i < n; i++) {
                        out[i] = data[i] & 0xFF;
                    }
                    return out;
                case DT_INT8:
                    for (int i = 0; i < n; i++) {
                        out[i] = data[i];
                    }
                    return out;
                case DT_INT16:
                    shortsTo(out, b, n, false);
                    return out;
                case DT_UINT16:
                    shortsTo(out, b, n, true);
                    return out;
                case DT_INT32:
                    b.asIntBuffer().get(out);
                    return out;
                default:
                    break;
            }
        }
        for (int i = 0; i < n; i++) {
            double v;
            switch (h.datatype) {
                case DT_UINT8: v = data[i] & 0xFF; break;
                case DT_INT8: v = data[i]; break;
                case DT_INT16: v = b.getShort(2 * i); break;
                case DT_UINT16: v = b.getShort(2 * i) & 0xFFFF; break;
                case DT_INT32: v = b.getInt(4 * i); break;
                case DT_UINT32: v = b.getInt(4 * i) & 0xFFFFFFFFL; break;
                case DT_INT64: {
                    long l = b.getLong(8 * i);
                    if (l != (int) l) {
                        throw outOfRange(h, i, Long.toString(l));
                    }
                    v = l;
                    break;
                }
                case DT_UINT64: {
                    long l = b.getLong(8 * i);
                    if (l < 0 || l != (int) l) {
                        throw outOfRange(h, i, Long.toUnsignedString(l));
                    }
                    v = l;
                    break;
                }
                case DT_FLOAT32: v = b.getFloat(4 * i); break;
                default: v = b.getDouble(8 * i); break;
            }
            if (scaled) {
                v = v * h.slope + h.inter;
            }
            if (v != Math.rint(v) || Double.isInfinite(v)) {
                throw new NiftiFormatException("non-integral label " + v + " at " + at(h, i) + " (" + typeName(h.datatype)
                        + (scaled ? " scaled by scl_slope " + h.slope + ", scl_inter " + h.inter : "")
                        + "); labels must be whole numbers");
            }
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw outOfRange(h, i, Double.toString(v));
            }
            out[i] = (int) v;
        }
        return out;
    }

    /** Fills {@code out} from 16-bit values (unsigned when asked). */
    private static void shortsTo(int[] out, ByteBuffer b, int n, boolean unsigned) {
        java.nio.ShortBuffer s = b.asShortBuffer();
        for (int i = 0; i < n; i++) {
            short v = s.get(i);
            out[i] = unsigned ? v & 0xFFFF : v;
        }
    }

    private static NiftiFormatException outOfRange(Header h, int i, String v) {
        return new NiftiFormatException("label " + v + " at " + at(h, i) + " does not fit a 32-bit class index");
    }
}
