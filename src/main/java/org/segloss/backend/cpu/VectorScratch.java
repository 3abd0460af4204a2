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
