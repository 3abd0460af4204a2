package org.segloss.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.DoubleSupplier;
import org.segloss.DeviceBuffer;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.Backend;
import org.segloss.backend.Dispatcher;
import org.segloss.backend.Probe;
import org.segloss.backend.cpu.CpuBackend;
import org.segloss.backend.cuda.CublasSums;
import org.segloss.backend.cuda.CudaBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code segloss bench}: median time of each loss's forward and forward+backward pass on device
 * buffers, next to the floor, the time the backend needs just to stream the same bytes.
 *
 * <p>Floor definitions (all from {@link Backend#streamRead}, median of the repeats, timed again right before
 * each loss so that the floor saw the same load as the loss, never a figure of another moment):
 * <ul>
 *   <li>{@code read(pred)}: streamRead of the pred buffer itself;</li>
 *   <li>{@code read(target)}: streamRead of the float target buffer itself, or, for a uint8 class map,
 *       of a float32 buffer with the same number of bytes (streamRead reads floats);</li>
 *   <li>forward: {@code floor = read(pred) + read(target)} (the pass reads each input byte once);</li>
 *   <li>forward+backward: {@code floor = 2 (read(pred) + read(target)) + read(pred)}: the inputs are read
 *       twice and the gradient (pred's size) is written once, the write counted at read speed. Writes
 *       are not faster than reads, so this floor is a lower bound.</li>
 * </ul>
 *
 * <p>Copy reference (the GPU targets are stated against it): {@link Backend#copy} of the pred buffer
 * into a buffer of the same size, median of the repeats; {@code copy GB/s = 2 bytes(pred) / time}
 * (read and write). Each row's {@code GB/s} is the traffic the pass cannot avoid, the floor's bytes
 * ({@code bytes(pred) + bytes(target)} forward; {@code 3 bytes(pred) + 2 bytes(target)} forward+backward)
 * over its time, and {@code %copy} is that over the copy's GB/s.
 *
 * <p>Compute floor (cpu only, {@link CpuBackend#computeFloor}): a plain vectorized pass over pred doing
 * the loss family's unavoidable transcendental work and nothing else: sigmoid (one exp per element) for
 * the region losses, bce (exp and log1p per element) for the losses with a pixel term, softmax (C exps
 * and one log per pixel) for multiclass ({@link CpuBackend.Work#of}, the families of {@code ci/cpu-table.sh}
 * too; none for the binary Lovasz hinge). {@code ratio} is the time over max(floor, compute floor). A pass
 * faster than its compute floor by more than {@link #FLOOR_NOISE} is marked {@code <floor} (and
 * {@code below_floor} in JSON): the floor must be a lower bound, so that floor is wrong.
 *
 * <p>Threads (cpu): {@code --threads N} runs the passes, floors included, on N worker threads
 * ({@link CpuBackend#threads(int)}; the {@code --cold} children get the system property
 * {@code segloss.cpu.threads}); by default every core. Results are bit-identical whatever N.
 *
 * <p>{@code --cold} measures the first calls instead, each in a fresh JVM ({@link ColdBench}).
 *
 * <p>On CUDA, when cuBLAS loads ({@link CublasSums}), one more row for binary Dice, pass
 * {@code cublas_sums}: the vendor-library composition of the same sums (I, P, T of the whole batch,
 * three cuBLAS reductions), timed like the rest, with the forward's bytes so its {@code %copy} and
 * time compare with the kernel's forward row.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        header = "Time every loss, forward and forward+backward, against a streaming-read floor.",
        description = {"Time each loss (forward, forward+backward) on device buffers against the floor:",
                "a plain streaming read of the same bytes on the same backend.",
                "Floor: forward = read(pred) + read(target); forward+backward = 2 x that + read(pred)",
                "(inputs read twice, gradient written once, counted at read speed).",
                "GB/s: the floor's bytes over the time; %%copy: that over the device's own copy bandwidth",
                "(copy of pred: 2 x bytes(pred) over its time). On cuda with cuBLAS, a cublas_sums row",
                "times the vendor-library composition of binary Dice's sums."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DebugOption debugOption;

    @Option(names = "--backend", paramLabel = "B|all", converter = Converters.BenchBackendConverter.class,
            defaultValue = "all",
            description = "all (every usable backend, OpenCL CPU devices included), auto, cpu, opencl, cuda (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--device", paramLabel = "D", description = "OpenCL device (sets segloss.opencl.device).")
    String device;

    @Option(names = "--shape", paramLabel = "N,C,H,W", split = ",", defaultValue = "8,4,512,512",
            description = "pred shape, rank >= 2 (default: ${DEFAULT-VALUE}); multiclass uses the same shape with C classes.")
    long[] shape;

    @Option(names = "--losses", paramLabel = "a,b", split = ",", converter = Converters.LossConverter.class,
            description = "Losses to time (default: all). bce, bce_logdice, dice, iou, focal, tversky, generalized_dice, mcc,"
                    + " dice_ce, dice_focal run binary from logits with a float target; ce, ce_logdice, dice, generalized_dice,"
                    + " dice_ce multiclass with a uint8 class map; lovasz both ways.")
    List<Loss> losses;

    @Option(names = "--repeat", paramLabel = "K", defaultValue = "5",
            description = "Timed runs per pass, at most (default: ${DEFAULT-VALUE}); see --max-seconds.")
    int repeat;

    @Option(names = "--warmup", paramLabel = "K", defaultValue = "1", description = "Untimed runs first, at least (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--warmup-seconds", paramLabel = "S", defaultValue = "5",
            description = "Time budget of a pass's warm-up: untimed runs continue until the timings are stable (the median"
                    + " of the last " + Warmup.WINDOW + " runs moves less than 2%% from the " + Warmup.WINDOW + " before),"
                    + " so the JIT has compiled the kernels, or until this budget is spent (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--max-seconds", paramLabel = "S", defaultValue = "1.5",
            description = "Stop timing a pass after 3 runs once its timed runs took this long (default: ${DEFAULT-VALUE}; 0: always --repeat runs).")
    double maxSeconds;

    @Option(names = "--json", description = "Print a JSON array, one object per (backend, loss, mode, pass).")
    boolean json;

    @Option(names = "--threads", paramLabel = "N",
            description = "cpu: run the passes and floors on N worker threads (default: every core; --cold: the children's"
                    + " segloss.cpu.threads).")
    Integer threads;

    @Option(names = "--cold", description = "Time the first calls of a fresh engine, each kernel choice in a fresh JVM"
            + " (cpu; default shape 8,4,128,128): engine creation, first forward+backward, first 10 and next 50 steps.")
    boolean cold;

    /** One timed configuration: a loss in its natural mode, from logits. */
    static final class Case {
        final Loss loss;
        final Mode mode;

        Case(Loss loss, Mode mode) {
            this.loss = loss;
            this.mode = mode;
        }
    }

    /** A pass below {@code (1 - FLOOR_NOISE)} x its compute floor is flagged (timing noise stays under it). */
    static final double FLOOR_NOISE = 0.10;

    /** Every configuration, in table order. */
    static final List<Case> ALL_CASES = List.of(
            new Case(Loss.BCE, Mode.BINARY), new Case(Loss.BCE_LOGDICE, Mode.BINARY),
            new Case(Loss.DICE, Mode.BINARY), new Case(Loss.IOU, Mode.BINARY),
            new Case(Loss.FOCAL, Mode.BINARY), new Case(Loss.TVERSKY, Mode.BINARY),
            new Case(Loss.CE, Mode.MULTICLASS), new Case(Loss.CE_LOGDICE, Mode.MULTICLASS),
            new Case(Loss.DICE, Mode.MULTICLASS),
            new Case(Loss.GENERALIZED_DICE, Mode.BINARY), new Case(Loss.MCC, Mode.BINARY),
            new Case(Loss.DICE_CE, Mode.BINARY), new Case(Loss.DICE_FOCAL, Mode.BINARY),
            new Case(Loss.GENERALIZED_DICE, Mode.MULTICLASS), new Case(Loss.DICE_CE, Mode.MULTICLASS),
            new Case(Loss.LOVASZ, Mode.BINARY), new Case(Loss.LOVASZ, Mode.MULTICLASS));


    /** One measured row. */
    static final class Row {
        String backend;
        String device;
        Case c;
        String pass;
        long elements;
        double ms;
        double floorMs;
        /** The compute floor (cpu), 0 elsewhere. */
        double computeFloorMs;
        int runs;
        /** Bytes the pass cannot avoid moving (the floor's bytes). */
        long bytes;
        /** The backend's copy bandwidth, GB/s. */
        double copyGbps;
        /** Untimed runs before the timed ones, and whether the timings were stable by then. */
        int warmupRuns;
        boolean stable;

        /** Time over max(floor, compute floor). */
        double ratio() {
            return ms / Math.max(floorMs, computeFloorMs);
        }

        /** Faster than its compute floor by more than {@link #FLOOR_NOISE}: the floor is wrong. */
        boolean belowFloor() {
            return computeFloorMs > 0 && ms < (1 - FLOOR_NOISE) * computeFloorMs;
        }

        double gbps() {
            return bytes / (ms * 1e6);
        }

        double ofCopy() {
            return gbps() / copyGbps;
        }
    }

    @Override
    public Integer call() {
        if (device != null) {
            System.setProperty("segloss.opencl.device", device);
        }
        validate();
        if (cold) {
            if (!backend.equals("all") && !backend.equals("cpu")) {
                throw new CliInputException("--cold measures the cpu backend only, was --backend " + backend);
            }
            return ColdBench.run(this, spec.commandLine().getParseResult().hasMatchedOption("--shape") ? shape : null);
        }
        List<Case> cases = new ArrayList<>();
        for (Case c : ALL_CASES) {
            if (losses == null || losses.contains(c.loss)) {
                cases.add(c);
            }
        }
        long classes = shape[1];
        if (classes < 2 && cases.removeIf(c -> c.mode == Mode.MULTICLASS)) {
            spec.commandLine().getErr().println("segloss bench: C = " + classes
                    + " < 2, skipping the multiclass cases (they need at least 2 classes)");
        }
        List<String> backends = backends();
        PrintWriter out = spec.commandLine().getOut();
        if (!json) {
            out.println("shape " + Arrays.toString(shape) + ", median of up to " + repeat + " runs after a warm-up until stable"
                    + " (at least " + warmup + " runs, at most " + warmupSeconds + " s); floor: forward = read(pred) + read(target), forward+backward = 2 x that + read(pred)");
            out.printf(Locale.ROOT, "%-7s %-16s %-10s %-16s %10s %10s %10s %7s %9s %6s%n", "backend", "loss", "mode", "pass", "ms",
                    "floor_ms", "cfloor_ms", "ratio", "GB/s", "%copy");
            out.flush();
        }
        List<Row> rows = new ArrayList<>();
        for (String name : backends) {
            // cpu: the vector kernels from the first call (a default engine's first calls are scalar, see CpuBackend)
            try (LossEngine engine = name.equals("cpu") ? LossEngine.of(cpuBackend()) : LossEngine.create(name)) {
                for (Row r : run(engine, cases)) {
                    rows.add(r);
                    if (r.belowFloor()) {
                        belowFloor++;
                    }
                    if (!json) {
                        out.printf(Locale.ROOT, "%-7s %-16s %-10s %-16s %10.3f %10.3f %10.3f %7.2f %9.1f %5.0f%%%s%n", r.backend,
                                r.c.loss.id(), r.c.mode.id(), r.pass, r.ms, r.floorMs, r.computeFloorMs, r.ratio(), r.gbps(),
                                100 * r.ofCopy(), r.belowFloor() ? " <floor" : "");
                        out.flush();
                    }
                }
                if (!json) {
                    out.printf(Locale.ROOT, "        (%s: %s; copy %.1f GB/s%s)%n", name, engine.device(), lastCopyGbps,
                            cublasNote.isEmpty() ? "" : "; " + cublasNote);
                }
            }
        }
        if (json) {
            ArrayNode arr = Json.array();
            for (Row r : rows) {
                ObjectNode o = arr.addObject();
                o.put("backend", r.backend);
                o.put("device", r.device);
                o.put("loss", r.c.loss.id());
                o.put("mode", r.c.mode.id());
                o.put("pass", r.pass);
                o.put("elements", r.elements);
                o.put("target", r.c.mode == Mode.MULTICLASS ? "uint8" : "float32");
                o.put("ms", r.ms);
                o.put("floor_ms", r.floorMs);
                o.put("compute_floor_ms", r.computeFloorMs);
                Json.putNumber(o, "ratio", r.ratio());
                o.put("runs", r.runs);
                o.put("bytes", r.bytes);
                Json.putNumber(o, "gbps", r.gbps());
                Json.putNumber(o, "copy_gbps", r.copyGbps);
                Json.putNumber(o, "of_copy", r.ofCopy());
                o.put("warmup_runs", r.warmupRuns);
                o.put("stable", r.stable);
                o.put("below_floor", r.belowFloor());
            }
            out.println(Json.write(arr));
        }
        if (belowFloor > 0) {
            spec.commandLine().getErr().println("segloss bench: " + belowFloor + " pass(es) ran faster than their compute"
                    + " floor by more than " + Math.round(100 * FLOOR_NOISE) + "% (marked <floor): that floor does more than"
                    + " the loss, so it is not a lower bound");
        }
        if (unstable > 0) {
            spec.commandLine().getErr().println("segloss bench: " + unstable + " measurement(s) were not stable within "
                    + "--warmup-seconds " + warmupSeconds + " (raise it for steadier figures)");
        }
        out.flush();
        return 0;
    }

    /** The cpu backend timed: vector kernels from the first call, on --threads threads if given. */
    private CpuBackend cpuBackend() {
        return threads == null ? CpuBackend.vector() : CpuBackend.vector().threads(threads);
    }

    private void validate() {
        if (shape.length < 2) {
            throw new CliInputException("--shape must have rank >= 2 (N,C,H,W), was " + join(shape));
        }
        for (long d : shape) {
            if (d < 1) {
                throw new CliInputException("--shape dimensions must be >= 1, was " + join(shape));
            }
        }
        long total = org.segloss.io.InputLimits.elementCount("--shape " + join(shape), shape);
        if (total > Integer.MAX_VALUE - 8) {
            throw new CliInputException("--shape holds " + total + " elements; the benchmark keeps host copies, at most "
                    + (Integer.MAX_VALUE - 8) + ", was " + join(shape));
        }
        // host copies: logits and mask (4 bytes each), the uint8 class map and its float-sized stand-in
        long pixels = total / shape[1];
        org.segloss.io.InputLimits.requireHeap("bench --shape " + join(shape), 8 * total + 2 * pixels + 16);
        if (repeat < 1) {
            throw new CliInputException("--repeat must be >= 1, was " + repeat);
        }
        if (!(maxSeconds >= 0)) {
            throw new CliInputException("--max-seconds must be >= 0, was " + maxSeconds);
        }
        if (!(warmupSeconds >= 0)) {
            throw new CliInputException("--warmup-seconds must be >= 0, was " + warmupSeconds);
        }
        if (threads != null && threads < 1) {
            throw new CliInputException("--threads must be >= 1, was " + threads);
        }
        if (warmup < 0) {
            throw new CliInputException("--warmup must be >= 0, was " + warmup);
        }
    }

    private static String join(long[] v) {
        StringBuilder b = new StringBuilder();
        for (long d : v) {
            b.append(b.length() == 0 ? "" : ",").append(d);
        }
        return b.toString();
    }

    /** Backends to run: for {@code all} every one usable when asked for by name. */
    private List<String> backends() {
        if (!backend.equals("all")) {
            return List.of(backend);
        }
        List<String> out = new ArrayList<>();
        for (String name : Dispatcher.BACKENDS) {
            Probe p = Dispatcher.probe(name, false);
            if (p.usable()) {
                out.add(name);
            } else if (!json) {
                spec.commandLine().getOut().println("        (" + name + " skipped: " + p.reason() + ")");
            }
        }
        return out;
    }

    private List<Row> run(LossEngine engine, List<Case> cases) {
        long total = 1;
        for (long d : shape) {
            total *= d;
        }
        long pixels = total / shape[1];
        int classes = (int) shape[1];
        SplittableRandom rnd = new SplittableRandom(12345);
        float[] logits = new float[(int) total];
        float[] mask = new float[(int) total];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) (rnd.nextDouble() * 8 - 4);
            mask[i] = rnd.nextInt(4) == 0 ? 1f : 0f;
        }
        byte[] classMap = new byte[(int) pixels];
        for (int i = 0; i < classMap.length; i++) {
            classMap[i] = (byte) rnd.nextInt(Math.max(classes, 1));
        }
        float[] classMapSizedFloats = new float[(int) ((pixels + 3) / 4)];
        Arrays.fill(classMapSizedFloats, 1f);
        List<Row> rows = new ArrayList<>();
        try (DeviceBuffer pred = engine.upload(logits);
             DeviceBuffer target = engine.upload(mask);
             DeviceBuffer labels = engine.upload(classMap);
             DeviceBuffer labelsBytes = engine.upload(classMapSizedFloats);
             DeviceBuffer grad = engine.allocateFloats(total)) {
            Backend b = engine.backend();
            long predBytes = 4 * total;
            double copyMs = median(() -> {
                b.copy(pred, grad);
                return 0;
            });
            lastCopyGbps = 2 * predBytes / (copyMs * 1e6);
            cublasNote = "";
            for (Case c : cases) {
                boolean multiclass = c.mode == Mode.MULTICLASS;
                DeviceBuffer t = multiclass ? labels : target;
                // the floors of each case are timed right before it, so that they saw the same load (never a
                // figure of another moment)
                double readPred = median(() -> b.streamRead(pred));
                double readT = median(() -> b.streamRead(multiclass ? labelsBytes : target));
                double computeFloor = computeFloor(b, family(c), pred, shape[0], classes);
                long targetBytes = multiclass ? pixels : 4 * total;
                LossSpec spec = LossSpec.builder(c.loss, c.mode).fromLogits(true).build();
                double fwd = median(() -> engine.forward(spec, pred, shape, t).value());
                rows.add(row(engine, c, "forward", total, fwd, readPred + readT, lastRuns, predBytes + targetBytes));
                rows.get(rows.size() - 1).computeFloorMs = computeFloor;
                double fb = median(() -> engine.forwardBackward(spec, pred, shape, t, grad).value());
                rows.add(row(engine, c, "forward_backward", total, fb, 2 * (readPred + readT) + readPred, lastRuns,
                        3 * predBytes + 2 * targetBytes));
                rows.get(rows.size() - 1).computeFloorMs = computeFloor;
                if (c.loss == Loss.DICE && !multiclass && b.name().equals("cuda")) { // CudaBackend is loaded only on cuda
                    Row vendor = cublasRow((CudaBackend) b, engine, c, pred, target, total, readPred + readT,
                            predBytes + targetBytes);
                    if (vendor != null) {
                        rows.add(vendor);
                    }
                }
            }
        }
        return rows;
    }

    /** The compute floor of {@code work} on the cpu backend (ms); 0 elsewhere, or without work. */
    private double computeFloor(Backend b, CpuBackend.Work work, DeviceBuffer pred, long samples, long classes) {
        if (!(b instanceof CpuBackend) || work == null || (work == CpuBackend.Work.SOFTMAX && classes < 2)) {
            return 0;
        }
        return median(() -> ((CpuBackend) b).computeFloor(work, pred, samples, classes));
    }

    /** The transcendental work a case cannot avoid ({@link CpuBackend.Work#of}); null: none. */
    static CpuBackend.Work family(Case c) {
        return CpuBackend.Work.of(c.loss, c.mode);
    }

    /**
     * The cuBLAS composition of binary Dice's sums, or null (with {@link #cublasNote} saying why) when
     * cuBLAS does not load here. Only reached for the cuda backend, so JCublas is loaded only there.
     */
    private Row cublasRow(CudaBackend cuda, LossEngine engine, Case c, DeviceBuffer pred, DeviceBuffer target, long total,
                          double floorMs, long bytes) {
        if (!CublasSums.available()) {
            cublasNote = "cuBLAS comparison skipped: " + CublasSums.unavailableReason();
            if (json) {
                spec.commandLine().getErr().println("segloss bench: " + cublasNote);
            }
            return null;
        }
        try (CublasSums blas = CublasSums.open(cuda)) {
            double ms = median(() -> {
                double[] sums = blas.diceSums(pred, target);
                return sums[0] + sums[1] + sums[2];
            });
            cublasNote = "cublas_sums: I = sdot(p, t), P and T = sgemv + sdot with ones";
            return row(engine, c, "cublas_sums", total, ms, floorMs, lastRuns, bytes);
        }
    }

    /** Copy bandwidth of the backend last run, GB/s. */
    private double lastCopyGbps;

    /** What the last backend's summary line says about cuBLAS (empty off cuda). */
    private String cublasNote = "";

    /** A measured row of {@code engine}'s backend, whose copy bandwidth is {@link #lastCopyGbps}. */
    private Row row(LossEngine engine, Case c, String pass, long elements, double ms, double floorMs, int runs,
                    long bytes) {
        Row r = new Row();
        r.backend = engine.backendName();
        r.device = engine.device();
        r.c = c;
        r.pass = pass;
        r.elements = elements;
        r.ms = ms;
        r.floorMs = floorMs;
        r.runs = runs;
        r.bytes = bytes;
        r.copyGbps = lastCopyGbps;
        r.warmupRuns = lastWarmup.runs;
        r.stable = lastWarmup.stable;
        return r;
    }

    /** Blackhole for results, so no call can be optimised away. */
    static volatile double sink;

    /** Fewest timed runs before --max-seconds may stop a pass. */
    static final int MIN_RUNS = 3;

    /**
     * Median wall time in ms of up to {@code repeat} runs after {@code warmup} untimed ones; stops
     * early (after at least {@link #MIN_RUNS}) once the timed runs took {@code maxSeconds}.
     */
    private double median(DoubleSupplier work) {
        Warmup.Result w = Warmup.untilStable(() -> sink += work.getAsDouble(), warmup, warmupSeconds);
        if (!w.stable) {
            unstable++;
        }
        lastWarmup = w;
        double[] ms = new double[repeat];
        double spent = 0;
        int runs = 0;
        while (runs < repeat) {
            long t0 = System.nanoTime();
            sink += work.getAsDouble();
            ms[runs] = (System.nanoTime() - t0) / 1e6;
            spent += ms[runs];
            runs++;
            if (maxSeconds > 0 && runs >= MIN_RUNS && spent >= maxSeconds * 1000) {
                break;
            }
        }
        lastRuns = runs;
        double[] done = Arrays.copyOf(ms, runs);
        Arrays.sort(done);
        return runs % 2 == 1 ? done[runs / 2] : (done[runs / 2 - 1] + done[runs / 2]) / 2;
    }

    /** Timed runs of the last {@link #median} call. */
    private int lastRuns;

    /** Passes faster than their compute floor (see {@link Row#belowFloor}). */
    private int belowFloor;

    /** Passes whose warm-up ran out of its budget before the timings were stable. */
    private int unstable;

    /** The warm-up of the last {@link #median} call. */
    private Warmup.Result lastWarmup;
}
