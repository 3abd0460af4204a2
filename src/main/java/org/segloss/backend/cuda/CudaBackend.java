package org.segloss.backend.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuMemsetD8Async;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.List;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import org.segloss.BackendUnavailableException;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.backend.Backend;
import org.segloss.backend.BackendBuffer;
import org.segloss.backend.DistanceTransformArgs;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.Probe;
import org.segloss.backend.Problem;

/**
 * The CUDA backend (JCuda driver API). It works in the device's primary context
 * ({@code cuDevicePrimaryCtxRetain}), so device pointers made by other CUDA libraries of the process
 * (PyTorch through JNI, cuDNN, another JCuda user) are valid here and {@link #wrap} can take them
 * without a copy. Kernels come from the PTX in the jar ({@code /ptx/segloss.ptx}, built from
 * {@code kernels-cu/segloss.cu}) and run on one stream: the backend's own, or the caller's
 * ({@link #open(int, CUstream)}). Host arrays travel through pinned host memory.
 *
 * <p>Every pass returns when its results are complete (the stream is synchronised), so the caller may
 * reuse its buffers at once. Driver failures throw {@link org.segloss.BackendException} naming the
 * operation and the CUresult. Not for concurrent use by several threads.
 */
public final class CudaBackend implements Backend {
    /** Threads per block of every kernel (THREADS in segloss.cu). */
    static final int THREADS = 256;
    /** Elements a thread adds in float before its double accumulator (FLUSH in segloss.cu); the least work per thread. */
    static final int FLUSH = 32;
    /** Most blocks per unit (row or sample) of a pass; longer units give each thread more elements. */
    static final int MAX_BLOCKS_PER_UNIT = 1024;
    /** Pinned staging memory for host-array copies; larger arrays go through it in pieces. */
    static final long STAGING_BYTES = 32L << 20;
    /** Per-class confusion counters fit in shared memory up to this many bytes (3 C ints). */
    static final int CONFUSION_SHARED_BYTES = 32 << 10;

    private final CUdevice device;
    private final CUcontext context;
    private final CUmodule module;
    private final CUstream stream;
    private final boolean ownStream;
    private final String description;
    /** The specialised stats / grad / confusion entries (CudaEntryPoints), looked up on first use. */
    private final java.util.Map<String, CUfunction> entries = new java.util.concurrent.ConcurrentHashMap<>();
    private final CUfunction streamReadKernel = new CUfunction();
    private final CUfunction combineKernel = new CUfunction();

    private final Scratch partial = new Scratch("partial sums");
    private final Scratch reduced = new Scratch("combined sums");
    private final Scratch coefficients = new Scratch("grad coefficients");
    private Pointer staging;
    private ByteBuffer stagingBytes;
    private volatile boolean closed;

    private CudaBackend(CUdevice device, CUcontext context, CUmodule module, CUstream stream, boolean ownStream) {
        this.device = device;
        this.context = context;
        this.module = module;
        this.stream = stream;
        this.ownStream = ownStream;
        this.description = CudaDriver.describe(device);
        CudaDriver.check(cuModuleGetFunction(streamReadKernel, module, "stream_read"), "cuModuleGetFunction(stream_read)");
        CudaDriver.check(cuModuleGetFunction(combineKernel, module, "combine"), "cuModuleGetFunction(combine)");
    }

    /** The entry point {@code name} of segloss.ptx (a name from {@link CudaEntryPoints}). */
    private CUfunction entry(String name) {
        return entries.computeIfAbsent(name, k -> {
            CUfunction f = new CUfunction();
            CudaDriver.check(cuModuleGetFunction(f, module, k), "cuModuleGetFunction(" + k + ")");
            return f;
        });
    }

    /** Device ordinal from {@code -Dsegloss.cuda.device} or {@code SEGLOSS_CUDA_DEVICE}, else 0. */
    static int deviceOrdinal() {
        String v = System.getProperty("segloss.cuda.device");
        if (v == null || v.isBlank()) {
            v = System.getenv("SEGLOSS_CUDA_DEVICE");
        }
        if (v == null || v.isBlank()) {
            return 0;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new InvalidInputException("segloss.cuda.device must be a device number, was " + v);
        }
    }

    /**
     * The backend on the device of {@code -Dsegloss.cuda.device} / {@code SEGLOSS_CUDA_DEVICE} (else 0), own
     * stream.
     *
     * @return a backend on that device's primary context; close it to release its stream, module and retain
     * @throws InvalidInputException when the property or variable is not a device number
     * @throws org.segloss.BackendUnavailableException when the driver, the device or the PTX module cannot be
     *     used here (the message says why)
     */
    public static CudaBackend open() {
        return open(deviceOrdinal());
    }

    /**
     * The backend on device {@code ordinal} with a stream of its own.
     *
     * @param ordinal the device number as the driver counts them, from 0
     * @return a backend on that device's primary context; close it to release its stream, module and retain
     * @throws org.segloss.BackendUnavailableException when the driver, the device or the PTX module cannot be
     *     used here (the message says why)
     */
    public static CudaBackend open(int ordinal) {
        return open(ordinal, null);
    }

    /**
     * The backend on device {@code ordinal}; kernels and copies go to {@code callerStream} (which must belong
     * to that device's primary context and is never destroyed here), or to an own stream when null.
     *
     * @param ordinal the device number as the driver counts them, from 0
     * @param callerStream the caller's stream, or null for a stream of the backend's own
     * @return a backend on that device's primary context; close it to release what it created (a caller's
     *     stream stays)
     * @throws org.segloss.BackendUnavailableException when the driver, the device or the PTX module cannot be
     *     used here (the message says why)
     */
    public static CudaBackend open(int ordinal, CUstream callerStream) {
        CUdevice device = CudaDriver.initDevice(ordinal);
        CUcontext context = new CUcontext();
        CudaDriver.checkOpen(cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        CUmodule module = null;
        CUstream stream = callerStream;
        try {
            CudaDriver.checkOpen(cuCtxSetCurrent(context), "cuCtxSetCurrent");
            module = new CUmodule();
            int status = cuModuleLoadData(module, CudaDriver.ptx());
            if (status != CUresult.CUDA_SUCCESS) {
                module = null;
                throw new BackendUnavailableException(CudaDriver.ptxRefused(status));
            }
            if (stream == null) {
                CUstream created = new CUstream();
                CudaDriver.checkOpen(cuStreamCreate(created, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
                stream = created; // only a created stream is destroyed on the way out
            }
            return new CudaBackend(device, context, module, stream, callerStream == null);
        } catch (RuntimeException | Error e) {
            if (stream != null && callerStream == null) {
                cuStreamDestroy(stream);
            }
            if (module != null) {
                cuModuleUnload(module);
            }
            cuDevicePrimaryCtxRelease(device);
            throw e;
        }
    }

    /** Opens and closes the device to see whether the backend can run; throws {@link BackendUnavailableException} with the reason. */
    static Probe probe(int ordinal) {
        try (CudaBackend b = open(ordinal)) {
            return Probe.usable("cuda", b.device(), List.of(
                    "driver API " + CudaDriver.versionString(CudaDriver.driverVersion()),
                    "PTX ISA " + CudaDriver.PTX_ISA + " (compute_75) loaded",
                    "context: primary (cuDevicePrimaryCtxRetain)"));
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String device() {
        return description;
    }

    /**
     * The stream every pass runs on.
     *
     * @return the caller's stream given to {@link #open(int, CUstream)}, else the backend's own
     */
    public CUstream stream() {
        return stream;
    }

    /**
     * The device's primary context (shared with other CUDA libraries of the process).
     *
     * @return the primary context this backend retained
     */
    public CUcontext context() {
        return context;
    }

    boolean isClosed() {
        return closed;
    }

    /** Makes the primary context current on the calling thread; throws when closed. */
    void makeCurrent() {
        if (closed) {
            throw new IllegalStateException("backend cuda is closed");
        }
        CudaDriver.check(cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    // ---- buffers -------------------------------------------------------------------------------

    /**
     * Wraps device memory the caller owns (allocated in this device's primary context, e.g. by PyTorch or
     * cuBLAS): no copy, and closing the buffer does not free it.
     *
     * @param pointer device address of the first element; not null
     * @param type how the elements are read; not null
     * @param length number of elements of {@code type}, >= 1
     * @return a buffer of this backend over the caller's memory
     * @throws InvalidInputException when pointer or type is null, length is below 1, or its byte size
     *     overflows 64 bits
     * @throws IllegalStateException when the backend is closed
     */
    public DeviceBuffer wrap(CUdeviceptr pointer, ElementType type, long length) {
        if (pointer == null || type == null) {
            throw new InvalidInputException("pointer and type must not be null");
        }
        if (length < 1) {
            throw new InvalidInputException("length must be >= 1, was " + length);
        }
        org.segloss.io.InputLimits.multiply("length in bytes (" + length + " " + type + " values)", length, type.bytes());
        makeCurrent();
        return new CudaBuffer(this, pointer, type, length, false);
    }

    /**
     * {@link #wrap(CUdeviceptr, ElementType, long)} of a raw device address (e.g. {@code tensor.data_ptr()}).
     *
     * @param address the device address of the first element, not 0
     * @param type how the elements are read; not null
     * @param length the number of elements of {@code type}, >= 1
     * @return a buffer of this backend over the caller's memory
     * @throws InvalidInputException when address is 0, type is null, length is below 1, or its byte size
     *     overflows 64 bits
     * @throws IllegalStateException when the backend is closed
     */
    public DeviceBuffer wrap(long address, ElementType type, long length) {
        if (address == 0) {
            throw new InvalidInputException("address must not be 0");
        }
        return wrap(new CUdeviceptr().withByteOffset(address), type, length);
    }

    /**
     * The device pointer of a buffer of this backend (for other CUDA libraries).
     *
     * @param buffer an open buffer of this backend; not null
     * @return the device address of its first element, valid until the buffer is closed
     * @throws InvalidInputException when buffer is null, closed or another backend's
     */
    public CUdeviceptr pointer(DeviceBuffer buffer) {
        return own(buffer, "buffer").pointer;
    }

    /** Device memory for {@code length} elements (an empty buffer still gets a few bytes, so it has an address). */
    private CudaBuffer allocate(ElementType type, long length) {
        if (length < 0) {
            throw new InvalidInputException("length must be >= 0, was " + length);
        }
        makeCurrent();
        CUdeviceptr p = new CUdeviceptr();
        long bytes = Math.max(org.segloss.io.InputLimits.multiply("length in bytes (" + length + " " + type + " values)",
                length, type.bytes()), 4);
        CudaDriver.check(cuMemAlloc(p, bytes), "cuMemAlloc(" + bytes + " bytes)");
        return new CudaBuffer(this, p, type, length, true);
    }

    @Override
    public DeviceBuffer upload(FloatBuffer data) {
        return uploadRemaining(ElementType.FLOAT32, nonNull(data, "data").duplicate());
    }

    @Override
    public DeviceBuffer upload(ByteBuffer data) {
        return uploadRemaining(ElementType.UINT8, nonNull(data, "data").duplicate());
    }

    @Override
    public DeviceBuffer upload(IntBuffer data) {
        return uploadRemaining(ElementType.INT32, nonNull(data, "data").duplicate());
    }

    @Override
    public DeviceBuffer upload(LongBuffer data) {
        return uploadRemaining(ElementType.INT64, nonNull(data, "data").duplicate());
    }

    /** A new buffer of type holding the remaining elements of data (its position is moved). */
    private CudaBuffer uploadRemaining(ElementType type, java.nio.Buffer data) {
        CudaBuffer b = allocate(type, data.remaining());
        toDevice(b, data, type.bytes());
        return b;
    }

    @Override
    public DeviceBuffer allocateFloats(long length) {
        return allocate(ElementType.FLOAT32, length);
    }

    /** Copies the remaining elements of {@code src} to the start of {@code dst} through pinned staging memory. */
    private void toDevice(CudaBuffer dst, java.nio.Buffer src, int elementBytes) {
        int length = src.remaining();
        if (length == 0) {
            return;
        }
        ensureStaging(Math.min((long) length * elementBytes, STAGING_BYTES));
        int perPiece = (int) (Math.min((long) length * elementBytes, STAGING_BYTES) / elementBytes);
        for (int done = 0; done < length; ) {
            int count = Math.min(perPiece, length - done);
            int from = src.position() + done;
            ByteBuffer s = stagingBytes.duplicate().order(ByteOrder.nativeOrder());
            if (src instanceof FloatBuffer) {
                s.asFloatBuffer().put(((FloatBuffer) src).duplicate().position(from).limit(from + count));
            } else if (src instanceof IntBuffer) {
                s.asIntBuffer().put(((IntBuffer) src).duplicate().position(from).limit(from + count));
            } else if (src instanceof LongBuffer) {
                s.asLongBuffer().put(((LongBuffer) src).duplicate().position(from).limit(from + count));
            } else {
                s.put(((ByteBuffer) src).duplicate().position(from).limit(from + count));
            }
            CudaDriver.check(cuMemcpyHtoDAsync(dst.pointer.withByteOffset((long) done * elementBytes), staging,
                    (long) count * elementBytes, stream), "cuMemcpyHtoDAsync");
            synchronize("upload");
            done += count;
        }
    }

    private void ensureStaging(long bytes) {
        long want = Math.max(bytes, 1 << 16);
        if (stagingBytes != null && stagingBytes.capacity() >= want) {
            return;
        }
        if (staging != null) {
            CudaDriver.check(cuMemFreeHost(staging), "cuMemFreeHost");
            staging = null;
            stagingBytes = null;
        }
        Pointer p = new Pointer();
        CudaDriver.check(cuMemAllocHost(p, want), "cuMemAllocHost(" + want + " bytes)");
        staging = p;
        stagingBytes = p.getByteBuffer(0, want).order(ByteOrder.nativeOrder());
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        CudaBuffer b = own(src, "src");
        nonNull(dst, "dst");
        if (dst.length != b.length()) {
            throw new InvalidInputException("dst must hold " + b.length() + " floats, had " + dst.length);
        }
        download(src, FloatBuffer.wrap(dst));
    }

    @Override
    public void download(DeviceBuffer src, FloatBuffer dst) {
        CudaBuffer b = own(src, "src");
        nonNull(dst, "dst");
        if (b.type != ElementType.FLOAT32) {
            throw new InvalidInputException("src must be a float32 buffer, was " + b.type);
        }
        if (dst.remaining() != b.length()) {
            throw new InvalidInputException("dst must hold " + b.length() + " floats, had " + dst.remaining());
        }
        long total = b.length() * 4;
        ensureStaging(Math.min(total, STAGING_BYTES));
        long perPiece = Math.min(total, STAGING_BYTES) / 4;
        FloatBuffer out = dst.duplicate();
        for (long done = 0; done < b.length(); ) {
            int count = (int) Math.min(perPiece, b.length() - done);
            CudaDriver.check(cuMemcpyDtoHAsync(staging, b.pointer.withByteOffset(done * 4), (long) count * 4, stream),
                    "cuMemcpyDtoHAsync");
            synchronize("download");
            FloatBuffer piece = stagingBytes.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
            piece.limit(count);
            out.put(piece);
            done += count;
        }
    }

    private double[] downloadDoubles(CUdeviceptr src, int count) {
        ensureStaging((long) count * 8);
        CudaDriver.check(cuMemcpyDtoHAsync(staging, src, (long) count * 8, stream), "cuMemcpyDtoHAsync");
        synchronize("download");
        double[] out = new double[count];
        stagingBytes.duplicate().order(ByteOrder.nativeOrder()).asDoubleBuffer().get(out);
        return out;
    }

    CudaBuffer own(DeviceBuffer b, String what) {
        makeCurrent();
        return BackendBuffer.owned(this, b, what, CudaBuffer.class);
    }

    private void synchronize(String operation) {
        CudaDriver.check(cuStreamSynchronize(stream), "cuStreamSynchronize after " + operation);
    }

    // ---- passes --------------------------------------------------------------------------------

    @Override
    public double[] stats(Problem p, DeviceBuffer pred, DeviceBuffer target) {
        CudaBuffer x = own(pred, "pred");
        CudaBuffer t = own(target, "target");
        Grid g = Grid.of(p.multiclass ? p.n : p.n * p.c, p.s);
        int rows = p.rows();
        long partialDoubles = (long) rows * g.blocksPerUnit * Problem.STATS;
        CUdeviceptr partialPtr = partial.ensure(partialDoubles * 8);
        CUdeviceptr pw = uploadCoefficients(p.posWeights());
        String name = CudaEntryPoints.stats(p);
        launch(entry(name), name, g.blocks(), 0, statsArgs(p, g, x.pointer, t.pointer, partialPtr, pw));
        return combine(partialPtr, rows, p.multiclass ? (int) p.c : 1, g.blocksPerUnit, Problem.STATS);
    }

    /** Adds the per-block partials of each row in a fixed order (double) on the device and downloads rows * k doubles. */
    private double[] combine(CUdeviceptr partialPtr, int rows, int inner, int blocksPerUnit, int k) {
        CUdeviceptr out = reduced.ensure((long) rows * k * 8);
        launch(combineKernel, "combine", rows, 0, combineArgs(partialPtr, out, inner, blocksPerUnit, k));
        return downloadDoubles(out, rows * k);
    }

    @Override
    public void grad(Problem p, DeviceBuffer pred, DeviceBuffer target, GradCoefficients k, DeviceBuffer gradOut) {
        CudaBuffer x = own(pred, "pred");
        CudaBuffer t = own(target, "target");
        CudaBuffer out = own(gradOut, "grad");
        if (out.type != ElementType.FLOAT32 || out.length() != p.predLength()) {
            throw new InvalidInputException("grad must be a float buffer of " + p.predLength() + " elements, was "
                    + out.type + " of " + out.length());
        }
        int c = (int) p.c;
        int rows = p.rows();
        float[] coef = new float[2 * c + 2 * rows];
        System.arraycopy(k.pixelScale, 0, coef, 0, c);
        if (p.region) { // the binary grad entries always add the region term: 0 without one (see segloss.cu)
            System.arraycopy(k.regionA, 0, coef, c, rows);
            System.arraycopy(k.regionB, 0, coef, c + rows, rows);
        }
        System.arraycopy(p.posWeights(), 0, coef, c + 2 * rows, c);
        CUdeviceptr coefPtr = uploadCoefficients(coef);
        Grid g = Grid.of(p.multiclass ? p.n : p.n * p.c, p.s);
        String name = CudaEntryPoints.grad(p);
        launch(entry(name), name, g.blocks(), 0, gradArgs(p, g, x.pointer, t.pointer, coefPtr, out.pointer));
        synchronize("grad");
    }

    /** Copies {@code values} into the coefficients buffer (staged, on the stream) and returns it. */
    private CUdeviceptr uploadCoefficients(float[] values) {
        CUdeviceptr ptr = coefficients.ensure((long) values.length * 4);
        ensureStaging((long) values.length * 4);
        stagingBytes.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().put(values);
        CudaDriver.check(cuMemcpyHtoDAsync(ptr, staging, (long) values.length * 4, stream), "cuMemcpyHtoDAsync");
        return ptr;
    }

    @Override
    public long[] confusion(Problem p, DeviceBuffer pred, DeviceBuffer target, double threshold) {
        CudaBuffer x = own(pred, "pred");
        CudaBuffer t = own(target, "target");
        int c = (int) p.c;
        int slots = 4 * c + 3;
        CUdeviceptr counts = reduced.ensure((long) slots * 8);
        CudaDriver.check(cuMemsetD8Async(counts, (byte) 0, (long) slots * 8, stream), "cuMemsetD8Async");
        double cut = p.fromLogits ? Math.log(threshold / (1 - threshold)) : threshold;
        boolean shared = p.multiclass && 3L * c * 4 <= CONFUSION_SHARED_BYTES;
        Grid g = Grid.of(p.multiclass ? p.n : p.n * p.c, p.s);
        String name = CudaEntryPoints.confusion(p, shared);
        launch(entry(name), name, g.blocks(), shared ? 3 * c * 4 : 0, confusionArgs(p, g, x.pointer, t.pointer, counts, cut));
        ensureStaging((long) slots * 8);
        CudaDriver.check(cuMemcpyDtoHAsync(staging, counts, (long) slots * 8, stream), "cuMemcpyDtoHAsync");
        synchronize("confusion");
        long[] raw = new long[slots];
        stagingBytes.duplicate().order(ByteOrder.nativeOrder()).asLongBuffer().get(raw);
        long[] out = new long[4 * c + 2];
        System.arraycopy(raw, 0, out, 0, 4 * c + 2);
        if (p.multiclass) {
            long counted = raw[4 * c + 2];
            for (int ci = 0; ci < c; ci++) {
                out[ci * 4 + 3] = counted - out[ci * 4] - out[ci * 4 + 1] - out[ci * 4 + 2];
            }
        }
        return out;
    }

    @Override
    public double streamRead(DeviceBuffer buffer) {
        CudaBuffer b = own(buffer, "buffer");
        if (b.type != ElementType.FLOAT32) {
            throw new InvalidInputException("buffer must be float32, was " + b.type);
        }
        Grid g = Grid.of(1, b.length());
        CUdeviceptr partialPtr = partial.ensure((long) g.blocksPerUnit * 8);
        launch(streamReadKernel, "stream_read", g.blocks(), 0, streamReadArgs(b.pointer, partialPtr, b.length(), g));
        return combine(partialPtr, 1, 1, g.blocksPerUnit, 1)[0];
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst) {
        CudaBuffer s = own(src, "src");
        CudaBuffer d = own(dst, "dst");
        BackendBuffer.requireCopyable(s, d);
        if (s.length() > 0) {
            CudaDriver.check(cuMemcpyDtoDAsync(d.pointer, s.pointer, s.length() * 4, stream), "cuMemcpyDtoDAsync");
            synchronize("copy");
        }
    }

    /** Waits until all work queued on the stream is done (benchmarks time with it). */
    public void synchronize() {
        makeCurrent();
        synchronize("synchronize");
    }

    private void launch(CUfunction f, String name, long blocks, int sharedBytes, KernelArgs args) {
        if (blocks > Integer.MAX_VALUE) {
            throw new InvalidInputException("problem too large for one launch of " + name + ": " + blocks + " blocks");
        }
        CudaDriver.check(cuLaunchKernel(f, (int) blocks, 1, 1, THREADS, 1, 1, sharedBytes, stream, args.kernelParams(), null),
                "cuLaunchKernel(" + name + ")");
    }

    // Parameter lists, in the order of the kernels in kernels-cu/segloss.cu (checked against the PTX by the tests).

    /** Element (n, c, s) of pred is at n C S + c classStride + s pixelStride (segloss.cu's Geometry). */
    private static KernelArgs geometry(KernelArgs a, Problem p) {
        boolean nhwc = p.layout == Layout.NHWC;
        return a.i64(nhwc ? 1 : p.s).i64(nhwc ? p.c : 1);
    }

    /** The target type, the binary ignore value (NaN: none) and the multiclass ignore index (STATS_PARAMS and others). */
    private static KernelArgs targetArgs(KernelArgs a, Problem p) {
        return a.i32(p.targetType.ordinal()).f32(p.binaryIgnore() ? (float) p.ignoreIndex : Float.NaN)
                .i32(p.hasIgnoreIndex && p.multiclass).i32(p.ignoreIndex);
    }

    static KernelArgs statsArgs(Problem p, Grid g, CUdeviceptr pred, CUdeviceptr target, CUdeviceptr partial,
                                CUdeviceptr posWeight) {
        KernelArgs a = geometry(new KernelArgs().pointer(pred).pointer(target).pointer(partial).i64(p.c).i64(p.s), p);
        return targetArgs(a, p).f32(p.focalPosWeight).f32(p.focalNegWeight).f32(p.gamma).pointer(posWeight)
                .f32(p.labelKeep()).f32(p.labelAdd()).i32(g.blocksPerUnit).i32(g.items);
    }

    static KernelArgs combineArgs(CUdeviceptr partial, CUdeviceptr out, int inner, int blocksPerUnit, int k) {
        return new KernelArgs().pointer(partial).pointer(out).i32(inner).i32(blocksPerUnit).i32(k);
    }

    /** dP/dp = dpMul p + dpAdd: 2p with squared_pred, else 1 (segloss.cu). */
    static KernelArgs gradArgs(Problem p, Grid g, CUdeviceptr pred, CUdeviceptr target, CUdeviceptr coef,
                               CUdeviceptr out) {
        boolean squares = p.squares && p.region;
        KernelArgs a = geometry(new KernelArgs().pointer(pred).pointer(target).pointer(coef).pointer(out)
                .i64(p.n).i64(p.c).i64(p.s), p);
        return targetArgs(a, p).f32(p.focalPosWeight).f32(p.focalNegWeight).f32(p.gamma)
                .f32(squares ? 2 : 0).f32(squares ? 0 : 1).f32(p.labelKeep()).f32(p.labelAdd())
                .i32(g.blocksPerUnit).i32(g.items);
    }

    static KernelArgs confusionArgs(Problem p, Grid g, CUdeviceptr pred, CUdeviceptr target, CUdeviceptr counts,
                                    double cut) {
        KernelArgs a = geometry(new KernelArgs().pointer(pred).pointer(target).pointer(counts).i64(p.c).i64(p.s), p);
        return targetArgs(a, p).f64(cut).i32(g.blocksPerUnit).i32(g.items);
    }

    static KernelArgs streamReadArgs(CUdeviceptr data, CUdeviceptr partial, long length, Grid g) {
        return new KernelArgs().pointer(data).pointer(partial).i64(length).i32(g.items);
    }

    private static <T> T nonNull(T value, String name) {
        if (value == null) {
            throw new InvalidInputException(name + " must not be null");
        }
        return value;
    }

    /** Releases device memory, pinned memory, the module, the own stream and the primary context reference. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        cuCtxSetCurrent(context);
        cuStreamSynchronize(stream);
        partial.free();
        reduced.free();
        coefficients.free();
        if (staging != null) {
            cuMemFreeHost(staging);
            staging = null;
            stagingBytes = null;
        }
        if (ownStream) {
            cuStreamDestroy(stream);
        }
        cuModuleUnload(module);
        if (lovaszModule != null) {
            cuModuleUnload(lovaszModule);
        }
        if (edtModule != null) {
            cuModuleUnload(edtModule);
            edtModule = null;
        }
        closed = true;
        cuDevicePrimaryCtxRelease(device);
    }

    /** Threads per block of edt_pass (EDT_THREADS in edt.cu). */
    static final int EDT_THREADS = 256;
    private CUmodule edtModule;
    private final CUfunction edtKernel = new CUfunction();

    @Override
    public synchronized void distanceTransform(DeviceBuffer grid, long[] dims, double[] spacing) {
        int[] d = DistanceTransformArgs.check(grid, dims, spacing);
        CudaBuffer b = own(grid, "grid");
        makeCurrent();
        if (edtModule == null) {
            CUmodule m = new CUmodule();
            CudaDriver.check(cuModuleLoadData(m, CudaDriver.ptx(CudaDriver.EDT_PTX_RESOURCE)), "cuModuleLoadData(edt.ptx)");
            CudaDriver.check(cuModuleGetFunction(edtKernel, m, "edt_pass"), "cuModuleGetFunction(edt_pass)");
            edtModule = m;
        }
        long total = b.length();
        CUdeviceptr v = new CUdeviceptr();
        CUdeviceptr fv = new CUdeviceptr();
        CUdeviceptr z = new CUdeviceptr();
        CudaDriver.check(cuMemAlloc(v, total * 4), "cuMemAlloc(" + total * 4 + " bytes of distance transform scratch)");
        try {
            CudaDriver.check(cuMemAlloc(fv, total * 4), "cuMemAlloc(" + total * 4 + " bytes of distance transform scratch)");
            try {
                CudaDriver.check(cuMemAlloc(z, total * 8), "cuMemAlloc(" + total * 8 + " bytes of distance transform scratch)");
                try {
                    long stride = 1;
                    for (int axis = d.length - 1; axis >= 0; axis--) {
                        long len = d[axis];
                        long lines = total / len;
                        KernelArgs a = edtArgs(b.pointer, v, fv, z, lines, len, stride, spacing[axis] * spacing[axis]);
                        long blocks = (lines + EDT_THREADS - 1) / EDT_THREADS;
                        CudaDriver.check(cuLaunchKernel(edtKernel, (int) blocks, 1, 1, EDT_THREADS, 1, 1, 0, stream,
                                a.kernelParams(), null), "cuLaunchKernel(edt_pass)");
                        stride *= len;
                    }
                    synchronize("distanceTransform");
                } finally {
                    cuStreamSynchronize(stream);
                    cuMemFree(z);
                }
            } finally {
                cuMemFree(fv);
            }
        } finally {
            cuMemFree(v);
        }
    }

    /** Parameters of edt_pass in kernels-cu/edt.cu. */
    static KernelArgs edtArgs(CUdeviceptr g, CUdeviceptr v, CUdeviceptr fv, CUdeviceptr z, long lines, long len, long stride,
                              double w) {
        return new KernelArgs().pointer(g).pointer(v).pointer(fv).pointer(z).i64(lines).i64(len).i64(stride).f64(w);
    }

    /** A device buffer that grows on demand and is reused across passes. */
    private final class Scratch {
        private final String what;
        private CUdeviceptr pointer;
        private long bytes;

        Scratch(String what) {
            this.what = what;
        }

        CUdeviceptr ensure(long need) {
            if (pointer != null && bytes >= need) {
                return pointer;
            }
            free();
            CUdeviceptr p = new CUdeviceptr();
            CudaDriver.check(cuMemAlloc(p, need), "cuMemAlloc(" + need + " bytes of " + what + ")");
            pointer = p;
            bytes = need;
            return p;
        }

        void free() {
            if (pointer != null) {
                // the stream may still read it: wait before freeing
                cuStreamSynchronize(stream);
                cuMemFree(pointer);
                pointer = null;
                bytes = 0;
            }
        }
    }

    // ---- the Lovasz pass (kernels-cu/lovasz.cu, a module of its own, loaded on first use) ----------------

    /** Elements (or sorted ranks) per thread of the Lovasz kernels (LZ_ITEMS in lovasz.cu). */
    static final int LOVASZ_ITEMS = 16;
    /** Positions a block sorts in shared memory (LZ_LOCAL in lovasz.cu). */
    static final int LOVASZ_LOCAL = 2 * THREADS;
    /** Kernel names of lovasz.cu, in file order. */
    static final List<String> LOVASZ_KERNELS = List.of("lovasz_keys", "lovasz_sort_local", "lovasz_merge_local",
            "lovasz_sort_step", "lovasz_count", "lovasz_apply", "lovasz_softmax_chain");

    private CUmodule lovaszModule;
    private final java.util.Map<String, CUfunction> lovaszFunctions = new java.util.HashMap<>();

    private CUfunction lovaszFunction(String name) {
        if (lovaszModule == null) {
            CUmodule m = new CUmodule();
            int status = cuModuleLoadData(m, CudaDriver.ptx(CudaDriver.LOVASZ_PTX_RESOURCE));
            if (status != CUresult.CUDA_SUCCESS) {
                throw new org.segloss.BackendException("cuda: " + CudaDriver.ptxRefused(status) + " (" + CudaDriver.LOVASZ_PTX_RESOURCE + ")");
            }
            lovaszModule = m;
            for (String k : LOVASZ_KERNELS) {
                CUfunction f = new CUfunction();
                CudaDriver.check(cuModuleGetFunction(f, m, k), "cuModuleGetFunction(" + k + ")");
                lovaszFunctions.put(k, f);
            }
        }
        return lovaszFunctions.get(name);
    }

    /**
     * The Lovasz pass: the same algorithm and memory as the OpenCL one (see kernels-cu/lovasz.cu): items of 8
     * bytes per pred element (key and index), the only pred-sized allocation; counts back to the host for
     * {@code weights}; the bitonic network; positives per block of ranks with their prefix on the host; the
     * gradient, terms and scatter; the softmax chain for multiclass logits.
     */
    @Override
    public double[] lovasz(LovaszProblem q, DeviceBuffer predBuffer, DeviceBuffer targetBuffer,
                           LovaszProblem.Weights weights, DeviceBuffer gradOut) {
        Problem p = q.problem;
        CudaBuffer x = own(predBuffer, "pred");
        CudaBuffer t = own(targetBuffer, "target");
        if (x.type != ElementType.FLOAT32 || x.length() != p.predLength()) {
            throw new InvalidInputException("pred must be a float buffer of " + p.predLength() + " elements, was "
                    + x.type + " of " + x.length());
        }
        if (t.type != p.targetType || t.length() != p.targetLength()) {
            throw new InvalidInputException("target must be a " + p.targetType + " buffer of " + p.targetLength()
                    + " elements, was " + t.type + " of " + t.length());
        }
        CudaBuffer out = gradOut == null ? null : own(gradOut, "grad");
        if (out != null && (out.type != ElementType.FLOAT32 || out.length() != p.predLength())) {
            throw new InvalidInputException("grad must be a float buffer of " + p.predLength() + " elements, was "
                    + out.type + " of " + out.length());
        }
        long len = q.length();
        int segments = q.segments();
        long blocks = (len + (long) THREADS * LOVASZ_ITEMS - 1) / ((long) THREADS * LOVASZ_ITEMS);
        int slots = Math.toIntExact(segments * blocks);
        java.util.List<CUdeviceptr> temps = new java.util.ArrayList<>();
        try {
            CUdeviceptr items = temporary(temps, p.predLength() * 8);
            CUdeviceptr counts = temporary(temps, (long) slots * 16);
            launch(lovaszFunction("lovasz_keys"), "lovasz_keys", slots, 0, lovaszKeysArgs(q, x.pointer, t.pointer, items, counts, (int) blocks));
            int[] raw = downloadInts(counts, slots * 4);
            long[] perSegment = new long[segments * LovaszProblem.COUNTS];
            for (int seg = 0; seg < segments; seg++) {
                for (long b = 0; b < blocks; b++) {
                    for (int k = 0; k < LovaszProblem.COUNTS; k++) {
                        perSegment[seg * LovaszProblem.COUNTS + k] += raw[(int) ((seg * blocks + b) * 4 + k)] & 0xFFFFFFFFL;
                    }
                }
            }
            float[] w = weights.weights(perSegment);
            bitonicSort(items, len, segments);
            launch(lovaszFunction("lovasz_count"), "lovasz_count", slots, 0, lovaszCountArgs(q, items, t.pointer, counts, (int) blocks));
            int[] blockPositives = downloadInts(counts, slots);
            int[] before = new int[slots];
            int[] positives = new int[segments];
            for (int seg = 0; seg < segments; seg++) {
                long sum = 0;
                for (long b = 0; b < blocks; b++) {
                    int slot = (int) (seg * blocks + b);
                    before[slot] = (int) sum;
                    sum += blockPositives[slot] & 0xFFFFFFFFL;
                }
                positives[seg] = (int) sum;
            }
            CUdeviceptr beforePtr = temporary(temps, (long) slots * 4);
            CUdeviceptr positivesPtr = temporary(temps, (long) segments * 4);
            CUdeviceptr weightsPtr = temporary(temps, (long) segments * 4);
            CUdeviceptr termPtr = temporary(temps, (long) slots * 4);
            uploadInts(beforePtr, before);
            uploadInts(positivesPtr, positives);
            int[] wBits = new int[segments];
            for (int i = 0; i < segments; i++) {
                wBits[i] = Float.floatToRawIntBits(w[i]);
            }
            uploadInts(weightsPtr, wBits);
            launch(lovaszFunction("lovasz_apply"), "lovasz_apply", slots, 0, lovaszApplyArgs(q, items, t.pointer, beforePtr,
                    positivesPtr, weightsPtr, out == null ? termPtr : out.pointer, termPtr, out != null, (int) blocks));
            int[] termBits = downloadInts(termPtr, slots);
            double[] terms = new double[segments];
            for (int seg = 0; seg < segments; seg++) {
                for (long b = 0; b < blocks; b++) {
                    terms[seg] += Float.intBitsToFloat(termBits[(int) (seg * blocks + b)]);
                }
            }
            if (out != null && p.multiclass && p.fromLogits) {
                long perSample = (p.s + THREADS - 1) / THREADS;
                launch(lovaszFunction("lovasz_softmax_chain"), "lovasz_softmax_chain", p.n * perSample, 0,
                        lovaszChainArgs(p, x.pointer, out.pointer, (int) perSample));
            }
            synchronize("lovasz");
            return terms;
        } finally {
            for (CUdeviceptr d : temps) {
                cuStreamSynchronize(stream);
                cuMemFree(d);
            }
        }
    }

    // Parameter lists of the lovasz.cu kernels (checked against the PTX by KernelSignatureTest).

    static KernelArgs lovaszKeysArgs(LovaszProblem q, CUdeviceptr pred, CUdeviceptr target, CUdeviceptr items,
                                     CUdeviceptr counts, int blocks) {
        return lovaszProblemArgs(new KernelArgs().pointer(pred).pointer(target).pointer(items).pointer(counts).i32(blocks), q);
    }

    static KernelArgs lovaszChunkArgs(CUdeviceptr items, long len, int chunks) {
        return new KernelArgs().pointer(items).i64(len).i32(chunks);
    }

    static KernelArgs lovaszStepArgs(CUdeviceptr items, long len, long pairs, long d, boolean flip, int blocks) {
        return new KernelArgs().pointer(items).i64(len).i64(pairs).i64(d).i32(flip).i32(blocks);
    }

    static KernelArgs lovaszCountArgs(LovaszProblem q, CUdeviceptr items, CUdeviceptr target, CUdeviceptr counts, int blocks) {
        return lovaszProblemArgs(new KernelArgs().pointer(items).pointer(target).pointer(counts).i32(blocks), q);
    }

    static KernelArgs lovaszApplyArgs(LovaszProblem q, CUdeviceptr items, CUdeviceptr target, CUdeviceptr before,
                                      CUdeviceptr positives, CUdeviceptr weights, CUdeviceptr grad, CUdeviceptr term,
                                      boolean writeGrad, int blocks) {
        return lovaszProblemArgs(new KernelArgs().pointer(items).pointer(target).pointer(before).pointer(positives)
                .pointer(weights).pointer(grad).pointer(term).i32(writeGrad).i32(blocks), q);
    }

    static KernelArgs lovaszChainArgs(Problem p, CUdeviceptr pred, CUdeviceptr grad, int blocksPerSample) {
        return new KernelArgs().pointer(pred).pointer(grad).i64(p.c).i64(p.s).i32(p.layout == Layout.NHWC).i32(blocksPerSample);
    }

    /** Appends the problem parameters of the Lovasz kernels (LZ_PROBLEM_PARAMS, in order). */
    private static KernelArgs lovaszProblemArgs(KernelArgs a, LovaszProblem q) {
        Problem p = q.problem;
        return a.i64(p.c).i64(p.s).i64(q.length()).i32(p.multiclass).i32(p.fromLogits)
                .i32(p.layout == Layout.NHWC).i32(p.targetType.ordinal()).i32(p.hasIgnoreIndex).i32(p.ignoreIndex)
                .i32(q.batch);
    }

    /** The bitonic network of lovasz.cu over every segment of {@code len} items. */
    private void bitonicSort(CUdeviceptr items, long len, int segments) {
        long chunks = (len + LOVASZ_LOCAL - 1) / LOVASZ_LOCAL;
        launch(lovaszFunction("lovasz_sort_local"), "lovasz_sort_local", segments * chunks, 0,
                lovaszChunkArgs(items, len, (int) chunks));
        long padded = Long.highestOneBit(Math.max(1, len - 1)) << 1;
        long pairs = padded / 2;
        long stepBlocks = (pairs + THREADS - 1) / THREADS;
        for (long size = 2L * LOVASZ_LOCAL; size <= padded; size <<= 1) {
            launch(lovaszFunction("lovasz_sort_step"), "lovasz_sort_step", segments * stepBlocks, 0,
                    lovaszStepArgs(items, len, pairs, size / 2, true, (int) stepBlocks));
            for (long d = size / 4; d >= LOVASZ_LOCAL; d >>= 1) {
                launch(lovaszFunction("lovasz_sort_step"), "lovasz_sort_step", segments * stepBlocks, 0,
                        lovaszStepArgs(items, len, pairs, d, false, (int) stepBlocks));
            }
            launch(lovaszFunction("lovasz_merge_local"), "lovasz_merge_local", segments * chunks, 0,
                    lovaszChunkArgs(items, len, (int) chunks));
        }
    }

    private static CUdeviceptr temporary(java.util.List<CUdeviceptr> temps, long bytes) {
        CUdeviceptr d = new CUdeviceptr();
        long size = Math.max(bytes, 8);
        CudaDriver.check(cuMemAlloc(d, size), "cuMemAlloc(" + size + " bytes for lovasz)");
        temps.add(d);
        return d;
    }

    private int[] downloadInts(CUdeviceptr src, int count) {
        ensureStaging((long) count * 4);
        CudaDriver.check(cuMemcpyDtoHAsync(staging, src, (long) count * 4, stream), "cuMemcpyDtoHAsync");
        synchronize("download");
        int[] out = new int[count];
        stagingBytes.duplicate().order(ByteOrder.nativeOrder()).asIntBuffer().get(out);
        return out;
    }

    private void uploadInts(CUdeviceptr dst, int[] values) {
        ensureStaging((long) values.length * 4);
        stagingBytes.duplicate().order(ByteOrder.nativeOrder()).asIntBuffer().put(values);
        CudaDriver.check(cuMemcpyHtoDAsync(dst, staging, (long) values.length * 4, stream), "cuMemcpyHtoDAsync");
        synchronize("upload");
    }
}
