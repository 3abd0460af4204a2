package org.segloss;

import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import org.segloss.backend.Backend;
import org.segloss.backend.BackendBuffer;
import org.segloss.backend.Dispatcher;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;
import org.segloss.internal.Finalizer;
import org.segloss.internal.HostValues;
import org.segloss.internal.LovaszPass;
import org.segloss.io.InputLimits;

/**
 * Computes losses and gradients on one backend. Create it with {@link #create()} (the dispatcher
 * picks the backend), {@link #create(String)} or {@link #of(Backend)}; close it when done.
 *
 * <pre>{@code
 * try (LossEngine engine = LossEngine.create()) {
 *     LossSpec spec = LossSpec.builder(Loss.DICE, Mode.MULTICLASS).fromLogits(true).build();
 *     float[] grad = new float[logits.length];
 *     LossResult r = engine.forwardBackward(spec, logits, new long[] {n, c, h, w}, labels, grad);
 * }
 * }</pre>
 *
 * <p>Shapes: {@code pred} has shape {@code (N, C, *S)} (layout nchw) or {@code (N, *S, C)} (nhwc),
 * rank >= 2. Targets hold {@code N*C*S} values (binary/multilabel, pred's layout) or {@code N*S}
 * class indices (multiclass). Host arrays are used in place by the CPU backend and uploaded by
 * device backends; {@link DeviceBuffer}s from {@link #upload} or a backend's {@code wrap} stay on
 * the device. An engine is not meant to be used by several threads at once.
 */
public final class LossEngine implements AutoCloseable {
    private final Backend backend;
    private volatile boolean closed;

    private LossEngine(Backend backend) {
        this.backend = backend;
    }

    /**
     * The backend named by the system property {@code segloss.backend} or the environment variable
     * {@code SEGLOSS_BACKEND}, else auto: CUDA, then an OpenCL GPU or accelerator, then the Java CPU backend
     * (an OpenCL CPU device such as PoCL only when {@code opencl} is named).
     *
     * @return a new engine; close it to release the backend's device resources
     * @throws BackendUnavailableException when the named backend cannot be opened here (the message gives the
     *     reason)
     */
    public static LossEngine create() {
        return new LossEngine(Dispatcher.open(null));
    }

    /**
     * An engine on a named backend.
     *
     * @param backend {@code auto} (as {@link #create()}), {@code cpu}, {@code opencl} or {@code cuda}; not
     *     null
     * @return a new engine; close it to release the backend's device resources
     * @throws InvalidInputException when the name is null or not one of these
     * @throws BackendUnavailableException when that backend cannot be opened here (the message gives the
     *     reason)
     */
    public static LossEngine create(String backend) {
        if (backend == null) {
            throw new InvalidInputException("backend must be one of auto, cpu, opencl, cuda, was null");
        }
        return new LossEngine(Dispatcher.open(backend));
    }

    /**
     * An engine over a backend the caller opened (e.g. OpenCL wrapping the caller's context and queue).
     *
     * @param backend the backend to compute on; closing the engine closes it; not null
     * @return a new engine on that backend
     * @throws InvalidInputException when backend is null
     */
    public static LossEngine of(Backend backend) {
        if (backend == null) {
            throw new InvalidInputException("backend must not be null");
        }
        return new LossEngine(backend);
    }

    /**
     * The backend's name.
     *
     * @return {@code cpu}, {@code opencl} or {@code cuda}
     */
    public String backendName() {
        return backend.name();
    }

    /**
     * Human description of the device, e.g. the OpenCL device's name.
     *
     * @return one line for logs and reports, never null
     */
    public String device() {
        return backend.device();
    }

    /**
     * The backend, for its own buffer operations (wrapping device memory).
     *
     * @return the backend this engine computes on
     * @throws IllegalStateException when the engine is closed
     */
    public Backend backend() {
        if (closed) {
            throw new IllegalStateException("engine is closed");
        }
        return backend;
    }

    // ---- buffers ---------------------------------------------------------------------------

    /**
     * Uploads floats to the backend (the CPU backend uses the array in place).
     *
     * @param data the values, e.g. predictions or a float target; not null
     * @return a buffer of data.length float32 values on this engine's backend; close it (or the engine) to
     *     free it
     * @throws InvalidInputException when data is null
     * @throws IllegalStateException when the engine is closed
     */
    public DeviceBuffer upload(float[] data) {
        return backend().upload(nonNull(data, "data"));
    }

    /**
     * Uploads a uint8 class map (or binary mask) to the backend (the CPU backend uses it in place).
     *
     * @param classMap class indices 0 to 255, read as unsigned; not null
     * @return a uint8 buffer of classMap.length values on this engine's backend; close it (or the engine) to
     *     free it
     * @throws InvalidInputException when classMap is null
     * @throws IllegalStateException when the engine is closed
     */
    public DeviceBuffer upload(byte[] classMap) {
        return backend().upload(nonNull(classMap, "classMap"));
    }

    /**
     * Uploads an int32 class map to the backend (the CPU backend uses it in place).
     *
     * @param classMap class indices (checked against the classes when a loss reads them); not null
     * @return an int32 buffer of classMap.length values on this engine's backend; close it (or the engine) to
     *     free it
     * @throws InvalidInputException when classMap is null
     * @throws IllegalStateException when the engine is closed
     */
    public DeviceBuffer upload(int[] classMap) {
        return backend().upload(nonNull(classMap, "classMap"));
    }

    /**
     * Uploads a 64-bit class map (int64 labels as DJL and PyTorch make them).
     *
     * @param classMap class indices (checked against the classes when a loss reads them); not null
     * @return an int64 buffer of classMap.length values on this engine's backend; close it (or the engine) to
     *     free it
     * @throws InvalidInputException when classMap is null
     * @throws IllegalStateException when the engine is closed
     */
    public DeviceBuffer upload(long[] classMap) {
        return backend().upload(nonNull(classMap, "classMap"));
    }

    /**
     * An uninitialised float buffer (e.g. for a gradient).
     *
     * @param length the number of float32 elements, >= 0
     * @return a buffer of that length on this engine's backend, contents undefined until written
     * @throws InvalidInputException when length is negative or too large for the backend
     * @throws IllegalStateException when the engine is closed
     */
    public DeviceBuffer allocateFloats(long length) {
        if (length < 0) {
            throw new InvalidInputException("length must be >= 0, was " + length);
        }
        return backend().allocateFloats(length);
    }

    /**
     * Copies a float buffer of this engine to the host.
     *
     * @param src a float32 buffer of this engine, open; not null
     * @param dst receives the values; its length must equal the buffer's; not null
     * @throws InvalidInputException when an argument is null, src belongs to another or a closed engine, or
     *     the lengths differ
     * @throws IllegalStateException when the engine is closed
     */
    public void download(DeviceBuffer src, float[] dst) {
        backend().download(BackendBuffer.owned(backend(), src, "src", BackendBuffer.class), nonNull(dst, "dst"));
    }

    // ---- host inputs ---------------------------------------------------------------------

    /**
     * The loss of host arrays with a float target (binary or multilabel mask, soft targets, or a whole-number
     * class map).
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target binary and multilabel: one value per pred element, in [0, 1] (or the ignore index);
     *     multiclass: N*S class indices, whole numbers in [0, C) (or the ignore index), or N*C*S class
     *     probabilities (soft targets); not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forward(LossSpec spec, float[] pred, long[] shape, float[] target) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, FloatBuffer.wrap(nonNull(target, "target")), null);
    }

    /**
     * The loss of host arrays with a class map (or binary mask) stored as unsigned bytes.
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target unsigned 8-bit values: multiclass N*S class indices in [0, C) (or the ignore index);
     *     binary and multilabel one 0/1 value per pred element; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forward(LossSpec spec, float[] pred, long[] shape, byte[] target) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, ByteBuffer.wrap(nonNull(target, "target")), null);
    }

    /**
     * The loss of host arrays with an int32 class map.
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target int32 values: multiclass N*S class indices in [0, C) (or the ignore index); binary and
     *     multilabel one 0/1 value per pred element; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forward(LossSpec spec, float[] pred, long[] shape, int[] target) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, IntBuffer.wrap(nonNull(target, "target")), null);
    }

    /**
     * The loss of host arrays with an int64 class map (or binary mask).
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target int64 values: multiclass N*S class indices in [0, C) (or the ignore index); binary and
     *     multilabel one 0/1 value per pred element; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forward(LossSpec spec, float[] pred, long[] shape, long[] target) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, LongBuffer.wrap(nonNull(target, "target")), null);
    }

    /**
     * The loss of direct or heap buffers, each read from its position to its limit (positions are not moved).
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions (remaining elements), float32 in the spec's layout, as many as {@code
     *     shape} holds: probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target a FloatBuffer (as the float[] form), ByteBuffer (uint8), IntBuffer or LongBuffer class
     *     map or mask, remaining elements; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, target is another kind of buffer, the shape
     *     does not match a length, or pred or target holds a value the spec refuses; the message names the
     *     argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forward(LossSpec spec, FloatBuffer pred, long[] shape, Buffer target) {
        return host(spec, nonNull(pred, "pred"), shape, nonNull(target, "target"), null);
    }

    /**
     * The loss and dL/d(pred) of host arrays with a float target.
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target binary and multilabel: one value per pred element, in [0, 1] (or the ignore index);
     *     multiclass: N*S class indices, whole numbers in [0, C) (or the ignore index), or N*C*S class
     *     probabilities (soft targets); not null
     * @param grad receives dL/d(pred) (with respect to the logits when the spec is from logits), as many
     *     floats as pred, in pred's layout; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forwardBackward(LossSpec spec, float[] pred, long[] shape, float[] target, float[] grad) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, FloatBuffer.wrap(nonNull(target, "target")),
                FloatBuffer.wrap(nonNull(grad, "grad")));
    }

    /**
     * The loss and dL/d(pred) of host arrays with a uint8 class map (or binary mask).
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target unsigned 8-bit values: multiclass N*S class indices in [0, C) (or the ignore index);
     *     binary and multilabel one 0/1 value per pred element; not null
     * @param grad receives dL/d(pred) (with respect to the logits when the spec is from logits), as many
     *     floats as pred, in pred's layout; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forwardBackward(LossSpec spec, float[] pred, long[] shape, byte[] target, float[] grad) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, ByteBuffer.wrap(nonNull(target, "target")),
                FloatBuffer.wrap(nonNull(grad, "grad")));
    }

    /**
     * The loss and dL/d(pred) of host arrays with an int32 class map.
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target int32 values: multiclass N*S class indices in [0, C) (or the ignore index); binary and
     *     multilabel one 0/1 value per pred element; not null
     * @param grad receives dL/d(pred) (with respect to the logits when the spec is from logits), as many
     *     floats as pred, in pred's layout; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forwardBackward(LossSpec spec, float[] pred, long[] shape, int[] target, float[] grad) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, IntBuffer.wrap(nonNull(target, "target")),
                FloatBuffer.wrap(nonNull(grad, "grad")));
    }

    /**
     * The loss and dL/d(pred) of host arrays with an int64 class map (or binary mask).
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions, float32 in the spec's layout, as many as {@code shape} holds:
     *     probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target int64 values: multiclass N*S class indices in [0, C) (or the ignore index); binary and
     *     multilabel one 0/1 value per pred element; not null
     * @param grad receives dL/d(pred) (with respect to the logits when the spec is from logits), as many
     *     floats as pred, in pred's layout; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, the shape does not match a length, or pred or
     *     target holds a value the spec refuses; the message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forwardBackward(LossSpec spec, float[] pred, long[] shape, long[] target, float[] grad) {
        return host(spec, FloatBuffer.wrap(nonNull(pred, "pred")), shape, LongBuffer.wrap(nonNull(target, "target")),
                FloatBuffer.wrap(nonNull(grad, "grad")));
    }

    /**
     * The loss and dL/d(pred) of direct or heap buffers, each used from its position to its limit (positions
     * are not moved).
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred the predictions (remaining elements), float32 in the spec's layout, as many as {@code
     *     shape} holds: probabilities in [0, 1], or finite logits when the spec is from logits; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target a FloatBuffer, ByteBuffer (uint8), IntBuffer or LongBuffer class map or mask, remaining
     *     elements; not null
     * @param grad receives dL/d(pred) in its remaining elements, as many as pred's; writable; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, grad is read-only, target is another kind of
     *     buffer, the shape does not match a length, or pred or target holds a value the spec refuses; the
     *     message names the argument and the value
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forwardBackward(LossSpec spec, FloatBuffer pred, long[] shape, Buffer target, FloatBuffer grad) {
        return host(spec, nonNull(pred, "pred"), shape, nonNull(target, "target"), nonNull(grad, "grad"));
    }

    // ---- device inputs --------------------------------------------------------------------

    /**
     * The loss of buffers that already live on this engine's backend: no copy to the host.
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred float32 predictions of this engine, open, as many as {@code shape} holds, in the spec's
     *     layout; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target a buffer of this engine: float32 (as the float[] form), uint8, int32 or int64 class map
     *     or mask; not null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, a buffer belongs to another or a closed engine,
     *     the shape does not match a length, or pred or target holds a value the spec refuses; the message
     *     names the argument and the value
     * @throws IllegalStateException when the engine is closed
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forward(LossSpec spec, DeviceBuffer pred, long[] shape, DeviceBuffer target) {
        return run(spec, nonNull(pred, "pred"), shape, nonNull(target, "target"), null);
    }

    /**
     * The loss and gradient of device buffers; the gradient is written into {@code grad} on the device.
     *
     * @param spec the loss, mode, layout and options; not null
     * @param pred float32 predictions of this engine, open, as many as {@code shape} holds, in the spec's
     *     layout; not null
     * @param shape pred's shape, {@code (N, C, *S)} (nchw) or {@code (N, *S, C)} (nhwc): rank >= 2, every
     *     dimension >= 1; not null
     * @param target a buffer of this engine: float32 (as the float[] form), uint8, int32 or int64 class map
     *     or mask; not null
     * @param grad a float32 buffer of this engine with as many elements as pred; receives dL/d(pred); not
     *     null
     * @return the loss value and its parts (pixel term, region term, per-class coefficients)
     * @throws InvalidInputException when an argument is null, a buffer belongs to another or a closed engine,
     *     the shape does not match a length, or pred or target holds a value the spec refuses; the message
     *     names the argument and the value
     * @throws IllegalStateException when the engine is closed
     * @throws BackendException when the device fails (naming the operation and its status)
     */
    public LossResult forwardBackward(LossSpec spec, DeviceBuffer pred, long[] shape, DeviceBuffer target,
                                      DeviceBuffer grad) {
        return run(spec, nonNull(pred, "pred"), shape, nonNull(target, "target"), nonNull(grad, "grad"));
    }

    // ---- scoring --------------------------------------------------------------------------

    /**
     * Hard per-class counts (scoring) of buffers on this engine's backend. Binary/multilabel:
     * positive where p &gt;= threshold (from logits x &gt;= logit(threshold)); multiclass: argmax,
     * ties to the lowest class.
     *
     * @param spec mode, logits, layout, ignored class and threshold
     * @param pred predictions, float32, {@code shape}
     * @param shape pred's shape
     * @param target the target as for a loss of the same mode
     * @return per-class TP, FP, FN, TN
     * @throws InvalidInputException on a refused input, naming the argument
     */
    public ConfusionCounts confusion(ConfusionSpec spec, DeviceBuffer pred, long[] shape, DeviceBuffer target) {
        nonNull(spec, "spec");
        LossSpec.Builder b = LossSpec.builder(Loss.DICE, spec.mode())
                .fromLogits(spec.fromLogits()).layout(spec.layout());
        if (spec.ignoreIndex() != null) {
            b.ignoreIndex(spec.ignoreIndex());
        }
        LossSpec lossSpec = b.build();
        Problem problem = problem(lossSpec, shape, nonNull(pred, "pred"), nonNull(target, "target"), null);
        long[] raw = backend().confusion(problem, pred, target, spec.threshold());
        int c = (int) problem.c;
        refuseBad(lossSpec, problem, raw[4 * c], raw[4 * c + 1], null, null);
        long[][] k = new long[4][c];
        for (int ci = 0; ci < c; ci++) {
            for (int j = 0; j < 4; j++) {
                k[j][ci] = raw[ci * 4 + j];
            }
        }
        return new ConfusionCounts(k[0], k[1], k[2], k[3]);
    }

    /**
     * {@link #confusion(ConfusionSpec, DeviceBuffer, long[], DeviceBuffer)} of host arrays.
     *
     * @param spec mode, logits, layout, ignored class and threshold
     * @param pred predictions, {@code shape}
     * @param shape pred's shape
     * @param target a float[], byte[] (uint8) or int[] as for a loss of the same mode
     * @return per-class TP, FP, FN, TN
     * @throws InvalidInputException on a refused input, naming the argument
     */
    public ConfusionCounts confusion(ConfusionSpec spec, float[] pred, long[] shape, Object target) {
        nonNull(spec, "spec");
        nonNull(pred, "pred");
        Buffer t = wrapTarget(target);
        try (DeviceBuffer p = backend().upload(pred); DeviceBuffer tb = uploadTarget(backend(), t)) {
            return confusion(spec, p, shape, tb);
        }
    }

    /**
     * The positional form of {@link #confusion(ConfusionSpec, DeviceBuffer, long[], DeviceBuffer)}.
     *
     * @param mode the mode
     * @param fromLogits whether pred holds logits
     * @param layout the layout
     * @param ignoreIndex the ignored class, or null
     * @param threshold the threshold
     * @param pred predictions
     * @param shape pred's shape
     * @param target the target
     * @return per-class counts
     * @deprecated use {@link #confusion(ConfusionSpec, DeviceBuffer, long[], DeviceBuffer)}
     */
    @Deprecated
    public ConfusionCounts confusion(Mode mode, boolean fromLogits, Layout layout, Integer ignoreIndex,
                                     double threshold, DeviceBuffer pred, long[] shape, DeviceBuffer target) {
        return confusion(confusionSpec(mode, fromLogits, layout, ignoreIndex, threshold), pred, shape, target);
    }

    /**
     * The positional form of {@link #confusion(ConfusionSpec, float[], long[], Object)}.
     *
     * @param mode the mode
     * @param fromLogits whether pred holds logits
     * @param layout the layout
     * @param ignoreIndex the ignored class, or null
     * @param threshold the threshold
     * @param pred predictions
     * @param shape pred's shape
     * @param target the target
     * @return per-class counts
     * @deprecated use {@link #confusion(ConfusionSpec, float[], long[], Object)}
     */
    @Deprecated
    public ConfusionCounts confusion(Mode mode, boolean fromLogits, Layout layout, Integer ignoreIndex,
                                     double threshold, float[] pred, long[] shape, Object target) {
        return confusion(confusionSpec(mode, fromLogits, layout, ignoreIndex, threshold), pred, shape, target);
    }

    private static ConfusionSpec confusionSpec(Mode mode, boolean fromLogits, Layout layout, Integer ignoreIndex,
                                               double threshold) {
        return ConfusionSpec.builder(mode).fromLogits(fromLogits).layout(layout).ignoreIndex(ignoreIndex)
                .threshold(threshold).build();
    }

    private static Buffer wrapTarget(Object target) {
        if (target instanceof float[]) {
            return FloatBuffer.wrap((float[]) target);
        } else if (target instanceof byte[]) {
            return ByteBuffer.wrap((byte[]) target);
        } else if (target instanceof int[]) {
            return IntBuffer.wrap((int[]) target);
        } else if (target instanceof long[]) {
            return LongBuffer.wrap((long[]) target);
        }
        throw new InvalidInputException("target must be a float[], byte[], int[] or long[], was "
                + (target == null ? "null" : target.getClass().getSimpleName()));
    }

    // ---- the passes -----------------------------------------------------------------------

    private LossResult host(LossSpec spec, FloatBuffer pred, long[] shape, Buffer target, FloatBuffer grad) {
        Backend b = backend();
        nonNull(spec, "spec");
        if (grad != null && grad.isReadOnly()) {
            throw new InvalidInputException("grad must be a writable buffer, was read-only");
        }
        Problem problem = problem(spec, shape, ElementType.FLOAT32, pred.remaining(), hostType(target),
                target.remaining(), grad == null ? null : ElementType.FLOAT32, grad == null ? -1 : grad.remaining());
        try (DeviceBuffer p = b.upload(pred); DeviceBuffer t = uploadTarget(b, target)) {
            if (grad == null) {
                return pass(spec, problem, p, t, null, pred, target);
            }
            if (b.name().equals("cpu")) {
                try (DeviceBuffer g = b.upload(grad)) {
                    return pass(spec, problem, p, t, g, pred, target);
                }
            }
            try (DeviceBuffer g = b.allocateFloats(grad.remaining())) {
                LossResult r = pass(spec, problem, p, t, g, pred, target);
                b.download(g, grad);
                return r;
            }
        }
    }

    private static ElementType hostType(Buffer target) {
        if (target instanceof FloatBuffer) {
            return ElementType.FLOAT32;
        } else if (target instanceof ByteBuffer) {
            return ElementType.UINT8;
        } else if (target instanceof IntBuffer) {
            return ElementType.INT32;
        } else if (target instanceof LongBuffer) {
            return ElementType.INT64;
        }
        throw new InvalidInputException("target must be a FloatBuffer, ByteBuffer (uint8), IntBuffer or LongBuffer, was "
                + target.getClass().getSimpleName());
    }

    private static DeviceBuffer uploadTarget(Backend b, Buffer target) {
        switch (hostType(target)) {
            case FLOAT32:
                return b.upload((FloatBuffer) target);
            case UINT8:
                return b.upload((ByteBuffer) target);
            case INT64:
                return b.upload((LongBuffer) target);
            default:
                return b.upload((IntBuffer) target);
        }
    }

    /** Device buffers: checked, then passed on (no host copy to search for the first bad value). */
    private LossResult run(LossSpec spec, DeviceBuffer pred, long[] shape, DeviceBuffer target, DeviceBuffer grad) {
        nonNull(spec, "spec");
        return pass(spec, problem(spec, shape, pred, target, grad), pred, target, grad, null, null);
    }

    /** The stats pass, the refusal of bad values, the host finalize and (with grad) the grad pass. */
    private LossResult pass(LossSpec spec, Problem problem, DeviceBuffer pred, DeviceBuffer target, DeviceBuffer grad,
                            FloatBuffer hostPred, Buffer hostTarget) {
        Backend b = backend();
        if (spec.loss() == Loss.LOVASZ) {
            LovaszPass.Outcome lz = LovaszPass.run(b, spec, problem, pred, target, grad, hostPred, hostTarget);
            return new LossResult(spec, b.name(), b.device(), problem.n, (int) problem.c, lz.value, 0, 0, Double.NaN,
                    null, null, null, null);
        }
        double[] stats = grad == null ? b.stats(problem, pred, target) : b.stats(problem, pred, target, grad);
        long[] bad = Finalizer.badCounts(problem, stats);
        if (bad != null) {
            refuseBad(spec, problem, bad[0], bad[1], hostPred, hostTarget);
        }
        Finalizer.Outcome out = Finalizer.finish(spec, problem, stats, grad != null);
        if (grad != null) {
            b.grad(problem, pred, target, out.grad, grad);
        }
        return new LossResult(spec, b.name(), b.device(), problem.n, (int) problem.c, out.value, out.pixelLoss,
                out.regionLoss, out.meanCoefficient, out.coefficients, out.pixelTermSums, out.perClassCoefficient,
                out.perClassPixelLoss);
    }

    private static void refuseBad(LossSpec spec, Problem problem, long badPred, long badTarget, FloatBuffer hostPred,
                                  Buffer hostTarget) {
        if (badPred > 0) {
            String allowed = spec.fromLogits() ? "finite values" : "finite probabilities in [0, 1] (set from_logits for logits)";
            throw new InvalidInputException("pred must hold " + allowed + "; " + badPred + " value"
                    + (badPred == 1 ? " is" : "s are") + " not"
                    + (hostPred == null ? "" : ", first " + HostValues.firstBadPred(hostPred, spec.fromLogits())));
        }
        if (badTarget > 0) {
            String allowed = problem.softTargets
                    ? "class probabilities >= 0 summing to 1 (within " + Problem.SOFT_TARGET_SUM_TOLERANCE + ") at every pixel"
                    : problem.multiclass
                    ? "class indices in [0, " + problem.c + ")" + (problem.hasIgnoreIndex ? " or ignore_index " + problem.ignoreIndex : "")
                    : "values in [0, 1]" + (problem.hasIgnoreIndex ? " or ignore_index " + problem.ignoreIndex : "");
            throw new InvalidInputException("target must hold " + allowed + "; " + badTarget
                    + (problem.softTargets ? " pixel" : " value")
                    + (badTarget == 1 ? " is" : "s are") + " not"
                    + (hostTarget == null ? "" : ", first " + HostValues.firstBadTarget(hostTarget, problem)));
        }
    }

    /** Checks shapes and buffers and describes the pass for the backend. */
    private Problem problem(LossSpec spec, long[] shape, DeviceBuffer pred, DeviceBuffer target, DeviceBuffer grad) {
        Backend own = backend();
        BackendBuffer.owned(own, pred, "pred", BackendBuffer.class);
        BackendBuffer.owned(own, target, "target", BackendBuffer.class);
        if (grad != null) {
            BackendBuffer.owned(own, grad, "grad", BackendBuffer.class);
        }
        return problem(spec, shape, pred.type(), pred.length(), target.type(), target.length(), grad == null ? null : grad.type(),
                grad == null ? -1 : grad.length());
    }

    /** Checks shapes, types and lengths (before anything is uploaded) and describes the pass for the backend. */
    private Problem problem(LossSpec spec, long[] shape, ElementType predType, long predLength, ElementType targetType,
                            long targetLengthGiven, ElementType gradType, long gradLength) {
        if (shape == null) {
            throw new InvalidInputException("shape must not be null");
        }
        if (shape.length < 2) {
            throw new InvalidInputException("shape must have rank >= 2 (N, C, *S), was " + Arrays.toString(shape));
        }
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 1) {
                throw new InvalidInputException("shape must not be empty: dimension " + i + " was " + shape[i]
                        + " in " + Arrays.toString(shape));
            }
        }
        long total = InputLimits.elementCount("shape " + Arrays.toString(shape), shape);
        Layout layout = spec.layout();
        long n = shape[0];
        long c = layout == Layout.NHWC ? shape[shape.length - 1] : shape[1];
        long s = total / (n * c);
        if (n * c > Integer.MAX_VALUE / Problem.STATS) {
            throw new InvalidInputException("N * C must be < " + Integer.MAX_VALUE / Problem.STATS + ", was " + n * c);
        }
        boolean multiclass = spec.mode() == Mode.MULTICLASS;
        if (multiclass && c < 2) {
            throw new InvalidInputException("multiclass mode needs C >= 2 classes, was C = " + c + " in shape " + Arrays.toString(shape));
        }
        if (predType != ElementType.FLOAT32) {
            throw new InvalidInputException("pred must be float32, was " + predType);
        }
        if (predLength != total) {
            throw new InvalidInputException("pred must hold " + total + " values for shape " + Arrays.toString(shape)
                    + ", had " + predLength);
        }
        // multiclass: a float target of pred's shape holds class probabilities (soft targets)
        boolean soft = multiclass && targetType == ElementType.FLOAT32 && targetLengthGiven == total;
        if (soft && spec.loss() == Loss.LOVASZ) {
            throw new InvalidInputException("target must be a class map for lovasz: soft (probability) multiclass targets"
                    + " are refused, got a float target of pred's shape " + Arrays.toString(shape));
        }
        if (soft && spec.ignoreIndex() != null) {
            throw new InvalidInputException("ignore_index does not apply to soft (probability) multiclass targets, was "
                    + spec.ignoreIndex());
        }
        long targetLength = multiclass && !soft ? n * s : total;
        if (targetLengthGiven != targetLength) {
            throw new InvalidInputException("target must hold " + targetLength + " values for pred shape "
                    + Arrays.toString(shape) + " in " + spec.mode() + " mode" + (multiclass ? " (N, *S)" : "") + ", had " + targetLengthGiven);
        }
        if (gradType != null && (gradType != ElementType.FLOAT32 || gradLength != total)) {
            throw new InvalidInputException("grad must be a float32 buffer of " + total + " values, was "
                    + gradType + " of " + gradLength);
        }
        if (spec.posWeight() != null && spec.posWeight().length != c) {
            throw new InvalidInputException("pos_weight must have one weight per class (" + c + "), had "
                    + spec.posWeight().length);
        }
        if (spec.classWeights() != null && spec.classWeights().length != c) {
            throw new InvalidInputException("class_weights must have one weight per class (" + c + "), had "
                    + spec.classWeights().length);
        }
        if (spec.loss().hasRegionTerm() && !spec.includeBackground() && c == 1) {
            throw new InvalidInputException("include_background = false would exclude the only class (C = 1)");
        }
        PixelTerm term;
        switch (spec.loss()) {
            case BCE:
            case BCE_LOGDICE:
                term = PixelTerm.BCE;
                break;
            case FOCAL:
            case DICE_FOCAL:
                term = PixelTerm.FOCAL;
                break;
            case CE:
            case CE_LOGDICE:
                term = PixelTerm.CE;
                break;
            case DICE_CE:
                term = multiclass ? PixelTerm.CE : PixelTerm.BCE;
                break;
            default:
                term = PixelTerm.NONE;
        }
        double posWeight = spec.alphaNone() ? 1.0 : spec.alpha();
        double negWeight = spec.alphaNone() ? 1.0 : 1.0 - spec.alpha();
        float[] bcePosWeight = null;
        if (spec.posWeight() != null && term == PixelTerm.BCE) {
            bcePosWeight = new float[(int) c];
            for (int i = 0; i < c; i++) {
                bcePosWeight[i] = (float) spec.posWeight()[i];
            }
        }
        return new Problem(multiclass, spec.fromLogits(), layout, n, c, s, targetType,
                spec.ignoreIndex() != null, spec.ignoreIndex() == null ? 0 : spec.ignoreIndex(), term,
                spec.loss().hasRegionTerm(), posWeight, negWeight, term == PixelTerm.FOCAL ? spec.gamma() : 0.0,
                spec.squaredPred(), bcePosWeight, term == PixelTerm.NONE ? 0.0 : spec.labelSmoothing(), soft);
    }

    private static <T> T nonNull(T value, String name) {
        if (value == null) {
            throw new InvalidInputException(name + " must not be null");
        }
        return value;
    }

    /**
     * Closes the backend and its device resources, and every buffer it still owns. Idempotent; later calls on
     * the engine throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            backend.close();
        }
    }
}
