package org.segloss.backend.cpu;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.segloss.DeviceBuffer;
import org.segloss.ElementType;
import org.segloss.InvalidInputException;
import org.segloss.Layout;
import org.segloss.backend.Backend;
import org.segloss.backend.DistanceTransformArgs;
import org.segloss.backend.BackendBuffer;
import org.segloss.backend.GradCoefficients;
import org.segloss.backend.LovaszProblem;
import org.segloss.backend.PixelTerm;
import org.segloss.backend.Problem;

/**
 * The pure-Java backend. Buffers are views of the caller's arrays (no copy). Work is cut into fixed
 * units of (sample, {@link #PIXELS_PER_UNIT} pixels), independent of the thread count; each unit
 * accumulates in double and units are combined in index order, so results are identical whatever
 * the number of threads. Forward reads each input once; the grad pass reads them once more and
 * writes the gradient.
 *
 * <p>The first calls: before the JIT has compiled them, the Vector API kernels run many times slower
 * than the scalar ones. A backend made with {@code new CpuBackend()} (what {@code LossEngine.create("cpu")}
 * opens) therefore runs its first {@link #scalarCalls()} calls (system property
 * {@code segloss.cpu.scalarCalls}, default {@value #DEFAULT_SCALAR_CALLS}) on the scalar kernels and every
 * later call on the vector kernels:
 * <ul>
 *   <li>the first half of the scalar calls run alone, exactly as a scalar backend's (a background
 *       compilation beside them would take their cores: on 2 cores it made the first 10 calls up to 2.9x
 *       slower than the scalar kernels');</li>
 *   <li>from call {@link #warmupCall()} (the second half) {@link CpuWarmup} compiles the vector kernels of the
 *       same problem on a background thread;</li>
 *   <li>the first vector call waits for that warm-up to end (at most {@link CpuWarmup#MAX_WAIT_NANOS}): vector
 *       kernels that the JIT has not compiled yet would run many times slower than the wait.</li>
 * </ul>
 * The kernels of a call depend only on its index, never on timing (timing only decides how long the first
 * vector call waits), so every run gives the same bits; calls before and after the switch differ within
 * float rounding (the scalar kernels compute in double, the vector ones in float lanes: values within
 * 1e-6 relative). {@link #vector()} runs the vector kernels from the first call.
 *
 * <p>A default backend loads the vector kernels (the Vector API's classes, and the compiler directive that
 * {@link VectorKernels} adds through JMX on a daemon thread: about 50 ms of the cores) only when the warm-up
 * starts, at call {@link #warmupCall()} + 1, and on the warm-up thread, not the caller's; its first calls before
 * that cost what a scalar backend's cost.
 *
 * <p>Threads: by default the passes are parallel streams that run wherever the caller runs them: in the
 * common fork-join pool (every core: the caller and {@code cores - 1} workers) or in the fork-join pool
 * the caller itself runs in. With the system property {@code segloss.cpu.threads=N} (read when the
 * backend is made) or {@link #threads(int)}, they run on a pool of exactly N worker threads of this
 * library (the caller waits). The units and their order do not depend on the thread count, so neither
 * do the results.
 *
 * <p>Java arrays and NIO buffers hold at most 2^31 - 1 elements, so CPU buffers are limited to that.
 */
public final class CpuBackend implements Backend {
    /** Pixels of one sample per unit of work. Fixed, so partial sums never depend on the thread count. */
    static final int PIXELS_PER_UNIT = 16384;

    /** Calls of a default backend that run on the scalar kernels while the vector ones compile. */
    public static final int DEFAULT_SCALAR_CALLS = 20;

    private static final ScalarKernels SCALAR = new ScalarKernels();

    /** The kernels; null: {@link Best#KERNELS}, loaded when the warm-up starts (see the class comment). */
    private final CpuKernels kernels;
    /** Calls (stats passes) that run on {@link #SCALAR} first; 0 when {@link #kernels} are scalar. */
    private final int scalarCalls;
    private final AtomicLong calls = new AtomicLong();
    /** Whether this backend has started a background warm-up (from call {@link #warmupCall()} + 1). */
    private volatile boolean warming;
    /** The kernels of this thread's last stats pass, which its grad pass uses too. */
    private final ThreadLocal<CpuKernels> callKernels = new ThreadLocal<>();
    /** Worker threads asked for, 0: the caller's pool (see the class comment). */
    private final int threads;
    /** The pool of {@link #threads} workers, null when {@link #threads} is 0. */
    private final ForkJoinPool pool;
    private volatile boolean closed;

    /** The pools of N worker threads (daemons), one per N, shared by the backends that ask for N. */
    private static final ConcurrentHashMap<Integer, ForkJoinPool> POOLS = new ConcurrentHashMap<>();

    /** The best kernels of this JVM, loaded on first use (by a default backend: when its warm-up starts). */
    private static final class Best {
        static final CpuKernels KERNELS = CpuKernels.best();

        static {
            bestLoaded = true;
        }
    }

    /** Whether {@link Best} has loaded, so that {@link #device()} does not load it. */
    private static volatile boolean bestLoaded;

    /**
     * The best kernels, scalar for the first {@code segloss.cpu.scalarCalls} calls (see the class comment);
     * the vector kernels are loaded when the background warm-up starts, not here.
     */
    public CpuBackend() {
        this(null, scalarCallsProperty());
    }

    /** The vector kernels from the first call (scalar ones when the Vector API is not enabled). */
    public static CpuBackend vector() {
        return new CpuBackend(Best.KERNELS, 0);
    }

    /** This backend's kernels after its scalar first calls (loads the best kernels of a default backend). */
    private CpuKernels kernels() {
        return kernels != null ? kernels : Best.KERNELS;
    }

    /**
     * A backend like this one (same kernels, same scalar first calls) whose passes run on exactly
     * {@code threads} worker threads.
     */
    public CpuBackend threads(int threads) {
        if (threads < 1) {
            throw new InvalidInputException("threads must be >= 1, was " + threads);
        }
        return new CpuBackend(kernels, scalarCalls, threads);
    }

    /** Threads the passes run on: the asked-for count, else the common pool's workers and the caller. */
    public int threads() {
        return threads > 0 ? threads : ForkJoinPool.getCommonPoolParallelism() + 1;
    }

    private static int threadsProperty() {
        return intProperty("segloss.cpu.threads", 0, 1);
    }

    /**
     * An integer system property: {@code absent} when unset or blank, else an integer >= {@code min};
     * anything else is refused naming the property and the value.
     */
    private static int intProperty(String name, int absent, int min) {
        String v = System.getProperty(name);
        if (v == null || v.isBlank()) {
            return absent;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new InvalidInputException(name + " must be an integer >= " + min + ", was " + v);
    }

    private static ForkJoinPool pool(int threads) {
        return POOLS.computeIfAbsent(threads, n -> new ForkJoinPool(n, pool -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("segloss-cpu-" + n + "-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false));
    }

    /** Runs {@code task} (whose parallel streams then run) on this backend's threads. */
    private <T> T onThreads(Supplier<T> task) {
        if (pool == null || ForkJoinTask.getPool() == pool) {
            return task.get();
        }
        return pool.invoke(ForkJoinTask.adapt(task::get));
    }

    private static int scalarCallsProperty() {
        return intProperty("segloss.cpu.scalarCalls", DEFAULT_SCALAR_CALLS, 0);
    }

    /** A backend with the scalar kernels only (for tests and comparisons). */
    public static CpuBackend scalar() {
        return new CpuBackend(new ScalarKernels());
    }

    CpuBackend(CpuKernels kernels) {
        this(kernels, 0);
    }

    private CpuBackend(CpuKernels kernels, int scalarCalls) {
        this(kernels, scalarCalls, threadsProperty());
    }

    private CpuBackend(CpuKernels kernels, int scalarCalls, int threads) {
        this.kernels = kernels;
        this.scalarCalls = kernels instanceof ScalarKernels ? 0 : scalarCalls; // null: the best, not loaded yet
        this.threads = threads;
        this.pool = threads > 0 ? pool(threads) : null;
    }

    /** Calls that run on the scalar kernels before the vector ones take over (0: none). */
    public int scalarCalls() {
        return scalarCalls;
    }

    /** Index (from 0) of the call that starts the background warm-up: half the scalar calls, at least 1. */
    int warmupCall() {
        return Math.max(1, scalarCalls / 2);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String device() {
        // StringBuilder, not string concatenation: every call's result carries this, and each concatenation site
        // spins method handle classes the first time it runs (13 more for a default backend's first call than for
        // a scalar one's, in the time of that call)
        StringBuilder d = new StringBuilder("Java ").append(Runtime.version().feature()).append(", ").append(threads())
                .append(" threads, ");
        if (kernels != null || bestLoaded) {
            d.append(kernels().description());
        } else { // describing the kernels would load them
            d.append(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent() ? "Vector API" : "best")
                    .append(" kernels (loaded at call ").append(warmupCall() + 1).append(')');
        }
        if (scalarCalls > 0) {
            d.append(", scalar kernels for the first ").append(scalarCalls).append(" calls");
        }
        return d.toString();
    }

    /** Kernel flavour after the scalar first calls: {@code vector} or {@code scalar} (loads the kernels). */
    public String kernelKind() {
        return kernels().kind();
    }

    private void open() {
        if (closed) {
            throw new IllegalStateException("backend cpu is closed");
        }
    }

    @Override
    public DeviceBuffer upload(float[] data) {
        open();
        return CpuBuffer.of(this, FloatBuffer.wrap(BackendBuffer.nonNull(data, "data")));
    }

    @Override
    public DeviceBuffer upload(FloatBuffer data) {
        open();
        return CpuBuffer.of(this, BackendBuffer.nonNull(data, "data"));
    }

    @Override
    public DeviceBuffer upload(byte[] data) {
        open();
        return CpuBuffer.of(this, ByteBuffer.wrap(BackendBuffer.nonNull(data, "data")));
    }

    @Override
    public DeviceBuffer upload(ByteBuffer data) {
        open();
        return CpuBuffer.of(this, BackendBuffer.nonNull(data, "data"));
    }

    @Override
    public DeviceBuffer upload(int[] data) {
        open();
        return CpuBuffer.of(this, IntBuffer.wrap(BackendBuffer.nonNull(data, "data")));
    }

    @Override
    public DeviceBuffer upload(IntBuffer data) {
        open();
        return CpuBuffer.of(this, BackendBuffer.nonNull(data, "data"));
    }

    @Override
    public DeviceBuffer upload(LongBuffer data) {
        open();
        return CpuBuffer.of(this, BackendBuffer.nonNull(data, "data"));
    }

    @Override
    public DeviceBuffer allocateFloats(long length) {
        open();
        if (length < 0) {
            throw new InvalidInputException("length must be >= 0, was " + length);
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new InvalidInputException("cpu buffers hold at most 2^31 - 9 elements, was " + length);
        }
        return CpuBuffer.of(this, FloatBuffer.allocate((int) length));
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        CpuBuffer b = own(src, "src");
        BackendBuffer.requireDownload(b, BackendBuffer.nonNull(dst, "dst").length);
        b.floats.duplicate().get(dst);
    }

    @Override
    public void download(DeviceBuffer src, FloatBuffer dst) {
        CpuBuffer b = own(src, "src");
        BackendBuffer.requireDownload(b, BackendBuffer.nonNull(dst, "dst").remaining());
        dst.duplicate().put(b.floats.duplicate());
    }

    CpuBuffer own(DeviceBuffer b, String what) {
        open();
        return BackendBuffer.owned(this, b, what, CpuBuffer.class);
    }

    /** Units of one sample. */
    private static long unitsPerSample(Problem p) {
        return (p.s + PIXELS_PER_UNIT - 1) / PIXELS_PER_UNIT;
    }

    private static int units(Problem p) {
        return Math.toIntExact(p.n * unitsPerSample(p));
    }

    /** Work on one unit: sample {@code n}, pixels {@code [s0, s1)}. */
    private interface UnitTask {
        void run(int unit, int n, int s0, int s1);
    }

    /** Runs {@code task} on every unit, in parallel; each unit is the same whatever the thread count. */
    private void forEachUnit(Problem p, UnitTask task) {
        long perSample = unitsPerSample(p);
        onThreads(() -> {
            IntStream.range(0, units(p)).parallel().forEach(u -> {
                int s0 = (int) ((u % perSample) * PIXELS_PER_UNIT);
                task.run(u, (int) (u / perSample), s0, (int) Math.min(p.s, s0 + (long) PIXELS_PER_UNIT));
            });
            return null;
        });
    }

    @Override
    public double[] stats(Problem p, DeviceBuffer pred, DeviceBuffer target) {
        return stats(p, own(pred, "pred"), own(target, "target"), null);
    }

    /**
     * As {@link #stats(Problem, DeviceBuffer, DeviceBuffer)}; when the kernels of this call keep values for their
     * grad pass ({@link CpuKernels#keeps}), they write them into {@code gradOut}, and the {@link #grad} call that
     * directly follows on this thread with the same problem and buffers reads them back.
     */
    @Override
    public double[] stats(Problem p, DeviceBuffer pred, DeviceBuffer target, DeviceBuffer gradOut) {
        CpuBuffer x = own(pred, "pred");
        CpuBuffer t = own(target, "target");
        CpuBuffer g = gradBuffer(p, gradOut);
        return stats(p, x, t, overlaps(g, x) || overlaps(g, t) ? null : g);
    }

    /** Whether two buffers may share memory: the same buffer, or views of one array (direct ones: same buffer only). */
    private static boolean overlaps(CpuBuffer a, CpuBuffer b) {
        java.nio.Buffer x = a.buffer();
        java.nio.Buffer y = b.buffer();
        return x == y || (x.hasArray() && y.hasArray() && x.array() == y.array());
    }

    private CpuBuffer gradBuffer(Problem p, DeviceBuffer gradOut) {
        CpuBuffer g = own(gradOut, "grad");
        if (g.type != ElementType.FLOAT32 || g.length() != p.predLength()) {
            throw new InvalidInputException("grad must be a float buffer of " + p.predLength() + " elements, was "
                    + g.type + " of " + g.length());
        }
        return g;
    }

    /** What the grad pass that follows a stats pass on this thread may read back from its gradient buffer. */
    private static final class Kept {
        final Problem problem;
        final CpuBuffer pred;
        final CpuBuffer target;
        final CpuBuffer grad;

        Kept(Problem problem, CpuBuffer pred, CpuBuffer target, CpuBuffer grad) {
            this.problem = problem;
            this.pred = pred;
            this.target = target;
            this.grad = grad;
        }

        boolean matches(Problem p, CpuBuffer x, CpuBuffer t, CpuBuffer g) {
            return problem == p && pred == x && target == t && grad == g;
        }
    }

    /** This thread's last stats pass's kept values, cleared by the next pass of this backend on this thread. */
    private final ThreadLocal<Kept> kept = new ThreadLocal<>();

    private double[] stats(Problem p, CpuBuffer x, CpuBuffer t, CpuBuffer keep) {
        kept.remove();
        int c = Math.toIntExact(p.c);
        int units = units(p);
        long perSample = unitsPerSample(p);
        double[][] partial = new double[units][];
        CpuKernels kernels;
        long call = scalarCalls > 0 ? calls.getAndIncrement() : scalarCalls;
        if (call < scalarCalls) {
            kernels = SCALAR;
            // never on the first call: a single call (a CLI run) warms nothing
            if (call >= warmupCall()) {
                warming = true;
                CpuWarmup.stats(this::kernels, p, x, t); // loads the best kernels on the warm-up thread
            }
        } else {
            kernels = kernels();
            if (call == scalarCalls && scalarCalls > 1) {
                CpuWarmup.awaitAndStop(p, x, t);
            }
        }
        callKernels.set(kernels);
        CpuKernels callK = kernels;
        CpuBuffer keepIn = keep != null && kernels.keeps(p) ? keep : null;
        forEachUnit(p, (u, ni, s0, s1) -> {
            double[] acc = new double[c * Problem.STATS];
            if (keepIn == null) {
                callK.stats(p, x, t, ni, s0, s1, acc);
            } else {
                callK.stats(p, x, t, ni, s0, s1, acc, keepIn);
            }
            partial[u] = acc;
        });
        double[] out = new double[p.rows() * Problem.STATS];
        for (int u = 0; u < units; u++) {
            int ni = (int) (u / perSample);
            double[] acc = partial[u];
            int base = ni * c * Problem.STATS;
            for (int k = 0; k < acc.length; k++) {
                out[base + k] += acc[k];
            }
        }
        if (keepIn != null && org.segloss.internal.Finalizer.badCounts(p, out) == null) {
            // a unit with refused values ran the scalar kernels, which keep nothing: its grad must not read keep
            kept.set(new Kept(p, x, t, keepIn));
        }
        return out;
    }

    @Override
    public void grad(Problem p, DeviceBuffer pred, DeviceBuffer target, GradCoefficients k, DeviceBuffer gradOut) {
        CpuBuffer x = own(pred, "pred");
        CpuBuffer t = own(target, "target");
        CpuBuffer g = gradBuffer(p, gradOut);
        CpuKernels callK = callKernels.get() == null ? kernels() : callKernels.get();
        if (callK == SCALAR && warming) {
            CpuWarmup.grad(p, x, t, k);
        }
        Kept last = kept.get();
        kept.remove();
        if (last != null && last.matches(p, x, t, g)) {
            forEachUnit(p, (u, ni, s0, s1) -> callK.grad(p, x, t, k, g, ni, s0, s1, true));
        } else {
            forEachUnit(p, (u, ni, s0, s1) -> callK.grad(p, x, t, k, g, ni, s0, s1));
        }
    }

    @Override
    public long[] confusion(Problem p, DeviceBuffer pred, DeviceBuffer target, double threshold) {
        CpuBuffer x = own(pred, "pred");
        CpuBuffer t = own(target, "target");
        int c = Math.toIntExact(p.c);
        long[][] partial = new long[units(p)][];
        forEachUnit(p, (u, ni, s0, s1) -> {
            long[] acc = new long[c * 4 + 2];
            ScalarKernels.confusion(p, x, t, threshold, ni, s0, s1, acc);
            partial[u] = acc;
        });
        long[] out = new long[c * 4 + 2];
        for (long[] acc : partial) {
            for (int k = 0; k < out.length; k++) {
                out[k] += acc[k];
            }
        }
        return out;
    }

    @Override
    public double streamRead(DeviceBuffer buffer) {
        CpuBuffer b = own(buffer, "buffer");
        CpuKernels k = kernels();
        return onThreads(() -> k.streamRead(b));
    }

    /** The loss families of {@link #computeFloor}. */
    public enum Work {
        /** One exp per element: a sigmoid. */
        SIGMOID,
        /** One exp and one log1p per element: binary cross-entropy from logits. */
        BCE,
        /** C exps and one log per pixel: a log-softmax over C classes (pred NCHW). */
        SOFTMAX;

        /**
         * The work {@code loss} in {@code mode} cannot avoid from logits: a softmax (multiclass), exp and log1p
         * (binary/multilabel with a pixel term: bce, focal), a sigmoid (region losses alone); null for the binary
         * Lovasz hinge, which needs no transcendental function.
         *
         * @param loss the loss
         * @param mode the mode
         * @return its family, or null when it has none
         */
        public static Work of(org.segloss.Loss loss, org.segloss.Mode mode) {
            if (mode == org.segloss.Mode.MULTICLASS) {
                return SOFTMAX;
            }
            if (loss == org.segloss.Loss.LOVASZ) {
                return null;
            }
            return loss.hasPixelTerm() ? BCE : SIGMOID;
        }
    }

    /**
     * The compute floor of the bench: {@code work}'s unavoidable transcendental work over pred
     * ({@code samples} x {@code classes} x pixels) on this backend's threads with its kernels, and nothing
     * else; returns a sum that depends on every result.
     */
    public double computeFloor(Work work, DeviceBuffer pred, long samples, long classes) {
        CpuBuffer b = own(pred, "pred");
        if (b.type != ElementType.FLOAT32) {
            throw new InvalidInputException("pred must be a float buffer, was " + b.type);
        }
        CpuKernels k = kernels();
        return onThreads(() -> k.computeFloor(work, b, Math.toIntExact(samples), Math.toIntExact(classes)));
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst) {
        CpuBuffer s = own(src, "src");
        CpuBuffer d = own(dst, "dst");
        BackendBuffer.requireCopyable(s, d);
        d.floats.duplicate().put(s.floats.duplicate()); // one bulk copy on the calling thread
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public double[] lovasz(LovaszProblem q, DeviceBuffer pred, DeviceBuffer target, LovaszProblem.Weights weights,
                           DeviceBuffer gradOut) {
        CpuBuffer x = own(pred, "pred");
        CpuBuffer t = own(target, "target");
        CpuBuffer g = gradOut == null ? null : own(gradOut, "grad");
        if (g != null && (g.type != ElementType.FLOAT32 || g.length() != q.problem.predLength())) {
            throw new InvalidInputException("grad must be a float buffer of " + q.problem.predLength() + " elements, was "
                    + g.type + " of " + g.length());
        }
        return onThreads(() -> CpuLovasz.run(q, x, t, weights, g));
    }

    @Override
    public void distanceTransform(DeviceBuffer grid, long[] dims, double[] spacing) {
        int[] d = DistanceTransformArgs.check(grid, dims, spacing);
        CpuBuffer g = own(grid, "grid");
        FloatBuffer f = g.floats;
        if (f.hasArray() && f.arrayOffset() == 0 && f.array().length == f.capacity() && f.position() == 0) {
            DistanceTransform.squared(f.array(), d, spacing);
            return;
        }
        float[] copy = new float[f.remaining()];
        f.duplicate().get(copy);
        DistanceTransform.squared(copy, d, spacing);
        f.duplicate().put(copy);
    }

    /** Index of element (n, c, s) of pred. */
    static int index(Problem p, int n, int c, int s) {
        return p.layout == Layout.NHWC
                ? (int) (((long) n * p.s + s) * p.c + c)
                : (int) (((long) n * p.c + c) * p.s + s);
    }

    /** Whether this problem needs the pixel term. */
    static boolean hasTerm(Problem p) {
        return p.pixelTerm != PixelTerm.NONE;
    }
}
