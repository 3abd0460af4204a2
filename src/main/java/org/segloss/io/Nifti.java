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
import org.segloss.InvalidInputException;

/**
 * Reads label volumes from NIfTI-1 and NIfTI-2 single files ({@code .nii}, {@code .nii.gz}): the
 * header (either byte order), the voxel data as integer labels, and the voxel spacing from pixdim.
 *
 * <p>Accepted datatypes: uint8, int8, int16, uint16, int32, uint32, int64, uint64 (values must fit a
 * Java int), float32 and float64 holding integral values; {@code scl_slope}/{@code scl_inter} are
 * applied when the slope is not 0 (and the result must be integral). Dims: rank 1 to 7 where every
 * dim after the third is 1; the data is x fastest (NIfTI's i), then y, then z.
 *
 * <p>Checked before any data is allocated: the declared voxel count against what a Java array
 * holds, the heap the read needs against the free heap ({@link InputLimits#requireHeap}, the same
 * refusal as for {@code .npy} and PNG files); for an uncompressed file, the declared data length
 * against the bytes the file holds. A compressed stream must hold exactly the declared data (a shorter one is
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

    /** Voxels converted per chunk of the data stream (at most 64 KiB of bytes). */
    static final int CHUNK_VOXELS = 8192;

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
     * Reads a file.
     *
     * @param file a NIfTI-1 or NIfTI-2 file, {@code .nii} or {@code .nii.gz}; not null
     * @return the volume's dims, spacing and labels
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws NiftiFormatException when the header or data is malformed, unsupported or not integral, or the
     *     volume does not fit a Java array or the free heap (refused from the header, before any data is read)
     * @throws IOException when the file cannot be read
     */
    public static Volume read(Path file) throws IOException {
        return read(file, null);
    }

    /**
     * Reads a file into a caller's array when it has the volume's voxel count, as a loop reading many
     * volumes of one size does (no fresh array per volume, so the heap does not grow with the count read).
     *
     * @param file a NIfTI-1 or NIfTI-2 file, {@code .nii} or {@code .nii.gz}; not null
     * @param reuse an array the labels are written into when its length is the volume's voxel count (the
     *     returned {@link Volume#labels} is then this array); otherwise, or when null, a new array is used
     * @return the volume's dims, spacing and labels
     * @throws java.nio.file.NoSuchFileException when the file does not exist
     * @throws NiftiFormatException as {@link #read(Path)}; {@code reuse} may then hold part of the data
     * @throws IOException when the file cannot be read
     */
    public static Volume read(Path file, int[] reuse) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString());
        }
        long size = Files.size(file);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            return read(in, file.getFileName().toString(), size, reuse);
        }
    }

    /**
     * Reads a file's bytes (read elsewhere); {@code name}'s extension says whether they are gzipped.
     *
     * @param name the file's name (its extension says whether the bytes are gzipped); not null
     * @param bytes the whole file; not null
     * @return the volume's dims, spacing and labels
     * @throws NiftiFormatException when the header or data is malformed, unsupported or not integral, or the
     *     volume does not fit a Java array or the free heap (refused from the header, before the data is decoded)
     * @throws IOException when decompressing fails
     */
    public static Volume read(String name, byte[] bytes) throws IOException {
        return read(new ByteArrayInputStream(bytes), name, bytes.length, null);
    }

    private static Volume read(InputStream raw, String name, long fileSize, int[] reuse) throws IOException {
        boolean gz = gzipped(name);
        InputStream in;
        try {
            in = gz ? new GZIPInputStream(raw, 1 << 16) : raw;
        } catch (ZipException | EOFException e) {
            throw new NiftiFormatException("corrupt gzip: " + message(e));
        }
        try {
            Header h = header(in);
            long voxels = checkDims(h);
            int bytesPerVoxel = h.bitpix / 8;
            long dataBytes = voxels * bytesPerVoxel;
            long headerBytes = h.version == 1 ? NIFTI1_HEADER : NIFTI2_HEADER;
            if (!gz && fileSize - h.voxOffset != dataBytes) {
                throw new NiftiFormatException("header dims " + Arrays.toString(spatial(h)) + " of " + typeName(h.datatype)
                        + " declare " + dataBytes + " data bytes from offset " + h.voxOffset + ", the file holds "
                        + Math.max(0, fileSize - h.voxOffset));
            }
            int[] out = reuse != null && reuse.length == voxels ? reuse : null;
            if (out == null) {
                try {
                    // the int labels (the data itself streams through a chunk of CHUNK_VOXELS voxels)
                    InputLimits.requireHeap("NIfTI volume of dims " + Arrays.toString(spatial(h)) + " (" + typeName(h.datatype)
                            + ")", 4 * voxels);
                } catch (InvalidInputException e) {
                    throw new NiftiFormatException("too large: " + e.getMessage());
                }
            }
            skipFully(in, h.voxOffset - headerBytes, dataBytes);
            if (out == null) {
                out = new int[(int) voxels];
            }
            byte[] chunk = new byte[(int) Math.min(dataBytes, (long) CHUNK_VOXELS * bytesPerVoxel)];
            long got = 0;
            for (int first = 0; first < voxels; ) {
                int count = (int) Math.min(CHUNK_VOXELS, voxels - first);
                int read = in.readNBytes(chunk, 0, count * bytesPerVoxel);
                got += read;
                if (read < count * bytesPerVoxel) {
                    throw new NiftiFormatException("truncated: header dims " + Arrays.toString(spatial(h)) + " of "
                            + typeName(h.datatype) + " declare " + dataBytes + " data bytes, the " + (gz ? "gzip stream" : "file")
                            + " holds " + got);
                }
                labels(h, chunk, first, count, out);
                first += count;
            }
            if (gz && in.read() >= 0) {
                throw new NiftiFormatException("header dims " + Arrays.toString(spatial(h)) + " of " + typeName(h.datatype)
                        + " declare " + dataBytes + " data bytes, the gzip stream holds more");
            }
            return new Volume(dimsSlowestFirst(h), spacing(h), out);
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

    /** Checks rank, dims, datatype and bitpix; returns the voxel count, refused when the data does not fit a Java array. */
    private static long checkDims(Header h) throws NiftiFormatException {
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
        int spatialRank = (int) Math.min(rank, 3);
        for (int i = 1; i <= spatialRank; i++) {
            if (h.dim[i] < 1) {
                throw new NiftiFormatException("dim[" + i + "] must be >= 1, was " + h.dim[i]);
            }
        }
        long voxels;
        long dataBytes;
        try {
            voxels = InputLimits.elementCount("NIfTI header dims", spatial(h));
            dataBytes = InputLimits.multiply("NIfTI data bytes", voxels, h.bitpix / 8);
        } catch (InvalidInputException e) {
            throw new NiftiFormatException("too large: " + e.getMessage());
        }
        if (voxels > Integer.MAX_VALUE - 8 || dataBytes > Integer.MAX_VALUE - 8) {
            throw new NiftiFormatException("too large: header dims " + Arrays.toString(spatial(h)) + " of " + typeName(h.datatype)
                    + " declare " + voxels + " voxels (" + dataBytes + " data bytes), which do not fit in a Java array");
        }
        return voxels;
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

    /** Converts {@code count} voxels of {@code data} (the chunk from voxel {@code first}) into {@code out[first..]}. */
    private static void labels(Header h, byte[] data, int first, int count, int[] out) throws NiftiFormatException {
        ByteBuffer b = ByteBuffer.wrap(data, 0, count * (h.bitpix / 8)).order(h.order);
        boolean scaled = h.slope != 0 && Double.isFinite(h.slope) && (h.slope != 1 || h.inter != 0);
        if (!scaled) {
            switch (h.datatype) {
                case DT_UINT8:
                    for (int i = 0; i < count; i++) {
                        out[first + i] = data[i] & 0xFF;
                    }
                    return;
                case DT_INT8:
                    for (int i = 0; i < count; i++) {
                        out[first + i] = data[i];
                    }
                    return;
                case DT_INT16:
                    shortsTo(out, first, b, count, false);
                    return;
                case DT_UINT16:
                    shortsTo(out, first, b, count, true);
                    return;
                case DT_INT32:
                    b.asIntBuffer().get(out, first, count);
                    return;
                default:
                    break;
            }
        }
        for (int k = 0; k < count; k++) {
            int i = first + k;
            double v;
            switch (h.datatype) {
                case DT_UINT8: v = data[k] & 0xFF; break;
                case DT_INT8: v = data[k]; break;
                case DT_INT16: v = b.getShort(2 * k); break;
                case DT_UINT16: v = b.getShort(2 * k) & 0xFFFF; break;
                case DT_INT32: v = b.getInt(4 * k); break;
                case DT_UINT32: v = b.getInt(4 * k) & 0xFFFFFFFFL; break;
                case DT_INT64: {
                    long l = b.getLong(8 * k);
                    if (l != (int) l) {
                        throw outOfRange(h, i, Long.toString(l));
                    }
                    v = l;
                    break;
                }
                case DT_UINT64: {
                    long l = b.getLong(8 * k);
                    if (l < 0 || l != (int) l) {
                        throw outOfRange(h, i, Long.toUnsignedString(l));
                    }
                    v = l;
                    break;
                }
                case DT_FLOAT32: v = b.getFloat(4 * k); break;
                default: v = b.getDouble(8 * k); break;
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
    }

    /** Fills {@code out} from 16-bit values (unsigned when asked). */
    private static void shortsTo(int[] out, int first, ByteBuffer b, int n, boolean unsigned) {
        java.nio.ShortBuffer s = b.asShortBuffer();
        for (int i = 0; i < n; i++) {
            short v = s.get(i);
            out[first + i] = unsigned ? v & 0xFFFF : v;
        }
    }

    private static NiftiFormatException outOfRange(Header h, int i, String v) {
        return new NiftiFormatException("label " + v + " at " + at(h, i) + " does not fit a 32-bit class index");
    }
}
