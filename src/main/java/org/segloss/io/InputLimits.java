package org.segloss.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.Locale;
import org.segloss.InvalidInputException;

/**
 * Checks every reader of untrusted files does before it allocates: element counts and byte sizes
 * that must not overflow, the Java heap a read will need, and files that must be regular files
 * (never a FIFO, device or directory, which would hang or fail late). Shared by the {@code .npy},
 * PNG and volume readers, so that every refusal reads the same way.
 */
public final class InputLimits {
    /** Bytes in a GiB, for messages. */
    private static final double GIB = 1024.0 * 1024 * 1024;

    private InputLimits() {
    }

    /**
     * The product of {@code dims}, refused when a dimension is negative or the product overflows 64
     * bits; {@code field} names what the dimensions are (e.g. {@code "--shape"}, {@code "shape (3, 4)"}).
     *
     * @param field what the dimensions are, for the message
     * @param dims the dimensions
     * @return the product (1 for no dimensions)
     * @throws InvalidInputException naming {@code field} and the dimensions
     */
    public static long elementCount(String field, long... dims) {
        long n = 1;
        for (long d : dims) {
            if (d < 0) {
                throw new InvalidInputException(field + " must not have a negative dimension, was " + Arrays.toString(dims));
            }
            n = multiply(field, n, d);
        }
        return n;
    }

    /**
     * {@code a * b}, refused when it overflows 64 bits.
     *
     * @param field what the product is, for the message
     * @param a a factor
     * @param b a factor
     * @return the product
     * @throws InvalidInputException naming {@code field} when the product overflows
     */
    public static long multiply(String field, long a, long b) {
        long hi = Math.multiplyHigh(a, b);
        long lo = a * b;
        if ((hi != 0 || lo < 0) && (hi != -1 || lo >= 0)) {
            throw new InvalidInputException(field + " is too large: " + a + " x " + b + " overflows 64 bits");
        }
        return lo;
    }

    /**
     * Bytes the Java heap can still give without growing past {@code -Xmx}: the maximum heap less
     * what is in use now.
     *
     * @return free heap bytes (a lower bound: garbage not yet collected counts as used)
     */
    public static long freeHeap() {
        Runtime r = Runtime.getRuntime();
        return r.maxMemory() - (r.totalMemory() - r.freeMemory());
    }

    /**
     * Refuses, before anything is allocated, a read that needs more heap than is free: the message
     * says {@code what needs N GiB; raise -Xmx with SEGLOSS_JAVA_OPTS}. When the estimate exceeds the
     * free heap, one garbage collection runs first, so garbage does not cause a refusal.
     *
     * @param what what needs the memory, for the message (e.g. {@code "--pred p.npy and --target t.npy"})
     * @param bytes the estimate in bytes
     * @throws InvalidInputException when {@code bytes} exceed the free heap
     */
    public static void requireHeap(String what, long bytes) {
        if (bytes <= freeHeap()) {
            return;
        }
        System.gc();
        long free = freeHeap();
        if (bytes > free) {
            throw new InvalidInputException(what + " needs " + gib(bytes) + " GiB of Java heap but only " + gib(free)
                    + " GiB is free (-Xmx " + gib(Runtime.getRuntime().maxMemory()) + " GiB); raise -Xmx with SEGLOSS_JAVA_OPTS"
                    + " (e.g. SEGLOSS_JAVA_OPTS=-Xmx" + (long) Math.ceil(bytes * 1.25 / GIB) + "g)");
        }
    }

    /**
     * Refuses an image whose declared size exceeds {@code maxPixels} (a decompression bomb declares a
     * huge size in a few bytes), before it is decoded.
     *
     * @param what the file, for the message
     * @param width declared width
     * @param height declared height
     * @param maxPixels the limit
     * @throws InvalidInputException naming the file, the size and the limit
     */
    public static void requirePixels(String what, long width, long height, long maxPixels) {
        long pixels = elementCount(what + " size", width, height);
        if (pixels > maxPixels) {
            throw new InvalidInputException(what + " declares " + width + " x " + height + " = " + pixels
                    + " pixels, more than the limit of " + maxPixels + " (--max-pixels)");
        }
    }

    /**
     * Refuses anything but an existing regular file (symbolic links followed) at once: a directory, a
     * FIFO, a device or a socket would hang or fail late.
     *
     * @param what the option or role naming the file, for the message (e.g. {@code "--pred"})
     * @param file the file
     * @throws InvalidInputException saying what the path is instead, or the operating system's reason
     */
    public static void requireRegularFile(String what, Path file) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw new InvalidInputException(what + ": " + file + ": " + reason(e));
        }
        if (a.isDirectory()) {
            throw new InvalidInputException(what + ": " + file + " is a directory, not a file");
        }
        if (!a.isRegularFile()) {
            throw new InvalidInputException(what + ": " + file + " is not a regular file (a FIFO, device or socket);"
                    + " give a file");
        }
        if (!Files.isReadable(file)) {
            throw new InvalidInputException(what + ": " + file + ": permission denied");
        }
    }

    /**
     * The operating system's reason for a failed file operation, in words: {@code no such file or
     * directory}, {@code permission denied}, {@code not a directory}, or the exception's own reason.
     *
     * @param e the failure
     * @return the reason, never null
     */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
            return ((FileSystemException) e).getReason().toLowerCase(Locale.ROOT);
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** {@code bytes} in GiB with two decimals. */
    static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.2f", bytes / GIB);
    }
}
