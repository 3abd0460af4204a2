package org.segloss.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.segloss.Layout;
import org.segloss.Mode;
import org.segloss.io.Npy;
import org.segloss.io.NpyArray;
import org.segloss.io.NpyDtype;

/**
 * Reads predictions and targets from {@code .npy} files as the API takes them, checking shapes
 * against each other. Every message names the option and the file.
 */
final class Inputs {
    private Inputs() {
    }

    /** A prediction tensor: float32 values and the shape. */
    static final class Pred {
        final float[] values;
        final long[] shape;

        Pred(float[] values, long[] shape) {
            this.values = values;
            this.shape = shape;
        }
    }

    /** Opens a .npy file given by {@code option}, refusing a missing file with a message naming the option. */
    static NpyArray open(String option, Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new CliInputException(option + ": no such file: " + file);
        }
        if (Files.isDirectory(file)) {
            throw new CliInputException(option + ": is a directory, not a .npy file: " + file);
        }
        try {
            return Npy.open(file);
        } catch (NoSuchFileException e) {
            throw new CliInputException(option + ": no such file: " + file);
        } catch (IOException e) {
            throw new CliInputException(option + ": " + e.getMessage());
        }
    }

    /** float32 or float64 predictions of rank >= 2. */
    static Pred pred(String option, Path file) throws IOException {
        NpyArray a = open(option, file);
        if (a.dtype() != NpyDtype.FLOAT32 && a.dtype() != NpyDtype.FLOAT64) {
            throw new CliInputException(option + ": " + file + " has dtype " + a.dtype().numpyName()
                    + "; predictions must be float32 or float64");
        }
        if (a.shape().length < 2) {
            throw new CliInputException(option + ": " + file + " has shape " + Arrays.toString(a.shape())
                    + "; predictions need rank >= 2: (N, C, *S) or (N, *S, C)");
        }
        return new Pred(read(option, a, "floats"), a.shape());
    }

    /** Pred's shape without its class axis: (N, *S). */
    static long[] withoutClassAxis(long[] predShape, Layout layout) {
        int classAxis = layout == Layout.NHWC ? predShape.length - 1 : 1;
        long[] out = new long[predShape.length - 1];
        for (int i = 0, j = 0; i < predShape.length; i++) {
            if (i != classAxis) {
                out[j++] = predShape[i];
            }
        }
        return out;
    }

    /** Number of classes C of a prediction shape in a layout. */
    static long classes(long[] predShape, Layout layout) {
        return layout == Layout.NHWC ? predShape[predShape.length - 1] : predShape[1];
    }

    /**
     * The target as the API takes it: binary/multilabel a float[] with pred's shape (binary with C == 1
     * also without the class axis); multiclass a class map (N, *S) as byte[] (uint8) or int[] (other
     * integer dtypes, and float dtypes holding whole numbers).
     */
    static Object target(String option, Path file, Mode mode, long[] predShape, Layout layout) throws IOException {
        NpyArray a = open(option, file);
        long[] shape = a.shape();
        long[] mapShape = withoutClassAxis(predShape, layout);
        if (mode == Mode.MULTICLASS) {
            if (Arrays.equals(shape, predShape)) {
                // soft targets: class probabilities with pred's shape and layout
                if (a.dtype().isInteger()) {
                    throw new CliInputException(option + ": " + file + " has pred's shape " + Arrays.toString(shape)
                            + " and dtype " + a.dtype().name().toLowerCase(java.util.Locale.ROOT) + "; multiclass soft targets (class probabilities) must be float32"
                            + " or float64, a class map must have shape " + Arrays.toString(mapShape));
                }
                return read(option, a, "floats");
            }
            if (!Arrays.equals(shape, mapShape)) {
                throw new CliInputException(option + ": " + file + " has shape " + Arrays.toString(shape)
                        + "; a multiclass target must be a class map of shape " + Arrays.toString(mapShape)
                        + " (pred's shape " + Arrays.toString(predShape) + " without the class axis) or soft targets"
                        + " of pred's shape " + Arrays.toString(predShape));
            }
            return a.dtype() == NpyDtype.UINT8 ? read(option, a, "uint8") : read(option, a, "ints");
        }
        boolean sameShape = Arrays.equals(shape, predShape);
        boolean noClassAxis = mode == Mode.BINARY && classes(predShape, layout) == 1 && Arrays.equals(shape, mapShape);
        if (!sameShape && !noClassAxis) {
            throw new CliInputException(option + ": " + file + " has shape " + Arrays.toString(shape) + "; a " + mode
                    + " target must have pred's shape " + Arrays.toString(predShape)
                    + (mode == Mode.BINARY ? " (or " + Arrays.toString(mapShape) + " when C == 1)" : ""));
        }
        return read(option, a, "floats");
    }

    /** Reads the data, turning file problems into messages that name the option. */
    private static <T> T read(String option, NpyArray a, String as) throws IOException {
        try {
            Object out;
            switch (as) {
                case "floats":
                    out = a.readFloats();
                    break;
                case "uint8":
                    out = a.readUint8();
                    break;
                default:
                    out = a.readInts();
            }
            @SuppressWarnings("unchecked")
            T t = (T) out;
            return t;
        } catch (IOException | IllegalArgumentException e) {
            throw new CliInputException(option + ": " + e.getMessage());
        }
    }
}
