package org.segloss.backend;

import java.util.Arrays;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;

/** The checks every backend's {@link Backend#distanceTransform} makes, with the same messages. */
public final class DistanceTransformArgs {
    private DistanceTransformArgs() {
    }

    /** Returns the dims as ints; throws {@link InvalidInputException} naming the argument that is refused. */
    public static int[] check(DeviceBuffer grid, long[] dims, double[] spacing) {
        if (grid == null) {
            throw new InvalidInputException("grid must not be null");
        }
        if (grid.type() != ElementType.FLOAT32) {
            throw new InvalidInputException("grid must be a float32 buffer, was " + grid.type());
        }
        if (dims == null || dims.length < 1 || dims.length > 3) {
            throw new InvalidInputException("dims must have 1 to 3 axes, was " + Arrays.toString(dims));
        }
        if (spacing == null || spacing.length != dims.length) {
            throw new InvalidInputException("spacing must have one value per axis (" + dims.length + "), was "
                    + Arrays.toString(spacing));
        }
        long total = 1;
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 1 || dims[i] > Integer.MAX_VALUE) {
                throw new InvalidInputException("dims[" + i + "] must be in [1, 2^31), was " + dims[i]);
            }
            if (!(spacing[i] > 0) || Double.isInfinite(spacing[i])) {
                throw new InvalidInputException("spacing[" + i + "] must be finite and > 0, was " + spacing[i]);
            }
            out[i] = (int) dims[i];
            total = Math.multiplyHigh(total, dims[i]) != 0 ? Long.MAX_VALUE : total * dims[i];
        }
        if (total != grid.length()) {
            throw new InvalidInputException("grid must hold the " + (total == Long.MAX_VALUE ? "product of " : "")
                    + Arrays.toString(dims) + (total == Long.MAX_VALUE ? "" : " = " + total) + " elements of dims, holds " + grid.length());
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("grid must have fewer than 2^31 - 8 elements, has " + total);
        }
        return out;
    }
}
