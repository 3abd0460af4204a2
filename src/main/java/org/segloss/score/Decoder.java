package org.segloss.score;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.io.InputLimits;
import org.segloss.io.Nifti;
import org.segloss.io.NiftiFormatException;
import org.segloss.io.Npy;
import org.segloss.io.NpyArray;
import org.segloss.io.NpyFormatException;

/**
 * Reads one file into a class map or per-class scores. PNG label maps (8- or 16-bit grayscale, or a
 * palette where the index is the class) are decoded with the JDK's ImageIO; {@code .npy} with
 * {@link Npy} ({@link Npy.Accept#LENIENT}: any integer dtype, either byte order). Anything else, or a file that fails to decode, is a {@link BadFileException}.
 * A PNG is checked before it is decoded ({@link #checkPng}): its declared size against
 * {@code --max-pixels} and the heap, and every chunk's CRC.
 */
final class Decoder {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    /**
     * Default of {@code --max-pixels}: 2^28 pixels (16384 x 16384). A PNG declaring more is refused from
     * its header, before decoding (a decompression bomb declares a huge size in a few bytes).
     */
    static final long DEFAULT_MAX_PIXELS = 1L << 28;

    /** PNG allows chunk lengths up to 2^31 - 1. */
    private static final long MAX_CHUNK_LENGTH = Integer.MAX_VALUE;

    static {
        ImageIO.setUseCache(false);
    }

    private Decoder() {
    }

    /** An integer class map with its spatial dims ((H, W) or (D, H, W)). */
    static final class LabelMap {
        final long[] dims;
        final int[] labels;
        /** Voxel spacing from the file (NIfTI pixdim), x first; null when the format has none. */
        final double[] spacing;

        LabelMap(long[] dims, int[] labels) {
            this(dims, labels, null);
        }

        LabelMap(long[] dims, int[] labels, double[] spacing) {
            this.dims = dims;
            this.labels = labels;
            this.spacing = spacing;
        }
    }

    /** Per-class probabilities or logits as stored, shape as in the file. */
    static final class Scores {
        final long[] shape;
        final float[] values;

        Scores(long[] shape, float[] values) {
            this.shape = shape;
            this.values = values;
        }
    }

    static boolean isNpy(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy");
    }

    /** A target: must be a class map. */
    static LabelMap readTarget(Path file) throws BadFileException {
        return readTarget(file, DEFAULT_MAX_PIXELS);
    }

    /** A target: must be a class map; a PNG declaring more than {@code maxPixels} pixels is refused. */
    static LabelMap readTarget(Path file, long maxPixels) throws BadFileException {
        return target(read(file, maxPixels));
    }

    /** A target, as {@link #readTarget(Path, long)}, into {@code reuse} as {@link #read(Path, long, int[])}. */
    static LabelMap readTarget(Path file, long maxPixels, int[] reuse) throws BadFileException {
        return target(read(file, maxPixels, reuse));
    }

    /** A target from its bytes, as {@link #readTarget(Path)}. */
    static LabelMap readTarget(String name, byte[] bytes) throws BadFileException {
        return readTarget(name, bytes, DEFAULT_MAX_PIXELS);
    }

    /** A target from its bytes, as {@link #readTarget(Path, long)}. */
    static LabelMap readTarget(String name, byte[] bytes, long maxPixels) throws BadFileException {
        return target(read(name, bytes, maxPixels));
    }

    private static LabelMap target(Object o) throws BadFileException {
        if (o instanceof Scores) {
            throw new BadFileException("target .npy must hold an integer class map, holds floating-point values of shape "
                    + Arrays.toString(((Scores) o).shape));
        }
        return (LabelMap) o;
    }

    /** A prediction: a {@link LabelMap} (PNG or integer .npy) or {@link Scores} (float .npy). */
    static Object read(Path file) throws BadFileException {
        return read(file, DEFAULT_MAX_PIXELS);
    }

    /** A prediction, as {@link #read(Path)}; a PNG declaring more than {@code maxPixels} pixels is refused. */
    static Object read(Path file, long maxPixels) throws BadFileException {
        return read(file, maxPixels, null);
    }

    /**
     * As {@link #read(Path, long)}; a NIfTI volume's labels go into {@code reuse} when its length is the
     * voxel count (see {@link Nifti#read(Path, int[])}), so a loop over volumes of one size keeps its arrays.
     */
    static Object read(Path file, long maxPixels, int[] reuse) throws BadFileException {
        return decode(() -> {
            if (Files.exists(file) && !Files.isRegularFile(file)) { // a FIFO would block the reader
                throw new BadFileException("unreadable: not a regular file (a directory, FIFO or device)");
            }
            return isNpy(file) ? npy(Npy.open(file, null, Npy.Accept.LENIENT))
                    : Nifti.isNifti(file.getFileName().toString()) ? nifti(Nifti.read(file, reuse)) : readPng(file, maxPixels);
        });
    }

    /**
     * A prediction from the bytes of a file read elsewhere (another filesystem), decoded and refused
     * exactly as {@link #read(Path)}; {@code name} is the file's name (its extension picks the format).
     */
    static Object read(String name, byte[] bytes) throws BadFileException {
        return read(name, bytes, DEFAULT_MAX_PIXELS);
    }

    /** A prediction from its bytes, as {@link #read(Path, long)}. */
    static Object read(String name, byte[] bytes, long maxPixels) throws BadFileException {
        return decode(() -> name.toLowerCase(Locale.ROOT).endsWith(".npy") ? npy(Npy.open(bytes, Npy.Accept.LENIENT))
                : Nifti.isNifti(name) ? nifti(Nifti.read(name, bytes)) : readPng(bytes, maxPixels));
    }

    /** What a file's header declares, read before any of its data: the shape and whether it holds scores. */
    static final class Header {
        /** (H, W) of a PNG; the array's shape of a .npy. */
        final long[] shape;
        /** A float .npy (per-class scores) rather than a class map. */
        final boolean scores;

        Header(long[] shape, boolean scores) {
            this.shape = shape;
            this.scores = scores;
        }

        long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d; // the readers already refused sizes that overflow or do not fit an array
            }
            return n;
        }
    }

    /**
     * The header of a file (a PNG's chunks and CRCs are checked too), or null for a NIfTI volume,
     * whose reader checks its own header against the Java array limit and the free heap.
     */
    static Header header(Path file, long maxPixels) throws BadFileException {
        return (Header) decode(() -> {
            if (Files.exists(file) && !Files.isRegularFile(file)) {
                throw new BadFileException("unreadable: not a regular file (a directory, FIFO or device)");
            }
            if (Nifti.isNifti(file.getFileName().toString())) {
                return null;
            }
            if (isNpy(file)) {
                return npyHeader(Npy.open(file, null, Npy.Accept.LENIENT));
            }
            if (!Files.isReadable(file)) {
                throw new BadFileException(Files.exists(file) ? "unreadable: permission denied" : "unreadable: no such file");
            }
            try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
                return new Header(checkPng(in, maxPixels), false);
            }
        });
    }

    /** The header of a file's bytes, as {@link #header(Path, long)}. */
    static Header header(String name, byte[] bytes, long maxPixels) throws BadFileException {
        return (Header) decode(() -> name.toLowerCase(Locale.ROOT).endsWith(".npy")
                ? npyHeader(Npy.open(bytes, Npy.Accept.LENIENT))
                : Nifti.isNifti(name) ? null : new Header(checkPng(new ByteArrayInputStream(bytes), maxPixels), false));
    }

    /** A target must be a class map (PNG or integer .npy), as {@link #readTarget(Path)} refuses. */
    static void requireClassMap(Header target) throws BadFileException {
        if (target != null && target.scores) {
            throw new BadFileException("target .npy must hold an integer class map, holds floating-point values of shape "
                    + Arrays.toString(target.shape));
        }
    }

    private static Header npyHeader(NpyArray a) throws BadFileException {
        if (a.size() > Integer.MAX_VALUE - 8) {
            throw new BadFileException(".npy array of " + a.size() + " elements (shape " + Arrays.toString(a.shape())
                    + ") does not fit in a Java array");
        }
        return new Header(a.shape(), !a.dtype().isInteger());
    }

    /**
     * Checks a prediction and its target from their headers, before either is read: the target is a
     * class map, the shapes fit each other (as counting needs them) and both arrays fit in the free
     * heap ({@link #requireClassMap} first, about the target alone).
     */
    static void checkPair(Header pred, Header target, Layout layout) throws BadFileException {
        if (pred == null || target == null) {
            return; // a NIfTI volume: checked by its reader
        }
        requireClassMap(target);
        if (pred.scores) {
            Counting.fit(pred.shape, target.shape, layout);
        } else if (!Arrays.equals(pred.shape, target.shape)) {
            throw new BadFileException("size mismatch: prediction " + Arrays.toString(pred.shape) + ", target "
                    + Arrays.toString(target.shape));
        }
        try {
            InputLimits.requireHeap("prediction " + Arrays.toString(pred.shape) + " and target "
                    + Arrays.toString(target.shape), 4 * pred.elements() + 4 * target.elements());
        } catch (InvalidInputException e) {
            throw new BadFileException("too large: " + e.getMessage());
        }
    }

    private interface Source {
        Object get() throws IOException, BadFileException;
    }

    /** Float dtypes become {@link Scores}, integer ones a {@link LabelMap}; every refusal a {@link BadFileException}. */
    private static Object npy(NpyArray a) throws IOException, BadFileException {
        try {
            if (a.size() > Integer.MAX_VALUE - 8) {
                throw new BadFileException(".npy array of " + a.size() + " elements (shape " + Arrays.toString(a.shape())
                        + ") does not fit in a Java array");
            }
            InputLimits.requireHeap(".npy array of shape " + Arrays.toString(a.shape()), 4 * a.size());
            if (!a.dtype().isInteger()) {
                return new Scores(a.shape(), a.readFloats());
            }
            if (a.shape().length < 1) {
                throw new BadFileException(".npy class map must have rank >= 1, has shape " + Arrays.toString(a.shape()));
            }
            return new LabelMap(a.shape(), a.readInts());
        } catch (InvalidInputException e) {
            throw new BadFileException(e.getMessage());
        }
    }

    private static LabelMap nifti(Nifti.Volume v) {
        return new LabelMap(v.dims, v.labels, v.spacing);
    }

    /** Runs a read, turning every failure into the reason the file is skipped. */
    private static Object decode(Source source) throws BadFileException {
        try {
            return source.get();
        } catch (NpyFormatException e) {
            throw new BadFileException(e.getMessage());
        } catch (NiftiFormatException e) {
            throw new BadFileException("NIfTI: " + e.getMessage());
        } catch (NoSuchFileException e) {
            throw new BadFileException("unreadable: no such file");
        } catch (IIOException e) {
            throw new BadFileException("corrupt image: " + message(e));
        } catch (IOException e) {
            throw new BadFileException("unreadable: " + message(e));
        } catch (RuntimeException e) {
            // ImageIO's decoders throw unchecked exceptions on some malformed streams.
            throw new BadFileException("corrupt image: " + message(e));
        }
    }

    static String message(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }

    private static LabelMap readPng(Path file, long maxPixels) throws IOException, BadFileException {
        if (!Files.isReadable(file)) {
            throw new BadFileException(Files.exists(file) ? "unreadable: permission denied" : "unreadable: no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new BadFileException("unreadable: not a regular file (a directory, FIFO or device)");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            checkPng(in, maxPixels);
        }
        return decoded(ImageIO.read(file.toFile()));
    }

    private static LabelMap readPng(byte[] bytes, long maxPixels) throws IOException, BadFileException {
        checkPng(new ByteArrayInputStream(bytes), maxPixels);
        return decoded(ImageIO.read(new ByteArrayInputStream(bytes)));
    }

    /**
     * Reads a PNG's chunks without decoding it: the signature; IHDR first, whose declared width x
     * height must not exceed {@code maxPixels} and whose decoded size must fit in the free heap
     * (checked before anything else is read); then every chunk's CRC-32 (over its type and data),
     * up to IEND. A bad CRC, a missing IEND or an impossible length makes the file corrupt.
     */
    static long[] checkPng(InputStream in, long maxPixels) throws IOException, BadFileException {
        byte[] head = in.readNBytes(PNG_SIGNATURE.length);
        if (!Arrays.equals(head, PNG_SIGNATURE)) {
            throw new BadFileException("corrupt PNG: the file does not start with the PNG signature");
        }
        DataInputStream data = new DataInputStream(in);
        CRC32 crc = new CRC32();
        byte[] buf = new byte[1 << 16];
        long[] dims = null;
        for (int index = 0;; index++) {
            byte[] lengthAndType = data.readNBytes(8);
            if (lengthAndType.length < 8) {
                throw new BadFileException("corrupt PNG: truncated (the file ends before the IEND chunk)");
            }
            long length = ByteBuffer.wrap(lengthAndType).getInt(0) & 0xFFFFFFFFL;
            String type = new String(lengthAndType, 4, 4, StandardCharsets.ISO_8859_1);
            if (length > MAX_CHUNK_LENGTH) {
                throw new BadFileException("corrupt PNG: chunk " + printable(type) + " declares " + length
                        + " bytes, more than PNG allows (2^31 - 1)");
            }
            if (index == 0 && (!type.equals("IHDR") || length != 13)) {
                throw new BadFileException("corrupt PNG: the first chunk must be a 13-byte IHDR, was " + printable(type)
                        + " of " + length + " bytes");
            }
            crc.reset();
            crc.update(lengthAndType, 4, 4);
            byte[] ihdr = index == 0 ? new byte[13] : null;
            long left = length;
            while (left > 0) {
                int n = data.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) {
                    throw new BadFileException("corrupt PNG: truncated inside chunk " + printable(type));
                }
                if (ihdr != null) {
                    System.arraycopy(buf, 0, ihdr, (int) (length - left), n);
                }
                crc.update(buf, 0, n);
                left -= n;
            }
            byte[] stored = data.readNBytes(4);
            if (stored.length < 4) {
                throw new BadFileException("corrupt PNG: truncated inside chunk " + printable(type));
            }
            long want = ByteBuffer.wrap(stored).getInt(0) & 0xFFFFFFFFL;
            if (want != crc.getValue()) {
                throw new BadFileException(String.format(Locale.ROOT,
                        "corrupt PNG: chunk %d (%s) has CRC %08x but its bytes give %08x", index, printable(type), want,
                        crc.getValue()));
            }
            if (ihdr != null) {
                dims = checkHeader(ByteBuffer.wrap(ihdr), maxPixels);
            }
            if (type.equals("IEND")) {
                return dims;
            }
        }
    }

    /** IHDR: the declared size against {@code maxPixels} and the decoded image's size against the heap. */
    private static long[] checkHeader(ByteBuffer ihdr, long maxPixels) throws BadFileException {
        long width = ihdr.getInt(0) & 0xFFFFFFFFL;
        long height = ihdr.getInt(4) & 0xFFFFFFFFL;
        int bitDepth = ihdr.get(8) & 0xFF;
        int colorType = ihdr.get(9) & 0xFF;
        if (width == 0 || height == 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
            throw new BadFileException("corrupt PNG: IHDR declares " + width + " x " + height
                    + " pixels (each side must be in [1, 2^31 - 1])");
        }
        try {
            InputLimits.requirePixels("PNG", width, height, maxPixels);
        } catch (InvalidInputException e) {
            throw new BadFileException("too large: " + e.getMessage());
        }
        int channels = colorType == 2 ? 3 : colorType == 4 ? 2 : colorType == 6 ? 4 : 1;
        long pixels = width * height;
        long bytesPerPixel = Math.max(1, (bitDepth * channels + 7) / 8);
        // the decoded raster (ImageIO) and the int class map made from it
        long need = pixels * bytesPerPixel + 4 * pixels;
        if (pixels > Integer.MAX_VALUE - 8) {
            throw new BadFileException("too large: PNG of " + width + " x " + height + " = " + pixels
                    + " pixels does not fit in a Java array");
        }
        try {
            InputLimits.requireHeap("PNG of " + width + " x " + height + " pixels", need);
        } catch (InvalidInputException e) {
            throw new BadFileException("too large: " + e.getMessage());
        }
        return new long[] {height, width};
    }

    /** A chunk type for a message: its letters, or its bytes in hex when they are not letters. */
    private static String printable(String type) {
        if (type.matches("[A-Za-z]{4}")) {
            return type;
        }
        StringBuilder b = new StringBuilder("0x");
        for (char ch : type.toCharArray()) {
            b.append(String.format(Locale.ROOT, "%02x", (int) ch));
        }
        return b.toString();
    }

    private static LabelMap decoded(BufferedImage img) throws BadFileException {
        if (img == null) {
            throw new BadFileException("corrupt PNG: ImageIO found no decoder for it");
        }
        return labels(img);
    }

    /** The class map of a decoded image: the palette index, or the 8/16-bit gray value. */
    static LabelMap labels(BufferedImage img) throws BadFileException {
        int w = img.getWidth();
        int h = img.getHeight();
        Raster r = img.getRaster();
        boolean palette = img.getColorModel() instanceof IndexColorModel;
        if (r.getNumBands() != 1 || (!palette && img.getColorModel().getNumComponents() != 1)) {
            throw new BadFileException("PNG with " + img.getColorModel().getNumComponents()
                    + " colour components is not a label map (8/16-bit grayscale or palette)");
        }
        int[] out = new int[w * h];
        if (r.getSampleModel() instanceof ComponentSampleModel
                && ((ComponentSampleModel) r.getSampleModel()).getPixelStride() == 1
                && ((ComponentSampleModel) r.getSampleModel()).getScanlineStride() == w
                && r.getSampleModelTranslateX() == 0 && r.getSampleModelTranslateY() == 0) {
            if (r.getDataBuffer() instanceof DataBufferByte && r.getDataBuffer().getNumBanks() == 1) {
                byte[] b = ((DataBufferByte) r.getDataBuffer()).getData();
                int off = r.getDataBuffer().getOffset();
                for (int i = 0; i < out.length; i++) {
                    out[i] = b[off + i] & 0xFF;
                }
                return new LabelMap(new long[] {h, w}, out);
            }
            if (r.getDataBuffer() instanceof DataBufferUShort && r.getDataBuffer().getNumBanks() == 1) {
                short[] b = ((DataBufferUShort) r.getDataBuffer()).getData();
                int off = r.getDataBuffer().getOffset();
                for (int i = 0; i < out.length; i++) {
                    out[i] = b[off + i] & 0xFFFF;
                }
                return new LabelMap(new long[] {h, w}, out);
            }
        }
        // Packed 1/2/4-bit palettes and other sample models: the generic path.
        r.getSamples(0, 0, w, h, 0, out);
        return new LabelMap(new long[] {h, w}, out);
    }
}
