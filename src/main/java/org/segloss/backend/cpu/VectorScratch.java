package org.segloss.backend.cpu;

import java.util.Arrays;

/**
 * Per-thread scratch arrays of the Vector API kernels, reused from unit to unit (their size depends on
 * the chunk and the class count, never on the input size). Slots are numbered by the caller.
 */
final class VectorScratch {
    /** Elements copied at once from a buffer that has no accessible array. */
    static final int COPY = 4096;

    private final float[][] floats = new float[48][];
    private byte[] bytes = new byte[0];
    private int[] ints = new int[0];
    private long[] longs = new long[0];
    private double[] unit = new double[0];
    private double[] laneSums = new double[0];
    private int[] laneMap = new int[0];
    private int laneMapStride = -1;
    private int[] pixelsMap = new int[0];
    private int pixelsMapClasses = -1;
    private int pixelsMapStride = -1;

    /** Float array of slot {@code slot} with at least {@code size} elements (contents unspecified). */
    float[] floats(int slot, int size) {
        float[] a = floats[slot];
        if (a == null || a.length < size) {
            a = new float[size];
            floats[slot] = a;
        }
        return a;
    }

    byte[] bytes(int size) {
        if (bytes.length < size) {
            bytes = new byte[size];
        }
        return bytes;
    }

    int[] ints(int size) {
        if (ints.length < size) {
            ints = new int[size];
        }
        return ints;
    }

    long[] longs(int size) {
        if (longs.length < size) {
            longs = new long[size];
        }
        return longs;
    }

    /** Gather / scatter map of one float vector over pixels {@code stride} floats apart: lane j at j * stride. */
    int[] laneMap(int stride) {
        if (laneMapStride != stride) {
            laneMap = new int[VectorKernels.L];
            for (int j = 0; j < laneMap.length; j++) {
                laneMap[j] = j * stride;
            }
            laneMapStride = stride;
        }
        return laneMap;
    }

    /**
     * Gather map of {@code c} float vectors that interleave class rows {@code stride} floats apart into L pixels of c
     * classes (VectorIo.rowsToPixels): element e = k L + lane of the block, pixel e / c, class e % c, is read from
     * row e % c at pixel e / c: {@code map[e] = (e % c) * stride + e / c}.
     */
    int[] pixelsMap(int c, int stride) {
        if (pixelsMapClasses != c || pixelsMapStride != stride) {
            pixelsMap = new int[c * VectorKernels.L];
            for (int e = 0; e < pixelsMap.length; e++) {
                pixelsMap[e] = (e % c) * stride + e / c;
            }
            pixelsMapClasses = c;
            pixelsMapStride = stride;
        }
        return pixelsMap;
    }

    /** Zeroed double lanes of {@code size} elements (the binary passes' sums per stat and lane, VectorBinary.statsRow). */
    double[] laneSums(int size) {
        if (laneSums.length != size) {
            laneSums = new double[size];
        } else {
            Arrays.fill(laneSums, 0);
        }
        return laneSums;
    }

    /** A zeroed double accumulator of {@code size} elements. */
    double[] unitAccumulator(int size) {
        if (unit.length != size) {
            unit = new double[size];
        } else {
            Arrays.fill(unit, 0);
        }
        return unit;
    }
}
