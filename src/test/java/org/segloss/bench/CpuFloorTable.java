package org.segloss.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.segloss.DeviceBuffer;
import org.segloss.Layout;
import org.segloss.Loss;
import org.segloss.LossEngine;
import org.segloss.LossSpec;
import org.segloss.Mode;
import org.segloss.backend.cpu.CpuBackend;

/**
 * The issue-14 table of the CPU loops (run by {@code ci/cpu-table.sh}): forward and forward+backward of the
 * vector kernels (hot) against the read floor (streamRead of pred and target: forward = read(pred) +
 * read(target); forward+backward = 2 x that + read(pred)) and the compute floor of the loss family
 * ({@link CpuBackend#computeFloor}), for binary / multilabel / multiclass, nchw / nhwc, float / uint8 / int32
 * targets, arrays and direct buffers, at 8x4x512x512 and 8x19x256x256.
 *
 * <p>The ratios must hold on a loaded machine (2 cores shared with other jobs), so nothing is compared across
 * time: each figure comes from rounds that time every operation once, the floors right next to the losses
 * (reversed order every other round), and the ratio to the floor is the median over the rounds of each round's
 * own ratio; a floor is thus measured with every row, never carried over from another row or moment. The
 * code before (another build, another JVM) is compared the same way: a driver ({@code ci/cpu-table.sh}) keeps
 * one JVM of each build and alternates them row by row, request by request, and "/ before" is the median of the
 * ratios of requests that ran one right after the other.
 * <pre>
 * CpuFloorTable serve LABEL [--floors] [--seconds S] [--rounds K]   row names on stdin, RUN lines + END out
 * CpuFloorTable measure LABEL [--floors] [--rows a,b] [--seconds S] [--rounds K] &gt; LABEL.tsv   (every row once)
 * CpuFloorTable table NOW.tsv... [--before BEFORE.tsv]... [--cpu]     (the Markdown table)
 * CpuFloorTable rows                                                  (the row names)
 * </pre>
 * {@code measure}/{@code serve} use only API that the code before had too (the engine, {@code CpuBackend.vector()},
 * streamRead, computeFloor; the floors only with {@code --floors}), so they run against either build's classes.
 * Threads: the caller's (run the JVM with {@code -Djava.util.concurrent.ForkJoinPool.common.parallelism=0} for
 * one thread, {@code =1} for two: the caller and one worker); the label carries the count (e.g. {@code now-1}).
 *
 * <p>A request warms each operation up first (the first request of a row: until 5 runs in a row are within 5% of
 * their median, at most S seconds; later ones: one untimed run each), then times K rounds (default 7), as wall
 * time and as the CPU time of all the JVM's threads (on a loaded machine {@code --cpu} gives the steadier
 * comparison). A loss faster than its compute floor by more than {@link #NOISE} (median of the paired rounds) is
 * flagged: the floor would then do more than the loss, so it is wrong.
 */
public final class CpuFloorTable {
    /** A loss below {@code (1 - NOISE)} x its compute floor is flagged. */
    static final double NOISE = 0.10;

    /** One row: a loss in a mode, layout, target type, buffer kind and shape. */
    static final class Row {
        final String name;
        final Loss loss;
        final Mode mode;
        final Layout layout;
        final String target; // float, uint8, int32
        final boolean direct;
        final long[] shape; // N, C, H, W whatever the layout; NHWC shapes are built from it

        Row(String name, Loss loss, Mode mode, Layout layout, String target, boolean direct, long... shape) {
            this.name = name;
            this.loss = loss;
            this.mode = mode;
            this.layout = layout;
            this.target = target;
            this.direct = direct;
            this.shape = shape;
        }
    }

    static final long[] A = {8, 4, 512, 512};
    static final long[] B = {8, 19, 256, 256};

    static final List<Row> ROWS = List.of(
            new Row("bce", Loss.BCE, Mode.BINARY, Layout.NCHW, "float", false, A),
            new Row("bce-direct", Loss.BCE, Mode.BINARY, Layout.NCHW, "float", true, A),
            new Row("dice", Loss.DICE, Mode.BINARY, Layout.NCHW, "float", false, A),
            new Row("dice-direct", Loss.DICE, Mode.BINARY, Layout.NCHW, "float", true, A),
            new Row("bce_logdice", Loss.BCE_LOGDICE, Mode.BINARY, Layout.NCHW, "float", false, A),
            new Row("dice-ml-nhwc", Loss.DICE, Mode.MULTILABEL, Layout.NHWC, "float", false, A),
            new Row("bce-ml-nhwc-direct", Loss.BCE, Mode.MULTILABEL, Layout.NHWC, "float", true, A),
            new Row("ce", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("ce-int32", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "int32", false, A),
            new Row("ce-nhwc", Loss.CE, Mode.MULTICLASS, Layout.NHWC, "uint8", false, A),
            new Row("ce-direct", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", true, A),
            new Row("dice-mc", Loss.DICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("ce_logdice", Loss.CE_LOGDICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, A),
            new Row("dice-ml-19", Loss.DICE, Mode.MULTILABEL, Layout.NCHW, "float", false, B),
            new Row("ce-19", Loss.CE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, B),
            new Row("ce_logdice-19", Loss.CE_LOGDICE, Mode.MULTICLASS, Layout.NCHW, "uint8", false, B),
            new Row("ce-19-nhwc-int32", Loss.CE, Mode.MULTICLASS, Layout.NHWC, "int32", false, B),
            new Row("dice-mc-19-nhwc-direct", Loss.DICE, Mode.MULTICLASS, Layout.NHWC, "uint8", true, B));

    /** Columns of a measured line (tab-separated, after "RUN"): one interleaved round of every timing. */
    private static final String[] FIELDS = {"row", "label", "request", "round", "fwd_ms", "fb_ms", "read_pred_ms",
        "read_target_ms", "compute_ms", "fwd_cpu_ms", "fb_cpu_ms", "read_pred_cpu_ms", "read_target_cpu_ms",
        "compute_cpu_ms"};
    /** Timings of a round, in the order of {@link #FIELDS} from fwd_ms. */
    private static final int FWD = 0;
    private static final int FB = 1;
    private static final int READ_PRED = 2;
    private static final int READ_TARGET = 3;
    private static final int COMPUTE = 4;
    private static final int TIMINGS = 5;

    private static double warmSeconds = 2;
    /** Interleaved rounds per request. */
    private static int rounds = 7;

    private CpuFloorTable() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length >= 2 && args[0].equals("measure")) {
            measure(args, false);
        } else if (args.length >= 2 && args[0].equals("serve")) {
            measure(args, true);
        } else if (args.length >= 2 && args[0].equals("table")) {
            table(args);
        } else if (args.length == 1 && args[0].equals("rows")) {
            for (Row r : ROWS) {
                System.out.println(r.name);
            }
        } else {
            throw new IllegalArgumentException("usage: measure|serve LABEL [--floors] [--rows a,b] [--seconds S] [--rounds K]"
                    + " | table NOW.tsv... [--before BEFORE.tsv]... [--cpu] | rows");
        }
    }

    /**
     * {@code measure}: every row (or those of {@code --rows}) once; {@code serve}: the rows named on stdin, one
     * per line, each answered by its RUN lines and a line {@code END} (the buffers of the last row are kept, so
     * that a driver can ask for the same row again right after another JVM has measured it).
     */
    private static void measure(String[] args, boolean serve) throws IOException {
        String label = args[1];
        List<String> only = null;
        boolean floors = false;
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--rows")) {
                only = Arrays.asList(args[++i].split(","));
            } else if (args[i].equals("--seconds")) {
                warmSeconds = Double.parseDouble(args[++i]);
            } else if (args[i].equals("--rounds")) {
                rounds = Integer.parseInt(args[++i]);
            } else if (args[i].equals("--floors")) {
                floors = true;
            } else {
                throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        System.out.println("#" + String.join("\t", FIELDS));
        try (LossEngine engine = LossEngine.of(CpuBackend.vector())) {
            System.out.println("# " + label + ": " + engine.device());
            System.out.flush();
            if (!serve) {
                for (Row r : ROWS) {
                    if (only == null || only.contains(r.name)) {
                        try (Setup s = new Setup(engine, r, floors)) {
                            s.measure(label, 0);
                        }
                    }
                }
                return;
            }
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in,
                    StandardCharsets.UTF_8));
            Setup current = null;
            int request = 0;
            try {
                for (String line; (line = in.readLine()) != null && !line.isBlank(); ) {
                    String name = line.trim();
                    if (current == null || !current.row.name.equals(name)) {
                        if (current != null) {
                            current.close();
                        }
                        current = new Setup(engine, row(name), floors);
                    }
                    current.measure(label, request++);
                    System.out.println("END");
                    System.out.flush();
                }
            } finally {
                if (current != null) {
                    current.close();
                }
            }
        }
    }

    static Row row(String name) {
        for (Row r : ROWS) {
            if (r.name.equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("no row " + name);
    }

    /** One row's buffers and timed operations. */
    private static final class Setup implements AutoCloseable {
        final Row row;
        final DoubleSupplier[] ops = new DoubleSupplier[TIMINGS];
        final DeviceBuffer[] buffers;
        /** Whether the first request has warmed every operation up. */
        boolean warm;

        Setup(LossEngine engine, Row r, boolean floors) {
            row = r;
            long n = r.shape[0];
            long c = r.shape[1];
            long pixels = r.shape[2] * r.shape[3];
            int total = Math.toIntExact(n * c * pixels);
            int targets = Math.toIntExact(r.mode == Mode.MULTICLASS ? n * pixels : total);
            long[] shape = r.layout == Layout.NHWC ? new long[] {n, r.shape[2], r.shape[3], c} : r.shape;
            SplittableRandom rnd = new SplittableRandom(12345);
            FloatBuffer logits = floats(total, r.direct);
            for (int i = 0; i < total; i++) {
                logits.put(i, (float) (rnd.nextDouble() * 8 - 4));
            }
            CpuBackend b = (CpuBackend) engine.backend();
            DeviceBuffer pred = b.upload(logits);
            DeviceBuffer target;
            if (r.target.equals("float")) {
                FloatBuffer t = floats(targets, r.direct);
                for (int i = 0; i < targets; i++) {
                    t.put(i, rnd.nextInt(4) == 0 ? 1f : 0f);
                }
                target = b.upload(t);
            } else if (r.target.equals("uint8")) {
                ByteBuffer t = r.direct ? ByteBuffer.allocateDirect(targets) : ByteBuffer.allocate(targets);
                for (int i = 0; i < targets; i++) {
                    t.put(i, (byte) rnd.nextInt((int) c));
                }
                target = b.upload(t);
            } else {
                int[] t = new int[targets];
                for (int i = 0; i < targets; i++) {
                    t[i] = rnd.nextInt((int) c);
                }
                target = b.upload(IntBuffer.wrap(t));
            }
            // streamRead sums floats: a class map is read as a float buffer of the same bytes
            DeviceBuffer targetBytes = r.target.equals("uint8") ? engine.upload(new float[(targets + 3) / 4]) : target;
            DeviceBuffer grad = b.allocateFloats(total);
            buffers = new DeviceBuffer[] {pred, target, targetBytes, grad};
            LossSpec spec = LossSpec.builder(r.loss, r.mode).fromLogits(true).layout(r.layout).build();
            ops[FWD] = () -> engine.forward(spec, pred, shape, target).value();
            ops[FB] = () -> engine.forwardBackward(spec, pred, shape, target, grad).value();
            if (floors) {
                ops[READ_PRED] = () -> b.streamRead(pred);
                ops[READ_TARGET] = () -> b.streamRead(targetBytes);
                CpuBackend.Work work = work(r);
                if (work != null) {
                    ops[COMPUTE] = () -> b.computeFloor(work, pred, n, c);
                }
            }
        }

        /**
         * Prints {@link #rounds} RUN lines: each round times every operation once, the floors next to the losses
         * (one after the other, the order reversed every other round), so that a floor and its loss see the same
         * load; the first request warms each operation up first (until 5 runs in a row are within 5% of their
         * median, at most {@link #warmSeconds} s), later ones run each once untimed (the other build's JVM may
         * have run in between).
         */
        void measure(String label, int request) {
            for (DoubleSupplier op : ops) {
                if (op != null) {
                    if (warm) {
                        sink += op.getAsDouble();
                    } else {
                        warmUp(op);
                    }
                }
            }
            warm = true;
            for (int round = 0; round < rounds; round++) {
                double[] ms = new double[TIMINGS];
                double[] cpu = new double[TIMINGS];
                for (int j = 0; j < TIMINGS; j++) {
                    int k = round % 2 == 0 ? j : TIMINGS - 1 - j;
                    if (ops[k] != null) {
                        long c0 = cpuNanos();
                        long t0 = System.nanoTime();
                        sink += ops[k].getAsDouble();
                        ms[k] = (System.nanoTime() - t0) / 1e6;
                        cpu[k] = (cpuNanos() - c0) / 1e6;
                    }
                }
                StringBuilder line = new StringBuilder("RUN\t" + row.name + "\t" + label + "\t" + request + "\t" + round);
                for (double[] v : new double[][] {ms, cpu}) {
                    for (double x : v) {
                        line.append(String.format(Locale.ROOT, "\t%.3f", x));
                    }
                }
                System.out.println(line);
            }
            System.out.flush();
        }

        @Override
        public void close() {
            for (DeviceBuffer d : buffers) {
                d.close();
            }
        }
    }

    /** The transcendental work the row's loss cannot avoid (null: none, e.g. the binary Lovasz hinge). */
    static CpuBackend.Work work(Row r) {
        return CpuBackend.Work.of(r.loss, r.mode);
    }

    private static FloatBuffer floats(int n, boolean direct) {
        return direct ? ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer()
                : FloatBuffer.allocate(n);
    }

    static volatile double sink;

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** CPU time of every live thread of the JVM, ns (the workers of the pools stay alive between runs). */
    private static long cpuNanos() {
        long sum = 0;
        for (long id : THREADS.getAllThreadIds()) {
            long t = THREADS.getThreadCpuTime(id);
            if (t > 0) {
                sum += t;
            }
        }
        return sum;
    }

    /** Runs {@code work} until 5 runs in a row are within 5% of their median (at most {@link #warmSeconds}). */
    private static void warmUp(DoubleSupplier work) {
        long start = System.nanoTime();
        double[] last = new double[5];
        int k = 0;
        while (System.nanoTime() - start < warmSeconds * 1e9) {
            long t0 = System.nanoTime();
            sink += work.getAsDouble();
            last[k++ % last.length] = (System.nanoTime() - t0) / 1e6;
            if (k >= 8) {
                double[] s = last.clone();
                Arrays.sort(s);
                if (s[4] <= 1.05 * s[2] && s[0] >= 0.95 * s[2]) {
                    break;
                }
            }
        }
    }

    /** The rounds of one (row, label): per request, per round, the timings (FIELDS from fwd_ms). */
    private static final class Runs {
        final Map<Integer, List<double[]>> byRequest = new java.util.TreeMap<>();

        void add(int request, double[] v) {
            byRequest.computeIfAbsent(request, x -> new ArrayList<>()).add(v);
        }

        List<double[]> all() {
            List<double[]> out = new ArrayList<>();
            byRequest.values().forEach(out::addAll);
            return out;
        }
    }

    /** RUN lines of {@code measure}/{@code serve} outputs: label -> row -> runs. */
    private static Map<String, Map<String, Runs>> read(Path file) throws IOException {
        Map<String, Map<String, Runs>> out = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.startsWith("RUN\t")) {
                continue;
            }
            String[] f = line.split("\t");
            double[] v = new double[f.length - 5];
            for (int i = 0; i < v.length; i++) {
                v[i] = Double.parseDouble(f[i + 5]);
            }
            out.computeIfAbsent(f[2], x -> new LinkedHashMap<>()).computeIfAbsent(f[1], x -> new Runs())
                    .add(Integer.parseInt(f[3]), v);
        }
        return out;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /** The median over {@code runs} of {@code f} of a round's timings. */
    private static double median(List<double[]> runs, java.util.function.ToDoubleFunction<double[]> f) {
        return median(runs.stream().mapToDouble(f).toArray());
    }

    /** Forward's read floor of a round: read(pred) + read(target). */
    static double readFwd(double[] v, int o) {
        return v[o + READ_PRED] + v[o + READ_TARGET];
    }

    /** Forward+backward's read floor of a round: 2 (read(pred) + read(target)) + read(pred) (the gradient's write). */
    static double readFb(double[] v, int o) {
        return 3 * v[o + READ_PRED] + 2 * v[o + READ_TARGET];
    }

    /**
     * The Markdown table of the measured files: one line per (row, label of the first files). Times are medians
     * over every round; "/ floor" is the median over the rounds of the round's loss over max(read floor, compute
     * floor) of the same round (timed next to it, so both saw the same load); "/ before" pairs each request of the
     * now build with the same request of the before build (a driver alternates them) and gives the median of
     * the ratios of their medians (a single request when the files were measured one after the other).
     */
    private static void table(String[] args) throws IOException {
        boolean cpu = false;
        List<Path> now = new ArrayList<>();
        List<Path> before = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("--cpu")) {
                cpu = true;
            } else if (args[i].equals("--before")) {
                before.add(Path.of(args[++i]));
            } else {
                now.add(Path.of(args[i]));
            }
        }
        Map<String, Map<String, Runs>> m = new LinkedHashMap<>();
        for (Path p : now) {
            m.putAll(read(p));
        }
        Map<String, Map<String, Runs>> old = new LinkedHashMap<>();
        for (Path p : before) {
            old.putAll(read(p));
        }
        int o = cpu ? TIMINGS : 0; // offset of the CPU-time columns
        System.out.println("| case | mode | layout | target | buffers | shape | threads | read floor fwd / fwd+bwd ms"
                + " | compute floor ms | forward ms | fwd / floor | fwd / before | fwd+bwd ms | fwd+bwd / floor"
                + " | fwd+bwd / before |");
        System.out.println("|---|---|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        List<String> flagged = new ArrayList<>();
        for (Row r : ROWS) {
            for (Map.Entry<String, Map<String, Runs>> e : m.entrySet()) {
                Runs runs = e.getValue().get(r.name);
                if (runs == null) {
                    continue;
                }
                String label = e.getKey();
                String threads = label.contains("-") ? label.substring(label.lastIndexOf('-') + 1) : "?";
                Runs b = null;
                for (Map.Entry<String, Map<String, Runs>> q : old.entrySet()) {
                    if (q.getKey().endsWith("-" + threads)) {
                        b = q.getValue().get(r.name);
                    }
                }
                List<double[]> all = runs.all();
                double fwd = median(all, v -> v[o + FWD]);
                double fb = median(all, v -> v[o + FB]);
                double readFwd = median(all, v -> readFwd(v, o));
                double readFb = median(all, v -> readFb(v, o));
                double compute = median(all, v -> v[o + COMPUTE]);
                boolean floors = readFwd > 0;
                double fwdRatio = median(all, v -> v[o + FWD] / Math.max(readFwd(v, o), v[o + COMPUTE]));
                double fbRatio = median(all, v -> v[o + FB] / Math.max(readFb(v, o), v[o + COMPUTE]));
                if (compute > 0) {
                    String[] pass = {"forward", "forward+backward"};
                    for (int p = 0; p < 2; p++) {
                        int k = p == 0 ? FWD : FB;
                        double underCompute = median(all, v -> v[o + k] / v[o + COMPUTE]);
                        if (underCompute < 1 - NOISE) {
                            flagged.add(r.name + " " + pass[p] + " (" + threads + " threads): " + fmt(underCompute)
                                    + "x its compute floor (median of the paired rounds)");
                        }
                    }
                }
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s | %s | %s | %s |%n",
                        r.loss.id(), r.mode.id(), r.layout.name().toLowerCase(Locale.ROOT), r.target,
                        r.direct ? "direct" : "float[]", r.shape[0] + "x" + r.shape[1] + "x" + r.shape[2] + "x" + r.shape[3],
                        threads, fmt(readFwd), fmt(readFb), fmt(compute), fmt(fwd), floors ? times(fwdRatio) : "",
                        b == null ? "" : times(pairedRatio(runs, b, o + FWD)), fmt(fb), floors ? times(fbRatio) : "",
                        b == null ? "" : times(pairedRatio(runs, b, o + FB)));
            }
        }
        System.out.println();
        System.out.println((cpu ? "Times are process CPU times (all threads)" : "Times are wall times")
                + ": medians of every round; ratios to the floor: medians of the rounds' paired ratios.");
        for (String f : flagged) {
            System.out.println("**Below its floor (the floor is wrong):** " + f);
        }
    }

    /**
     * Now over before for timing {@code k}: for each request index both builds answered, the ratio of their
     * medians; the median of those (requests with the same index ran one right after the other).
     */
    private static double pairedRatio(Runs now, Runs before, int k) {
        List<Double> ratios = new ArrayList<>();
        for (Map.Entry<Integer, List<double[]>> e : now.byRequest.entrySet()) {
            List<double[]> b = before.byRequest.get(e.getKey());
            if (b != null) {
                ratios.add(median(e.getValue(), v -> v[k]) / median(b, v -> v[k]));
            }
        }
        if (ratios.isEmpty()) { // measured one after the other: the medians of everything
            return median(now.all(), v -> v[k]) / median(before.all(), v -> v[k]);
        }
        return median(ratios.stream().mapToDouble(Double::doubleValue).toArray());
    }

    private static String fmt(double ms) {
        return String.format(Locale.ROOT, "%.2f", ms);
    }

    private static String times(double ratio) {
        return Double.isFinite(ratio) && ratio > 0 ? String.format(Locale.ROOT, "%.2fx", ratio) : "";
    }
}
