package org.segloss.score;

import java.awt.image.BufferedImage;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferUShort;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import org.segloss.InvalidInputException;
import org.segloss.io.Nifti;
import org.segloss.io.NiftiFormatException;
import org.segloss.io.Npy;
import org.segloss.io.NpyArray;
import org.segloss.io.NpyFormatException;

/**
 * Reads one file into a class map or per-class scores. PNG label maps (8- or 16-bit grayscale, or a
 * palette where the index is the class) are decoded with the JDK's ImageIO; {@code .npy} with
 * {@link Npy} ({@link Npy.Accept#LENIENT}: any integer dtype, either byte order). Anything else, or a file that fails to decode, is a {@link BadFileException}.
 */
final class Decoder {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

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

    /**
     * The most voxels one NIfTI volume may declare: a pair of volumes (int labels, plus the file's
     * bytes while converting) for each of a few volumes in flight must fit the heap.
     */
    static long maxVoxels() {
        return Runtime.getRuntime().maxMemory() / 48;
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
        return target(read(file));
    }

    /** A target from its bytes, as {@link #readTarget(Path)}. */
    static LabelMap readTarget(String name, byte[] bytes) throws BadFileException {
        return target(read(name, bytes));
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
        return decode(() -> isNpy(file) ? npy(Npy.open(file, null, Npy.Accept.LENIENT))
                : Nifti.isNifti(file.getFileName().toString()) ? nifti(Nifti.read(file, maxVoxels())) : readPng(file));
    }

    /**
     * A prediction from the bytes of a file read elsewhere (another filesystem), decoded and refused
     * exactly as {@link #read(Path)}; {@code name} is the file's name (its extension picks the format).
     */
    static Object read(String name, byte[] bytes) throws BadFileException {
        return decode(() -> name.toLowerCase(Locale.ROOT).endsWith(".npy") ? npy(Npy.open(bytes, Npy.Accept.LENIENT))
                : Nifti.isNifti(name) ? nifti(Nifti.read(name, bytes, maxVoxels())) : readPng(bytes));
    }

    private interface Source {
        Object get() throws IOException, BadFileException;
    }

    /** Float dtypes become {@link Scores}, integer ones a {@link LabelMap}; every refusal a {@link BadFileException}. */
    private static Object npy(NpyArray a) throws IOException, BadFileException {
        try {
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

    private static LabelMap readPng(Path file) throws IOException, BadFileException {
        if (!Files.isReadable(file)) {
            throw new BadFileException(Files.exists(file) ? "unreadable: permission denied" : "unreadable: no such file");
        }
        byte[] head = new byte[PNG_SIGNATURE.length];
        int got;
        try (InputStream in = Files.newInputStream(file)) {
            got = in.readNBytes(head, 0, head.length);
        }
        checkSignature(head, got);
        return decoded(ImageIO.read(file.toFile()));
    }

    private static LabelMap readPng(byte[] bytes) throws IOException, BadFileException {
        checkSignature(bytes, bytes.length);
        return decoded(ImageIO.read(new ByteArrayInputStream(bytes)));
    }

    private static void checkSignature(byte[] head, int got) throws BadFileException {
        if (got < PNG_SIGNATURE.length || !Arrays.equals(head, 0, PNG_SIGNATURE.length, PNG_SIGNATURE, 0, PNG_SIGNATURE.length)) {
            throw new BadFileException("corrupt PNG: the file does not start with the PNG signature");
        }
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
