package org.segloss.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.segloss.InvalidInputException;

/**
 * Direct-buffer views of DJL arrays: {@code toByteBuffer(true)} of a contiguous CPU array is a view of the
 * tensor's own memory (no copy); a GPU array is copied to the host once by DJL.
 */
final class Views {
    private Views() {
    }

    /** The one array of an NDList (DJL passes labels and predictions as lists). */
    static NDArray single(NDList list, String what) {
        if (list == null || list.isEmpty()) {
            throw new InvalidInputException(what + " must hold one array, was " + (list == null ? "null" : "empty"));
        }
        return list.head();
    }

    /** A float32 array as a FloatBuffer over its memory. */
    static FloatBuffer floats(NDArray a, String what) {
        if (a.getDataType() != DataType.FLOAT32) {
            throw new InvalidInputException(what + " must be float32, was " + a.getDataType());
        }
        return bytes(a, what).asFloatBuffer();
    }

    /**
     * Labels as a target buffer over their memory: int64 (PyTorch's class maps), int32, uint8 or boolean (read
     * as uint8), float32 masks.
     */
    static Buffer target(NDArray labels) {
        DataType t = labels.getDataType();
        switch (t) {
            case FLOAT32:
                return bytes(labels, "labels").asFloatBuffer();
            case INT64:
                return bytes(labels, "labels").asLongBuffer();
            case INT32:
                return bytes(labels, "labels").asIntBuffer();
            case UINT8:
            case BOOLEAN:
                return bytes(labels, "labels");
            default:
                throw new InvalidInputException("labels must be int64, int32, uint8, boolean or float32, was " + t);
        }
    }

    private static ByteBuffer bytes(NDArray a, String what) {
        long bytes = a.size() * a.getDataType().getNumOfBytes();
        if (bytes > Integer.MAX_VALUE) {
            throw new InvalidInputException(what + " must be under 2 GiB for a direct view, was " + bytes + " bytes");
        }
        return a.toByteBuffer(true).order(ByteOrder.nativeOrder());
    }
}
