package org.segloss.cli;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.segloss.Layout;
import org.segloss.Mode;
import org.segloss.io.InputLimits;
import org.segloss.io.Npy;
import org.segloss.io.NpyArray;
import org.segloss.io.NpyDtype;
import org.segloss.io.NpyFormatException;

/**
 * Reads predictions and targets from {@code .npy} files as the API takes them, checking both
 * headers against each other and the heap before reading any data. Every message names the option
 * and the file.
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

    /** Pred and target as read, once both headers were checked against each other and the heap. */
    static final class Loaded {
        final Pred pred;
        /** float[], byte[] (uint8) or int[], as {@link #target} describes. */
        final Object target;

        Loaded(Pred pred, Object target) {
            this.pred = pred;
            this.target = target;
        }
    }

    /** Java arrays hold at most this many elements. */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    /**
     * Opens both files and checks both headers (dtype, rank, shapes against each other, sizes, the
     * heap the arrays need, a gradient of pred's size included when {@code withGrad}) before any data
     * is read, so that a wrong-shaped target next to a huge pred is refused at once.
     */
    static Loaded load(String predOption, Path predFile, String targetOption, Path targetFile, Mode mode, Layout layout,
                       boolean withGrad) throws IOException {
        NpyArray p = open(predOption, predFile);
        checkPred(predOption, predFile, p);
        NpyArray t = open(targetOption, targetFile);
        String targetAs = checkTarget(targetOption, targetFile, t, mode, p.shape(), layout);
        for (NpyArray a : new NpyArray[] {p, t}) {
            if (a.size() > MAX_ARRAY) {
                throw new CliInputException((a == p ? predOption : targetOption) + ": " + a.file() + " holds " + a.size()
                        + " elements (shape " + Arrays.toString(a.shape()) + "), more than a Java array holds ("
                        + MAX_ARRAY + ")");
            }
        }
        long targetBytes = t.size() * (targetAs.equals("uint8") ? 1 : 4);
        long need = 4 * p.size() + targetBytes + (withGrad ? 4 * p.size() : 0);
        InputLimits.requireHeap(predOption + " " + predFile + " and " + targetOption + " " + targetFile
                + (withGrad ? " with the gradient" : ""), need);
        return new Loaded(new Pred(read(predOption, p, "floats"), p.shape()), read(targetOption, t, targetAs));
    }

    /**
     * Opens a .npy file given by {@code option}: a regular file (a directory, FIFO or device is refused
     * at once, never read), its header checked; messages name the option, the file and the reason.
     */
    static NpyArray open(String option, Path file) throws IOException {
        InputLimits.requireRegularFile(option, file);
        try {
            return Npy.open(file);
        } catch (NoSuchFileException e) {
            throw new CliInputException(option + ": " + file + ": no such file or directory");
        } catch (NpyFormatException e) {
            throw new CliInputException(option + ": " + e.getMessage());
        } catch (IOException e) {
            throw new CliInputException(option + ": " + file + ": " + InputLimits.reason(e));
        }
    }

    /** float32 or float64 predictions of rank >= 2. */
    private static void checkPred(String option, Path file, NpyArray a) {
        if (a.dtype() != NpyDtype.FLOAT32 && a.dtype() != NpyDtype.FLOAT64) {
            throw new CliInputException(option + ": " + file + " has dtype " + a.dtype().numpyName()
                    + "; predictions must be float32 or float64");
        }
        if (a.shape().length < 2) {
            throw new CliInputException(option + ": " + file + " has shape " + Arrays.toString(a.shape())
                    + "; predictions need rank >= 2: (N, C, *S) or (N, *S, C)");
        }
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
     * Checks the target's header and says how it is read as the API takes it: binary/multilabel a
     * float[] ({@code "floats"}) with pred's shape (binary with C == 1 also without the class axis);
     * multiclass a class map (N, *S) as byte[] ({@code "uint8"}) or int[] ({@code "ints"}: other
     * integer dtypes, and float dtypes holding whole numbers).
     */
    private static String checkTarget(String option, Path file, NpyArray a, Mode mode, long[] predShape, Layout layout) {
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
                return "floats";
            }
            if (!Arrays.equals(shape, mapShape)) {
                throw new CliInputException(option + ": " + file + " has shape " + Arrays.toString(shape)
                        + "; a multiclass target must be a class map of shape " + Arrays.toString(mapShape)
                        + " (pred's shape " + Arrays.toString(predShape) + " without the class axis) or soft targets"
                        + " of pred's shape " + Arrays.toString(predShape));
            }
            return a.dtype() == NpyDtype.UINT8 ? "uint8" : "ints";
        }
        boolean sameShape = Arrays.equals(shape, predShape);
        boolean noClassAxis = mode == Mode.BINARY && classes(predShape, layout) == 1 && Arrays.equals(shape, mapShape);
        if (!sameShape && !noClassAxis) {
            throw new CliInputException(option + ": " + file + " has shape " + Arrays.toString(shape) + "; a " + mode
                    + " target must have pred's shape " + Arrays.toString(predShape)
                    + (mode == Mode.BINARY ? " (or " + Arrays.toString(mapShape) + " when C == 1)" : ""));
        }
        return "floats";
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
