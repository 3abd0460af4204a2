package org.segloss.backend.opencl;

import static org.jocl.CL.CL_CONTEXT_PLATFORM;
import static org.jocl.CL.CL_DEVICE_MAX_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_DEVICE_NAME;
import static org.jocl.CL.CL_DEVICE_PLATFORM;
import static org.jocl.CL.CL_DEVICE_TYPE;
import static org.jocl.CL.CL_DEVICE_VERSION;
import static org.jocl.CL.CL_KERNEL_WORK_GROUP_SIZE;
import static org.jocl.CL.CL_MEM_CONTEXT;
import static org.jocl.CL.CL_MEM_COPY_HOST_PTR;
import static org.jocl.CL.CL_MEM_READ_WRITE;
import static org.jocl.CL.CL_MEM_SIZE;
import static org.jocl.CL.CL_PLATFORM_NAME;
import static org.jocl.CL.CL_PROGRAM_BUILD_LOG;
import static org.jocl.CL.CL_QUEUE_DEVICE;
import static org.jocl.CL.CL_SUCCESS;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jocl.CL;
import org.jocl.NativePointerObject;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;
import org.segloss.BackendException;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.backend.Backend;
import org.segloss.backend.BackendBuffer;
import org.segloss.backend.DistanceTransformArgs;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;
import org.segloss.backend.Stat;
import org.segloss.internal.Constants;

/**
 * The OpenCL backend (JOCL). Programs are built from the {@code /kernels-cl/*.cl} resources (common.cl
 * prepended) with {@link Problem#defines()} plus the work-group size, the per-work-item count, C
 * (multiclass) and the kind of gamma, and cached per (device, kernel file, defines) for the life of
 * the backend. Each pass writes float partials per (row, work-group) that the host adds in double in a
 * fixed order, so results are identical from run to run; confusion counts are integers added as long.
 *
 * <p>Open it on a device of its own ({@link OpenClProvider}) or over the caller's context and queue
 * ({@link #wrap(cl_context, cl_command_queue)}); {@link #wrap(cl_mem, ElementType, long)} makes a
 * caller's cl_mem usable as a pred, target or gradient buffer without a copy. Runtime failures throw
 * {@link BackendException} naming the operation and the OpenCL status; after {@link #close()} every
 * call throws {@link IllegalStateException}. Not for use by several threads at once (calls are serialised).
 */
public final class OpenClBackend implements Backend {
    /** Upper bound of the work-group size; the device and kernel limits may lower it (power of two). */
    static final int MAX_WORK_GROUP = 256;
    /**
     * Elements per work-item in the binary passes: a fixed count, not a grid-stride loop (~2x slower on PoCL).
     * Not force-unrolled: {@code #pragma unroll} over 16 items made PoCL's code generation take minutes per
     * program without a measurable gain on its 2-core CPU device.
     */
    static final int ITEMS_BINARY = 16;
    /** Pixels (of C values each) per work-item in the multiclass passes. */
    static final int ITEMS_MULTICLASS = 8;
    /** Elements per work-item of the streaming-read floor. */
    static final int ITEMS_STREAM = 16;

    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_device_id device;
    private final String description;
    private final int deviceMaxWorkGroup;
    private final Map<String, Program> programs = new HashMap<>();
    private final Set<OpenClBuffer> liveBuffers = new LinkedHashSet<>();
    private long memObjects;
    private int programBuilds;
    private boolean closed;

    /** A built program with its kernels and the work-group size they were compiled for. */
    private static final class Program {
        final cl_program program;
        final Map<String, cl_kernel> kernels = new HashMap<>();
        final int workGroup;

        Program(cl_program program, int workGroup) {
            this.program = program;
            this.workGroup = workGroup;
        }
    }

    private OpenClBackend(cl_context context, cl_command_queue queue, cl_device_id device) {
        this.context = context;
        this.queue = queue;
        this.device = device;
        this.deviceMaxWorkGroup = (int) Math.min(Integer.MAX_VALUE, Cl.deviceSize(device, CL_DEVICE_MAX_WORK_GROUP_SIZE));
        this.description = describe(device);
    }

    /** Opens a context and an in-order queue of its own on {@code device}. */
    static OpenClBackend open(cl_device_id device) {
        cl_platform_id[] platform = new cl_platform_id[1];
        Cl.check(CL.clGetDeviceInfo(device, CL_DEVICE_PLATFORM, Sizeof.cl_platform_id, Pointer.to(platform), null),
                "clGetDeviceInfo(CL_DEVICE_PLATFORM)");
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, platform[0]);
        int[] err = new int[1];
        cl_context ctx = CL.clCreateContext(props, 1, new cl_device_id[] {device}, null, null, err);
        Cl.check(err[0], "clCreateContext");
        @SuppressWarnings("deprecation")
        cl_command_queue q = CL.clCreateCommandQueue(ctx, device, 0, err);
        if (err[0] != CL_SUCCESS) {
            CL.clReleaseContext(ctx);
            throw Cl.failure("clCreateCommandQueue", err[0]);
        }
        return new OpenClBackend(ctx, q, device);
    }

    /**
     * A backend over the caller's context and (in-order) queue: passes run on that queue, and buffers wrapped
     * with {@link #wrap(cl_mem, ElementType, long)} are used in place. The context and queue are retained
     * here and released on {@link #close()}, so the caller's own references stay valid.
     *
     * @param context the caller's OpenCL context; not null
     * @param queue an in-order command queue of that context, on the device to compute on; not null
     * @return a backend on the queue's device; close it (or its engine) to drop its retains, programs and
     *     temporaries
     * @throws InvalidInputException when context or queue is null, or the queue is out-of-order
     * @throws BackendException when an OpenCL query or retain fails (naming the call and its status)
     */
    public static OpenClBackend wrap(cl_context context, cl_command_queue queue) {
        if (context == null || queue == null) {
            throw new InvalidInputException("context and queue must not be null, were " + context + ", " + queue);
        }
        cl_device_id[] dev = new cl_device_id[1];
        Cl.check(CL.clGetCommandQueueInfo(queue, CL_QUEUE_DEVICE, Sizeof.cl_device_id, Pointer.to(dev), null),
                "clGetCommandQueueInfo(CL_QUEUE_DEVICE)");
        long[] properties = new long[1];
        Cl.check(CL.clGetCommandQueueInfo(queue, CL.CL_QUEUE_PROPERTIES, Sizeof.cl_ulong, Pointer.to(properties), null),
                "clGetCommandQueueInfo(CL_QUEUE_PROPERTIES)");
        if ((properties[0] & CL.CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE) != 0) {
            throw new InvalidInputException("queue must be an in-order queue (a pass enqueues a kernel then reads its "
                    + "results without events), was created with CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE");
        }
        Cl.check(CL.clRetainContext(context), "clRetainContext");
        Cl.check(CL.clRetainCommandQueue(queue), "clRetainCommandQueue");
        return new OpenClBackend(context, queue, dev[0]);
    }

    static String describe(cl_device_id device) {
        cl_platform_id[] platform = new cl_platform_id[1];
        Cl.check(CL.clGetDeviceInfo(device, CL_DEVICE_PLATFORM, Sizeof.cl_platform_id, Pointer.to(platform), null),
                "clGetDeviceInfo(CL_DEVICE_PLATFORM)");
        return Cl.deviceString(device, CL_DEVICE_NAME) + " (" + Cl.typeName(Cl.deviceLong(device, CL_DEVICE_TYPE)) + ", "
                + Cl.platformString(platform[0], CL_PLATFORM_NAME) + ", " + Cl.deviceString(device, CL_DEVICE_VERSION) + ")";
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public String device() {
        return description;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("backend opencl is closed");
        }
    }

    // ---- buffers ---------------------------------------------------------------------------

    /**
     * Makes the caller's {@code mem} (in this backend's context) usable as a buffer of {@code length}
     * elements of {@code type}; closing the result or this backend leaves {@code mem} alone.
     *
     * @param mem a memory object of this backend's context; not null
     * @param type how its elements are read; not null
     * @param length the number of elements, >= 0; {@code length * type.bytes()} must fit in mem
     * @return a buffer of this backend over mem, no copy
     * @throws InvalidInputException when mem or type is null, length is negative or does not fit in mem, or
     *     mem belongs to another context
     * @throws IllegalStateException when the backend is closed
     * @throws BackendException when an OpenCL query fails
     */
    public synchronized DeviceBuffer wrap(cl_mem mem, ElementType type, long length) {
        ensureOpen();
        if (mem == null || type == null) {
            throw new InvalidInputException("mem and type must not be null, were " + mem + ", " + type);
        }
        if (length < 0) {
            throw new InvalidInputException("length must be >= 0, was " + length);
        }
        long need = org.segloss.io.InputLimits.multiply("length in bytes (" + length + " " + type + " values)", length,
                type.bytes());
        ByteBuffer size = ByteBuffer.allocateDirect(Sizeof.size_t).order(ByteOrder.nativeOrder());
        Cl.check(CL.clGetMemObjectInfo(mem, CL_MEM_SIZE, Sizeof.size_t, Pointer.to(size), null), "clGetMemObjectInfo(CL_MEM_SIZE)");
        long bytes = Sizeof.size_t == 8 ? size.getLong(0) : size.getInt(0) & 0xFFFFFFFFL;
        if (bytes < need) {
            throw new InvalidInputException("mem must hold " + length + " " + type + " values (" + need
                    + " bytes), had " + bytes + " bytes");
        }
        cl_context[] memContext = new cl_context[1];
        Cl.check(CL.clGetMemObjectInfo(mem, CL_MEM_CONTEXT, Sizeof.cl_context, Pointer.to(memContext), null),
                "clGetMemObjectInfo(CL_MEM_CONTEXT)");
        if (!sameObject(memContext[0], context)) {
            throw new InvalidInputException("mem must belong to this backend's context (wrap the caller's context with "
                    + "OpenClBackend.wrap(context, queue)), it belongs to another one");
        }
        return new OpenClBuffer(this, mem, type, length, false);
    }

    private static boolean sameObject(NativePointerObject a, NativePointerObject b) {
        return a != null && b != null && a.equals(b);
    }

    @Override
    public DeviceBuffer upload(FloatBuffer data) {
        nonNull(data, "data");
        return create(ElementType.FLOAT32, data.remaining(), window(data, Sizeof.cl_float));
    }

    @Override
    public DeviceBuffer upload(ByteBuffer data) {
        nonNull(data, "data");
        return create(ElementType.UINT8, data.remaining(), window(data, 1));
    }

    @Override
    public DeviceBuffer upload(IntBuffer data) {
        nonNull(data, "data");
        return create(ElementType.INT32, data.remaining(), window(data, Sizeof.cl_int));
    }

    @Override
    public DeviceBuffer upload(LongBuffer data) {
        nonNull(data, "data");
        return create(ElementType.INT64, data.remaining(), window(data, Sizeof.cl_long));
    }

    @Override
    public DeviceBuffer allocateFloats(long length) {
        if (length < 0) {
            throw new InvalidInputException("length must be >= 0, was " + length);
        }
        return create(ElementType.FLOAT32, length, null);
    }

    /** An owned buffer; an empty one holds one element so that OpenCL accepts it (its length stays 0). */
    private synchronized OpenClBuffer create(ElementType type, long length, Pointer host) {
        ensureOpen();
        long bytes = org.segloss.io.InputLimits.multiply("length in bytes (" + length + " " + type + " values)",
                Math.max(1, length), type.bytes());
        cl_mem mem = createMem(bytes, length == 0 ? null : host, "upload");
        OpenClBuffer b = new OpenClBuffer(this, mem, type, length, true);
        liveBuffers.add(b);
        return b;
    }

    private cl_mem createMem(long bytes, Pointer host, String operation) {
        int[] err = new int[1];
        long flags = CL_MEM_READ_WRITE | (host == null ? 0 : CL_MEM_COPY_HOST_PTR);
        cl_mem mem = CL.clCreateBuffer(context, flags, bytes, host, err);
        if (err[0] != CL_SUCCESS) {
            throw Cl.failure(operation + ": clCreateBuffer of " + bytes + " bytes", err[0]);
        }
        memObjects++;
        return mem;
    }

    private void releaseMem(cl_mem mem) {
        memObjects--;
        Cl.check(CL.clReleaseMemObject(mem), "clReleaseMemObject");
    }

    synchronized void releaseBuffer(OpenClBuffer b) {
        if (liveBuffers.remove(b) && !closed) {
            releaseMem(b.mem);
        }
    }

    @Override
    public synchronized void download(DeviceBuffer src, float[] dst) {
        OpenClBuffer b = own(src, "src");
        BackendBuffer.requireDownload(b, nonNull(dst, "dst").length);
        read(b.mem, (long) dst.length * Sizeof.cl_float, Pointer.to(dst), "download");
    }

    @Override
    public synchronized void download(DeviceBuffer src, FloatBuffer dst) {
        OpenClBuffer b = own(src, "src");
        BackendBuffer.requireDownload(b, nonNull(dst, "dst").remaining());
        read(b.mem, (long) dst.remaining() * Sizeof.cl_float, window(dst, Sizeof.cl_float), "download");
    }

    /**
     * A pointer to the elements from the buffer's position: JOCL reads a heap buffer from the start of its
     * backing array, so the array offset and position are applied here; a direct buffer is sliced.
     */
    private static Pointer window(java.nio.Buffer b, int elementBytes) {
        if (b.hasArray()) {
            long offset = (long) (b.arrayOffset() + b.position()) * elementBytes;
            Object array = b.array();
            Pointer p = array instanceof float[] ? Pointer.to((float[]) array)
                    : array instanceof int[] ? Pointer.to((int[]) array)
                    : array instanceof long[] ? Pointer.to((long[]) array) : Pointer.to((byte[]) array);
            return p.withByteOffset(offset);
        }
        return Pointer.to(b.slice());
    }

    private void read(cl_mem mem, long bytes, Pointer dst, String operation) {
        if (bytes == 0) {
            return;
        }
        Cl.check(CL.clEnqueueReadBuffer(queue, mem, true, 0, bytes, dst, 0, null, null),
                operation + ": clEnqueueReadBuffer");
    }

    private OpenClBuffer own(DeviceBuffer b, String what) {
        ensureOpen();
        return BackendBuffer.owned(this, b, what, OpenClBuffer.class);
    }

    private static <T> T nonNull(T value, String name) {
        return BackendBuffer.nonNull(value, name);
    }

    // ---- programs --------------------------------------------------------------------------

    /** Reads {@code /kernels-cl/<file>} from the classpath (the jar). */
    static String resource(String file) {
        try (InputStream in = OpenClBackend.class.getResourceAsStream("/kernels-cl/" + file)) {
            if (in == null) {
                throw new BackendException("OpenCL kernel source /kernels-cl/" + file + " is missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new BackendException("OpenCL kernel source /kernels-cl/" + file + " could not be read: " + e, e);
        }
    }

    private static final java.util.regex.Pattern INCLUDE = java.util.regex.Pattern.compile("#include \"([\\w.]+)\"");

    /**
     * {@code /kernels-cl/<file>} with each {@code #include "NAME"} line replaced by the resource NAME (a header shared
     * with the CUDA kernels, such as segloss_edt.h), so the program needs no include path on the device's compiler.
     */
    static String withIncludes(String file) {
        String[] lines = resource(file).split("\n", -1);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            java.util.regex.Matcher m = INCLUDE.matcher(lines[i].trim());
            if (m.matches()) {
                out.append("#line 1 \"").append(m.group(1)).append("\"\n").append(resource(m.group(1)))
                        .append("\n#line ").append(i + 2).append(" \"").append(file).append("\"\n");
            } else {
                out.append(lines[i]).append(i + 1 < lines.length ? "\n" : "");
            }
        }
        return out.toString();
    }

    /** The program of {@code file} built with {@code defines}, from the cache keyed by (device, file, defines). */
    private Program program(String file, String defines) {
        String key = device + "|" + file + "|" + defines;
        Program cached = programs.get(key);
        if (cached != null) {
            return cached;
        }
        String source = resource("segloss_gen.h") + "\n" + resource("segloss_terms.h") + "\n#line 1 \"common.cl\"\n"
                + resource("common.cl") + "\n#line 1 \"" + file + "\"\n" + withIncludes(file);
        int wg = Integer.highestOneBit(Math.max(1, Math.min(MAX_WORK_GROUP, deviceMaxWorkGroup)));
        Program p = buildProgram(file, source, defines + " -DWG_SIZE=" + wg, wg);
        int kernelMax = kernelLimit(p);
        if (kernelMax < wg) {
            release(p);
            wg = Integer.highestOneBit(Math.max(1, kernelMax));
            p = buildProgram(file, source, defines + " -DWG_SIZE=" + wg, wg);
        }
        programs.put(key, p);
        return p;
    }

    /** The smallest CL_KERNEL_WORK_GROUP_SIZE of the program's kernels. */
    private int kernelLimit(Program p) {
        int min = Integer.MAX_VALUE;
        for (cl_kernel k : p.kernels.values()) {
            ByteBuffer b = ByteBuffer.allocateDirect(Sizeof.size_t).order(ByteOrder.nativeOrder());
            Cl.check(CL.clGetKernelWorkGroupInfo(k, device, CL_KERNEL_WORK_GROUP_SIZE, Sizeof.size_t, Pointer.to(b), null),
                    "clGetKernelWorkGroupInfo(CL_KERNEL_WORK_GROUP_SIZE)");
            long v = Sizeof.size_t == 8 ? b.getLong(0) : b.getInt(0) & 0xFFFFFFFFL;
            min = (int) Math.min(min, v);
        }
        return min;
    }

    /** Builds of one program tried when the build log shows a file-system failure of the compiler's cache. */
    static final int BUILD_ATTEMPTS = 3;

    /**
     * Whether a failed build's log shows the compiler's temporary file vanishing under it rather than an error in the
     * source: PoCL's kernel cache (~/.cache/pocl/kcache) sometimes loses clang's temporary output on a cold cache
     * ("unable to rename temporary ... 'No such file or directory'"); the same build then succeeds.
     */
    static boolean transientBuildFailure(String log) {
        return log != null && log.contains("unable to rename temporary");
    }

    /**
     * Builds {@code source} with {@code options} and creates its kernels, again (at most {@link #BUILD_ATTEMPTS}
     * builds) when a failure is {@link #transientBuildFailure}; any other build failure throws
     * {@link BackendException} carrying the build log.
     */
    private Program buildProgram(String file, String source, String options, int workGroup) {
        cl_program program = null;
        for (int attempt = 1; program == null; attempt++) {
            int[] err = new int[1];
            cl_program built = CL.clCreateProgramWithSource(context, 1, new String[] {source}, null, err);
            Cl.check(err[0], "clCreateProgramWithSource(" + file + ")");
            int status = CL.clBuildProgram(built, 1, new cl_device_id[] {device}, options, null, null);
            programBuilds++;
            if (status == CL_SUCCESS) {
                program = built;
            } else {
                String log = buildLog(built);
                CL.clReleaseProgram(built);
                if (attempt < BUILD_ATTEMPTS && transientBuildFailure(log)) {
                    continue;
                }
                throw new BackendException("OpenCL clBuildProgram(" + file + ") failed: " + CL.stringFor_errorCode(status)
                        + " (" + status + "), options [" + options + "], build log:\n" + log);
            }
        }
        Program p = new Program(program, workGroup);
        int[] count = new int[1];
        Cl.check(CL.clCreateKernelsInProgram(program, 0, null, count), "clCreateKernelsInProgram(" + file + ")");
        cl_kernel[] kernels = new cl_kernel[count[0]];
        Cl.check(CL.clCreateKernelsInProgram(program, kernels.length, kernels, null), "clCreateKernelsInProgram(" + file + ")");
        for (cl_kernel k : kernels) {
            long[] size = new long[1];
            Cl.check(CL.clGetKernelInfo(k, CL.CL_KERNEL_FUNCTION_NAME, 0, null, size), "clGetKernelInfo");
            byte[] name = new byte[(int) size[0]];
            Cl.check(CL.clGetKernelInfo(k, CL.CL_KERNEL_FUNCTION_NAME, name.length, Pointer.to(name), null), "clGetKernelInfo");
            p.kernels.put(Cl.text(name), k);
        }
        return p;
    }

    /**
     * Diagnostics: compiles an OpenCL C {@code source} for this backend's device outside the cache and
     * releases it; a failure throws {@link BackendException} carrying the build log.
     *
     * @param name the program's name in messages, e.g. its file name; not null
     * @param source OpenCL C 1.2 source; not null
     * @param options build options such as {@code -D NAME=1}; null means none
     * @throws InvalidInputException when name or source is null
     * @throws BackendException when the build fails, with the device's build log
     * @throws IllegalStateException when the backend is closed
     */
    public synchronized void compile(String name, String source, String options) {
        ensureOpen();
        release(buildProgram(nonNull(name, "name"), nonNull(source, "source"), options == null ? "" : options, 1));
    }

    private String buildLog(cl_program program) {
        long[] size = new long[1];
        if (CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, null, size) != CL_SUCCESS) {
            return "(no build log)";
        }
        byte[] log = new byte[(int) size[0]];
        if (CL.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log.length, Pointer.to(log), null) != CL_SUCCESS) {
            return "(no build log)";
        }
        return Cl.text(log);
    }

    private static void release(Program p) {
        for (cl_kernel k : p.kernels.values()) {
            CL.clReleaseKernel(k);
        }
        CL.clReleaseProgram(p.program);
    }

    /**
     * Diagnostics: programs built so far (a cache miss builds one, twice when the kernel needs a smaller
     * work-group).
     *
     * @return the number of program builds since the backend was opened, >= 0
     */
    public synchronized int programBuilds() {
        return programBuilds;
    }

    /**
     * Diagnostics: OpenCL memory objects this backend holds now (its own buffers and temporaries, not wrapped
     * ones).
     *
     * @return the number of memory objects it created and has not released yet, >= 0
     */
    public synchronized long memObjects() {
        return memObjects;
    }

    // ---- defines and geometry --------------------------------------------------------------

    /**
     * Most classes a multiclass pass takes here: the kernels keep, per work-item, the pixel's C values and
     * per-class accumulators in private memory (about 24 bytes per class), which past a few thousand classes
     * overflows a CPU device's work-item stack (PoCL dies with 70000) and spills on GPUs. The cpu and cuda
     * backends take any number; segmentation label sets are far smaller (ADE20K 150, COCO-stuff 182, LVIS 1203
     * would need the cuda or cpu backend).
     */
    public static final int MAX_MULTICLASS_CLASSES = 1024;

    /**
     * The refusal of a multiclass problem with more than {@link #MAX_MULTICLASS_CLASSES} classes.
     *
     * @param classes the C that was asked for
     * @return the message of the refusal, naming C, the limit and the backends that take more
     */
    public static String tooManyClasses(long classes) {
        return "the opencl backend takes at most " + MAX_MULTICLASS_CLASSES + " classes in multiclass mode (C, the"
                + " class axis of pred), was " + classes + "; the cpu and cuda backends take any number";
    }

    /**
     * Problem defines plus ours: ITEMS, NUM_CLASSES (multiclass), GAMMA_KIND (focal). Defines a kernel does
     * not read are normalised so that fewer programs are built: the binary kernels take the layout from
     * their runtime geometry (LAYOUT_NHWC=0), confusion needs no pixel term, region flag or gamma.
     */
    static String defines(Problem p, int items, boolean confusion) {
        if (p.multiclass && p.c > MAX_MULTICLASS_CLASSES) {
            throw new InvalidInputException(tooManyClasses(p.c));
        }
        String d = p.defines();
        if (!p.multiclass) {
            d = d.replace("-DLAYOUT_NHWC=1", "-DLAYOUT_NHWC=0");
        }
        if (confusion) {
            d = d.replaceAll("-DPIXEL_TERM=\\d+", "-DPIXEL_TERM=0").replace("-DREGION=1", "-DREGION=0");
        }
        StringBuilder b = new StringBuilder(d);
        b.append(" -DITEMS=").append(items);
        if (p.multiclass) {
            b.append(" -DNUM_CLASSES=").append(p.c);
        }
        b.append(" -DGAMMA_KIND=").append(!confusion && p.pixelTerm == PixelTerm.FOCAL ? gammaKind(p.gamma) : 0);
        return b.toString();
    }

    /** 0, 1, 2 for the exact small powers, 3 for any other gamma. */
    static int gammaKind(double gamma) {
        return gamma == 0 ? 0 : gamma == 1 ? 1 : gamma == 2 ? 2 : 3;
    }

    /**
     * Binary launch geometry, see common.cl: segments of seg_len elements at
     * {@code (seg / segsPerSample) * sampleStride + (seg % segsPerSample) * chanStride}, stride elemStride;
     * {@code cycle} channels interleave per segment (nhwc with C <= work-group), {@code active} work-items work.
     */
    static final class Geometry {
        final long segLen;
        final long sampleStride;
        final long chanStride;
        final long elemStride;
        final int segsPerSample;
        final int cycle;
        final int active;
        final int segments;
        final long groups;

        Geometry(Problem p, int wg, int items) {
            long sc = p.s * p.c;
            if (p.layout == Layout.NCHW) {
                segLen = p.s;
                sampleStride = sc;
                chanStride = p.s;
                elemStride = 1;
                segsPerSample = (int) p.c;
                cycle = 1;
                active = wg;
                segments = p.rows();
            } else if (p.c <= wg) {
                segLen = sc;
                sampleStride = sc;
                chanStride = 0;
                elemStride = 1;
                segsPerSample = 1;
                cycle = (int) p.c;
                active = (int) (wg / p.c * p.c);
                segments = Math.toIntExact(p.n);
            } else {
                segLen = p.s;
                sampleStride = sc;
                chanStride = 1;
                elemStride = p.c;
                segsPerSample = (int) p.c;
                cycle = 1;
                active = wg;
                segments = p.rows();
            }
            long perGroup = (long) active * items;
            groups = (segLen + perGroup - 1) / perGroup;
        }
    }

    /** Sets kernel arguments: cl_mem, Long (ulong), Integer (int/uint), Float. */
    private static void args(cl_kernel k, Object... values) {
        for (int i = 0; i < values.length; i++) {
            Object v = values[i];
            int status;
            if (v instanceof cl_mem) {
                status = CL.clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to((cl_mem) v));
            } else if (v instanceof Long) {
                status = CL.clSetKernelArg(k, i, Sizeof.cl_ulong, Pointer.to(new long[] {(Long) v}));
            } else if (v instanceof Integer) {
                status = CL.clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {(Integer) v}));
            } else if (v instanceof Float) {
                status = CL.clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {(Float) v}));
            } else {
                throw new IllegalArgumentException("kernel argument " + i + " has unsupported type " + v);
            }
            Cl.check(status, "clSetKernelArg(" + i + ")");
        }
    }

    private void launch(String operation, cl_kernel k, long groups, long rows, int wg) {
        if (groups == 0 || rows == 0) {
            return;
        }
        long[] global = {groups * wg, rows};
        long[] local = {wg, 1};
        Cl.check(CL.clEnqueueNDRangeKernel(queue, k, 2, null, global, local, 0, null, null),
                operation + ": clEnqueueNDRangeKernel");
    }

    // Argument lists, in the order of the kernels' parameters (OpenClKernelSignatureTest checks them against the
    // kernel sources): buffers are the given objects, then Long = ulong, Integer = int / uint, Float = float.

    /** The stats kernel's arguments; geometry null in multiclass mode (posWeight unused there). */
    static Object[] statsArgs(Problem p, Geometry g, Object pred, Object target, Object partF, Object partU,
                              Object posWeight) {
        if (p.multiclass) {
            return new Object[] {pred, target, partF, partU, p.s, (float) p.gamma, p.ignoreIndex, p.labelKeep(), p.labelAdd()};
        }
        return concat(concat(new Object[] {pred, target, partF, partU}, binaryArgs(g, p)), (float) p.focalPosWeight,
                (float) p.focalNegWeight, (float) p.gamma, p.labelKeep(), p.labelAdd(), posWeight);
    }

    /** The grad kernel's arguments; geometry null in multiclass mode (posWeight unused there). */
    static Object[] gradArgs(Problem p, Geometry g, Object pred, Object target, Object out, Object scale, Object a,
                             Object b, Object posWeight) {
        if (p.multiclass) {
            return new Object[] {pred, target, out, scale, a, b, p.s, (float) p.gamma, p.ignoreIndex, p.labelKeep(),
                p.labelAdd()};
        }
        return concat(concat(new Object[] {pred, target, out, scale, a, b}, binaryArgs(g, p)), (float) p.focalPosWeight,
                (float) p.focalNegWeight, (float) p.gamma, p.labelKeep(), p.labelAdd(), posWeight);
    }

    /** The confusion kernel's arguments; geometry null in multiclass mode. */
    /** Arguments of lovasz.cl's lovasz_apply (the gradient is written only when the program has WRITE_GRAD=1). */
    static Object[] lovaszApplyArgs(Problem p, Object items, Object target, Object before, Object positives, Object weights,
                                    Object grad, Object term, long len) {
        return new Object[] {items, target, before, positives, weights, grad, term, p.c, p.s, len, p.ignoreIndex};
    }

    static Object[] confusionArgs(Problem p, Geometry g, Object pred, Object target, Object counts, Object partU,
                                  float cut) {
        if (p.multiclass) {
            return new Object[] {pred, target, counts, partU, p.s, cut, p.ignoreIndex};
        }
        return concat(concat(new Object[] {pred, target, counts, partU}, binaryArgs(g, p)), cut);
    }

    private static Object[] binaryArgs(Geometry g, Problem p) {
        return new Object[] {g.segLen, g.sampleStride, g.chanStride, g.elemStride, g.segsPerSample, g.cycle, g.active,
            (int) p.c};
    }

    private static Object[] concat(Object[] a, Object... b) {
        Object[] out = new Object[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private void checkInputs(Problem p, OpenClBuffer pred, OpenClBuffer target) {
        if (pred.type != ElementType.FLOAT32 || pred.length() != p.predLength()) {
            throw new InvalidInputException("pred must be a float buffer of " + p.predLength() + " elements, was "
                    + pred.type + " of " + pred.length());
        }
        if (target.length() != p.targetLength() || target.type != p.targetType) {
            throw new InvalidInputException("target must be a " + p.targetType + " buffer of " + p.targetLength()
                    + " elements, was " + target.type + " of " + target.length());
        }
    }

    // ---- passes ----------------------------------------------------------------------------

    /** The float stats of a row in the order of the stats kernels' float8 (its last lane is unused). */
    static final Stat[] F_STATS = {Stat.I, Stat.P, Stat.T, Stat.TERM, Stat.P2, Stat.T2, Stat.COUNT, null};

    /** A read-only buffer holding {@code values}. */
    private cl_mem floats(float[] values, String what) {
        return createMem((long) values.length * 4, Pointer.to(values), what);
    }

    @Override
    public synchronized double[] stats(Problem p, DeviceBuffer predBuffer, DeviceBuffer targetBuffer) {
        OpenClBuffer pred = own(predBuffer, "pred");
        OpenClBuffer target = own(targetBuffer, "target");
        checkInputs(p, pred, target);
        int items = p.multiclass ? ITEMS_MULTICLASS : ITEMS_BINARY;
        Program prog = program("stats.cl", defines(p, items, false));
        int wg = prog.workGroup;
        cl_kernel k = prog.kernels.get("stats");
        int c = (int) p.c;
        double[] out = new double[p.rows() * Problem.STATS];
        long slots;
        long groups;
        int cycle;
        Geometry geometry = null;
        if (p.multiclass) {
            groups = (p.s + (long) wg * items - 1) / ((long) wg * items);
            slots = p.n * groups * c;
            cycle = c;
        } else {
            geometry = new Geometry(p, wg, items);
            groups = geometry.groups;
            slots = geometry.segments * groups * geometry.cycle;
            cycle = geometry.cycle;
        }
        float[] partF = new float[Math.toIntExact(slots * F_STATS.length)];
        int[] partU = new int[Math.toIntExact(slots * 2)];
        List<cl_mem> temps = new ArrayList<>(3);
        try {
            cl_mem memF = createMem(slots * 4 * F_STATS.length, null, "stats");
            temps.add(memF);
            cl_mem memU = createMem(slots * 8, null, "stats");
            temps.add(memU);
            if (p.multiclass) {
                args(k, statsArgs(p, null, pred.mem, target.mem, memF, memU, null));
                launch("stats", k, groups, p.n, wg);
            } else {
                cl_mem pw = floats(p.posWeights(), "stats");
                temps.add(pw);
                args(k, statsArgs(p, geometry, pred.mem, target.mem, memF, memU, pw));
                launch("stats", k, groups, geometry.segments, wg);
            }
            read(memF, slots * 4 * F_STATS.length, Pointer.to(partF), "stats");
            read(memU, slots * 8, Pointer.to(partU), "stats");
        } finally {
            for (cl_mem m : temps) {
                releaseMem(m);
            }
        }
        // Fixed order: segment (or sample), then work-group, then lane (or class).
        long segments = p.multiclass ? p.n : geometry.segments;
        for (long seg = 0; seg < segments; seg++) {
            for (long g = 0; g < groups; g++) {
                for (int lane = 0; lane < cycle; lane++) {
                    int slot = (int) ((seg * groups + g) * cycle + lane);
                    int row = (int) (seg * cycle + lane);
                    int base = row * Problem.STATS;
                    for (int j = 0; j < F_STATS.length; j++) {
                        if (F_STATS[j] != null) {
                            out[base + F_STATS[j].slot()] += partF[slot * F_STATS.length + j];
                        }
                    }
                    out[base + Problem.STAT_BAD_PRED] += partU[slot * 2] & 0xFFFFFFFFL;
                    out[base + Problem.STAT_BAD_TARGET] += partU[slot * 2 + 1] & 0xFFFFFFFFL;
                }
            }
        }
        return out;
    }

    @Override
    public synchronized void grad(Problem p, DeviceBuffer predBuffer, DeviceBuffer targetBuffer, GradCoefficients k,
                                  DeviceBuffer gradOut) {
        OpenClBuffer pred = own(predBuffer, "pred");
        OpenClBuffer target = own(targetBuffer, "target");
        OpenClBuffer out = own(gradOut, "grad");
        checkInputs(p, pred, target);
        if (out.type != ElementType.FLOAT32 || out.length() != p.predLength()) {
            throw new InvalidInputException("grad must be a float buffer of " + p.predLength() + " elements, was "
                    + out.type + " of " + out.length());
        }
        int items = p.multiclass ? ITEMS_MULTICLASS : ITEMS_BINARY;
        Program prog = program("grad.cl", defines(p, items, false));
        int wg = prog.workGroup;
        cl_kernel kernel = prog.kernels.get("grad");
        List<cl_mem> temps = new ArrayList<>(4);
        try {
            cl_mem scale = createMem((long) k.pixelScale.length * 4, Pointer.to(k.pixelScale), "grad");
            temps.add(scale);
            cl_mem a = createMem((long) k.regionA.length * 4, Pointer.to(k.regionA), "grad");
            temps.add(a);
            cl_mem b = createMem((long) k.regionB.length * 4, Pointer.to(k.regionB), "grad");
            temps.add(b);
            if (p.multiclass) {
                long groups = (p.s + (long) wg * items - 1) / ((long) wg * items);
                args(kernel, gradArgs(p, null, pred.mem, target.mem, out.mem, scale, a, b, null));
                launch("grad", kernel, groups, p.n, wg);
            } else {
                Geometry g = new Geometry(p, wg, items);
                cl_mem pw = floats(p.posWeights(), "grad");
                temps.add(pw);
                args(kernel, gradArgs(p, g, pred.mem, target.mem, out.mem, scale, a, b, pw));
                launch("grad", kernel, g.groups, g.segments, wg);
            }
            Cl.check(CL.clFinish(queue), "grad: clFinish");
        } finally {
            for (cl_mem m : temps) {
                releaseMem(m);
            }
        }
    }

    @Override
    public synchronized long[] confusion(Problem p, DeviceBuffer predBuffer, DeviceBuffer targetBuffer, double threshold) {
        OpenClBuffer pred = own(predBuffer, "pred");
        OpenClBuffer target = own(targetBuffer, "target");
        checkInputs(p, pred, target);
        int items = p.multiclass ? ITEMS_MULTICLASS : ITEMS_BINARY;
        Program prog = program("confusion.cl", defines(p, items, true));
        int wg = prog.workGroup;
        cl_kernel k = prog.kernels.get("confusion");
        int c = (int) p.c;
        float cut = cutAtOrAbove(p.fromLogits ? Math.log(threshold / (1 - threshold)) : threshold);
        long groups;
        long slots;
        int cycle;
        long segments;
        Geometry geometry = null;
        if (p.multiclass) {
            groups = (p.s + (long) wg * items - 1) / ((long) wg * items);
            cycle = c;
            segments = p.n;
        } else {
            geometry = new Geometry(p, wg, items);
            groups = geometry.groups;
            cycle = geometry.cycle;
            segments = geometry.segments;
        }
        slots = segments * groups * cycle;
        int[] partC = new int[Math.toIntExact(slots * 4)];
        int[] partU = new int[Math.toIntExact(slots * 2)];
        cl_mem memC = createMem(slots * 16, null, "confusion");
        cl_mem memU = null;
        try {
            memU = createMem(slots * 8, null, "confusion");
            args(k, confusionArgs(p, geometry, pred.mem, target.mem, memC, memU, cut));
            launch("confusion", k, groups, segments, wg);
            read(memC, slots * 16, Pointer.to(partC), "confusion");
            read(memU, slots * 8, Pointer.to(partU), "confusion");
        } finally {
            releaseMem(memC);
            if (memU != null) {
                releaseMem(memU);
            }
        }
        long[] out = new long[c * 4 + 2];
        for (long seg = 0; seg < segments; seg++) {
            for (long g = 0; g < groups; g++) {
                for (int lane = 0; lane < cycle; lane++) {
                    int slot = (int) ((seg * groups + g) * cycle + lane);
                    int cls = (int) ((seg * cycle + lane) % c);
                    for (int j = 0; j < 4; j++) {
                        out[cls * 4 + j] += partC[slot * 4 + j] & 0xFFFFFFFFL;
                    }
                    out[c * 4] += partU[slot * 2] & 0xFFFFFFFFL;
                    out[c * 4 + 1] += partU[slot * 2 + 1] & 0xFFFFFFFFL;
                }
            }
        }
        return out;
    }

    /** The smallest float f with f >= cut, so that {@code x >= f} for a float x equals {@code x >= cut} in double. */
    static float cutAtOrAbove(double cut) {
        float f = (float) cut;
        return f < cut ? Math.nextUp(f) : f;
    }

    @Override
    public synchronized double streamRead(DeviceBuffer buffer) {
        OpenClBuffer b = own(buffer, "buffer");
        String defines = String.format(Locale.ROOT,
                "-DSEGLOSS_PROB_CLAMP_EPS=%.9ef -DMULTICLASS=0 -DFROM_LOGITS=0 -DLAYOUT_NHWC=0 -DTARGET_TYPE=%d -DPIXEL_TERM=0 "
                        + "-DREGION=0 -DHAS_IGNORE=0 -DGAMMA_KIND=0 -DITEMS=%d",
                Constants.PROB_CLAMP_EPS, b.type.ordinal(), ITEMS_STREAM);
        Program prog = program("stream_read.cl", defines);
        int wg = prog.workGroup;
        cl_kernel k = prog.kernels.get("stream_read");
        long groups = (b.length() + (long) wg * ITEMS_STREAM - 1) / ((long) wg * ITEMS_STREAM);
        if (groups == 0) {
            return 0;
        }
        float[] part = new float[Math.toIntExact(groups)];
        cl_mem mem = createMem(groups * 4, null, "streamRead");
        try {
            args(k, b.mem, mem, b.length());
            long[] global = {groups * wg};
            long[] local = {wg};
            Cl.check(CL.clEnqueueNDRangeKernel(queue, k, 1, null, global, local, 0, null, null),
                    "streamRead: clEnqueueNDRangeKernel");
            read(mem, groups * 4, Pointer.to(part), "streamRead");
        } finally {
            releaseMem(mem);
        }
        double sum = 0;
        for (float v : part) {
            sum += v;
        }
        return sum;
    }

    @Override
    public synchronized void copy(DeviceBuffer src, DeviceBuffer dst) {
        OpenClBuffer s = own(src, "src");
        OpenClBuffer d = own(dst, "dst");
        BackendBuffer.requireCopyable(s, d);
        if (s.length() > 0) {
            Cl.check(CL.clEnqueueCopyBuffer(queue, s.mem, d.mem, 0, 0, s.length() * Sizeof.cl_float, 0, null, null),
                    "copy: clEnqueueCopyBuffer");
            Cl.check(CL.clFinish(queue), "copy: clFinish");
        }
    }

    @Override
    public synchronized void distanceTransform(DeviceBuffer grid, long[] dims, double[] spacing) {
        int[] d = DistanceTransformArgs.check(grid, dims, spacing);
        OpenClBuffer b = own(grid, "grid");
        long total = b.length();
        String defines = String.format(Locale.ROOT,
                "-DSEGLOSS_PROB_CLAMP_EPS=%.9ef -DMULTICLASS=0 -DFROM_LOGITS=0 -DLAYOUT_NHWC=0 -DTARGET_TYPE=0 -DPIXEL_TERM=0 "
                        + "-DREGION=0 -DHAS_IGNORE=0 -DGAMMA_KIND=0 -DITEMS=1",
                Constants.PROB_CLAMP_EPS);
        Program prog = program("edt.cl", defines);
        cl_kernel k = prog.kernels.get("edt_pass");
        cl_mem v = createMem(total * Sizeof.cl_int, null, "distanceTransform");
        cl_mem fv = null;
        cl_mem z = null;
        try {
            fv = createMem(total * Sizeof.cl_float, null, "distanceTransform");
            z = createMem(total * Sizeof.cl_double, null, "distanceTransform");
            long stride = 1;
            for (int axis = d.length - 1; axis >= 0; axis--) {
                long len = d[axis];
                long lines = total / len;
                args(k, b.mem, v, fv, z, lines, len, stride);
                Cl.check(CL.clSetKernelArg(k, 8 - 1, Sizeof.cl_double, Pointer.to(new double[] {spacing[axis] * spacing[axis]})),
                        "clSetKernelArg(7)");
                long wg = Math.min(64, prog.workGroup);
                long[] global = {(lines + wg - 1) / wg * wg};
                Cl.check(CL.clEnqueueNDRangeKernel(queue, k, 1, null, global, new long[] {wg}, 0, null, null),
                        "distanceTransform: clEnqueueNDRangeKernel");
                stride *= len;
            }
            Cl.check(CL.clFinish(queue), "distanceTransform: clFinish");
        } finally {
            releaseMem(v);
            if (fv != null) {
                releaseMem(fv);
            }
            if (z != null) {
                releaseMem(z);
            }
        }
    }

    /** Waits for the queue (benchmarks). */
    public synchronized void finish() {
        ensureOpen();
        Cl.check(CL.clFinish(queue), "clFinish");
    }

    /**
     * Releases every owned buffer, program, kernel, and the queue and context (the caller's wrapped ones:
     * our retain). Wrapped cl_mem are left alone. Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        BackendException first = null;
        try {
            CL.clFinish(queue);
        } finally {
            for (OpenClBuffer b : new ArrayList<>(liveBuffers)) {
                int status = CL.clReleaseMemObject(b.mem);
                memObjects--;
                if (status != CL_SUCCESS && first == null) {
                    first = Cl.failure("close: clReleaseMemObject", status);
                }
            }
            liveBuffers.clear();
            for (Program p : programs.values()) {
                release(p);
            }
            programs.clear();
            CL.clReleaseCommandQueue(queue);
            CL.clReleaseContext(context);
            closed = true;
        }
        if (first != null) {
            throw first;
        }
    }

    /** Elements (or sorted ranks) per work-item in the Lovasz passes. */
    static final int ITEMS_LOVASZ = 16;

    /**
     * The Lovasz pass ({@code kernels-cl/lovasz.cl}): items (key, index) of 8 bytes per pred element, the only
     * pred-sized memory it allocates; counts read back for {@code weights}; the bitonic network (one local
     * sort, then per stage a flip, global half-cleaners down to the local size, one local merge); positives
     * per block of ranks, their prefix on the host (exact integers), the gradient, terms and scatter.
     */
    @Override
    public synchronized double[] lovasz(LovaszProblem q, DeviceBuffer predBuffer, DeviceBuffer targetBuffer,
                                        LovaszProblem.Weights weights, DeviceBuffer gradOut) {
        Problem p = q.problem;
        OpenClBuffer pred = own(predBuffer, "pred");
        OpenClBuffer target = own(targetBuffer, "target");
        checkInputs(p, pred, target);
        OpenClBuffer out = gradOut == null ? null : own(gradOut, "grad");
        if (out != null && (out.type != ElementType.FLOAT32 || out.length() != p.predLength())) {
            throw new InvalidInputException("grad must be a float buffer of " + p.predLength() + " elements, was "
                    + out.type + " of " + out.length());
        }
        Program prog = program("lovasz.cl", p.defines() + " -DITEMS=" + ITEMS_LOVASZ + " -DBATCH=" + (q.batch ? 1 : 0)
                + " -DWRITE_GRAD=" + (out != null ? 1 : 0)
                + (p.multiclass ? " -DNUM_CLASSES=" + p.c : "")); // common.cl's multiclass helpers name NUM_CLASSES
        int wg = prog.workGroup;
        long len = q.length();
        int segments = q.segments();
        long groups = (len + (long) wg * ITEMS_LOVASZ - 1) / ((long) wg * ITEMS_LOVASZ);
        int slots = Math.toIntExact(segments * groups);
        List<cl_mem> temps = new ArrayList<>(8);
        try {
            cl_mem items = createMem(p.predLength() * 8, null, "lovasz");
            temps.add(items);
            cl_mem counts = createMem((long) slots * 16, null, "lovasz");
            temps.add(counts);
            cl_kernel keys = prog.kernels.get("lovasz_keys");
            args(keys, pred.mem, target.mem, items, counts, p.c, p.s, len, p.ignoreIndex);
            launch("lovasz keys", keys, groups, segments, wg);
            int[] raw = new int[slots * 4];
            read(counts, (long) slots * 16, Pointer.to(raw), "lovasz");
            long[] perSegment = new long[segments * LovaszProblem.COUNTS];
            for (int seg = 0; seg < segments; seg++) {
                for (long g = 0; g < groups; g++) {
                    for (int k = 0; k < LovaszProblem.COUNTS; k++) {
                        perSegment[seg * LovaszProblem.COUNTS + k] += raw[(int) ((seg * groups + g) * 4 + k)] & 0xFFFFFFFFL;
                    }
                }
            }
            float[] w = weights.weights(perSegment);
            bitonicSort(prog, items, len, segments, wg);
            cl_kernel count = prog.kernels.get("lovasz_count");
            args(count, items, target.mem, counts, p.c, p.s, len, p.ignoreIndex);
            launch("lovasz count", count, groups, segments, wg);
            int[] blockPositives = new int[slots];
            read(counts, (long) slots * 4, Pointer.to(blockPositives), "lovasz");
            int[] before = new int[slots];
            int[] positives = new int[segments];
            for (int seg = 0; seg < segments; seg++) {
                long sum = 0;
                for (long g = 0; g < groups; g++) {
                    int slot = (int) (seg * groups + g);
                    before[slot] = (int) sum;
                    sum += blockPositives[slot] & 0xFFFFFFFFL;
                }
                positives[seg] = (int) sum;
            }
            cl_mem beforeMem = createMem((long) slots * 4, Pointer.to(before), "lovasz");
            temps.add(beforeMem);
            cl_mem positivesMem = createMem((long) segments * 4, Pointer.to(positives), "lovasz");
            temps.add(positivesMem);
            cl_mem weightsMem = createMem((long) segments * 4, Pointer.to(w), "lovasz");
            temps.add(weightsMem);
            cl_mem termMem = createMem((long) slots * 4, null, "lovasz");
            temps.add(termMem);
            cl_kernel apply = prog.kernels.get("lovasz_apply");
            args(apply, lovaszApplyArgs(p, items, target.mem, beforeMem, positivesMem, weightsMem,
                    out == null ? termMem : out.mem, termMem, len));
            launch("lovasz apply", apply, groups, segments, wg);
            float[] termParts = new float[slots];
            read(termMem, (long) slots * 4, Pointer.to(termParts), "lovasz");
            double[] terms = new double[segments];
            for (int seg = 0; seg < segments; seg++) {
                for (long g = 0; g < groups; g++) {
                    terms[seg] += termParts[(int) (seg * groups + g)];
                }
            }
            if (out != null && p.multiclass && p.fromLogits) {
                cl_kernel chain = prog.kernels.get("lovasz_softmax_chain");
                args(chain, pred.mem, out.mem, p.c, p.s);
                launch("lovasz softmax chain", chain, (p.s + wg - 1) / wg, p.n, wg);
            }
            Cl.check(CL.clFinish(queue), "lovasz: clFinish");
            return terms;
        } finally {
            for (cl_mem m : temps) {
                releaseMem(m);
            }
        }
    }

    /** The bitonic network of lovasz.cl over every segment of {@code len} items (see its header). */
    private void bitonicSort(Program prog, cl_mem items, long len, int segments, int wg) {
        long localItems = 2L * wg;
        long chunks = (len + localItems - 1) / localItems;
        cl_kernel sortLocal = prog.kernels.get("lovasz_sort_local");
        args(sortLocal, items, len);
        launch("lovasz sort", sortLocal, chunks, segments, wg);
        long padded = Long.highestOneBit(Math.max(1, len - 1)) << 1;
        long pairs = padded / 2;
        cl_kernel step = prog.kernels.get("lovasz_sort_step");
        cl_kernel merge = prog.kernels.get("lovasz_merge_local");
        args(merge, items, len);
        for (long size = 2 * localItems; size <= padded; size <<= 1) {
            args(step, items, len, pairs, size / 2, 1);
            launch("lovasz sort", step, (pairs + wg - 1) / wg, segments, wg);
            for (long d = size / 4; d >= localItems; d >>= 1) {
                args(step, items, len, pairs, d, 0);
                launch("lovasz sort", step, (pairs + wg - 1) / wg, segments, wg);
            }
            launch("lovasz sort", merge, chunks, segments, wg);
        }
    }
}
