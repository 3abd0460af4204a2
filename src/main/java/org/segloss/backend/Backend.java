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
    /**
     * The backend's name, as {@link org.segloss.LossEngine#create(String)} takes it.
     *
     * @return {@code cpu}, {@code opencl} or {@code cuda}
     */
    String name();

    /**
     * Human description of the device, e.g. {@code "NVIDIA H200 (cuda 12.6 driver)"}.
     *
     * @return one line for logs and reports, never null
     */
    String device();

    /**
     * Uploads an array: {@code upload(FloatBuffer.wrap(data))}; a null array is refused.
     *
     * @param data the values; not null
     * @return a float32 buffer of data.length elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    default DeviceBuffer upload(float[] data) {
        return upload(FloatBuffer.wrap(requireData(data)));
    }

    /**
     * Uploads the remaining elements of a (heap or direct) buffer.
     *
     * @param data a heap or direct buffer, read from its position to its limit (the position is not moved;
     *     the CPU backend uses it in place, without a copy); not null
     * @return a float32 buffer of data.remaining() elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    DeviceBuffer upload(FloatBuffer data);

    /**
     * Unsigned 8-bit class map.
     *
     * @param data class indices 0 to 255 (read unsigned) or a 0/1 mask; not null
     * @return a uint8 buffer of data.length elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    default DeviceBuffer upload(byte[] data) {
        return upload(ByteBuffer.wrap(requireData(data)));
    }

    /**
     * Unsigned 8-bit class map from the remaining bytes of a buffer.
     *
     * @param data a heap or direct buffer, read from its position to its limit (the position is not moved;
     *     the CPU backend uses it in place, without a copy); not null
     * @return a uint8 buffer of data.remaining() elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    DeviceBuffer upload(ByteBuffer data);

    /**
     * Uploads an int32 class map: {@code upload(IntBuffer.wrap(data))}; a null array is refused.
     *
     * @param data class indices (checked when a pass reads them); not null
     * @return an int32 buffer of data.length elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    default DeviceBuffer upload(int[] data) {
        return upload(IntBuffer.wrap(requireData(data)));
    }

    private static <T> T requireData(T data) {
        if (data == null) {
            throw new InvalidInputException("data must not be null");
        }
        return data;
    }

    /**
     * Int32 class map from the remaining elements of a buffer.
     *
     * @param data a heap or direct buffer, read from its position to its limit (the position is not moved;
     *     the CPU backend uses it in place, without a copy); not null
     * @return an int32 buffer of data.remaining() elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    DeviceBuffer upload(IntBuffer data);

    /**
     * 64-bit class map (e.g. PyTorch's int64 labels).
     *
     * @param data class indices (checked when a pass reads them); not null
     * @return an int64 buffer of data.length elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    default DeviceBuffer upload(long[] data) {
        return upload(LongBuffer.wrap(requireData(data)));
    }

    /**
     * 64-bit class map from the remaining elements of a (heap or direct) buffer.
     *
     * @param data a heap or direct buffer, read from its position to its limit (the position is not moved;
     *     the CPU backend uses it in place, without a copy); not null
     * @return an int64 buffer of data.remaining() elements; close it (or the backend) to free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the backend is closed
     */
    DeviceBuffer upload(LongBuffer data);

    /**
     * An uninitialised float buffer (e.g. for gradients).
     *
     * @param length the number of float32 elements, >= 0
     * @return a float32 buffer of that length, contents undefined until written; close it (or the backend) to
     *     free it
     * @throws InvalidInputException when length is negative or more than the device can hold
     * @throws IllegalStateException when the backend is closed
     */
    DeviceBuffer allocateFloats(long length);

    /**
     * Copies a float buffer to {@code dst} (whose length must equal the buffer's).
     *
     * @param src a float32 buffer of this backend, open; not null
     * @param dst receives the values; not null
     * @throws InvalidInputException when an argument is null, src is closed, another backend's or not
     *     float32, or the lengths differ
     * @throws IllegalStateException when the backend is closed
     */
    void download(DeviceBuffer src, float[] dst);

    /**
     * Copies a float buffer into the remaining elements of {@code dst}.
     *
     * @param src a float32 buffer of this backend, open; not null
     * @param dst a writable heap or direct buffer with exactly src's length remaining; written from its
     *     position (the position is not moved; the CPU backend uses it in place, without a copy); not null
     * @throws InvalidInputException when an argument is null, src is closed, another backend's or not
     *     float32, or dst's remaining length differs
     * @throws IllegalStateException when the backend is closed
     */
    void download(DeviceBuffer src, FloatBuffer dst);

    /**
     * The stats pass: returns {@code rows * Problem.STATS} doubles, row-major ({@code [row * STATS + stat]}),
     * see {@link Problem}.
     *
     * @param problem the checked shape, types and options of the pass; not null
     * @param pred float32 predictions of this backend, {@code problem}'s length
     * @param target this backend's target buffer of {@code problem}'s type and length
     * @return a new array of {@code rows * Problem.STATS} sums in double (rows: one per (sample, class))
     * @throws InvalidInputException naming the argument when a buffer is null, closed, or another backend's
     * @throws org.segloss.BackendException when the device fails
     */
    double[] stats(Problem problem, DeviceBuffer pred, DeviceBuffer target);

    /**
     * The stats pass of a forward+backward: returns what {@link #stats(Problem, DeviceBuffer, DeviceBuffer)}
     * returns, where {@code gradOut} is the buffer that the grad pass of the same step writes next. A backend
     * may keep per-element values of this pass there (the CPU backend keeps the activations, so that its grad
     * pass does not compute them again); they are used only by a {@link #grad} call that directly follows on
     * the same thread with the same problem and buffers. Until that grad pass writes it, {@code gradOut}'s
     * content is unspecified, also when this pass throws. {@code gradOut} must not overlap {@code pred} or
     * {@code target}. The default ignores {@code gradOut}.
     *
     * @param problem the checked shape, types and options of the pass; not null
     * @param pred float32 predictions of this backend, {@code problem}'s length
     * @param target this backend's target buffer of {@code problem}'s type and length
     * @param gradOut a writable float32 buffer of this backend, pred's length, that the grad pass writes next
     * @return a new array of {@code rows * Problem.STATS} sums in double (rows: one per (sample, class))
     * @throws InvalidInputException naming the argument when a buffer is null, closed, or another backend's
     * @throws org.segloss.BackendException when the device fails
     */
    default double[] stats(Problem problem, DeviceBuffer pred, DeviceBuffer target, DeviceBuffer gradOut) {
        return stats(problem, pred, target);
    }

    /**
     * The grad pass: writes dL/dx (or dL/dp) for every pred element into {@code gradOut}.
     *
     * @param problem the checked shape, types and options of the pass; not null
     * @param pred float32 predictions of this backend, {@code problem}'s length
     * @param target this backend's target buffer of {@code problem}'s type and length
     * @param coefficients the per-row coefficients the host finalize computed from {@link #stats}
     * @param gradOut a writable float32 buffer of this backend, pred's length; receives the gradient
     * @throws InvalidInputException naming the argument when a buffer is null, closed, or another backend's
     * @throws org.segloss.BackendException when the device fails
     */
    void grad(Problem problem, DeviceBuffer pred, DeviceBuffer target, GradCoefficients coefficients,
              DeviceBuffer gradOut);

    /**
     * Hard counts per class: {@code [c * 4 + k]} with k = 0 TP, 1 FP, 2 FN, 3 TN, over every non-ignored
     * pixel of the batch. Binary: positive where {@code p >= threshold} (from logits {@code x >=
     * logit(threshold)}), target positive where {@code t >= 0.5}. Multiclass: argmax over C, ties to the
     * lowest index. Two more entries follow the {@code 4 * C} counts: the number of refused pred values and
     * of refused target values (as {@link Problem#STAT_BAD_PRED} and {@link Problem#STAT_BAD_TARGET}); counts
     * are meaningless when either is not 0.
     *
     * @param problem the checked shape, types and options of the pass; not null
     * @param pred float32 predictions of this backend, {@code problem}'s length
     * @param target this backend's target buffer of {@code problem}'s type and length
     * @param threshold binary and multilabel: the probability in [0, 1] at and above which a prediction is
     *     positive; not used in multiclass mode
     * @return a new array of {@code 4 * C + 2} counts
     * @throws InvalidInputException naming the argument when a buffer is null, closed, or another backend's
     * @throws org.segloss.BackendException when the device fails
     */
    long[] confusion(Problem problem, DeviceBuffer pred, DeviceBuffer target, double threshold);

    /**
     * The benchmark floor: the fastest plain streaming read of the buffer this backend can do, returning a
     * value that depends on every element (e.g. the sum) so it cannot be optimised away.
     *
     * @param buffer a buffer of this backend, any element type; not null
     * @return the sum of the elements (only its dependence on every element matters)
     * @throws InvalidInputException when buffer is null, closed or another backend's
     */
    double streamRead(DeviceBuffer buffer);

    /**
     * The benchmark's copy reference: copies the float buffer {@code src} into {@code dst} (a float buffer of
     * the same length) with the device's own copy (a bulk put on the CPU, clEnqueueCopyBuffer,
     * cuMemcpyDtoDAsync) and returns when it is done. Copy bandwidth is {@code 2 * bytes / time}.
     *
     * @param src a float32 buffer of this backend; not null
     * @param dst a writable float32 buffer of this backend with src's length; not null
     * @throws InvalidInputException when a buffer is null, closed, another backend's, not float32 or of
     *     another length
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
     *
     * @param problem the checked shape, segments and options of the pass; not null
     * @param pred float32 predictions of this backend, {@code problem}'s length
     * @param target this backend's target buffer of {@code problem}'s type and length
     * @param weights receives the counts of every segment and returns the weight of each segment's term; may
     *     throw to refuse the input
     * @param gradOut a writable float32 buffer of this backend, pred's length, or null for the value only
     * @return a new array with the term of each segment, in segment order
     * @throws InvalidInputException naming the argument when a buffer is null, closed, or another backend's,
     *     or what {@code weights} throws
     * @throws org.segloss.BackendException when the device fails
     */
    double[] lovasz(LovaszProblem problem, DeviceBuffer pred, DeviceBuffer target, LovaszProblem.Weights weights,
                    DeviceBuffer gradOut);

    /**
     * Exact squared Euclidean distance transform, in place, of a float32 buffer holding a row-major grid of
     * {@code dims} (1 to 3 axes, slowest first): 0 at feature voxels, +inf elsewhere on input; the squared
     * distance to the nearest feature (+inf when there is none) on return, with {@code spacing[i] > 0} the
     * physical size of a step along axis i. One pass per axis, fastest first, in double without fused
     * multiply-add, each pass's result rounded once to float: every backend gives the bits of {@link
     * org.segloss.backend.cpu.DistanceTransform}. Arguments are checked by {@link
     * DistanceTransformArgs#check}.
     *
     * @param grid a writable float32 buffer of this backend holding the product of {@code dims} elements;
     *     transformed in place
     * @param dims the grid's extent along each of its 1 to 3 axes, slowest first, each >= 1
     * @param spacing the physical step along each axis, one per axis, each > 0 and finite
     * @throws InvalidInputException when an argument is null, the lengths disagree, or a value is out of
     *     range
     * @throws org.segloss.BackendException when the device fails
     */
    void distanceTransform(DeviceBuffer grid, long[] dims, double[] spacing);
}
