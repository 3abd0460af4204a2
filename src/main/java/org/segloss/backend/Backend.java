package org.segloss.backend;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import org.segloss.DeviceBuffer;
import org.segloss.InvalidInputException;

/**
 * One compute backend (CPU, OpenCL, CUDA). Buffers are the backend's own ({@link DeviceBuffer});
 * the three passes of the design are {@link #stats}, {@link #grad} and {@link #confusion}.
 *
 * <p>Contract for every pass: deterministic (the same device and input give the same bits from run
 * to run: fixed chunking, no float atomics, partial sums combined in a fixed order), 64-bit
 * indexing, inputs read as stored (uint8 class maps unsigned), and synchronous: a pass returns only
 * when its results (the returned sums, the written gradient) are complete. Runtime failures throw
 * {@link org.segloss.BackendException} naming the operation and the status.
 */
public interface Backend extends AutoCloseable {
    /** {@code cpu}, {@code opencl} or {@code cuda}. */
    String name();

    /** Human description of the device, e.g. {@code "NVIDIA H200 (cuda 12.6 driver)"}. */
    String device();

    /** Uploads an array: {@code upload(FloatBuffer.wrap(data))}; a null array is refused. */
    default DeviceBuffer upload(float[] data) {
        return upload(FloatBuffer.wrap(requireData(data)));
    }

    /** Uploads the remaining elements of a (heap or direct) buffer. */
    DeviceBuffer upload(FloatBuffer data);

    /** Unsigned 8-bit class map. */
    default DeviceBuffer upload(byte[] data) {
        return upload(ByteBuffer.wrap(requireData(data)));
    }

    /** Unsigned 8-bit class map from the remaining bytes of a buffer. */
    DeviceBuffer upload(ByteBuffer data);

    /** Uploads an int32 class map: {@code upload(IntBuffer.wrap(data))}; a null array is refused. */
    default DeviceBuffer upload(int[] data) {
        return upload(IntBuffer.wrap(requireData(data)));
    }

    private static <T> T requireData(T data) {
        if (data == null) {
            throw new InvalidInputException("data must not be null");
        }
        return data;
    }

    /** Int32 class map from the remaining elements of a buffer. */
    DeviceBuffer upload(IntBuffer data);

    /** 64-bit class map (e.g. PyTorch's int64 labels). */
    default DeviceBuffer upload(long[] data) {
        return upload(LongBuffer.wrap(requireData(data)));
    }

    /** 64-bit class map from the remaining elements of a (heap or direct) buffer. */
    DeviceBuffer upload(LongBuffer data);

    /** An uninitialised float buffer (e.g. for gradients). */
    DeviceBuffer allocateFloats(long length);

    /** Copies a float buffer to {@code dst} (whose length must equal the buffer's). */
    void download(DeviceBuffer src, float[] dst);

    /** Copies a float buffer into the remaining elements of {@code dst}. */
    void download(DeviceBuffer src, FloatBuffer dst);

    /**
     * The stats pass: returns {@code rows * Problem.STATS} doubles, row-major
     * ({@code [row * STATS + stat]}), see {@link Problem}.
     */
    double[] stats(Problem problem, DeviceBuffer pred, DeviceBuffer target);

    /** The grad pass: writes dL/dx (or dL/dp) for every pred element into {@code gradOut}. */
    void grad(Problem problem, DeviceBuffer pred, DeviceBuffer target, GradCoefficients coefficients,
              DeviceBuffer gradOut);

    /**
     * Hard counts per class: {@code [c * 4 + k]} with k = 0 TP, 1 FP, 2 FN, 3 TN, over every
     * non-ignored pixel of the batch. Binary: positive where {@code p >= threshold} (from logits
     * {@code x >= logit(threshold)}), target positive where {@code t >= 0.5}. Multiclass: argmax over
     * C, ties to the lowest index. Two more entries follow the {@code 4 * C} counts: the number of
     * refused pred values and of refused target values (as {@link Problem#STAT_BAD_PRED} and
     * {@link Problem#STAT_BAD_TARGET}); counts are meaningless when either is not 0.
     */
    long[] confusion(Problem problem, DeviceBuffer pred, DeviceBuffer target, double threshold);

    /**
     * The benchmark floor: the fastest plain streaming read of the buffer this backend can do,
     * returning a value that depends on every element (e.g. the sum) so it cannot be optimised away.
     */
    double streamRead(DeviceBuffer buffer);

    /**
     * The benchmark's copy reference: copies the float buffer {@code src} into {@code dst} (a float
     * buffer of the same length) with the device's own copy (a bulk put on the CPU, clEnqueueCopyBuffer,
     * cuMemcpyDtoDAsync) and returns when it is done. Copy bandwidth is {@code 2 * bytes / time}.
     */
    void copy(DeviceBuffer src, DeviceBuffer dst);

    /** Releases every resource. Later calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    void close();

    /**
     * The Lovasz pass (see {@link LovaszProblem}): counts per segment, handed to {@code weights} (which may
     * throw to refuse the input; nothing is sorted or written then), a deterministic sort of each segment's
     * errors (decreasing, ties by lower element index), the Lovasz gradient over the sorted order, and, when
     * {@code gradOut} is not null, the gradient scattered back. Returns the term of each segment.
     */
    double[] lovasz(LovaszProblem problem, DeviceBuffer pred, DeviceBuffer target, LovaszProblem.Weights weights,
                    DeviceBuffer gradOut);

    /**
     * Exact squared Euclidean distance transform, in place, of a float32 buffer holding a row-major
     * grid of {@code dims} (1 to 3 axes, slowest first): 0 at feature voxels, +inf elsewhere on
     * input; the squared distance to the nearest feature (+inf when there is none) on return, with
     * {@code spacing[i] > 0} the physical size of a step along axis i. One pass per axis, fastest
     * first, in double without fused multiply-add, each pass's result rounded once to float: every
     * backend gives the bits of {@link org.segloss.backend.cpu.DistanceTransform}. Arguments are
     * checked by {@link DistanceTransformArgs#check}.
     */
    void distanceTransform(DeviceBuffer grid, long[] dims, double[] spacing);
}
